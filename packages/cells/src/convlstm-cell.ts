/**
 * ConvLSTM: Shi et al. 2015, "Convolutional LSTM Network: A Machine Learning Approach for
 * Precipitation Nowcasting", eq. (3):
 *
 *   i_t = σ(W_xi ∗ X_t + W_hi ∗ H_{t−1} + W_ci ∘ C_{t−1} + b_i)
 *   f_t = σ(W_xf ∗ X_t + W_hf ∗ H_{t−1} + W_cf ∘ C_{t−1} + b_f)
 *   C_t = f_t ∘ C_{t−1} + i_t ∘ tanh(W_xc ∗ X_t + W_hc ∗ H_{t−1} + b_c)
 *   o_t = σ(W_xo ∗ X_t + W_ho ∗ H_{t−1} + W_co ∘ C_t + b_o)
 *   H_t = o_t ∘ tanh(C_t)
 *
 * `∗` is a stride-1 "same" convolution and `∘` the Hadamard product. The peepholes `W_c·` are
 * `[channels, H, W]` tensors in the paper (`peephole: 'spatial'`); `'channel'` shares one weight
 * per channel over space, and `'none'` drops them (as most implementations do, NVlabs's included).
 *
 * Fused mode computes the eight convolutions as one, on `concat[X_t, H_{t−1}]`; it is the same
 * model as the unfused one (`W_x·` and `W_h·` are the two halves of the fused kernel along its
 * input axis) and the same parameters as NVlabs/conv-tt-lstm `code/convlstmcell.py`
 * `ConvLSTMCell` (`conv`, gate order i, f, o, g there: use `gateOrder: 'ifog'` to load it).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  Conv2d,
  ConfigError,
  Layouts,
  Module,
  type Rng,
  ShapeError,
  assertFinite,
  assertKnownKeys,
  assertRank,
  biasUniform,
  bool,
  finiteNumber,
  formatShape,
  kaimingUniform,
  nonNegativeInteger,
  oneOf,
  pairOf,
  positiveInteger,
  resolveRng,
  zeros,
} from '@vid/core';
import { type ModuleConfig, type Rng as SeedRng, registerClass, seedConfig } from '@vid/core';

import { assertExactShape, kernelPair, splitLast } from './internal.js';
import type { LSTMState, RecurrentCell, StepResult } from './types.js';

/** Which peephole connections a ConvLSTM has (Shi et al. 2015, eq. 3). */
export type ConvLSTMPeephole = 'none' | 'channel' | 'spatial';

/**
 * The order of the four gate blocks along the output channels of the convolution:
 * `'ifgo'` is PyTorch's `nn.LSTM` order (input, forget, cell candidate g, output), `'ifog'` is
 * NVlabs/conv-tt-lstm's (input, forget, output, candidate).
 */
export type GateOrder = 'ifgo' | 'ifog';

/** Options of {@link ConvLSTMCell}. */
export interface ConvLSTMCellOptions {
  /**
   * Channels of the input `x`. Zero makes a cell without input, whose gates see only `h`
   * (the forecaster of Shi et al. 2015, fig. 3); `x` then only gives the batch and frame size.
   */
  readonly inputChannels: number;
  /** Channels of the hidden and cell states. */
  readonly hiddenChannels: number;
  /** Kernel size of the convolutions, square or `[kh, kw]`; odd or even (always "same" padded). */
  readonly kernelSize: number | readonly [number, number];
  /**
   * Learn the gate biases `b_i, b_f, b_c, b_o` (the bias of the convolution on `x`).
   * @default true
   */
  readonly bias?: boolean;
  /**
   * Peephole connections: `'spatial'` is the paper's `[channels, H, W]` Hadamard weights (needs
   * `spatialSize`), `'channel'` one weight per channel, `'none'` none.
   * @default 'none'
   */
  readonly peephole?: ConvLSTMPeephole;
  /**
   * `[height, width]` of the frames, required by (and only used by) `peephole: 'spatial'`.
   */
  readonly spatialSize?: readonly [number, number];
  /**
   * One convolution on `concat[x, h]` (fast) instead of one on `x` plus one on `h`. The two are
   * the same model: the same seed gives the same function.
   * @default true
   */
  readonly fused?: boolean;
  /**
   * Order of the gate blocks along the convolution's output channels. `'ifgo'` is PyTorch's
   * `nn.LSTM` (and the reference fixtures'); `'ifog'` is NVlabs/conv-tt-lstm's `ConvLSTMCell`.
   * @default 'ifgo'
   */
  readonly gateOrder?: GateOrder;
  /**
   * A constant added to the forget gate's pre-activation at every step (TensorFlow's
   * `LSTMCell(forget_bias)`; Jozefowicz et al. 2015 recommend 1). Not a parameter.
   * @default 0
   */
  readonly forgetBias?: number;
  /**
   * Seed or generator of the initial weights. Weights follow PyTorch's `nn.Conv2d` default on
   * the fused kernel (Kaiming-uniform, fan-in `(inputChannels + hiddenChannels)·kh·kw`), also
   * when unfused; peepholes start at zero.
   * @default 0
   */
  readonly seed?: number | Rng;
}

