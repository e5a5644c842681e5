import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { initBackend } from '@vid/core';
import { MovingMnist, digitSetFromArray, writeMovingMnistFile } from '@vid/datasets';
import { CopyLastFramePredictor } from '@vid/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CheckpointWriteError, loadCheckpoint, resolveCheckpointDir } from './checkpoints.js';
import { MetricsLog } from './metrics-log.js';
import { train } from './train.js';
import { tinyConfig } from './testing.js';

const quiet = { log: () => undefined, initBackend: false };

let root: string;
beforeAll(async () => {
  await initBackend({ backend: 'cpu', log: false });
  root = await mkdtemp(join(tmpdir(), 'vid-train-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function weightsBytes(runDir: string): Promise<Buffer> {
  const dir = await resolveCheckpointDir(runDir);
  return readFile(join(dir, 'model.safetensors'));
}

describe('train', () => {
  it.each([
    ['encoder-forecaster', {}],
    [
      'convttlstm-net',
      {
        model: {
          type: 'convttlstm-net',
          cell: 'convttlstm',
          layersPerBlock: [1],
          hiddenChannels: [3],
          order: 2,
          steps: 2,
          ranks: 2,
          kernelSize: 3,
          patchSize: 4,
        },
      },
    ],
  ])('resumes a killed run (%s) with bit-identical losses and weights', async (kind, overrides) => {
    const config = tinyConfig(overrides);
    const tag = (name: string): string => `${kind}-${name}`;
    const full = await train({ ...quiet, config, runDir: join(root, tag('full')), finalEvaluation: false });
    expect(full.step).toBe(6);
    expect(full.losses).toHaveLength(6);
    // Learns something: the schedule moved (plateau rule) or the loss decreased.
    expect(full.losses.every(Number.isFinite)).toBe(true);

    // Killed after 3 steps (mid-epoch, between checkpoints), then resumed.
    const first = await train({
      ...quiet,
      config,
      runDir: join(root, tag('split')),
      finalEvaluation: false,
      stopAfterSteps: 3,
    });
    expect(first.interrupted).toBe(true);
    expect(first.step).toBe(3);
    const resumed = await train({ ...quiet, config, resume: join(root, tag('split')), finalEvaluation: false });
    expect(resumed.step).toBe(6);
    expect([...first.losses, ...resumed.losses]).toEqual(full.losses);
    expect(resumed.schedule).toEqual(full.schedule);
    expect(
      Buffer.compare(await weightsBytes(join(root, tag('split'))), await weightsBytes(join(root, tag('full')))),
    ).toBe(0);

    // The metrics log of the resumed run reads as one run.
    const fullLog = (await new MetricsLog(join(root, tag('full'), 'metrics.jsonl')).read())
      .filter((r) => r.type === 'train')
      .map((r) => r.loss);
    const splitLog = (await new MetricsLog(join(root, tag('split'), 'metrics.jsonl')).read())
      .filter((r) => r.type === 'train')
      .map((r) => r.loss);
    expect(splitLog).toEqual(fullLog);
  });

  it('reads a Moving MNIST file in a new seeded order each epoch, and resumes mid-epoch exactly', async () => {
    // 5 sequences of 6 frames: 4 train (2 steps an epoch at batch 2), the last one validates.
    const digits = digitSetFromArray(
      Uint8Array.from({ length: 4 * 64 }, (_, i) => ((i * 37) % 7) * 40),
      [4, 8, 8],
    );
    const set = new MovingMnist({ digits, canvasSize: 16, sequenceLength: 6, seed: 'file' }).fixedSet(5, 'file');
    const path = join(root, 'sequences.npy');
    await writeMovingMnistFile(path, set, { format: 'mnist_test_seq' });
    const config = tinyConfig({
      data: {
        dataset: 'moving-mnist-file',
        path,
        inputFrames: 3,
        futureFrames: 3,
        frameSize: [16, 16],
        trainSamples: 4,
        validSamples: 1,
      },
      evaluation: { futureFrames: 3, samples: 1, gifSamples: 1, protocol: 'standard' },
    });
    const full = await train({ ...quiet, config, runDir: join(root, 'file-full'), finalEvaluation: false });
    expect(full.step).toBe(6);
    const first = await train({
      ...quiet,
      config,
      runDir: join(root, 'file-split'),
      finalEvaluation: false,
      stopAfterSteps: 3,
    });
    const resumed = await train({ ...quiet, config, resume: join(root, 'file-split'), finalEvaluation: false });
    expect([...first.losses, ...resumed.losses]).toEqual(full.losses);
    expect(
      Buffer.compare(await weightsBytes(join(root, 'file-split')), await weightsBytes(join(root, 'file-full'))),
    ).toBe(0);
  });

  it('saves a checkpoint when aborted (SIGINT) and writes the run directory', async () => {
    const controller = new AbortController();
    let lines = 0;
    const result = await train({
      ...quiet,
      config: tinyConfig(),
      runDir: join(root, 'aborted'),
      signal: controller.signal,
      finalEvaluation: false,
      log: () => {
        // Abort as soon as training has started logging.
        if (++lines === 5) controller.abort();
      },
    });
    expect(result.interrupted).toBe(true);
    expect(result.step).toBeLessThan(6);
    const checkpoint = await loadCheckpoint(await resolveCheckpointDir(join(root, 'aborted')));
    expect(checkpoint.step).toBe(result.step);
    for (const file of ['config.json', 'run.json', 'metrics.jsonl', 'curves.png'])
      expect(existsSync(join(root, 'aborted', file))).toBe(true);
    expect(JSON.parse(await readFile(join(root, 'aborted', 'run.json'), 'utf8')).status).toBe('interrupted');
  });

  it('finishes with the final evaluation, pictures and summary', async () => {
    const result = await train({
      ...quiet,
      config: tinyConfig({ train: { batchSize: 2, epochs: 1, stepsPerEpoch: 2 } }),
      runDir: join(root, 'final'),
    });
    expect(result.evaluation?.model.metrics.mse?.perFrame).toHaveLength(4);
    expect(result.evaluation?.baseline?.metrics.mse?.mean).toBeGreaterThan(0);
    for (const file of ['samples.png', 'samples.gif', 'summary.json', 'summary.md', 'curves.png'])
      expect(existsSync(join(root, 'final', file))).toBe(true);
    expect(result.summary).toContain('copy last frame');
    const gif = await readFile(join(root, 'final', 'samples.gif'));
    expect(gif.subarray(0, 6).toString('latin1')).toBe('GIF89a');
  });

  it('scores an all-black prediction, and a reference model on the same sequences (what vid train shows beside a run)', async () => {
    let disposed = false;
    const result = await train({
      ...quiet,
      config: tinyConfig({ train: { batchSize: 2, epochs: 1, stepsPerEpoch: 1 } }),
      runDir: join(root, 'reference'),
      reference: {
        label: 'copy-last reference',
        load: async () => {
          const copy = new CopyLastFramePredictor({ channels: 1 });
          return Object.assign(copy, { dispose: () => void (disposed = true) });
        },
      },
    });
    const evaluation = result.evaluation!;
    // The reference is copy-last-frame here, so its row equals the baseline's on the same clips.
    expect(evaluation.reference?.label).toBe('copy-last reference');
    expect(evaluation.reference?.result.metrics.mse?.perFrame).toEqual(evaluation.baseline?.metrics.mse?.perFrame);
    expect(disposed).toBe(true);
    // All black: the mean squared target, frame by frame (> 0: the digits are there).
    expect(evaluation.allBlack?.metrics.mse?.mean).toBeGreaterThan(0);
    expect(evaluation.allBlack?.metrics.psnr?.mean).toBeLessThan(100);
    expect(result.summary).toMatch(/\| all black \|/);
    expect(result.summary).toMatch(/\| copy-last reference \|/);
    for (const file of ['reference-samples.png', 'reference-samples.gif'])
      expect(existsSync(join(root, 'reference', file))).toBe(true);
    const summary = JSON.parse(await readFile(join(root, 'reference', 'summary.json'), 'utf8'));
    expect(summary.reference.label).toBe('copy-last reference');
  });

  it('reports a full disk clearly and keeps the last good checkpoint', async () => {
    let writes = 0;
    const runDir = join(root, 'full-disk');
    const failing = async (path: string, bytes: Uint8Array): Promise<void> => {
      // The first checkpoint (3 files + latest.json) succeeds, then the disk is full.
      if (++writes > 4) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      const { writeFileSynced } = await import('./checkpoints.js');
      await writeFileSynced(path, bytes);
    };
    const error = await train({
      ...quiet,
      config: tinyConfig(),
      runDir,
      finalEvaluation: false,
      writeFile: failing,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointWriteError);
    expect((error as Error).message).toMatch(/no space left on the device.*step-000002\) is intact/);
    const latest = await loadCheckpoint(await resolveCheckpointDir(runDir));
    expect(latest.step).toBe(2);
    // No temporary folder is left behind.
    expect((await readdir(join(runDir, 'checkpoints'))).filter((e) => e.startsWith('.'))).toEqual([]);
  });

  it('refuses an unwritable run directory before any work', async () => {
    const file = join(root, 'a-file');
    await import('node:fs/promises').then((fs) => fs.writeFile(file, 'x'));
    await expect(train({ ...quiet, config: tinyConfig(), runDir: join(file, 'run') })).rejects.toThrow(
      /run directory .*a-file\/run: cannot be created \(a part of the path is not a directory\)/,
    );
  });
});
