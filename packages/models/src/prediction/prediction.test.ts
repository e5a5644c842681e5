import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import { Adam, Rng, hostToTensor, initBackend, sliceFrames, writeSafetensors } from '@vid/core';
import {
  assertClose,
  expectNoLeakedTensors,
  fixtureMetadata,
  fixtureTensor,
  loadReferenceFixture,
  referenceFixturePath,
} from '@vid/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CopyLastFramePredictor } from './baseline.js';
import { ConvRecurrentPredictor } from './network-predictor.js';
import { predictionLoss, reconstructionLoss } from './loss.js';
import { createPredictor, loadPredictor, validatePredictorSpec } from './registry.js';

let root: string;
beforeAll(async () => {
  await initBackend({ backend: (process.env.VID_TEST_BACKEND as 'wasm' | 'cpu' | undefined) ?? 'wasm', log: false });
  root = await mkdtemp(join(tmpdir(), 'vid-models-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** PyTorch `[B, T, C, H, W]` → vid `[B, T, H, W, C]`. */
const toVid = (t: tf.Tensor): tf.Tensor5D => tf.transpose(t, [0, 1, 3, 4, 2]) as tf.Tensor5D;

describe('ConvRecurrentPredictor against NVlabs/conv-tt-lstm (reference fixture)', () => {
  it('loads the official .pt and reproduces the test rollout, the training loss on all one-step outputs, and its gradients', async () => {
    const contents = await loadReferenceFixture('convttlstm-net.safetensors');
    const pt = await referenceFixturePath('convttlstm-net.pt');
    if (!contents || !pt) return;
    const config = fixtureMetadata<Record<string, unknown>>(contents, 'config');
    const protocol = fixtureMetadata<{ input_frames: number; future_frames: number }>(contents, 'protocol');
    const predictor = await loadPredictor(pt, { config });
    expect(predictor).toBeInstanceOf(ConvRecurrentPredictor);
    const frames = toVid(hostToTensor(fixtureTensor(contents, 'frames')));
    const { input_frames: inputFrames, future_frames: futureFrames } = protocol;

    // Test mode: the context in, futureFrames out.
    const context = sliceFrames(frames, 0, inputFrames);
    const test = predictor.predict(context, futureFrames);
    assertClose(test, toVid(hostToTensor(fixtureTensor(contents, 'output.test'))), { atol: 1e-5, name: 'output.test' });

    // Training: ratio 1, every one-step output, L1 + MSE against frames[:, 1:].
    const adam = new Adam(predictor.module!.namedParameters(), { lr: 1e-3 });
    const { value, grads } = adam.computeGradients(() =>
      predictionLoss(predictor, frames, { inputFrames, futureFrames, scheduledSamplingRatio: 1, rng: new Rng(0) }),
    );
    assertClose(value.dataSync()[0] as number, fixtureTensor(contents, 'loss.train').data[0] as number, {
      atol: 1e-6,
      name: 'loss.train',
    });
    // The official gradients, loaded as parameters of a second model, in vid layouts.
    const gradients = new Map(
      [...contents.tensors]
        .filter(([name]) => name.startsWith('grad.'))
        .map(([name, t]) => [name.slice('grad.'.length), t]),
    );
    const reference = createPredictor(predictor.spec);
    reference.module!.loadStateDict(gradients, { layout: 'torch' });
    const expected = new Map(reference.module!.namedParameters());
    expect(grads.size).toBe(expected.size);
    for (const [name, grad] of grads)
      assertClose(grad, expected.get(name)!, { relativeToMax: 1e-4, name: `grad ${name}` });
    tf.dispose([frames, context, test, value, ...grads.values()]);
    adam.dispose();
    reference.dispose();

    // The fixture's safetensors (official names and layouts, the official config in its metadata,
    // and frames, outputs and gradients beside the weights) imports with {strict: false}.
    const fixture = await referenceFixturePath('convttlstm-net.safetensors');
    await expect(loadPredictor(fixture!)).rejects.toThrow(/unexpected.*frames/);
    const imported = await loadPredictor(fixture!, { strict: false });
    const again = tf.tidy(() => sliceFrames(toVid(hostToTensor(fixtureTensor(contents, 'frames'))), 0, inputFrames));
    const [a, b] = [predictor.predict(again, futureFrames), imported.predict(again, futureFrames)];
    assertClose(b, a, { atol: 0, name: 'imported safetensors vs .pt' });
    tf.dispose([again, a, b]);
    imported.dispose();
    predictor.dispose();
  });
});

describe('video predictors', () => {
  const tinySpec = {
    type: 'conv-recurrent-net',
    patchSize: 2,
    network: { cell: 'convlstm', inputChannels: 4, layersPerBlock: [1], hiddenChannels: [3], kernelSize: 3 },
  } as const;

  it('train on all one-step outputs: predictionLoss = L1+MSE of rollout(clip[:, :-1]) against clip[:, 1:]', async () => {
    const predictor = createPredictor(tinySpec, { seed: 1 });
    const clip = tf.randomUniform([2, 5, 4, 4, 1], 0, 1, 'float32', 3) as tf.Tensor5D;
    const loss = predictionLoss(predictor, clip, {
      inputFrames: 3,
      futureFrames: 2,
      scheduledSamplingRatio: 1,
      rng: new Rng(0),
    });
    const inputs = sliceFrames(clip, 0, 4);
    const rollout = predictor.rollout(inputs, {
      inputFrames: 3,
      futureFrames: 2,
      teacherForcing: true,
      scheduledSamplingRatio: 1,
      rng: new Rng(0),
      outputs: 'all',
    });
    expect(rollout.predictions.shape).toEqual([2, 4, 4, 4, 1]);
    expect(rollout.firstFrame).toBe(1);
    const manual = reconstructionLoss('l1+mse', rollout.predictions, sliceFrames(clip, 1, 4));
    assertClose(loss, manual, { atol: 1e-7 });
    tf.dispose([clip, loss, inputs, rollout.predictions, manual]);
    await expectNoLeakedTensors(() => {
      const c = tf.randomUniform([1, 5, 4, 4, 1]) as tf.Tensor5D;
      const out = predictionLoss(predictor, c, {
        inputFrames: 3,
        futureFrames: 2,
        scheduledSamplingRatio: 0.5,
        rng: new Rng(2),
      });
      c.dispose();
      return out;
    }, 'predictionLoss');
    predictor.dispose();
  });

  it('draw scheduled sampling from the given rng (seeded, advancing)', () => {
    const predictor = createPredictor(tinySpec, { seed: 1 });
    const clip = tf.randomUniform([4, 8, 4, 4, 1], 0, 1, 'float32', 5) as tf.Tensor5D;
    const run = (rng: Rng): number =>
      tf.tidy(
        () =>
          predictionLoss(predictor, clip, {
            inputFrames: 3,
            futureFrames: 5,
            scheduledSamplingRatio: 0.5,
            rng,
          }).dataSync()[0] as number,
      );
    const a = new Rng(9);
    const first = run(a);
    expect(run(new Rng(9))).toBe(first);
    expect(a.getState()).not.toEqual(new Rng(9).getState());
    clip.dispose();
    predictor.dispose();
  });

  it('copy the last frame (baseline)', () => {
    const baseline = new CopyLastFramePredictor();
    const video = tf.tensor5d([0, 1, 2, 3], [1, 4, 1, 1, 1]);
    const out = baseline.predict(sliceFrames(video, 0, 3), 2);
    expect(Array.from(out.dataSync())).toEqual([2, 2]);
    tf.dispose([video, out]);
  });

  it('slice frames at rank 3 and check bounds', () => {
    const video = tf.tensor5d(
      Array.from({ length: 16 }, (_, i) => i),
      [2, 4, 2, 1, 1],
    );
    const part = sliceFrames(video, 1, 2);
    expect(Array.from(part.dataSync())).toEqual([2, 3, 4, 5, 10, 11, 12, 13]);
    expect(() => sliceFrames(video, 3, 2)).toThrow(/at least 5 frames on axis 1/);
    tf.dispose([video, part]);
  });

  it('reject bad specs and configs with the field, expected and received values', async () => {
    expect(() => validatePredictorSpec({ type: 'transformer' })).toThrow(
      /type: expected one of conv-recurrent-net, encoder-forecaster, copy-last-frame, received "transformer"/,
    );
    expect(() => createPredictor({ type: 'conv-recurrent-net', network: null } as never)).toThrow(
      /network: expected the network options/,
    );
    // Official import without an architecture: the error asks for the official arguments.
    const file = join(root, 'bare.safetensors');
    await writeSafetensors(file, new Map(), {});
    await expect(loadPredictor(file)).rejects.toThrow(
      /config: expected a model configuration \(.*bare\.safetensors is not a vid model and has no config metadata\)/,
    );
    await expect(loadPredictor(join(root, 'missing.safetensors'))).rejects.toThrow(/missing\.safetensors/);
  });
});
