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

import { convSame } from './ops.js';
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

  initialState(batch: number, height: number, width: number): ConvLSTMState {
    const shape: [number, number, number, number] = [batch, height, width, this.hiddenChannels];
    return { h: tf.zeros(shape), c: tf.zeros(shape) };
  }

  /** x: `[batch, height, width, inputChannels]` → h': `[batch, height, width, hiddenChannels]`. */
  step(x: tf.Tensor4D, state: ConvLSTMState): { output: tf.Tensor4D; state: ConvLSTMState } {
    assertRank(x, 4, 'x', 'ConvLSTMCell.step', '[batch, height, width, channels]');
    if (x.shape[3] !== this.inputChannels) {
      throw new ShapeError('x', `[batch, height, width, ${this.inputChannels}]`, formatShape(x.shape), 'ConvLSTMCell.step');
    }
    return tf.tidy(() => {
      // [B, H, W, in + C] → [B, H, W, 4C] → i, f, o, g
      const gates = convSame(tf.concat([x, state.h], 3), this.conv.weight, this.conv.bias);
      const [ci, cf, co, cg] = tf.split(gates, 4, 3) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
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
