/**
 * ConvGRU: the GRU-RCN of Ballas et al. 2016, "Delving Deeper into Convolutional Networks for
 * Learning Video Representations", sec. 3 (eqs. 5–8 with convolutions in place of products):
 *
 *   z_t = σ(W_z ∗ x_t + U_z ∗ h_{t−1})
 *   r_t = σ(W_r ∗ x_t + U_r ∗ h_{t−1})
 *   h̃_t = tanh(W ∗ x_t + U ∗ (r_t ∘ h_{t−1}))
 *   h_t = (1 − z_t) ∘ h_{t−1} + z_t ∘ h̃_t
 *
 * The reset gate multiplies `h` *before* the candidate's recurrent convolution. With
 * `resetAfter: true` the cell is instead the convolutional analogue of `torch.nn.GRU` and cuDNN
 * (Keras's `reset_after=True`): `h̃_t = tanh(W ∗ x_t + b + r_t ∘ (U ∗ h_{t−1} + b_h))`, which
 * allows one convolution for all three recurrent terms. It is a different model (not a
 * re-parametrisation); the update `h_t = (1 − z) h + z h̃` is Ballas's in both.
 *
 * Porting note: Ballas et al. add no biases in eqs. 5–8; like every implementation we know,
 * `bias: true` adds one per gate on the input convolution (`conv_x.bias`).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  Conv2d,
  Module,
  type Rng,
  ShapeError,
  assertFinite,
  assertKnownKeys,
  assertRank,
  bool,
  formatShape,
  positiveInteger,
  resolveRng,
} from '@vid/core';
import { type ModuleConfig, type Rng as SeedRng, registerClass, seedConfig } from '@vid/core';

import { assertExactShape, kernelPair, splitLast } from './internal.js';
import type { GRUState, RecurrentCell, StepResult } from './types.js';

/** Options of {@link ConvGRUCell}. */
export interface ConvGRUCellOptions {
  /** Channels of the input `x`. */
  readonly inputChannels: number;
  /** Channels of the hidden state. */
  readonly hiddenChannels: number;
  /** Kernel size of every convolution, square or `[kh, kw]`; odd or even (always "same" padded). */
  readonly kernelSize: number | readonly [number, number];
  /**
   * Learn per-gate biases (on the input convolution; with `resetAfter`, also on the recurrent one).
   * @default true
   */
  readonly bias?: boolean;
  /**
   * Apply the reset gate after the candidate's recurrent convolution (the `torch.nn.GRU` / cuDNN
   * variant; one recurrent convolution per step instead of two). A different model from Ballas's.
   * @default false
   */
  readonly resetAfter?: boolean;
  /**
   * Seed or generator of the initial weights (PyTorch's `nn.Conv2d` default for each convolution).
   * @default 0
   */
  readonly seed?: number | Rng;
}

const OPTION_KEYS = ['inputChannels', 'hiddenChannels', 'kernelSize', 'bias', 'resetAfter', 'seed'] as const;

/**
 * A ConvGRU cell (Ballas et al. 2016) on NHWC frames. Gate blocks along the output channels are
 * z, r, candidate.
 *
 * Parameters (vid layouts `[kh, kw, in, out]`, PyTorch `[out, in, kh, kw]` on import/export):
 * - Ballas (default): `conv_x.weight` `[kh, kw, in, 3·hidden]`, `conv_x.bias` `[3·hidden]`,
 *   `conv_h_zr.weight` `[kh, kw, hidden, 2·hidden]`, `conv_h_n.weight` `[kh, kw, hidden, hidden]`;
 * - `resetAfter`: `conv_x.weight`, `conv_x.bias`, `conv_h.weight` `[kh, kw, hidden, 3·hidden]`,
 *   `conv_h.bias` `[3·hidden]`.
 */
export class ConvGRUCell extends Module implements RecurrentCell<GRUState> {
  static readonly className = 'ConvGRUCell';
  readonly inputChannels: number;
  readonly hiddenChannels: number;
  readonly kernelSize: readonly [number, number];
  readonly bias: boolean;
  readonly resetAfter: boolean;
  /** The convolution on `x`, all three gates. */
  readonly convX: Conv2d;
  /** Ballas: the recurrent convolution of z and r. */
  readonly convHzr: Conv2d | null = null;
  /** Ballas: the candidate's recurrent convolution, on `r ∘ h`. */
  readonly convHn: Conv2d | null = null;
  /** `resetAfter`: the recurrent convolution of all three gates. */
  readonly convH: Conv2d | null = null;

