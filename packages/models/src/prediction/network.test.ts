import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  Rng,
  type SafetensorsContents,
  ShapeError,
  hostToTensor,
  initBackend,
  readSafetensors,
} from '@vid/core';
import { assertClose, expectNoLeakedTensors, fixtureTensor } from '@vid/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { fixtureConfig, fixtureStateDict, videoFromTorch } from './__fixtures__/reference.js';
import { l1MseLoss } from './loss.js';
import { ConvRecurrentNet } from './network.js';

const SCHEDULED = fileURLToPath(new URL('./__fixtures__/convttlstm-scheduled.safetensors', import.meta.url));

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

function randomVideo(shape: [number, number, number, number, number], seed: number): tf.Tensor5D {
  const rng = new Rng(seed);
  return tf.tensor5d(rng.fillUniform(new Float32Array(shape.reduce((a, b) => a * b, 1))), shape);
}

const tiny = {
  inputChannels: 1,
  layersPerBlock: [1, 1],
  hiddenChannels: [3, 2],
  skipStride: 1,
  order: 2,
  steps: 3,
  ranks: 2,
  kernelSize: 3,
} as const;

/**
 * A fixture made with the official code (tooling/fixtures/tensor-train/make_fixtures.py): scheduled
 * sampling with a mixed mask (torch.bernoulli replaced by a fixed mask), 5 output frames of 7 steps,
 * 8×12 frames, a 3×5 kernel, 2 input channels, order 2 < steps 3, a skip into block 2's first layer.
 */
describe('scheduled sampling, against the official code (convttlstm-scheduled.safetensors)', () => {
  let fixture: SafetensorsContents;
  let model: ConvRecurrentNet;
  let frames: tf.Tensor5D;
  let mask: tf.Tensor;

  beforeAll(async () => {
    fixture = await readSafetensors(SCHEDULED);
    model = ConvRecurrentNet.fromConfig(fixtureConfig(fixture) as never);
    model.loadStateDict(fixtureStateDict(fixture), { layout: 'torch', source: 'convttlstm-scheduled.safetensors' });
    frames = videoFromTorch(fixtureTensor(fixture, 'frames'));
    mask = hostToTensor(fixtureTensor(fixture, 'mask'));
  });

  afterAll(() => {
    model.dispose();
    tf.dispose([frames, mask]);
  });

  it('training loss, outputs and gradients with a mixed teacher-forcing mask', () => {
    expect(model.numParameters()).toBe(Number(fixture.metadata.parameter_count));
    let output: tf.Tensor | undefined;
    const variables = model.trainableVariables();
    const { value, grads } = tf.variableGrads(() => {
      const [batch, time, height, width, channels] = frames.shape;
      const inputs = tf.slice(frames, [0, 0, 0, 0, 0], [batch, time - 1, height, width, channels]);
      output = tf.keep(
        model.forward(inputs, {
          inputFrames: 4,
          futureFrames: 4,
          outputFrames: 5,
          teacherForcing: true,
          scheduledSamplingRatio: 0.5,
          teacherForcingMask: mask,
        }),
      );
      return model.trainingLoss(frames, {
        inputFrames: 4,
        futureFrames: 4,
        outputFrames: 5,
        scheduledSamplingRatio: 0.5,
        teacherForcingMask: mask,
      });
    }, variables);
    const expected = videoFromTorch(fixtureTensor(fixture, 'output.train'));
    assertClose(output as tf.Tensor, expected, { atol: 1e-5, name: 'output.train' });
    assertClose(value, fixtureTensor(fixture, 'loss.train'), { atol: 1e-6, checkShape: false, name: 'loss.train' });
    const layouts = model.parameterLayouts();
    model.namedParameters().forEach(([name], i) => {
      tf.tidy(() => {
        const grad = grads[(variables[i] as tf.Variable).name] as tf.Tensor;
        assertClose(layouts.get(name)!.toTorch(grad), hostToTensor(fixtureTensor(fixture, `grad.${name}`)), {
          relativeToMax: 1e-4,
          name: `grad.${name}`,
        });
      });
    });
    tf.dispose([output as tf.Tensor, expected, value, ...Object.values(grads)]);
  });

  it('test mode on non-square frames (predict)', () => {
    const context = tf.slice(frames, [0, 0, 0, 0, 0], [-1, 4, -1, -1, -1]) as tf.Tensor5D;
    const output = model.predict(context, 4);
    const expected = videoFromTorch(fixtureTensor(fixture, 'output.test'));
    assertClose(output, expected, { atol: 1e-5, name: 'output.test' });
    tf.dispose([context, output, expected]);
  });
});

