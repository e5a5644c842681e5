import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { initBackend } from '@vid/core';
import { type TrainConfig } from '@vid/training';
import { loadCheckpoint, resolveCheckpointDir, resolveConfig, train } from '@vid/training/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Command } from 'commander';

import { configFromFlags, configureTrainCommand, referenceFor, runWithSigint } from './cli.js';

/** A tiny run: 16×16 Moving MNIST, 3 → 3, an encoder-forecaster with 4 hidden channels, 6 steps. */
function tinyConfig(): TrainConfig {
  return resolveConfig({
    overrides: {
      seed: 3,
      data: { inputFrames: 3, futureFrames: 3, frameSize: [16, 16], digitSize: 8, trainSamples: 4, validSamples: 2 },
      model: {
        type: 'encoder-forecaster',
        hiddenChannels: [4],
        kernelSize: 3,
        patchSize: 4,
        forecasterInput: 'previous-frame',
        peephole: 'none',
      },
      train: {
        batchSize: 2,
        epochs: 3,
        learningRate: 1e-2,
        scheduledSamplingRatio: 0.5,
        plateauEpochs: 1,
        ssrDecayRatio: 0.2,
        loss: 'l1+mse',
      },
      validation: { batchSize: 2 },
      evaluation: { futureFrames: 4, samples: 2, gifSamples: 1, protocol: 'standard' },
      checkpoint: { everySteps: 2, keepLast: 2 },
      output: { progress: 'none', logEverySteps: 1 },
    },
  });
}

const quiet = { log: () => undefined, initBackend: false };

let root: string;
beforeAll(async () => {
  await initBackend({ backend: 'cpu', log: false });
  root = await mkdtemp(join(tmpdir(), 'vid-train-cli-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('vid train --reference (the shipped model beside a run)', () => {
  it('shows the default shipped model beside runs on the data it was trained on, and only there', () => {
    expect(referenceFor(configFromFlags({}))).toBe('mmnist-convttlstm'); // the quick preset (the main job)
    expect(referenceFor(configFromFlags({ preset: 'mmnist-convlstm-cpu' }))).toBe('mmnist-convttlstm');
    expect(referenceFor(configFromFlags({}), 'mmnist-convlstm')).toBe('mmnist-convlstm');
    expect(referenceFor(configFromFlags({}), 'none')).toBeNull();
    expect(referenceFor(tinyConfig())).toBeNull(); // 16×16, 3 context frames
    expect(() => referenceFor(configFromFlags({}), 'mmnist-lstm')).toThrow(
      /--reference: expected a shipped model: one of mmnist-convlstm, mmnist-convttlstm/,
    );
  });
});

describe('vid train (flags)', () => {
  it('reads YAML and JSON files, and flags override them', async () => {
    const yaml = join(root, 'run.yaml');
    await writeFile(
      yaml,
      'preset: mmnist-convlstm\ntrain:\n  batchSize: 4\n  epochs: 2\nmodel:\n  hiddenChannels: [8, 8, 8, 8]\n',
    );
    const config = configFromFlags({ config: yaml, lr: '0.0005', set: ['train.epochs=3', 'data.numDigits=1'] });
    expect(config.preset).toBe('mmnist-convlstm');
    expect(config.model.cell).toBe('convlstm');
    expect(config.train).toMatchObject({ batchSize: 4, epochs: 3, learningRate: 5e-4 });
    expect(config.model.hiddenChannels).toEqual([8, 8, 8, 8]);
    expect(config.data.numDigits).toBe(1);
    const json = join(root, 'run.json');
    await writeFile(json, JSON.stringify({ train: { batchSize: 2 } }));
    expect(resolveConfig({ file: json }).train.batchSize).toBe(2);
  });

  it('saves a checkpoint on SIGINT (the CLI handler) and resumes from it', async () => {
    const runDir = join(root, 'sigint');
    const stderr = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    let result: Awaited<ReturnType<typeof train>> | undefined;
    try {
      await runWithSigint(async (signal) => {
        let lines = 0;
        result = await train({
          ...quiet,
          config: tinyConfig(),
          runDir,
          signal,
          finalEvaluation: false,
          log: () => {
            if (++lines === 6) process.emit('SIGINT', 'SIGINT');
          },
        });
      });
    } finally {
      process.stderr.write = stderr;
    }
    expect(result?.interrupted).toBe(true);
    expect(process.listenerCount('SIGINT')).toBe(0);
    const checkpoint = await loadCheckpoint(await resolveCheckpointDir(runDir));
    expect(checkpoint.step).toBe(result?.step);
    const resumed = await train({ ...quiet, config: tinyConfig(), resume: runDir, finalEvaluation: false });
    expect(resumed.step).toBe(6);
  });

  const vid = (args: string[]): Promise<Command> =>
    configureTrainCommand(new Command('vid-train')).exitOverride().parseAsync(args, { from: 'user' });

  it("issue 12 bug 3: a bare --resume continues the run's own configuration and leaves config.json as it was", async () => {
    const runDir = join(root, 'bug3');
    await train({ ...quiet, config: tinyConfig(), runDir, finalEvaluation: false, stopAfterSteps: 2 });
    const before = await readFile(join(runDir, 'config.json'), 'utf8');
    const stderr = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      await vid(['--resume', runDir]);
    } finally {
      process.stderr.write = stderr;
    }
    expect(await readFile(join(runDir, 'config.json'), 'utf8')).toBe(before);
    const checkpoint = await loadCheckpoint(await resolveCheckpointDir(runDir));
    expect(checkpoint.step).toBe(6); // the run's 3 epochs × 2 steps, not the quick preset's 160
  });

  it('issue 12 bug 4: --resume refuses --set and --config keys that are unsafe to change, and takes the safe ones', async () => {
    const runDir = join(root, 'bug4');
    await train({ ...quiet, config: tinyConfig(), runDir, finalEvaluation: false, stopAfterSteps: 2 });
    await expect(vid(['--resume', runDir, '--set', 'model.hiddenChannels=[8]'])).rejects.toThrow(
      /model\.hiddenChannels.*safe to change on resume/,
    );
    const file = join(root, 'bug4.yaml');
    await writeFile(file, 'data:\n  numDigits: 1\n');
    await expect(vid(['--resume', runDir, '--config', file])).rejects.toThrow(
      /data\.numDigits.*safe to change on resume/,
    );
    await expect(vid(['--resume', runDir, '--batch-size', '4'])).rejects.toThrow(
      /train\.batchSize.*safe to change on resume/,
    );
    const stderr = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      await vid(['--resume', runDir, '--steps', '4', '--set', 'checkpoint.everySteps=1']);
    } finally {
      process.stderr.write = stderr;
    }
    const checkpoint = await loadCheckpoint(await resolveCheckpointDir(runDir));
    expect(checkpoint.step).toBe(4);
    expect((checkpoint.state.config as { checkpoint: { everySteps: number } }).checkpoint.everySteps).toBe(1);
  });
});
