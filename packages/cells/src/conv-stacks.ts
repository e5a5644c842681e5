/** Stacked ConvLSTM and ConvGRU: per-layer hidden channels and kernels, any direction, stateful streaming. */
import { type Rng, assertKnownKeys, oneOf, resolveRng } from '@vid/core';

import { ConvGRUCell, type ConvGRUCellOptions } from './convgru-cell.js';
import { ConvLSTMCell, type ConvLSTMCellOptions } from './convlstm-cell.js';
import { type KernelSize, buildLayers, layerKernels, layerSizes } from './internal.js';
import { type Direction, type MergeMode, StackedRNN } from './stacked.js';

/** Options shared by the stacked runners. */
export interface StackOptions {
  /**
   * Layers, when the per-layer options are single numbers.
   * @default the length of the per-layer lists, else 1
   */
  readonly numLayers?: number;
  /** @default 'forward' */
  readonly direction?: Direction;
  /** How a bidirectional layer merges its directions. @default 'concat' */
  readonly merge?: MergeMode;
  /** Carry final states into the next call (forward only; see {@link StackedRNN}). @default false */
  readonly stateful?: boolean;
  /** Seed or generator of the initial weights (each cell gets its own fork). @default 0 */
  readonly seed?: number | Rng;
}

const STACK_KEYS = ['numLayers', 'direction', 'merge', 'stateful', 'seed'] as const;

/** Options of {@link ConvLSTM}: the cell's options, with per-layer `hiddenChannels` and `kernelSize`. */
export interface ConvLSTMOptions
  extends StackOptions,
    Pick<ConvLSTMCellOptions, 'bias' | 'peephole' | 'spatialSize' | 'fused' | 'gateOrder' | 'forgetBias'> {
  /** Channels of the input frames (of layer 0). */
  readonly inputChannels: number;
  /** Hidden channels: one number for every layer, or one per layer. */
  readonly hiddenChannels: number | readonly number[];
  /**
   * Kernel sizes: one number for every layer, or one entry per layer, each a number or `[kh, kw]`.
   * (Unlike the cell's option, a list here is per layer: `[5, 3]` is two layers.)
   */
  readonly kernelSize: number | readonly KernelSize[];
}

const CONVLSTM_KEYS = [...STACK_KEYS, 'inputChannels', 'hiddenChannels', 'kernelSize', 'bias', 'peephole', 'spatialSize', 'fused', 'gateOrder', 'forgetBias'] as const;

/**
 * A stack of {@link ConvLSTMCell}s over videos `[batch, time, height, width, channels]`.
 *
 * Parameters: `cells.<layer>.conv.weight`, … (and `cells_reverse.<layer>.…` when bidirectional).
 */
export class ConvLSTM extends StackedRNN<ConvLSTMCell> {
  constructor(options: ConvLSTMOptions) {
    const context = 'ConvLSTM';
    assertKnownKeys(options, CONVLSTM_KEYS, context);
    const hidden = layerSizes(options.hiddenChannels, options.numLayers, 'hiddenChannels', context);
    const kernels = layerKernels(options.kernelSize, hidden.length, 'kernelSize', context);
    const direction = oneOf(options.direction ?? 'forward', ['forward', 'reverse', 'bidirectional'] as const, 'direction', context);
    const merge = oneOf(options.merge ?? 'concat', ['concat', 'sum'] as const, 'merge', context);
    const layers = buildLayers(
      { inputSize: options.inputChannels, numLayers: hidden.length, bidirectional: direction === 'bidirectional', merge, rng: resolveRng(options.seed, 'seed', context) },
      (layer, inputChannels, rng) =>
        new ConvLSTMCell({
          inputChannels,
          hiddenChannels: hidden[layer] as number,
          kernelSize: kernels[layer] as [number, number],
          ...(options.bias !== undefined ? { bias: options.bias } : {}),
          ...(options.peephole !== undefined ? { peephole: options.peephole } : {}),
          ...(options.spatialSize !== undefined ? { spatialSize: options.spatialSize } : {}),
          ...(options.fused !== undefined ? { fused: options.fused } : {}),
          ...(options.gateOrder !== undefined ? { gateOrder: options.gateOrder } : {}),
          ...(options.forgetBias !== undefined ? { forgetBias: options.forgetBias } : {}),
          seed: rng,
        }),
    );
    super({ ...layers, direction, merge, ...(options.stateful !== undefined ? { stateful: options.stateful } : {}) });
  }
}

/** Options of {@link ConvGRU}: the cell's options, with per-layer `hiddenChannels` and `kernelSize`. */
export interface ConvGRUOptions extends StackOptions, Pick<ConvGRUCellOptions, 'bias' | 'resetAfter'> {
  /** Channels of the input frames (of layer 0). */
  readonly inputChannels: number;
  /** Hidden channels: one number for every layer, or one per layer. */
  readonly hiddenChannels: number | readonly number[];
  /** Kernel sizes: one number for every layer, or one entry per layer, each a number or `[kh, kw]`. */
  readonly kernelSize: number | readonly KernelSize[];
}

const CONVGRU_KEYS = [...STACK_KEYS, 'inputChannels', 'hiddenChannels', 'kernelSize', 'bias', 'resetAfter'] as const;

/**
 * A stack of {@link ConvGRUCell}s over videos `[batch, time, height, width, channels]`.
 *
 * Parameters: `cells.<layer>.conv_x.weight`, … (and `cells_reverse.<layer>.…` when bidirectional).
 */
export class ConvGRU extends StackedRNN<ConvGRUCell> {
  constructor(options: ConvGRUOptions) {
    const context = 'ConvGRU';
    assertKnownKeys(options, CONVGRU_KEYS, context);
    const hidden = layerSizes(options.hiddenChannels, options.numLayers, 'hiddenChannels', context);
    const kernels = layerKernels(options.kernelSize, hidden.length, 'kernelSize', context);
    const direction = oneOf(options.direction ?? 'forward', ['forward', 'reverse', 'bidirectional'] as const, 'direction', context);
    const merge = oneOf(options.merge ?? 'concat', ['concat', 'sum'] as const, 'merge', context);
    const layers = buildLayers(
      { inputSize: options.inputChannels, numLayers: hidden.length, bidirectional: direction === 'bidirectional', merge, rng: resolveRng(options.seed, 'seed', context) },
      (layer, inputChannels, rng) =>
        new ConvGRUCell({
          inputChannels,
          hiddenChannels: hidden[layer] as number,
          kernelSize: kernels[layer] as [number, number],
          ...(options.bias !== undefined ? { bias: options.bias } : {}),
          ...(options.resetAfter !== undefined ? { resetAfter: options.resetAfter } : {}),
          seed: rng,
        }),
    );
    super({ ...layers, direction, merge, ...(options.stateful !== undefined ? { stateful: options.stateful } : {}) });
  }
}
