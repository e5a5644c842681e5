import { ConfigError } from '@vid/core';
import { describe, expect, it } from 'vitest';

import {
  fromOfficialConfig,
  isOfficialConfig,
  layerPlan,
  outputLayerChannels,
  resolveNetConfig,
  toOfficialConfig,
} from './network-config.js';

/** `__metadata__.config` of the shared convttlstm-net fixture, verbatim. */
const FIXTURE_CONFIG =
  '{"cell": "convttlstm", "input_channels": 1, "layers_per_block": [3, 3, 3, 3], "hidden_channels": [8, 12, 12, 8], "skip_stride": 2, "cell_params": {"order": 3, "steps": 3, "rank": 4}, "kernel_size": 5, "bias": true, "output_sigmoid": false}';

describe('official constructor arguments', () => {
  it('convert to vid options and back, exactly', () => {
    const official = JSON.parse(FIXTURE_CONFIG) as Record<string, unknown>;
    expect(isOfficialConfig(official)).toBe(true);
    const resolved = resolveNetConfig(FIXTURE_CONFIG);
    expect(resolved).toEqual({
      cell: 'convttlstm',
      inputChannels: 1,
      layersPerBlock: [3, 3, 3, 3],
      hiddenChannels: [8, 12, 12, 8],
      skipStride: 2,
      order: 3,
      steps: 3,
      ranks: 4,
      kernelSize: [5, 5],
      bias: true,
      outputSigmoid: false,
    });
    expect(toOfficialConfig(resolved)).toEqual(official);
    expect(resolveNetConfig(official as never)).toEqual(resolved);
  });

  it('take the official defaults (cell "convlstm", kernel 3, no skip) and accept eval_paper\'s "ranks"', () => {
    const resolved = resolveNetConfig({ input_channels: 1, layers_per_block: [1], hidden_channels: [4] });
    expect(resolved.cell).toBe('convlstm');
    expect(resolved.kernelSize).toEqual([3, 3]);
    expect(resolved.skipStride).toBeNull();
    expect(resolved.outputSigmoid).toBe(false);
    const evalPaper = fromOfficialConfig({
      cell: 'convttlstm',
      input_channels: 1,
      layers_per_block: [1],
      hidden_channels: [4],
      cell_params: { order: 3, steps: 3, ranks: 8 },
    });
    expect(evalPaper.ranks).toBe(8);
  });

  it('give clear errors', () => {
    const base = JSON.parse(FIXTURE_CONFIG) as Record<string, unknown>;
    expect(() => fromOfficialConfig({ ...base, cell_params: { order: 3, steps: 3 } } as never)).toThrow(
      /cell_params\.rank: expected a positive integer, received undefined/,
    );
    expect(() =>
      fromOfficialConfig({ ...base, cell_params: { order: 3, steps: 3, rank: 4, ranks: 5 } } as never),
    ).toThrow(/cell_params\.ranks: expected the same value as cell_params\.rank \(4\), received 5/);
    expect(() => fromOfficialConfig({ ...base, kernel_size: 4 } as never)).toThrow(
      /kernel_size: expected odd kernel sizes/,
    );
    expect(() => fromOfficialConfig({ ...base, input_channel: 1 } as never)).toThrow(ConfigError);
    expect(() => fromOfficialConfig({ ...base, input_channel: 1 } as never)).toThrow(/input_channel.*unknown option/);
    expect(() => fromOfficialConfig({ ...base, hidden_channels: [8, 0, 12, 8] } as never)).toThrow(
      /hidden_channels\[1\]: expected a positive integer, received 0/,
    );
    expect(() => fromOfficialConfig({ ...base, cell: 'convgru' } as never)).toThrow(
      /cell: expected one of "convttlstm", "convlstm"/,
    );
    expect(() => fromOfficialConfig({ ...base, hidden_channels: [8, 12] } as never)).toThrow(
      /hidden_channels: expected one entry per block \(4, the length of layers_per_block\), received \[8, 12\]/,
    );
    expect(() => fromOfficialConfig('[1, 2]')).toThrow(
      /config: expected an object of the official ConvLSTMNet arguments/,
    );
  });
});

describe('channel plan (the official constructor arithmetic)', () => {
  it('concatenates block b − 1 − skipStride into block b when b > skipStride, and into the output layer', () => {
    const config = resolveNetConfig({
      inputChannels: 1,
      layersPerBlock: [3, 3, 3, 3],
      hiddenChannels: [32, 48, 48, 32],
      skipStride: 2,
    });
    const firstLayers = layerPlan(config)
      .filter((l) => l.layer === 0)
      .map((l) => [l.id, l.inputChannels]);
    expect(firstLayers).toEqual([
      ['b0l0', 1],
      ['b1l0', 32],
      ['b2l0', 48],
      ['b3l0', 48 + 32],
    ]);
    expect(outputLayerChannels(config)).toBe(32 + 48);
    const noSkip = resolveNetConfig({ inputChannels: 1, layersPerBlock: [1, 1], hiddenChannels: [4, 6] });
    expect(outputLayerChannels(noSkip)).toBe(6);
    expect(
      layerPlan(
        resolveNetConfig({ inputChannels: 2, layersPerBlock: [1, 1, 1], hiddenChannels: [4, 6, 5], skipStride: 1 }),
      ).map((l) => l.inputChannels),
    ).toEqual([2, 4, 10]);
  });
});