const OPTION_KEYS = [
  'inputChannels',
  'hiddenChannels',
  'kernelSize',
  'bias',
  'peephole',
  'spatialSize',
  'fused',
  'gateOrder',
  'forgetBias',
  'seed',
] as const;

/**
 * A ConvLSTM cell (Shi et al. 2015, eq. 3) on NHWC frames.
 *
 * Parameters (PyTorch names; vid layouts, PyTorch layouts on import/export):
 * - fused: `conv.weight` `[kh, kw, inputChannels + hiddenChannels, 4·hiddenChannels]` (input
 *   channels first, then hidden, as `concat[x, h]`), `conv.bias` `[4·hiddenChannels]`;
 * - unfused: `conv_x.weight` `[kh, kw, inputChannels, 4·hidden]`, `conv_x.bias`, `conv_h.weight`
 *   `[kh, kw, hidden, 4·hidden]` (without input, `inputChannels: 0`: only `conv_h`, with the bias);
 * - peepholes: `w_ci`, `w_cf`, `w_co`, `[height, width, hidden]` (`'spatial'`, PyTorch
 *   `[hidden, height, width]`) or `[hidden]` (`'channel'`).
 *
 * The gate blocks along the last axis of the kernel follow `gateOrder`.
 */
export class ConvLSTMCell extends Module implements RecurrentCell<LSTMState> {
  static readonly className = 'ConvLSTMCell';
  readonly inputChannels: number;
  readonly hiddenChannels: number;
  readonly kernelSize: readonly [number, number];
  readonly bias: boolean;
  readonly peephole: ConvLSTMPeephole;
  readonly spatialSize: readonly [number, number] | null;
  readonly fused: boolean;
  readonly gateOrder: GateOrder;
  readonly forgetBias: number;

  /** Fused mode: the convolution on `concat[x, h]`. */
  readonly conv: Conv2d | null = null;
  /** Unfused mode: the convolution on `x` (carries the bias); null without input. */
  readonly convX: Conv2d | null = null;
  /** Unfused mode: the convolution on `h` (no bias). */
  readonly convH: Conv2d | null = null;
  /** Peephole weights `W_ci`, `W_cf`, `W_co`, or null without peepholes. */
  readonly peepholes: { readonly i: tf.Variable; readonly f: tf.Variable; readonly o: tf.Variable } | null = null;

