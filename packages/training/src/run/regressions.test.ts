/**
 * Regression tests of the training bugs of issue 12 (each written before its fix, and seen to fail).
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { initBackend, parseSafetensors, serializeSafetensors } from '@vid/core';
import { MovingMnist, type VideoClip, digitSetFromArray, writeMovingMnistFile, writeNpy } from '@vid/datasets';
import { CopyLastFramePredictor } from '@vid/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { evaluatePredictor } from '../loop/evaluate.js';
import { loadCheckpoint, resolveCheckpointDir } from './checkpoints.js';
import { train } from './train.js';
import { tinyConfig } from './testing.js';

const quiet = { log: () => undefined, initBackend: false };

let root: string;
beforeAll(async () => {
  await initBackend({ backend: 'cpu', log: false });
  root = await mkdtemp(join(tmpdir(), 'vid-regressions-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** `count` generated 16×16 sequences of `frames` frames, written as a time-major uint8 .npy. */
async function movingMnistFile(name: string, count: number, frames = 6): Promise<string> {
  const digits = digitSetFromArray(
    Uint8Array.from({ length: 4 * 64 }, (_, i) => ((i * 37) % 7) * 40),
    [4, 8, 8],
  );
  const set = new MovingMnist({ digits, canvasSize: 16, sequenceLength: frames, seed: name }).fixedSet(count, name);
  const path = join(root, `${name}.npy`);
  await writeMovingMnistFile(path, set, { format: 'mnist_test_seq' });
  return path;
}

/** A float32 time-major `[frames, count, 16, 16]` .npy whose values are `value(index)`. */
async function floatFile(name: string, count: number, value: (index: number) => number, frames = 6): Promise<string> {
  const path = join(root, `${name}.npy`);
  const data = Float32Array.from({ length: frames * count * 256 }, (_, i) => value(i));
  await writeNpy(path, { dtype: 'F32', shape: [frames, count, 16, 16], data });
  return path;
}

const fileConfig = (path: string, extra: Record<string, unknown> = {}): ReturnType<typeof tinyConfig> =>
  tinyConfig({
    data: {
      dataset: 'moving-mnist-file',
      path,
      inputFrames: 3,
      futureFrames: 3,
      frameSize: [16, 16],
      trainSamples: 10000,
      validSamples: 2,
    },
    evaluation: { futureFrames: 3, samples: 2, gifSamples: 1, protocol: 'standard' },
    ...extra,
  });