  /** The resolved options that rebuild this cell (the seed only when it was a number). */
  override getConfig(): ModuleConfig {
    return {
      inputChannels: this.inputChannels,
      hiddenChannels: this.hiddenChannels,
      kernelSize: [...this.kernelSize],
      bias: this.bias,
      resetAfter: this.resetAfter,
      ...seedConfig(this.#seed),
    };
  }

  readonly #seed: number | SeedRng | undefined;

  constructor(options: ConvGRUCellOptions) {
    super();
    this.#seed = options.seed;
    const context = 'ConvGRUCell';
    assertKnownKeys(options, OPTION_KEYS, context);
    this.inputChannels = positiveInteger(options.inputChannels, 'inputChannels', context);
    this.hiddenChannels = positiveInteger(options.hiddenChannels, 'hiddenChannels', context);
    this.kernelSize = kernelPair(options.kernelSize, 'kernelSize', context);
    this.bias = bool(options.bias ?? true, 'bias', context);
    this.resetAfter = bool(options.resetAfter ?? false, 'resetAfter', context);
    const rng = resolveRng(options.seed, 'seed', context);
    const hidden = this.hiddenChannels;
    const conv = (name: string, inChannels: number, outChannels: number, bias: boolean): Conv2d =>
      this.registerModule(name, new Conv2d({ inChannels, outChannels, kernelSize: this.kernelSize, bias, seed: rng }));
    this.convX = conv('conv_x', this.inputChannels, 3 * hidden, this.bias);
    if (this.resetAfter) {
      this.convH = conv('conv_h', hidden, 3 * hidden, this.bias);
    } else {
      this.convHzr = conv('conv_h_zr', hidden, 2 * hidden, false);
      this.convHn = conv('conv_h_n', hidden, hidden, false);
    }
  }

  /** Alias of `inputChannels` ({@link RecurrentCell}). */
  get inputSize(): number {
    return this.inputChannels;
  }

  /** One step's `x` is `[batch, height, width, channels]` ({@link RecurrentCell}). */
  get inputRank(): number {
    return 4;
  }

  /** Alias of `hiddenChannels` ({@link RecurrentCell}). */
  get outputSize(): number {
    return this.hiddenChannels;
  }

  /** The zero state for `x: [batch, height, width, inputChannels]`: `h` `[batch, height, width, hidden]`. */
  zeroState(x: tf.Tensor): GRUState {
    this.#checkInput(x, 'ConvGRUCell.zeroState');
    const [batch, height, width] = x.shape as [number, number, number, number];
    return { h: tf.zeros([batch, height, width, this.hiddenChannels]) };
  }

  /**
   * One step. x: `[batch, height, width, inputChannels]`; state: `h` `[batch, height, width,
   * hidden]` (zeros when omitted) → `{ output: h_t, state: { h: h_t } }` (`output` is `state.h`).
   */
  step(x: tf.Tensor, state?: GRUState): StepResult<GRUState, tf.Tensor4D> {
    const context = 'ConvGRUCell.step';
    this.#checkInput(x, context);
    if (state) {
      const [batch, height, width] = x.shape as [number, number, number, number];
      assertExactShape(
        state.h,
        [batch, height, width, this.hiddenChannels],
        'state.h',
        context,
        'batch, height, width from x; hiddenChannels',
      );
    }
    assertFinite(x, 'x', context);
    return tf.tidy(() => {
      const hPrev = (state?.h ?? this.zeroState(x).h) as tf.Tensor4D;
      // 3 × [batch, height, width, hidden]: z, r, candidate from x.
      const [xz, xr, xn] = splitLast(this.convX.apply(x as tf.Tensor4D), 3) as [tf.Tensor, tf.Tensor, tf.Tensor];
      let z: tf.Tensor;
      let n: tf.Tensor;
      if (this.convH) {
        // 3 × [batch, height, width, hidden]: z, r, candidate from h.
        const [hz, hr, hn] = splitLast(this.convH.apply(hPrev), 3) as [tf.Tensor, tf.Tensor, tf.Tensor];
        z = tf.sigmoid(tf.add(xz, hz));
        const r = tf.sigmoid(tf.add(xr, hr));
        n = tf.tanh(tf.add(xn, tf.mul(r, hn)));
      } else {
        // 2 × [batch, height, width, hidden]: z, r from h.
        const [hz, hr] = splitLast((this.convHzr as Conv2d).apply(hPrev), 2) as [tf.Tensor, tf.Tensor];
        z = tf.sigmoid(tf.add(xz, hz));
        const r = tf.sigmoid(tf.add(xr, hr));
        const resetH = tf.mul(r, hPrev) as tf.Tensor4D;
        n = tf.tanh(tf.add(xn, (this.convHn as Conv2d).apply(resetH)));
      }
      // h_t = (1 − z) ∘ h_{t−1} + z ∘ h̃_t, written h_{t−1} + z ∘ (h̃_t − h_{t−1}).
      const h = tf.add(hPrev, tf.mul(z, tf.sub(n, hPrev))) as tf.Tensor4D;
      return { output: h, state: { h } };
    });
  }

  #checkInput(x: tf.Tensor, context: string): void {
    assertRank(x, 4, 'x', context, '[batch, height, width, channels]');
    if (x.shape[3] !== this.inputChannels) {
      throw new ShapeError(
        'x',
        `[batch, height, width, ${this.inputChannels}] (inputChannels = ${this.inputChannels})`,
        formatShape(x.shape),
        context,
      );
    }
  }
}

registerClass(ConvGRUCell);