  /** The resolved options that rebuild this cell (the seed only when it was a number). */
  override getConfig(): ModuleConfig {
    return {
      inputChannels: this.inputChannels,
      hiddenChannels: this.hiddenChannels,
      kernelSize: [...this.kernelSize],
      bias: this.bias,
      peephole: this.peephole,
      ...(this.spatialSize ? { spatialSize: [...this.spatialSize] } : {}),
      fused: this.fused,
      gateOrder: this.gateOrder,
      forgetBias: this.forgetBias,
      ...seedConfig(this.#seed),
    };
  }

  readonly #seed: number | SeedRng | undefined;

  constructor(options: ConvLSTMCellOptions) {
    super();
    this.#seed = options.seed;
    const context = 'ConvLSTMCell';
    assertKnownKeys(options, OPTION_KEYS, context);
    this.inputChannels = nonNegativeInteger(options.inputChannels, 'inputChannels', context);
    this.hiddenChannels = positiveInteger(options.hiddenChannels, 'hiddenChannels', context);
    this.kernelSize = kernelPair(options.kernelSize, 'kernelSize', context);
    this.bias = bool(options.bias ?? true, 'bias', context);
    this.peephole = oneOf(options.peephole ?? 'none', ['none', 'channel', 'spatial'] as const, 'peephole', context);
    this.fused = bool(options.fused ?? true, 'fused', context);
    this.gateOrder = oneOf(options.gateOrder ?? 'ifgo', ['ifgo', 'ifog'] as const, 'gateOrder', context);
    this.forgetBias = finiteNumber(options.forgetBias ?? 0, 'forgetBias', context);
    if (this.peephole === 'spatial') {
      if (options.spatialSize === undefined) {
        throw new ConfigError(
          'spatialSize',
          "[height, width] of the frames when peephole is 'spatial'",
          undefined,
          context,
        );
      }
      this.spatialSize = pairOf(options.spatialSize, 'spatialSize', context);
    } else {
      this.spatialSize = options.spatialSize === undefined ? null : pairOf(options.spatialSize, 'spatialSize', context);
    }
    const rng = resolveRng(options.seed, 'seed', context);

    // One draw of the fused kernel [kh, kw, in + hidden, 4·hidden] and bias, split when unfused,
    // so that both modes give the same function for the same seed.
    const [kh, kw] = this.kernelSize;
    const concatChannels = this.inputChannels + this.hiddenChannels;
    const gates = 4 * this.hiddenChannels;
    const fusedKernel = kaimingUniform()([kh, kw, concatChannels, gates], rng);
    const fusedBias = this.bias ? biasUniform(concatChannels * kh * kw)([gates], rng) : null;
    const conv = (name: string, inChannels: number, kernel: tf.Tensor, bias: tf.Tensor | null): Conv2d =>
      this.registerModule(
        name,
        new Conv2d({
          inChannels,
          outChannels: gates,
          kernelSize: this.kernelSize,
          bias: bias !== null,
          weightInit: () => kernel,
          ...(bias ? { biasInit: () => bias } : {}),
        }),
      );
    if (this.fused) {
      this.conv = conv('conv', concatChannels, fusedKernel, fusedBias);
    } else {
      // [kh, kw, in + hidden, 4·hidden] → [kh, kw, in, 4·hidden] and [kh, kw, hidden, 4·hidden].
      const [kernelX, kernelH] = tf.split(fusedKernel, [this.inputChannels, this.hiddenChannels], 2);
      fusedKernel.dispose();
      if (this.inputChannels > 0) {
        this.convX = conv('conv_x', this.inputChannels, kernelX as tf.Tensor, fusedBias);
        this.convH = conv('conv_h', this.hiddenChannels, kernelH as tf.Tensor, null);
      } else {
        // No input: the bias moves to the only convolution.
        (kernelX as tf.Tensor).dispose();
        this.convH = conv('conv_h', this.hiddenChannels, kernelH as tf.Tensor, fusedBias);
      }
    }

    if (this.peephole !== 'none') {
      const shape =
        this.peephole === 'spatial'
          ? [...(this.spatialSize as [number, number]), this.hiddenChannels]
          : [this.hiddenChannels];
      const layout = this.peephole === 'spatial' ? Layouts.chw : Layouts.identity;
      const make = (name: string): tf.Variable => this.registerParameter(name, zeros()(shape, rng), { layout });
      this.peepholes = { i: make('w_ci'), f: make('w_cf'), o: make('w_co') };
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

  /** The zero state for `x: [batch, height, width, inputChannels]`: `h`, `c` `[batch, height, width, hidden]`. */
  zeroState(x: tf.Tensor): LSTMState {
    this.#checkInput(x, 'ConvLSTMCell.zeroState');
    const [batch, height, width] = x.shape as [number, number, number, number];
    const shape: [number, number, number, number] = [batch, height, width, this.hiddenChannels];
    return { h: tf.zeros(shape), c: tf.zeros(shape) };
  }

  /**
   * One step of eq. (3).
   *
   * x: `[batch, height, width, inputChannels]`; state: `h`, `c` `[batch, height, width, hidden]`
   * (zeros when omitted) → `{ output: h_t, state: { h: h_t, c: c_t } }` (`output` is `state.h`).
   * Disposes nothing it is given.
   */
  step(x: tf.Tensor, state?: LSTMState): StepResult<LSTMState, tf.Tensor4D> {
    const context = 'ConvLSTMCell.step';
    this.#checkInput(x, context);
    if (state) {
      const [batch, height, width] = x.shape as [number, number, number, number];
      const expected = [batch, height, width, this.hiddenChannels];
      const names = 'batch, height, width from x; hiddenChannels';
      assertExactShape(state.h, expected, 'state.h', context, names);
      assertExactShape(state.c, expected, 'state.c', context, names);
    }
    assertFinite(x, 'x', context);
    return tf.tidy(() => {
      const { h: hPrev, c: cPrev } = state ?? this.zeroState(x);
      const x4 = x as tf.Tensor4D;
      const h4 = hPrev as tf.Tensor4D;
      // z: [batch, height, width, 4·hidden], the four gate pre-activations side by side.
      let z: tf.Tensor4D;
      if (this.conv) {
        // concat[x, h]: [batch, height, width, in + hidden]
        const xh = this.inputChannels === 0 ? h4 : tf.concat([x4, h4], 3);
        z = this.conv.apply(xh);
      } else {
        const convH = this.convH as Conv2d;
        z = this.convX ? tf.add(this.convX.apply(x4), convH.apply(h4)) : convH.apply(h4);
      }
      // 4 × [batch, height, width, hidden]
      const [first, second, third, fourth] = splitLast(z, 4) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
      const [zi, zf, zg, zo] =
        this.gateOrder === 'ifgo' ? [first, second, third, fourth] : [first, second, fourth, third];
      const peep = this.peepholes;
      const i = tf.sigmoid(peep ? tf.add(zi, tf.mul(peep.i, cPrev)) : zi);
      let fPre: tf.Tensor = peep ? tf.add(zf, tf.mul(peep.f, cPrev)) : zf;
      if (this.forgetBias !== 0) fPre = tf.add(fPre, this.forgetBias);
      const f = tf.sigmoid(fPre);
      const c = tf.add(tf.mul(f, cPrev), tf.mul(i, tf.tanh(zg))) as tf.Tensor4D;
      // o peeks at the new cell state C_t (eq. 3).
      const o = tf.sigmoid(peep ? tf.add(zo, tf.mul(peep.o, c)) : zo);
      const h = tf.mul(o, tf.tanh(c)) as tf.Tensor4D;
      return { output: h, state: { h, c } };
    });
  }

  #checkInput(x: tf.Tensor, context: string): void {
    assertRank(x, 4, 'x', context, '[batch, height, width, channels]');
    const [, height, width, channels] = x.shape as [number, number, number, number];
    if (channels !== this.inputChannels) {
      throw new ShapeError(
        'x',
        `[batch, height, width, ${this.inputChannels}] (inputChannels = ${this.inputChannels})`,
        formatShape(x.shape),
        context,
      );
    }
    if (this.peephole === 'spatial') {
      const [sh, sw] = this.spatialSize as [number, number];
      if (height !== sh || width !== sw) {
        throw new ShapeError(
          'x',
          `[batch, ${sh}, ${sw}, ${this.inputChannels}] (spatialSize of the 'spatial' peepholes)`,
          formatShape(x.shape),
          context,
        );
      }
    }
  }
}

registerClass(ConvLSTMCell);