describe('issue 12: training bugs', () => {
  it('bug 1: the epoch of a file is min(file length, trainSamples) sequences, not trainSamples', async () => {
    // 10 sequences, 2 validate: 8 train, batch 2 → 4 steps an epoch (not 10000 / 2 = 5000).
    const path = await movingMnistFile('epoch-length', 10);
    const config = fileConfig(path, { train: { batchSize: 2, epochs: 2, maxSteps: null } });
    const result = await train({
      ...quiet,
      config,
      runDir: join(root, 'bug1'),
      finalEvaluation: false,
      stopAfterSteps: 1,
    });
    expect(result.totalSteps).toBe(8);
    const run = JSON.parse(await readFile(join(root, 'bug1', 'run.json'), 'utf8')) as { stepsPerEpoch: number };
    expect(run.stepsPerEpoch).toBe(4);
  });

  it('bug 5: NaN in the data is a clear error naming the file and the first bad index, and run.json says "failed"', async () => {
    const bad = 6 * 256 + 17; // time-major [6, 10, 16, 16]: frame 0 of sequence 6, pixel 17
    const path = await floatFile('nan-data', 10, (i) => (i === bad ? Number.NaN : 0.5));
    const runDir = join(root, 'bug5-nan');
    const error = await train({
      ...quiet,
      config: fileConfig(path, { train: { batchSize: 2, epochs: 2 } }),
      runDir,
      finalEvaluation: false,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/nan-data\.npy.*NaN.*index/);
    const run = JSON.parse(await readFile(join(runDir, 'run.json'), 'utf8')) as { status: string; error?: string };
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/nan-data\.npy/);
  });

  it('bug 5: data outside [0, 1] fails on read (not at the final evaluation), and run.json says "failed"', async () => {
    const path = await floatFile('range-data', 10, (i) => ((i % 97) / 96) * 50 - 10);
    const runDir = join(root, 'bug5-range');
    const error = await train({
      ...quiet,
      config: fileConfig(path, { train: { batchSize: 2, epochs: 1, maxSteps: 2 } }),
      runDir,
    }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/range-data\.npy.*outside \[0, 1\].*index/);
    const run = JSON.parse(await readFile(join(runDir, 'run.json'), 'utf8')) as { status: string; step?: number };
    expect(run.status).toBe('failed');
  });

  it('bug 6: a checkpoint with NaN weights is refused on load; resuming a run falls back to the previous good one, naming both', async () => {
    const runDir = join(root, 'bug6');
    const config = tinyConfig();
    await train({ ...quiet, config, runDir, finalEvaluation: false, stopAfterSteps: 4 });
    const latest = await resolveCheckpointDir(runDir);
    const file = join(latest, 'model.safetensors');
    const parsed = parseSafetensors(new Uint8Array(await readFile(file)), file);
    const [name, tensor] = [...parsed.tensors][0] as [string, { dtype: 'F32'; shape: number[]; data: Float32Array }];
    const poisoned = new Float32Array(tensor.data);
    poisoned[0] = Number.NaN;
    parsed.tensors.set(name, { ...tensor, data: poisoned });
    await writeFile(file, serializeSafetensors(parsed.tensors, parsed.metadata));
    await expect(loadCheckpoint(latest)).rejects.toThrow(
      new RegExp(`model\\.safetensors.*${name.replace(/\./g, '\\.')}.*NaN`),
    );
    const lines: string[] = [];
    const resumed = await train({
      ...quiet,
      log: (line) => lines.push(line),
      config,
      resume: runDir,
      finalEvaluation: false,
    });
    const steps = (await readdir(join(runDir, 'checkpoints'))).filter((d) => d.startsWith('step-'));
    expect(steps.length).toBeGreaterThan(0);
    const message = lines.find((line) => /falls? back/.test(line)) ?? '';
    expect(message).toContain('step-000004');
    expect(message).toContain('step-000002');
    expect(resumed.step).toBe(6);
    expect(resumed.losses).toHaveLength(4);
  });

  it('bug 7: the copy-last-frame PSNR mean stays finite when a frame matches exactly (capped at 100 dB)', async () => {
    // Two clips of 4 frames; in the first, the future frame equals the last context frame.
    const frame = (v: number): Float32Array => new Float32Array(16 * 16).fill(v);
    const clip = (values: number[]): VideoClip => {
      const frames = new Float32Array(values.length * 256);
      values.forEach((v, t) => frames.set(frame(v), t * 256));
      return { frames, shape: [values.length, 16, 16, 1] };
    };
    const clips = [clip([0.1, 0.2, 0.2, 0.3]), clip([0.1, 0.2, 0.5, 0.6])];
    const source = { length: 2, get: (i: number) => clips[i] as VideoClip };
    const result = await evaluatePredictor(new CopyLastFramePredictor(), source, {
      inputFrames: 2,
      futureFrames: 2,
      protocol: 'standard',
      baseline: false,
    });
    const psnr = result.model.metrics.psnr;
    expect(Number.isFinite(psnr?.mean)).toBe(true);
    expect(psnr?.perFrame[0]).toBeLessThanOrEqual(100);
  });

  it('bug 8: the banner states the steps without a contradiction', async () => {
    const lines: string[] = [];
    await train({
      ...quiet,
      log: (line) => lines.push(line),
      config: tinyConfig({ train: { batchSize: 2, epochs: 8, stepsPerEpoch: 20, maxSteps: 2 } }),
      runDir: join(root, 'bug8'),
      finalEvaluation: false,
    });
    const banner = lines.find((line) => /^ {2}\d+ steps/.test(line)) ?? '';
    expect(banner).toMatch(/^ {2}2 steps/);
    // Whatever it says of epochs, "A epochs × B steps" must multiply to the total it announces.
    const product = /(\d+) epochs? × (\d+) steps/.exec(banner);
    if (product) expect(Number(product[1]) * Number(product[2])).toBe(2);
    expect(banner).toMatch(/maxSteps/);
  });
});