describe('rollout', () => {
  let model: ConvRecurrentNet;
  beforeAll(() => {
    model = new ConvRecurrentNet({ ...tiny, seed: 4 });
  });
  afterAll(() => model.dispose());

  it('does not leak over a full 10 → 30 rollout, in test mode and in a training step', async () => {
    const video = randomVideo([2, 40, 6, 6, 1], 1);
    const context = tf.slice(video, [0, 0, 0, 0, 0], [-1, 10, -1, -1, -1]) as tf.Tensor5D;
    await expectNoLeakedTensors(() => {
      const output = model.predict(context, 30);
      expect(output.shape).toEqual([2, 30, 6, 6, 1]);
      return output;
    }, '10 → 30 test-mode rollout');
    await expectNoLeakedTensors(() => {
      const { value, grads } = tf.variableGrads(
        () =>
          model.trainingLoss(video, {
            inputFrames: 10,
            futureFrames: 30,
            scheduledSamplingRatio: 0.7,
            rng: new Rng(3),
          }),
        model.trainableVariables(),
      );
      return [value, ...Object.values(grads)];
    }, '10 → 30 training step');
    tf.dispose([video, context]);
  });

  it('draws one Bernoulli per sample and future step from the seeded generator, in row-major order', () => {
    const video = randomVideo([3, 9, 5, 5, 1], 2);
    const ratio = 0.5;
    const drawn = new Rng(42);
    const values = Array.from({ length: 3 * 4 }, () => (drawn.bernoulli(ratio) ? 1 : 0));
    expect(new Set(values).size).toBe(2); // a mixed mask
    const options = {
      inputFrames: 5,
      futureFrames: 5,
      outputFrames: 9,
      teacherForcing: true,
      scheduledSamplingRatio: ratio,
    } as const;
    const fromRng = model.forward(video, { ...options, rng: new Rng(42) });
    const fromMask = model.forward(video, { ...options, teacherForcingMask: values });
    const again = model.forward(video, { ...options, rng: 42 });
    assertClose(fromRng, fromMask, { atol: 0, name: 'rng mask vs explicit mask' });
    assertClose(again, fromRng, { atol: 0, name: 'same seed' });
    tf.dispose([video, fromRng, fromMask, again]);
  });

  it('is full teacher forcing at ratio 1 and test mode at ratio ≤ 1e-6 (as the official code)', () => {
    const video = randomVideo([2, 7, 5, 5, 1], 3);
    const base = { inputFrames: 3, futureFrames: 5, outputFrames: 7 } as const;
    const test = model.forward(video, base);
    const off = model.forward(video, { ...base, teacherForcing: true, scheduledSamplingRatio: 1e-7 });
    const forced = model.forward(video, { ...base, teacherForcing: true, scheduledSamplingRatio: 1 });
    const allOnes = model.forward(video, { ...base, teacherForcing: true, teacherForcingMask: new Array(8).fill(1) });
    assertClose(off, test, { atol: 0, name: 'ratio 1e-7' });
    assertClose(forced, allOnes, { atol: 0, name: 'ratio 1' });
    // The first inputFrames outputs see only real frames in both modes; later ones differ.
    assertClose(tf.slice(forced, [0, 0], [-1, 3]), tf.slice(test, [0, 0], [-1, 3]), { atol: 0, name: 'context steps' });
    expect(tf.max(tf.abs(tf.sub(forced, test))).dataSync()[0]).toBeGreaterThan(1e-4);
    tf.dispose([video, test, off, forced, allOnes]);
  });

  it('applies the output sigmoid and returns the last outputFrames steps', () => {
    const withSigmoid = new ConvRecurrentNet({ ...tiny, seed: 4, outputSigmoid: true });
    const video = randomVideo([1, 4, 5, 5, 1], 5);
    // futureFrames 1: every step reads a real frame, so the sigmoid does not feed back.
    const raw = model.forward(video, { inputFrames: 4, futureFrames: 1, outputFrames: 4 });
    const squashed = withSigmoid.forward(video, { inputFrames: 4, futureFrames: 1, outputFrames: 2 });
    assertClose(squashed, tf.sigmoid(tf.slice(raw, [0, 2], [-1, 2])), { atol: 1e-6, name: 'sigmoid of the last two' });
    tf.dispose([video, raw, squashed]);
    withSigmoid.dispose();
  });

  it('gives clear errors for bad inputs and options', () => {
    const video = randomVideo([1, 5, 4, 4, 1], 6);
    expect(() => model.forward(video, { inputFrames: 6, futureFrames: 2 })).toThrow(
      /inputs: expected at least 6 frames on axis 1 \(inputFrames\), received \[1, 5, 4, 4, 1\]/,
    );
    expect(() =>
      model.forward(video, { inputFrames: 3, futureFrames: 4, teacherForcing: true, scheduledSamplingRatio: 1 }),
    ).toThrow(/at least 6 frames.*teacher forcing/);
    expect(() => model.forward(video, { inputFrames: 3, futureFrames: 2, outputFrames: 5 })).toThrow(
      /outputFrames: expected at most inputFrames \+ futureFrames − 1 = 4/,
    );
    expect(() =>
      model.forward(video, { inputFrames: 3, futureFrames: 2, teacherForcing: true, scheduledSamplingRatio: 0.5 }),
    ).toThrow(/rng: expected an Rng or a seed/);
    expect(() =>
      model.forward(video, { inputFrames: 3, futureFrames: 2, teacherForcing: true, teacherForcingMask: [1, 0] }),
    ).toThrow(/teacherForcingMask: expected 1 values/);
    expect(() => model.forward(video, { inputFrames: 3, futureFrames: 2, scheduledSamplingRatio: 2 })).toThrow(
      /scheduledSamplingRatio: expected a number ≤ 1, received 2/,
    );
    expect(() => model.forward(video, { inputFrames: 3, futureFrame: 2 } as never)).toThrow(
      /futureFrame.*unknown option/,
    );
    const rgb = randomVideo([1, 5, 4, 4, 3], 7);
    expect(() => model.forward(rgb, { inputFrames: 3, futureFrames: 2 })).toThrow(ShapeError);
    expect(() => model.forward(rgb, { inputFrames: 3, futureFrames: 2 })).toThrow(
      /inputs: expected \[batch, time, height, width, 1\] \(inputChannels\), received \[1, 5, 4, 4, 3\]/,
    );
    expect(() => model.trainingLoss(video, { inputFrames: 3, futureFrames: 3 })).toThrow(
      /frames: expected 6 frames \(inputFrames 3 \+ futureFrames 3\)/,
    );
    expect(() => model.forward(tf.zeros([5, 4, 4, 1]) as never, { inputFrames: 3, futureFrames: 2 })).toThrow(
      /inputs: expected rank 5/,
    );
    expect(() => l1MseLoss(video, rgb)).toThrow(/target: expected the shape of prediction/);
    tf.dispose([video, rgb]);
  });

  it('rejects bad network configurations', () => {
    expect(() => new ConvRecurrentNet({ ...tiny, order: 4 })).toThrow(ConfigError);
    expect(() => new ConvRecurrentNet({ ...tiny, order: 4 })).toThrow(
      /order: expected an order ≤ steps \(3\), received 4/,
    );
    expect(() => new ConvRecurrentNet({ ...tiny, ranks: 0 })).toThrow(/ranks: expected a positive integer, received 0/);
    expect(() => new ConvRecurrentNet({ ...tiny, hiddenChannels: [3] })).toThrow(
      /hiddenChannels: expected one entry per block \(2/,
    );
    expect(() => new ConvRecurrentNet({ ...tiny, skipStride: 2 })).toThrow(/skipStride: .*IndexError.*received 2/);
    expect(() => new ConvRecurrentNet({ ...tiny, cell: 'gru' as never })).toThrow(
      /cell: expected one of "convttlstm", "convlstm", "convgru", received "gru"/,
    );
    // A ConvGRU network has no official counterpart: no official config to export.
    const gru = new ConvRecurrentNet({ ...tiny, cell: 'convgru' });
    expect(() => gru.officialConfig()).toThrow(
      /cell: expected one of convttlstm, convlstm for the official ConvLSTMNet arguments \(it has no ConvGRU\), received "convgru"/,
    );
    gru.dispose();
    expect(() => new ConvRecurrentNet({ ...tiny, kernelSize: [3, 4] })).toThrow(
      /kernelSize: expected odd kernel sizes/,
    );
  });
});

describe('gradient checkpointing', () => {
  it('gives the same loss and gradients, recomputing each step in the backward pass, without leaks', async () => {
    for (const cell of ['convttlstm', 'convlstm', 'convgru'] as const) {
      const model = new ConvRecurrentNet({ ...tiny, cell, seed: 8 });
      const video = randomVideo([2, 8, 6, 6, 1], 9);
      const run = (checkpointing: boolean) =>
        tf.variableGrads(
          () =>
            model.trainingLoss(video, {
              inputFrames: 4,
              futureFrames: 4,
              scheduledSamplingRatio: 0.5,
              rng: 1,
              checkpointing,
            }),
          model.trainableVariables(),
        );
      const plain = run(false);
      const checkpointed = run(true);
      assertClose(checkpointed.value, plain.value, { atol: 1e-7, name: `${cell} loss` });
      for (const [name, grad] of Object.entries(plain.grads)) {
        assertClose(checkpointed.grads[name]!, grad, { relativeToMax: 1e-6, name: `${cell} grad ${name}` });
      }
      tf.dispose([
        plain.value,
        checkpointed.value,
        ...Object.values(plain.grads),
        ...Object.values(checkpointed.grads),
      ]);
      await expectNoLeakedTensors(() => {
        const { value, grads } = run(true);
        return [value, ...Object.values(grads)];
      }, `${cell} checkpointed training step`);
      await expectNoLeakedTensors(
        () => model.forward(video, { inputFrames: 4, futureFrames: 4, checkpointing: true }),
        `${cell} checkpointed inference`,
      );
      video.dispose();
      model.dispose();
    }
  });
});
