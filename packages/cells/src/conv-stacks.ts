/** Stacked ConvLSTM and ConvGRU: per-layer hidden channels and kernels, any direction, stateful streaming. */
import { assertKnownKeys } from '@vid/core';
import { type ModuleConfig, configOf, registerClass } from '@vid/core';

import { ConvGRUCell, type ConvGRUCellOptions } from './convgru-cell.js';
import { ConvLSTMCell, type ConvLSTMCellOptions } from './convlstm-cell.js';
import { type KernelSize, buildStack, layerKernels, layerSizes } from './internal.js';
import { STACK_KEYS, type StackOptions, StackedRNN } from './stacked.js';

/** Options of {@link ConvLSTM}: the cell's options, with per-layer `hiddenChannels` and `kernelSize`. */
export interface ConvLSTMOptions
  extends
    StackOptions,
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

const CONVLSTM_KEYS = [
  ...STACK_KEYS,
  'inputChannels',
  'hiddenChannels',
  'kernelSize',
  'bias',
  'peephole',
  'spatialSize',
  'fused',
  'gateOrder',
  'forgetBias',
] as const;

/**
 * A stack of {@link ConvLSTMCell}s over videos `[batch, time, height, width, channels]`.
 *
 * Parameters: `cells.<layer>.conv.weight`, … (and `cells_reverse.<layer>.…` when bidirectional).
 */
export class ConvLSTM extends StackedRNN<ConvLSTMCell> {
  static override readonly className = 'ConvLSTM';
  readonly #options: object;

  constructor(options: ConvLSTMOptions) {
    const context = 'ConvLSTM';
    assertKnownKeys(options, CONVLSTM_KEYS, context);
    const hidden = layerSizes(options.hiddenChannels, options.numLayers, 'hiddenChannels', context);
    const kernels = layerKernels(options.kernelSize, hidden.length, 'kernelSize', context);
    super(
      buildStack(
        options,
        options.inputChannels,
        hidden.length,
        context,
        (layer, inputChannels, rng) =>
          new ConvLSTMCell({
            inputChannels,
            hiddenChannels: hidden[layer] as number,
            kernelSize: kernels[layer] as [number, number],
            bias: options.bias,
            peephole: options.peephole,
            spatialSize: options.spatialSize,
            fused: options.fused,
            gateOrder: options.gateOrder,
            forgetBias: options.forgetBias,
            seed: rng,
          }),
      ),
    );
    this.#options = { ...options };
  }

  /** The options given to the constructor (the seed only when it was a number). */
  override getConfig(): ModuleConfig {
    return configOf(this.#options, [], this.constructor.name);
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
  static override readonly className = 'ConvGRU';
  readonly #options: object;

  constructor(options: ConvGRUOptions) {
    const context = 'ConvGRU';
    assertKnownKeys(options, CONVGRU_KEYS, context);
    const hidden = layerSizes(options.hiddenChannels, options.numLayers, 'hiddenChannels', context);
    const kernels = layerKernels(options.kernelSize, hidden.length, 'kernelSize', context);
    super(
      buildStack(
        options,
        options.inputChannels,
        hidden.length,
        context,
        (layer, inputChannels, rng) =>
          new ConvGRUCell({
            inputChannels,
            hiddenChannels: hidden[layer] as number,
            kernelSize: kernels[layer] as [number, number],
            bias: options.bias,
            resetAfter: options.resetAfter,
            seed: rng,
          }),
      ),
    );
    this.#options = { ...options };
  }

  /** The options given to the constructor (the seed only when it was a number). */
  override getConfig(): ModuleConfig {
    return configOf(this.#options, [], this.constructor.name);
  }
}

registerClass(ConvLSTM);
registerClass(ConvGRU);
