/**
 * FC-LSTM over feature vectors, with optional peepholes: Graves 2013, "Generating Sequences With
 * Recurrent Neural Networks", eqs. (7)–(11), as Shi et al. 2015 restate them (eq. 2):
 *
 *   i_t = σ(W_xi x_t + W_hi h_{t−1} + w_ci ∘ c_{t−1} + b_i)
 *   f_t = σ(W_xf x_t + W_hf h_{t−1} + w_cf ∘ c_{t−1} + b_f)
 *   c_t = f_t ∘ c_{t−1} + i_t ∘ tanh(W_xc x_t + W_hc h_{t−1} + b_c)
 *   o_t = σ(W_xo x_t + W_ho h_{t−1} + w_co ∘ c_t + b_o)
 *   h_t = o_t ∘ tanh(c_t)
 *
 * Without peepholes it is exactly `torch.nn.LSTM` / `torch.nn.LSTMCell`: the same parameter
 * names, gate rows in the order i, f, g, o, and two biases (`bias_ih + bias_hh`; redundant, kept
 * so that PyTorch checkpoints load unchanged).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  Layouts,
  Module,
  type Rng,
  ShapeError,
  assertFinite,
  assertKnownKeys,
  assertRank,
  bool,
  finiteNumber,
  formatShape,
  oneOf,
  positiveInteger,
  resolveRng,
  uniform,
  zeros,
} from '@vid/core';
import { type ModuleConfig, type Rng as SeedRng, registerClass, seedConfig } from '@vid/core';

import { assertExactShape, splitLast } from './internal.js';
import type { LSTMState, RecurrentCell, StepResult } from './types.js';

/**
 * Peepholes of an FC-LSTM: `'diagonal'` is Graves's (and Shi et al.'s eq. 2) Hadamard weights
 * `w_c· ∘ c`; `'full'` uses full matrices `V_c· c`, as some texts write them; `'none'` is
 * `torch.nn.LSTM`.
 */
export type LSTMPeephole = 'none' | 'diagonal' | 'full';

/** Options of {@link LSTMCell}. */
export interface LSTMCellOptions {
  /** Features of the input `x`. */
  readonly inputSize: number;
  /** Features of the hidden and cell states. */
  readonly hiddenSize: number;
  /**
   * Learn `bias_ih` and `bias_hh` (PyTorch's two biases).
   * @default true
   */
  readonly bias?: boolean;
  /**
   * Peephole connections: i and f peek at `c_{t−1}`, o at `c_t`. `'diagonal'`: vectors `w_ci`,
   * `w_cf`, `w_co` `[hidden]`; `'full'`: matrices `v_ci`, `v_cf`, `v_co` `[hidden, hidden]`.
   * @default 'none'
   */
  readonly peephole?: LSTMPeephole;
  /**
   * A constant added to the forget gate's pre-activation at every step (TensorFlow's
   * `LSTMCell(forget_bias)`; Jozefowicz et al. 2015 recommend 1). Not a parameter.
   * @default 0
   */
  readonly forgetBias?: number;
  /**
   * Seed or generator of the initial weights: `torch.nn.LSTM`'s U(−1/√hidden, 1/√hidden) for
   * weights and biases; peepholes start at zero.
   * @default 0
   */
  readonly seed?: number | Rng;
}

const OPTION_KEYS = ['inputSize', 'hiddenSize', 'bias', 'peephole', 'forgetBias', 'seed'] as const;

/**
 * An LSTM cell over feature vectors: `x: [batch, inputSize]`, `h`, `c`: `[batch, hiddenSize]`.
 *
 * Parameters (PyTorch's `nn.LSTMCell` names; vid layouts `[in, out]`, PyTorch `[out, in]`):
 * `weight_ih` `[inputSize, 4·hidden]`, `weight_hh` `[hidden, 4·hidden]`, `bias_ih`, `bias_hh`
 * `[4·hidden]` (gate blocks i, f, g, o), and the peepholes `w_ci`, `w_cf`, `w_co` `[hidden]`
 * or `v_ci`, `v_cf`, `v_co` `[hidden, hidden]` (vid `[in, out]`: `V c` is `c · v`).
 */
export class LSTMCell extends Module implements RecurrentCell<LSTMState> {
  static readonly className = 'LSTMCell';
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly bias: boolean;
  readonly peephole: LSTMPeephole;
  readonly forgetBias: number;
  readonly weightIh: tf.Variable;
  readonly weightHh: tf.Variable;
  readonly biasIh: tf.Variable | null = null;
  readonly biasHh: tf.Variable | null = null;
  /** Peephole weights for the input, forget and output gates, or null. */
  readonly peepholes: { readonly i: tf.Variable; readonly f: tf.Variable; readonly o: tf.Variable } | null = null;

