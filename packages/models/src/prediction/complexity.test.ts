import { readFileSync } from 'node:fs';

import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@vid/core';
import { referenceFixturePath } from '@vid/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';

import { countParameters, flopsPerStep, officialParameterShapes } from './complexity.js';
import type { ConvRecurrentNetOptions } from './network-config.js';
import { ConvRecurrentNet } from './network.js';
import { PREDICTOR_PRESETS, paperNetwork } from './presets.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

const countsFile = await referenceFixturePath('paper-parameter-counts.json');

describe('parameter counts', () => {
  it.runIf(countsFile !== null)(
    'of the paper configurations equal the official ones exactly (paper-parameter-counts.json)',
    () => {
      const official = JSON.parse(readFileSync(countsFile!, 'utf8')) as {
        parameters: { convlstm: number; convttlstm: number };
      };
      expect(countParameters(paperNetwork('convlstm'))).toBe(official.parameters.convlstm);
      expect(countParameters(paperNetwork('convttlstm'))).toBe(official.parameters.convttlstm);
    },
  );

  it('are 3,973,201 (ConvLSTM) and 2,687,281 (Conv-TT-LSTM) for the built paper models and every preset', () => {
    for (const [cell, expected] of [
      ['convlstm', 3_973_201],
      ['convttlstm', 2_687_281],
    ] as const) {
      const model = new ConvRecurrentNet(paperNetwork(cell));
      expect(model.numParameters()).toBe(expected);
      model.dispose();
    }
    expect(countParameters(PREDICTOR_PRESETS['convttlstm-paper'].spec.network)).toBe(2_687_281);
    expect(countParameters(PREDICTOR_PRESETS['convlstm-paper'].spec.network)).toBe(3_973_201);
  });

  it('officialParameterShapes lists the names and PyTorch shapes of the built model, in state_dict order', () => {
    const configs: ConvRecurrentNetOptions[] = [
      {
        inputChannels: 2,
        layersPerBlock: [1, 2, 1],
        hiddenChannels: [3, 4, 5],
        skipStride: 1,
        order: 2,
        steps: 4,
        ranks: 2,
        kernelSize: [3, 5],
      },
      {
        cell: 'convlstm',
        inputChannels: 3,
        layersPerBlock: [2, 1, 1, 1],
        hiddenChannels: [2, 3, 4, 2],
        skipStride: 2,
        kernelSize: 3,
        bias: false,
      },
      { inputChannels: 1, layersPerBlock: [1], hiddenChannels: [2], order: 1, steps: 1, ranks: 1, kernelSize: 1 },
    ];
    for (const config of configs) {
      const model = new ConvRecurrentNet(config);
      const layouts = model.parameterLayouts();
      const actual = model.namedParameters().map(([name, variable]) => {
        const torch = layouts.get(name)!.toTorch(variable);
        const shape = torch.shape;
        torch.dispose();
        return [name, shape] as const;
      });
      expect(actual).toEqual([...officialParameterShapes(config)]);
      expect(countParameters(config)).toBe(model.numParameters());
      model.dispose();
    }
    expect(tf.memory().numTensors).toBe(0);
  });
});

describe('FLOPs per one-step prediction (multiplications per sample)', () => {
  it('counts every convolution tap at every pixel, plus the three LSTM products', () => {
    // Every convolution weight is used once per pixel, so the convolution multiply-accumulates
    // are (parameters − biases) × H × W.
    for (const cell of ['convlstm', 'convttlstm'] as const) {
      const config = paperNetwork(cell);
      const biases = [...officialParameterShapes(config)]
        .filter(([name]) => name.endsWith('.bias'))
        .reduce((n, [, s]) => n + (s[0] as number), 0);
      const report = flopsPerStep(config, { height: 64, width: 64 });
      expect(report.convolution).toBe((countParameters(config) - biases) * 64 * 64);
      expect(report.elementwise).toBe(3 * (3 * (32 + 48 + 48 + 32)) * 64 * 64);
      expect(report.multiplications).toBe(report.convolution + report.elementwise);
      expect(report.layers).toHaveLength(13);
    }
    expect(flopsPerStep(paperNetwork('convlstm'), { height: 64, width: 64 }).multiplications).toBe(16_272_261_120);
    expect(flopsPerStep(paperNetwork('convttlstm'), { height: 64, width: 64 }).multiplications).toBe(11_003_166_720);
  });

  it('is within 2.5 % of the official table (15.88G ConvLSTM, 10.76G Conv-TT-LSTM at 64×64); the table is proportional to H·W', () => {
    const convlstm = flopsPerStep(paperNetwork('convlstm'), { height: 64, width: 64 }).multiplications / 1e9;
    const convttlstm = flopsPerStep(paperNetwork('convttlstm'), { height: 64, width: 64 }).multiplications / 1e9;
    expect(convlstm / 15.88).toBeGreaterThan(1.02);
    expect(convlstm / 15.88).toBeLessThan(1.025);
    expect(convttlstm / 10.76).toBeGreaterThan(1.02);
    expect(convttlstm / 10.76).toBeLessThan(1.025);
    // KTH column of the table: 55.83G and 37.83G, i.e. the 64×64 figures × 120²/64², not × 128²/64².
    expect((15.88 * 120 ** 2) / 64 ** 2).toBeCloseTo(55.83, 1);
    expect((10.76 * 120 ** 2) / 64 ** 2).toBeCloseTo(37.83, 1);
  });

  it('rejects a bad frame size', () => {
    expect(() => flopsPerStep(paperNetwork(), { height: 0, width: 64 })).toThrow(
      /height: expected a positive integer, received 0/,
    );
  });
});
