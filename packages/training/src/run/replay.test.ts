/**
 * `vid train --init official.pt` on a recorded batch order and recorded teacher-forcing masks
 * reproduces the losses of NVlabs/conv-tt-lstm's own training step (computed once by
 * tooling/fixtures/training/make_replay.py with PyTorch from the shared reference checkpoint).
 */
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { initBackend } from '@vid/core';
import { referenceFixturePath } from '@vid/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { resolveConfig } from '../config/file.js';
import { train } from './train.js';

const fixtures = join(import.meta.dirname, '..', '__fixtures__', 'replay');
const checkpoint = await referenceFixturePath('convttlstm-net.pt');

let root: string;
beforeAll(async () => {
  await initBackend({ backend: (process.env.VID_TEST_BACKEND as 'wasm' | 'cpu' | undefined) ?? 'wasm', log: false });
  root = await mkdtemp(join(tmpdir(), 'vid-replay-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe.runIf(checkpoint !== null)('replaying the official training from convttlstm-net.pt', () => {
  it('reproduces the official step-1 loss to 1e-6 (and follows steps 2–3)', async () => {
    const expected = JSON.parse(await readFile(join(fixtures, 'expected.json'), 'utf8')) as {
      losses: number[];
      config: { hidden_channels: number[]; layers_per_block: number[] };
    };
    const config = resolveConfig({
      preset: 'quick',
      overrides: {
        seed: 0,
        data: {
          dataset: 'moving-mnist-file',
          path: join(fixtures, 'clips.npy'),
          inputFrames: 10,
          futureFrames: 5,
          frameSize: [16, 16],
          trainSamples: 10000,
          validSamples: 1,
        },
        model: {
          type: 'convttlstm-net',
          cell: 'convttlstm',
          layersPerBlock: expected.config.layers_per_block,
          hiddenChannels: expected.config.hidden_channels,
          skipStride: 2,
          order: 3,
          steps: 3,
          ranks: 4,
          kernelSize: 5,
          patchSize: 1,
          outputSigmoid: false,
          init: checkpoint,
        },
        train: {
          batchSize: 2,
          epochs: 2,
          maxSteps: 3,
          learningRate: 1e-3,
          gradientClipping: true,
          clippingThreshold: 3,
          outputFrames: null,
          replay: join(fixtures, 'replay.json'),
        },
        validation: { batchSize: 1 },
        evaluation: { futureFrames: 5, samples: 1, gifSamples: 1 },
        checkpoint: { everySteps: 100 },
      },
    });
    const result = await train({
      config,
      runDir: join(root, 'replay'),
      log: () => undefined,
      initBackend: false,
      finalEvaluation: false,
    });
    expect(result.losses).toHaveLength(3);
    expect(Math.abs((result.losses[0] as number) - (expected.losses[0] as number))).toBeLessThan(1e-6);
    for (let i = 1; i < 3; i++)
      expect(Math.abs((result.losses[i] as number) - (expected.losses[i] as number))).toBeLessThan(1e-5);
    console.log(
      `replay: vid ${result.losses.map((l) => l.toFixed(9)).join(', ')} vs official ${expected.losses.map((l) => l.toFixed(9)).join(', ')}`,
    );
  }, 600_000);
});
