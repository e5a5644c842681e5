import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';
import { initBackend, loadModel as loadSavedModel, writeSafetensors } from '@vid/core';
import { fixtureMetadata, loadReferenceFixture, referenceFixturePath } from '@vid/core/testing';
import { MovingMnist, loadDigits, readNpy, writeNpy } from '@vid/datasets';
import { LPIPS, evaluateFrames, PSNR_CAP_DB } from '@vid/metrics';
import { createPredictor, savePredictor } from '@vid/models';
import { resolveCheckpointDir, resolveConfig, train } from '@vid/training/node';
import { pretrainedUrl } from '@vid/pretrained';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { evaluateCheckpoint } from './evaluate.js';
import { predictClip } from './predict.js';
import { scorePredictions } from './score.js';

const quiet = { log: () => undefined, initBackend: false } as const;
const TINY_SPEC = {
  type: 'encoder-forecaster',
  options: {
    frameSize: [16, 16],
    frameChannels: 1,
    patchSize: 4,
    hiddenChannels: [4],
    kernelSize: 3,
    peephole: 'none',
    forecasterInput: 'previous-frame',
  },
} as const;

let root: string;
let weights: string;
beforeAll(async () => {
  await initBackend({ backend: 'cpu', log: false });
  root = await mkdtemp(join(tmpdir(), 'vid-eval-'));
  const predictor = createPredictor(TINY_SPEC, { seed: 5 });
  weights = join(root, 'tiny.safetensors');
  await savePredictor(predictor, weights);
  predictor.dispose();
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('vid eval', () => {
  it('reproduces the metrics computed directly with @vid/metrics on a generated set', async () => {
    const out = join(root, 'eval');
    const result = await evaluateCheckpoint({
      ...quiet,
      checkpoint: weights,
      preset: 'mmnist-10-10',
      frameSize: 16,
      samples: 3,
      inputFrames: 3,
      futureFrames: 2,
      protocol: 'standard',
      out,
      seed: 7,
    });
    const json = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
    // Direct: the documented evaluation set (Moving MNIST, MNIST test digits, seed "<seed>:valid"), the model, @vid/metrics.
    const generator = new MovingMnist({
      digits: await loadDigits({ split: 'test', labels: false }),
      sequenceLength: 5,
      canvasSize: [16, 16],
      digitSize: 16,
      seed: '7:valid',
    });
    const set = generator.fixedSet(3);
    const sequences = await Promise.all([0, 1, 2].map(async (i) => [...(await set.get(i)).frames]));
    const clips = Float32Array.from(sequences.flat(), (v) => v / 255);
    // The same seeded weights as the saved file, built directly (not through the file).
    const predictor = createPredictor(TINY_SPEC, { seed: 5 });
    const video = tf.tensor5d(clips, [3, 5, 16, 16, 1]);
    const context = tf.slice(video, [0, 0, 0, 0, 0], [3, 3, 16, 16, 1]) as tf.Tensor5D;
    const truth = tf.slice(video, [0, 3, 0, 0, 0], [3, 2, 16, 16, 1]);
    const prediction = predictor.predict(context, 2);
    // vid's evaluations cap each frame's PSNR at PSNR_CAP_DB (an exact match would make the mean infinite).
    const direct = await evaluateFrames(prediction, truth, {
      protocol: 'standard',
      metrics: ['mse', 'psnr', 'ssim'],
      outOfRange: 'clamp',
      psnrMaxDb: PSNR_CAP_DB,
    });
    tf.dispose([video, context, truth, prediction]);
    predictor.dispose();
    for (const metric of ['mse', 'psnr', 'ssim'] as const) {
      const ours = json.results.model.metrics[metric];
      const expected = direct.metrics[metric];
      expect(ours.perFrame).toHaveLength(2);
      ours.perFrame.forEach((v: number, t: number) => expect(v).toBeCloseTo(expected?.perFrame[t] as number, 6));
      expect(ours.convention).toBe(expected?.convention);
    }
    expect(result.markdown).toContain('copy last frame');
    expect(result.markdown).toMatch(/Metric conventions/);
    for (const file of ['results.md', 'results.csv', 'curves.png', 'samples.gif', 'samples.png'])
      await expect(readFile(join(out, file))).resolves.toBeTruthy();
  });

  it('runs the official .pt fixture end to end with its official config, and compares with the paper', async () => {
    const pt = await referenceFixturePath('convttlstm-net.pt');
    const contents = await loadReferenceFixture('convttlstm-net.safetensors');
    if (!pt || !contents) return; // fixtures missing locally (a CI run fails loudly inside the helpers)
    const config = JSON.stringify(fixtureMetadata<Record<string, unknown>>(contents, 'config'));
    const out = join(root, 'eval-pt');
    const result = await evaluateCheckpoint({
      ...quiet,
      checkpoint: pt,
      config,
      preset: 'mmnist-10-10',
      frameSize: 16,
      samples: 2,
      inputFrames: 3,
      futureFrames: 2,
      comparePaper: true,
      out,
    });
    expect(result.entries[0]?.result.metrics.ssim?.perFrame).toHaveLength(2);
    expect(result.markdown).toContain('Conv-TT-LSTM (paper)');
    expect(result.markdown).toContain('compare_ssim');
  });
});

describe('vid eval --model (a shipped model of @vid/pretrained)', () => {
  it('evaluates the shipped model on the generated test set, with copy-last-frame and all-black rows', async () => {
    const out = join(root, 'eval-shipped');
    const result = await evaluateCheckpoint({
      ...quiet,
      model: 'mmnist-convlstm',
      preset: 'mmnist-10-10',
      samples: 4,
      futureFrames: 3,
      out,
    });
    expect(result.entries.map((e) => e.label)).toEqual(['model', 'copy last frame', 'all black']);
    expect(result.markdown).toContain('shipped model mmnist-convlstm');
    expect(result.entries[2]?.result.metrics.mse?.perFrame).toHaveLength(3);
    const model = await loadSavedModel(pretrainedUrl('mmnist-convlstm'));
    expect((model.constructor as unknown as { className: string }).className).toBe('ConvRecurrentNet');
    model.dispose();
  });

  it('names the shipped models when --model is unknown, and refuses --model with --checkpoint or --config', async () => {
    await expect(evaluateCheckpoint({ ...quiet, model: 'mmnist-lstm' })).rejects.toThrow(
      /--model: expected a shipped model: one of mmnist-convlstm, mmnist-convttlstm/,
    );
    await expect(evaluateCheckpoint({ ...quiet, model: 'mmnist-convlstm', checkpoint: weights })).rejects.toThrow(
      /either --model or --checkpoint/,
    );
    await expect(evaluateCheckpoint({ ...quiet, model: 'mmnist-convlstm', config: '{}' })).rejects.toThrow(
      /no --config with --model/,
    );
  });
});

describe('vid score', () => {
  it('scores prediction arrays per frame under each protocol, as @vid/metrics does', async () => {
    const shape = [2, 3, 12, 12, 1];
    const size = 2 * 3 * 144;
    const target = Float32Array.from({ length: size }, (_, i) => (Math.sin(i * 0.37) + 1) / 2);
    const prediction = Float32Array.from(target, (v, i) => Math.min(1, Math.max(0, v + 0.1 * Math.cos(i * 1.3))));
    await writeNpy(join(root, 'pred.npy'), { dtype: 'F32', shape, data: prediction });
    await writeNpy(join(root, 'true.npy'), { dtype: 'F32', shape, data: target });
    const result = await scorePredictions({
      prediction: join(root, 'pred.npy'),
      target: join(root, 'true.npy'),
      protocols: ['standard', 'convttlstm'],
      initBackend: false,
    });
    for (const protocol of ['standard', 'convttlstm'] as const) {
      const p = tf.tensor5d(prediction, shape as [number, number, number, number, number]);
      const t = tf.tensor5d(target, shape as [number, number, number, number, number]);
      const direct = await evaluateFrames(p, t, { protocol, metrics: ['mse', 'psnr', 'ssim'] });
      tf.dispose([p, t]);
      const json = (
        result.json.results as Record<string, { metrics: Record<string, { perFrame: number[]; mean: number }> }>
      )[protocol];
      for (const metric of ['mse', 'psnr', 'ssim'] as const) {
        json?.metrics[metric]?.perFrame.forEach((v, i) =>
          expect(v).toBeCloseTo(direct.metrics[metric]?.perFrame[i] as number, 6),
        );
        expect(json?.metrics[metric]?.mean).toBeCloseTo(direct.metrics[metric]?.mean as number, 6);
      }
    }
  });

  it('scores LPIPS under protocols that share its input convention with one model, as @vid/metrics does', async () => {
    const lpipsFixture = await loadReferenceFixture('lpips-alex-random-trunk.safetensors');
    if (lpipsFixture === null) return; // the shared fixtures are required under CI=true (loadReferenceFixture throws there)
    const weightsFile = join(root, 'lpips-alex.safetensors');
    const lpipsWeights = new Map(
      [...lpipsFixture.tensors].filter(([name]) => !['x0', 'x1', 'distance', 'distance.gray3'].includes(name)),
    );
    await writeSafetensors(weightsFile, lpipsWeights);
    const shape: [number, number, number, number, number] = [1, 2, 64, 64, 1];
    const target = Float32Array.from({ length: 2 * 64 * 64 }, (_, i) => (Math.sin(i * 0.37) + 1) / 2);
    const prediction = Float32Array.from(target, (v, i) => Math.min(1, Math.max(0, v + 0.2 * Math.cos(i * 1.3))));
    await writeNpy(join(root, 'pred-lpips.npy'), { dtype: 'F32', shape, data: prediction });
    await writeNpy(join(root, 'true-lpips.npy'), { dtype: 'F32', shape, data: target });
    const result = await scorePredictions({
      prediction: join(root, 'pred-lpips.npy'),
      target: join(root, 'true-lpips.npy'),
      protocols: ['convttlstm', 'predrnn'],
      metrics: ['lpips'],
      lpipsWeights: [weightsFile],
      initBackend: false,
    });
    const model = await LPIPS.load({ net: 'alex', preset: 'convttlstm', weights: lpipsWeights });
    const [p, t] = [tf.tensor5d(prediction, shape), tf.tensor5d(target, shape)];
    const direct = await evaluateFrames(p, t, { protocol: 'convttlstm', metrics: ['lpips'], lpips: model });
    tf.dispose([p, t]);
    model.dispose();
    for (const protocol of ['convttlstm', 'predrnn']) {
      const perFrame =
        (result.json.results as Record<string, { metrics: Record<string, { perFrame: number[] }> }>)[protocol]?.metrics
          .lpips?.perFrame ?? [];
      expect(perFrame).toHaveLength(2);
      perFrame.forEach((v, i) => expect(v).toBeCloseTo(direct.metrics.lpips?.perFrame[i] as number, 6));
    }
  });

  it('rejects mismatched shapes and out-of-range targets with clear errors', async () => {
    await writeNpy(join(root, 'a.npy'), { dtype: 'F32', shape: [1, 2, 4, 4, 1], data: new Float32Array(32) });
    await writeNpy(join(root, 'b.npy'), { dtype: 'F32', shape: [1, 3, 4, 4, 1], data: new Float32Array(48) });
    await expect(
      scorePredictions({ prediction: join(root, 'a.npy'), target: join(root, 'b.npy'), initBackend: false }),
    ).rejects.toThrow(/--prediction: expected the shape of --target \[1, 3, 4, 4, 1\], received \[1, 2, 4, 4, 1\]/);
    await writeNpy(join(root, 'c.npy'), { dtype: 'F32', shape: [1, 2, 4, 4, 1], data: new Float32Array(32).fill(3) });
    await expect(
      scorePredictions({ prediction: join(root, 'a.npy'), target: join(root, 'c.npy'), initBackend: false }),
    ).rejects.toThrow(/c\.npy: expected values in \[0, 1\]/);
    await writeNpy(join(root, 'd.npy'), { dtype: 'F32', shape: [4, 4], data: new Float32Array(16) });
    await expect(
      scorePredictions({ prediction: join(root, 'd.npy'), target: join(root, 'd.npy'), initBackend: false }),
    ).rejects.toThrow(/expected a video array \[T, H, W, C\] or \[B, T, H, W, C\], found shape \[4, 4\]/);
  });
});

describe('vid predict', () => {
  it('predicts N frames of a [T, H, W, C] clip into the same layout, with a GIF', async () => {
    const clip = Float32Array.from({ length: 4 * 16 * 16 }, (_, i) => (i % 17) / 17);
    await writeNpy(join(root, 'clip.npy'), { dtype: 'F32', shape: [4, 16, 16, 1], data: clip });
    const result = await predictClip({
      ...quiet,
      weights,
      input: join(root, 'clip.npy'),
      future: 3,
      output: join(root, 'out.npy'),
      gif: join(root, 'out.gif'),
    });
    expect(result.shape).toEqual([3, 16, 16, 1]);
    const out = await readNpy(join(root, 'out.npy'));
    expect(out.shape).toEqual([3, 16, 16, 1]);
    expect((await readFile(join(root, 'out.gif'))).subarray(0, 6).toString('latin1')).toBe('GIF89a');
  });

  it('a run trained by vid train (the ConvLSTM preset, shrunk) loads with loadModel and predicts the frames vid predict writes', async () => {
    const config = resolveConfig({
      preset: 'mmnist-convlstm',
      checkPaths: false,
      overrides: {
        seed: 3,
        data: { inputFrames: 3, futureFrames: 3, frameSize: [16, 16], digitSize: 8, trainSamples: 4, validSamples: 2 },
        model: { layersPerBlock: [1, 1], hiddenChannels: [4, 4], skipStride: null, kernelSize: 3 },
        train: { batchSize: 2, epochs: 1 },
        validation: { batchSize: 2 },
        evaluation: { futureFrames: 3, samples: 2, gifSamples: 1, protocol: 'standard' },
        checkpoint: { everySteps: 2 },
        output: { progress: 'none' },
      },
    });
    const runDir = join(root, 'convlstm-run');
    await train({ log: () => undefined, initBackend: false, config, runDir, finalEvaluation: false });
    const clip = Float32Array.from({ length: 3 * 16 * 16 }, (_, i) => ((i * 7) % 23) / 23);
    await writeNpy(join(root, 'run-clip.npy'), { dtype: 'F32', shape: [3, 16, 16, 1], data: clip });
    await predictClip({
      ...quiet,
      weights: runDir,
      input: join(root, 'run-clip.npy'),
      future: 3,
      output: join(root, 'run-out.npy'),
    });
    const predicted = await readNpy(join(root, 'run-out.npy'));
    // The same file through @vid/core's loadModel, with no config: the network itself.
    const network = (await loadSavedModel(
      join(await resolveCheckpointDir(runDir), 'model.safetensors'),
    )) as unknown as {
      constructor: { className: string };
      predict(context: tf.Tensor5D, futureFrames: number): tf.Tensor5D;
      dispose(): void;
    };
    expect(network.constructor.className).toBe('ConvRecurrentNet');
    const context = tf.tensor5d(clip, [1, 3, 16, 16, 1]);
    const output = network.predict(context, 3);
    expect(Array.from(output.dataSync())).toEqual(Array.from(predicted.data as Float32Array));
    tf.dispose([context, output]);
    network.dispose();
  });

  it('without --weights, predicts with the shipped default model (mmnist-convttlstm); --model picks another', async () => {
    const example = fileURLToPath(new URL('../examples/moving-mnist-clip.npy', import.meta.url));
    const lines: string[] = [];
    const result = await predictClip({
      initBackend: false,
      log: (line) => lines.push(line),
      input: example,
      future: 10,
      output: join(root, 'shipped.npy'),
    });
    expect(result.shape).toEqual([10, 64, 64, 1]);
    expect(lines.join('\n')).toContain('shipped model mmnist-convttlstm');
    const out = await readNpy(join(root, 'shipped.npy'));
    expect((out.data as Float32Array).every(Number.isFinite)).toBe(true);
    await predictClip({
      ...quiet,
      model: 'mmnist-convlstm',
      input: example,
      future: 2,
      output: join(root, 'shipped-convlstm.npy'),
    });
    expect((await readNpy(join(root, 'shipped-convlstm.npy'))).shape).toEqual([2, 64, 64, 1]);
    await expect(
      predictClip({
        ...quiet,
        model: 'mmnist-convlstm',
        weights,
        input: example,
        future: 2,
        output: join(root, 'x.npy'),
      }),
    ).rejects.toThrow(/either --model or --weights/);
  });

  it('refuses frames the model cannot take', async () => {
    await writeNpy(join(root, 'odd.npy'), { dtype: 'F32', shape: [4, 10, 10, 1], data: new Float32Array(400) });
    await expect(
      predictClip({ ...quiet, weights, input: join(root, 'odd.npy'), future: 2, output: join(root, 'x.npy') }),
    ).rejects.toThrow(/multiples of 4.*received "10×10"/);
  });
});
