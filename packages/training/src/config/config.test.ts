import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  TRAIN_CONFIG_SCHEMA,
  configDocumentation,
  lossOutputFrames,
  stepsPerEpoch,
  totalSteps,
  trainConfigJsonSchema,
} from './config.js';
import { resolveConfig } from './file.js';
import { PRESETS } from './presets.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vid-config-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('training configuration', () => {
  it('resolves every preset, with the official defaults for the paper presets', () => {
    for (const name of Object.keys(PRESETS)) {
      const config = resolveConfig({
        preset: name,
        checkPaths: false,
        ...(name.startsWith('kth') ? { overrides: { data: { path: '/kth' } } } : {}),
      });
      expect(config.preset).toBe(name);
    }
    const paper = resolveConfig({ preset: 'mmnist-convttlstm' });
    expect(paper.train).toMatchObject({
      batchSize: 16,
      learningRate: 1e-3,
      ssrDecayRatio: 4e-3,
      ssrDecayEpochs: 1,
      lrDecayEpochs: 5,
      lrDecayRate: 0.98,
      plateauEpochs: 20,
      clippingThreshold: 3,
      scheduledSamplingRatio: 1,
    });
    expect(lossOutputFrames(paper)).toBe(19);
    expect(stepsPerEpoch(paper)).toBe(625);
    expect(paper.evaluation.futureFrames).toBe(30);
    expect(paper.model).toMatchObject({
      cell: 'convttlstm',
      layersPerBlock: [3, 3, 3, 3],
      hiddenChannels: [32, 48, 48, 32],
      order: 3,
      steps: 3,
      ranks: 8,
      kernelSize: 5,
    });
    const quick = resolveConfig();
    expect(quick.preset).toBe('quick');
    expect(totalSteps(quick)).toBe(160);
  });

  it('gives clear errors before any work: unknown key, wrong type, impossible frames, missing path', async () => {
    expect(() => resolveConfig({ overrides: { train: { batchsize: 8 } } })).toThrow(
      /train\.batchsize: expected a known key of train \(did you mean "batchSize"\?/,
    );
    expect(() => resolveConfig({ overrides: { train: { batchSize: '8' } } })).toThrow(
      /train\.batchSize: expected an integer ≥ 1, received "8"/,
    );
    expect(() => resolveConfig({ overrides: { train: { batchSize: 0 } } })).toThrow(
      /train\.batchSize: expected an integer ≥ 1, received 0/,
    );
    expect(() =>
      resolveConfig({ overrides: { data: { inputFrames: 10, futureFrames: 10 }, train: { outputFrames: 25 } } }),
    ).toThrow(/train\.outputFrames: expected at most inputFrames \+ futureFrames − 1 = 19/);
    expect(() => resolveConfig({ overrides: { data: { frameSize: [64, 62] } } })).toThrow(
      /model\.patchSize: expected a divisor of the frame size 64×62, received 4/,
    );
    expect(() => resolveConfig({ overrides: { data: { dataset: 'moving-mnist-file' } } })).toThrow(
      /data\.path: expected a \.npy\/\.npz file for dataset "moving-mnist-file", received null/,
    );
    expect(() => resolveConfig({ overrides: { data: { dataset: 'kth', path: join(root, 'no-such-kth') } } })).toThrow(
      /data\.path: expected an existing path, received ".*no-such-kth"/,
    );
    expect(() => resolveConfig({ preset: 'nope' })).toThrow(/preset: expected one of quick, mmnist-convttlstm/);
    expect(() => resolveConfig({ overrides: { model: { type: 'gru' } } })).toThrow(
      /model\.type: expected one of "convttlstm-net", "encoder-forecaster", received "gru"/,
    );
    const broken = join(root, 'broken.yaml');
    await writeFile(broken, 'train: [1, 2');
    expect(() => resolveConfig({ file: broken })).toThrow(/broken\.yaml: not valid YAML/);
    expect(() => resolveConfig({ file: join(root, 'missing.yaml') })).toThrow(
      /missing\.yaml: no such configuration file/,
    );
  });

  it('documents every field', () => {
    const doc = configDocumentation();
    const rows = TRAIN_CONFIG_SCHEMA.describe('');
    for (const row of rows) {
      expect(doc).toContain(`\`${row.path}\``);
      if (!['preset', 'name'].includes(row.path)) expect(row.doc.length).toBeGreaterThan(10);
    }
  });

  it('exports a JSON Schema of the same zod schema (descriptions, defaults, enums, no unknown keys)', () => {
    const schema = trainConfigJsonSchema() as {
      properties: Record<
        string,
        {
          properties: Record<string, { description?: string; default?: unknown; enum?: unknown[] }>;
          additionalProperties?: unknown;
        }
      >;
    };
    const batchSize = schema.properties.train?.properties.batchSize;
    expect(batchSize?.description).toMatch(/Sequences per training step/);
    expect(batchSize?.default).toBe(16);
    expect(schema.properties.model?.properties.type?.enum).toEqual(['convttlstm-net', 'encoder-forecaster']);
    expect(schema.properties.train?.additionalProperties).toBe(false);
  });
});
