/**
 * The ConvLSTM baseline of the paper: `ConvLSTMCell` in NVlabs/conv-tt-lstm
 * `code/convlstmcell.py` (Shi et al. 2015 without peepholes), one fused convolution
 * `conv: [x, h] → [i, f, o, g]`.
 *
 * Porting note: `@vid/cells` owns ConvLSTM (its `ConvLSTMCell` with `gateOrder: 'ifog'` is exactly
 * this cell). Until it is published, the network builds its baseline through
 * {@link createBaselineCell}, the one place to swap.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng} from '@vid/core';
import { Conv2d, Module, ShapeError, assertRank, formatShape, positiveInteger } from '@vid/core';

import { type GateWeights, gateConvolutions, splitGateWeights } from './conv-tt-lstm-cell.js';
import type { ConvRecurrentCell } from './recurrent-cell.js';

/** The state of the baseline ConvLSTM: h and c, each `[batch, height, width, hiddenChannels]`. */
export interface ConvLSTMState {
  readonly h: tf.Tensor4D;
  readonly c: tf.Tensor4D;
}

/** Options of the baseline cell (the official `ConvLSTMCell` arguments). */
export interface BaselineCellOptions {
  readonly inputChannels: number;
  readonly hiddenChannels: number;
  readonly kernelSize: readonly [number, number];
  readonly bias: boolean;
  readonly seed: Rng;
}

/**
 * The official `ConvLSTMCell`: parameters `conv.weight` `[kh, kw, in + hidden, 4 · hidden]`
 * (PyTorch `[4 · hidden, in + hidden, kh, kw]`, input channels first) and `conv.bias`; gates in
 * the order i, f, o, g.
 */
class OfficialConvLSTMCell extends Module implements ConvRecurrentCell<ConvLSTMState> {
  readonly inputChannels: number;
  readonly hiddenChannels: number;
  readonly conv: Conv2d;

  constructor(options: BaselineCellOptions) {
    super();
    this.inputChannels = positiveInteger(options.inputChannels, 'inputChannels', 'ConvLSTMCell');
    this.hiddenChannels = positiveInteger(options.hiddenChannels, 'hiddenChannels', 'ConvLSTMCell');
    this.conv = this.registerModule(
      'conv',
      new Conv2d({
        inChannels: this.inputChannels + this.hiddenChannels,
        outChannels: 4 * this.hiddenChannels,
        kernelSize: options.kernelSize,
        bias: options.bias,
        seed: options.seed,
      }),
    );
  }

  get inputSize(): number {
    return this.inputChannels;
  }

  get outputSize(): number {
    return this.hiddenChannels;
  }

  /** h = c = 0: `[batch, height, width, hiddenChannels]` for x: `[batch, height, width, inputChannels]`. */
  zeroState(x: tf.Tensor4D): ConvLSTMState {
    const shape: [number, number, number, number] = [x.shape[0], x.shape[1], x.shape[2], this.hiddenChannels];
    return { h: tf.zeros(shape), c: tf.zeros(shape) };
  }

  /** x: `[batch, height, width, inputChannels]` → h': `[batch, height, width, hiddenChannels]`. */
  /** The gate kernel split into i, f, o, g (see {@link ConvTTLSTMCell.prepare}). */
  prepare(): GateWeights {
    return splitGateWeights(this.conv.weight, this.conv.bias);
  }

  step(x: tf.Tensor4D, state: ConvLSTMState, gateWeights?: GateWeights): { output: tf.Tensor4D; state: ConvLSTMState } {
    assertRank(x, 4, 'x', 'ConvLSTMCell.step', '[batch, height, width, channels]');
    if (x.shape[3] !== this.inputChannels) {
      throw new ShapeError('x', `[batch, height, width, ${this.inputChannels}]`, formatShape(x.shape), 'ConvLSTMCell.step');
    }
    return tf.tidy(() => {
      // [B, H, W, in + C] → i, f, o, g: 4 × [B, H, W, C] (four convolutions, see ConvTTLSTMCell)
      const [ci, cf, co, cg] = gateConvolutions(tf.concat([x, state.h], 3), gateWeights ?? this.prepare());
      const c: tf.Tensor4D = tf.add(tf.mul(tf.sigmoid(cf), state.c), tf.mul(tf.sigmoid(ci), tf.tanh(cg)));
      const h: tf.Tensor4D = tf.mul(tf.sigmoid(co), tf.tanh(c));
      return { output: h, state: { h, c } };
    });
  }
}

/** The baseline cell as a module with the official parameter names (`conv.weight`, `conv.bias`). */
export type BaselineCell = Module & ConvRecurrentCell<ConvLSTMState>;

/** Builds the paper's ConvLSTM baseline cell (the official `ConvLSTMCell`). */
export function createBaselineCell(options: BaselineCellOptions): BaselineCell {
  return new OfficialConvLSTMCell(options);
}