  /** The resolved options that rebuild this cell (the seed only when it was a number). */
  override getConfig(): ModuleConfig {
    return {
      inputSize: this.inputSize,
      hiddenSize: this.hiddenSize,
      bias: this.bias,
      peephole: this.peephole,
      forgetBias: this.forgetBias,
      ...seedConfig(this.#seed),
    };
  }

  readonly #seed: number | SeedRng | undefined;

  constructor(options: LSTMCellOptions) {
    super();
    this.#seed = options.seed;
    const context = 'LSTMCell';
    assertKnownKeys(options, OPTION_KEYS, context);
    this.inputSize = positiveInteger(options.inputSize, 'inputSize', context);
    this.hiddenSize = positiveInteger(options.hiddenSize, 'hiddenSize', context);
    this.bias = bool(options.bias ?? true, 'bias', context);
    this.peephole = oneOf(options.peephole ?? 'none', ['none', 'diagonal', 'full'] as const, 'peephole', context);
    this.forgetBias = finiteNumber(options.forgetBias ?? 0, 'forgetBias', context);
    const rng = resolveRng(options.seed, 'seed', context);
    const bound = 1 / Math.sqrt(this.hiddenSize);
    const init = uniform(-bound, bound);
    const gates = 4 * this.hiddenSize;
    // Drawn in PyTorch's parameter order: weight_ih, weight_hh, bias_ih, bias_hh.
    this.weightIh = this.registerParameter('weight_ih', init([this.inputSize, gates], rng), { layout: Layouts.linear });
    this.weightHh = this.registerParameter('weight_hh', init([this.hiddenSize, gates], rng), {
      layout: Layouts.linear,
    });
    if (this.bias) {
      this.biasIh = this.registerParameter('bias_ih', init([gates], rng));
      this.biasHh = this.registerParameter('bias_hh', init([gates], rng));
    }
    if (this.peephole !== 'none') {
      const diagonal = this.peephole === 'diagonal';
      const shape = diagonal ? [this.hiddenSize] : [this.hiddenSize, this.hiddenSize];
      const prefix = diagonal ? 'w' : 'v';
      const layout = diagonal ? Layouts.identity : Layouts.linear;
      const make = (gate: string): tf.Variable =>
        this.registerParameter(`${prefix}_c${gate}`, zeros()(shape, rng), { layout });
      this.peepholes = { i: make('i'), f: make('f'), o: make('o') };
    }
  }

  /** One step's `x` is `[batch, features]` ({@link RecurrentCell}). */
  get inputRank(): number {
    return 2;
  }

  /** Alias of `hiddenSize` ({@link RecurrentCell}). */
  get outputSize(): number {
    return this.hiddenSize;
  }

  /** The zero state for `x: [batch, inputSize]`: `h`, `c` `[batch, hiddenSize]`. */
  zeroState(x: tf.Tensor): LSTMState {
    this.#checkInput(x, 'LSTMCell.zeroState');
    const shape: [number, number] = [x.shape[0] as number, this.hiddenSize];
    return { h: tf.zeros(shape), c: tf.zeros(shape) };
  }

  /**
   * One step. x: `[batch, inputSize]`; state: `h`, `c` `[batch, hiddenSize]` (zeros when
   * omitted) → `{ output: h_t, state: { h: h_t, c: c_t } }` (`output` is `state.h`).
   */
  step(x: tf.Tensor, state?: LSTMState): StepResult<LSTMState, tf.Tensor2D> {
    const context = 'LSTMCell.step';
    this.#checkInput(x, context);
    if (state) {
      const expected = [x.shape[0] as number, this.hiddenSize];
      assertExactShape(state.h, expected, 'state.h', context, 'batch from x; hiddenSize');
      assertExactShape(state.c, expected, 'state.c', context, 'batch from x; hiddenSize');
    }
    assertFinite(x, 'x', context);
    return tf.tidy(() => {
      const { h: hPrev, c: cPrev } = state ?? this.zeroState(x);
      // z: [batch, 4·hidden], gate blocks i, f, g, o.
      let z = tf.add(
        tf.matMul(x as tf.Tensor2D, this.weightIh as tf.Tensor2D),
        tf.matMul(hPrev as tf.Tensor2D, this.weightHh as tf.Tensor2D),
      );
      if (this.biasIh && this.biasHh) z = tf.add(z, tf.add(this.biasIh, this.biasHh));
      // 4 × [batch, hidden]
      const [zi, zf, zg, zo] = splitLast(z, 4) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
      const peek = (weight: tf.Variable | undefined, c: tf.Tensor): tf.Tensor | null => {
        if (!weight) return null;
        return this.peephole === 'diagonal' ? tf.mul(c, weight) : tf.matMul(c as tf.Tensor2D, weight as tf.Tensor2D);
      };
      const withPeek = (pre: tf.Tensor, weight: tf.Variable | undefined, c: tf.Tensor): tf.Tensor => {
        const term = peek(weight, c);
        return term ? tf.add(pre, term) : pre;
      };
      const i = tf.sigmoid(withPeek(zi, this.peepholes?.i, cPrev));
      let fPre = withPeek(zf, this.peepholes?.f, cPrev);
      if (this.forgetBias !== 0) fPre = tf.add(fPre, this.forgetBias);
      const f = tf.sigmoid(fPre);
      const c = tf.add(tf.mul(f, cPrev), tf.mul(i, tf.tanh(zg))) as tf.Tensor2D;
      // o peeks at the new cell state c_t (Graves 2013, eq. 10).
      const o = tf.sigmoid(withPeek(zo, this.peepholes?.o, c));
      const h = tf.mul(o, tf.tanh(c)) as tf.Tensor2D;
      return { output: h, state: { h, c } };
    });
  }

  #checkInput(x: tf.Tensor, context: string): void {
    assertRank(x, 2, 'x', context, '[batch, features]');
    if (x.shape[1] !== this.inputSize) {
      throw new ShapeError(
        'x',
        `[batch, ${this.inputSize}] (inputSize = ${this.inputSize})`,
        formatShape(x.shape),
        context,
      );
    }
  }
}

registerClass(LSTMCell);
