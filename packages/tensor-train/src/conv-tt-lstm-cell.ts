/**
 * The Convolutional Tensor-Train LSTM cell (Su, Byeon, Kossaifi, Huang, Kautz, Anandkumar,
 * "Convolutional Tensor-Train LSTM for Spatio-Temporal Learning", NeurIPS 2020, §3 and eqs. 9–11),
 * a port of `ConvTTLSTMCell` in NVlabs/conv-tt-lstm `code/convlstmcell.py` (commit 1220ff4),
 * numerically the same model with the same parameter names.
 *
 * One step, with `lags = steps − order + 1` and the last `steps` hidden states
 * `h[t−steps], …, h[t−1]` (oldest first):
 *
 * 1. Preprocessing (paper eq. 10, "sliding window"): for each order `l = 0 … order−1`, the window
 *    `h[t−steps+l], …, h[t−steps+l+lags−1]` is reduced to `ranks` channels by the official
 *    `Conv3d` over (height, width, lags), kernel `[kh, kw, lags]`, no padding over lags. Here it is
 *    the same sum as one 2-D convolution on the window concatenated on channels (see
 *    {@link lagWindowLayout} for the exact weight mapping): `ĥ_l = conv(window_l)`.
 * 2. Convolutional tensor-train (eq. 9): `T_0 = ĥ_0`, `T_l = ĥ_l + conv_{l−1}(T_{l−1})`, each
 *    `conv_{l}` a `ranks → ranks` convolution (the TT cores).
 * 3. Gates of a ConvLSTM without peepholes, as the official code computes them:
 *    `[i, f, o, g] = split(conv_{order−1}([x, T_{order−1}]))`, `i, f, o = σ(·)`, `g = tanh(·)`,
 *    `c' = f ⊙ c + i ⊙ g`, `h' = o ⊙ tanh(c')`.
 *
 * Porting note: the official cell keeps its hidden states in a Python list used as a ring
 * buffer with a write pointer (`hidden_pointer`); vid's state holds the same `steps` tensors in
 * chronological order (`h[j]` is the official `hidden_states[(hidden_pointer + j) % steps]`),
 * and a step returns the buffer rotated by one: the oldest state dropped, `h'` appended. Both
 * read the same windows. (`eval_paper/convlstmcell.py` advances its pointer modulo `order`
 * instead of `steps`; that only differs when `order < steps`, never for the paper's
 * `order = steps = 3` checkpoints; vid follows `code/`.)
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  Conv2d,
  type ConvBlock,
  Module,
  type ModuleConfig,
  ModuleList,
  type ParameterLayout,
  type Rng,
  ShapeError,
  assertKnownKeys,
  assertRank,
  biasUniform,
  convSame,
  formatShape,
  kaimingUniform,
  pairOf,
  positiveInteger,
  registerClass,
  resolveRng,
} from '@vid/core';

import { type RecurrentCell, disposeState } from '@vid/cells';

/** Checks a kernel size: positive, odd (PyTorch's `padding = k // 2` keeps the size only then). */
export function oddKernel(value: unknown, field: string, context: string): [number, number] {
  const kernel = pairOf(value, field, context);
  if (kernel[0] % 2 === 0 || kernel[1] % 2 === 0) {
    // Porting note: with an even kernel the official `padding = k // 2` grows the frame by one
    // pixel per layer, and its recurrence then fails on mismatched shapes; vid rejects it up front.
    throw new ConfigError(
      field,
      'odd kernel sizes (the official padding k // 2 keeps the frame size only for odd k)',
      value,
      context,
    );
  }
  return kernel;
}

/**
 * The layout of the official `Conv3d` over lags, held as a 2-D convolution on the window
 * concatenated on channels.
 *
 * PyTorch: `[ranks, hidden, kh, kw, lags]` (out, in, kh, kw, lags), applied to the window stacked
 * on a last axis. vid: `[kh, kw, lags · hidden, ranks]`, applied to the window concatenated on
 * channels with the oldest state first, so input channel `j · hidden + c` is state `j` of the
 * window, channel `c`:
 *
 *     vid[y, x, j·hidden + c, r] = torch[r, c, y, x, j]
 *
 * The Conv3d has no padding over lags and a kernel as long as the window, so its single output
 * position sums `Σ_j Σ_c Σ_y Σ_x torch[r, c, y, x, j] · h_j[c, ·+y, ·+x]`: exactly the 2-D
 * convolution above, term by term.
 */
export function lagWindowLayout(lags: number, hiddenChannels: number): ParameterLayout {
  return {
    name: `conv3d-over-lags (lags ${lags})`,
    toTorch: (value) =>
      tf.tidy(() => {
        const [kh, kw, , out] = value.shape as [number, number, number, number];
        // [kh, kw, lags·hidden, out] → [kh, kw, lags, hidden, out] → [out, hidden, kh, kw, lags]
        return tf.transpose(tf.reshape(value, [kh, kw, lags, hiddenChannels, out]), [4, 3, 0, 1, 2]);
      }),
    fromTorch: (value) =>
      tf.tidy(() => {
        // A tensor of another shape is passed through unchanged, so that `loadStateDict` reports
        // the mismatch with the received shape instead of failing inside the reshape.
        if (value.rank !== 5 || value.shape[1] !== hiddenChannels || value.shape[4] !== lags) return tf.clone(value);
        const [out, hidden, kh, kw] = value.shape as [number, number, number, number, number];
        // [out, hidden, kh, kw, lags] → [kh, kw, lags, hidden, out] → [kh, kw, lags·hidden, out]
        return tf.reshape(tf.transpose(value, [2, 3, 4, 1, 0]), [kh, kw, lags * hidden, out]);
      }),
  };
}

/** Options of {@link LagWindowConv}. */
export interface LagWindowConvOptions {
  /** Channels of each hidden state in the window. */
  readonly hiddenChannels: number;
  /** Output channels (the tensor-train rank). */
  readonly ranks: number;
  /** Hidden states per window (`steps − order + 1`). */
  readonly lags: number;
  /** Odd kernel size, square or `[kh, kw]`. */
  readonly kernelSize: number | readonly [number, number];
  /** @default true */
  readonly bias?: boolean;
  /** Seed or generator for the initial weights. @default 0 */
  readonly seed?: number | Rng;
}

/**
 * The official `Conv3d(hidden, ranks, kernel_size=(kh, kw, lags), padding=(kh//2, kw//2, 0))` over
 * a window of `lags` hidden states, as one 2-D convolution on the window concatenated on channels.
 * Parameters: `weight` `[kh, kw, lags · hidden, ranks]` (PyTorch `[ranks, hidden, kh, kw, lags]`,
 * see {@link lagWindowLayout}) and `bias` `[ranks]`. PyTorch's default initialisation: fan-in
 * `hidden · kh · kw · lags` in both layouts.
 */
export class LagWindowConv extends Module {
  static readonly className = 'LagWindowConv';
  readonly hiddenChannels: number;
  readonly ranks: number;
  readonly lags: number;
  readonly kernelSize: readonly [number, number];
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;

  constructor(options: LagWindowConvOptions) {
    super();
    const context = 'LagWindowConv';
    assertKnownKeys(options, ['hiddenChannels', 'ranks', 'lags', 'kernelSize', 'bias', 'seed'], context);
    this.hiddenChannels = positiveInteger(options.hiddenChannels, 'hiddenChannels', context);
    this.ranks = positiveInteger(options.ranks, 'ranks', context);
    this.lags = positiveInteger(options.lags, 'lags', context);
    this.kernelSize = oddKernel(options.kernelSize, 'kernelSize', context);
    const rng = resolveRng(options.seed, 'seed', context);
    const [kh, kw] = this.kernelSize;
    this.weight = this.registerParameter(
      'weight',
      kaimingUniform()([kh, kw, this.lags * this.hiddenChannels, this.ranks], rng),
      {
        layout: lagWindowLayout(this.lags, this.hiddenChannels),
      },
    );
    const fanIn = this.lags * this.hiddenChannels * kh * kw;
    this.bias = options.bias === false ? null : this.registerParameter('bias', biasUniform(fanIn)([this.ranks], rng));
  }

  /** window: `[batch, height, width, lags · hiddenChannels]` (oldest state first) → `[batch, height, width, ranks]`. */
  apply(window: tf.Tensor4D): tf.Tensor4D {
    if (window.rank !== 4 || window.shape[3] !== this.lags * this.hiddenChannels) {
      throw new ShapeError(
        'window',
        `[batch, height, width, ${this.lags * this.hiddenChannels}] (${this.lags} lags × ${this.hiddenChannels} channels)`,
        formatShape(window.shape),
        'LagWindowConv',
      );
    }
    // A 'same' convolution over height and width; the window's lags are its input channels.
    return convSame(window, this.weight, this.bias);
  }

  /** The constructor options ({@link Module.getConfig}); the seed is not kept (the weights are saved). */
  override getConfig(): ModuleConfig {
    return {
      hiddenChannels: this.hiddenChannels,
      ranks: this.ranks,
      lags: this.lags,
      kernelSize: [...this.kernelSize],
      bias: this.bias !== null,
    };
  }
}

/** Options of {@link ConvTTLSTMCell}; the official constructor arguments, in camelCase. */
export interface ConvTTLSTMCellOptions {
  /** Channels of the input `x`. */
  readonly inputChannels: number;
  /** Channels of the hidden and cell states (and of the output). */
  readonly hiddenChannels: number;
  /**
   * Order of the tensor-train (number of TT cores); `1 ≤ order ≤ steps`.
   * @default 3
   */
  readonly order?: number;
  /**
   * Number of past hidden states the cell keeps (its ring buffer).
   * @default 3
   */
  readonly steps?: number;
  /**
   * Tensor-train rank (channels of every core); official name `ranks` (the network's
   * `cell_params` calls it `rank`).
   * @default 8
   */
  readonly ranks?: number;
  /**
   * Odd kernel size of every convolution, square or `[kh, kw]`.
   * @default 5
   */
  readonly kernelSize?: number | readonly [number, number];
  /**
   * Biases in every convolution.
   * @default true
   */
  readonly bias?: boolean;
  /**
   * Seed or generator for the initial weights (PyTorch's default initialisation).
   * @default 0
   */
  readonly seed?: number | Rng;
}

/**
 * The state of a {@link ConvTTLSTMCell}: a `RecurrentState` of `@vid/cells`, with the keys of
 * every LSTM state (`h`, `c`).
 */
export type ConvTTLSTMState = {
  /**
   * The last `steps` hidden states, oldest first, each `[batch, height, width, hiddenChannels]`
   * (the official ring buffer, in chronological order).
   */
  readonly h: readonly tf.Tensor4D[];
  /** The cell state c: `[batch, height, width, hiddenChannels]`. */
  readonly c: tf.Tensor4D;
};

const CELL_OPTIONS = [
  'inputChannels',
  'hiddenChannels',
  'order',
  'steps',
  'ranks',
  'kernelSize',
  'bias',
  'seed',
] as const;

/**
 * Convolutional Tensor-Train LSTM cell (Su et al. 2020, eqs. 9–11; NVlabs/conv-tt-lstm
 * `code/convlstmcell.py`, `ConvTTLSTMCell`). Parameter names and PyTorch layouts are the
 * official ones: `layers.{0…order−1}` (`Conv2d`: the TT cores `ranks → ranks`, the last one the
 * gates `ranks + inputChannels → 4 · hiddenChannels`) and `layers_.{0…order−1}` (the `Conv3d`s
 * over lags, `hiddenChannels → ranks`, see {@link LagWindowConv}).
 */
export class ConvTTLSTMCell extends Module implements RecurrentCell<ConvTTLSTMState> {
  static readonly className = 'ConvTTLSTMCell';
  readonly inputChannels: number;
  readonly hiddenChannels: number;
  readonly order: number;
  readonly steps: number;
  readonly ranks: number;
  /** Hidden states per window: `steps − order + 1`. */
  readonly lags: number;
  readonly kernelSize: readonly [number, number];
  readonly bias: boolean;
  /** `inputChannels`, for the `RecurrentCell` contract of `@vid/cells`. */
  get inputSize(): number {
    return this.inputChannels;
  }
  /** `hiddenChannels`, for the `RecurrentCell` contract of `@vid/cells`. */
  get outputSize(): number {
    return this.hiddenChannels;
  }
  /** One step's `x` is `[batch, height, width, channels]`. */
  readonly inputRank = 4;
  /** `layers.l`: the TT cores (`l < order − 1`) and the gate convolution (`l = order − 1`). */
  readonly layers: ModuleList<Conv2d>;
  /** `layers_.l`: the window reductions (the official `Conv3d`s). */
  readonly layers_: ModuleList<LagWindowConv>;

  constructor(options: ConvTTLSTMCellOptions) {
    super();
    const context = 'ConvTTLSTMCell';
    assertKnownKeys(options, CELL_OPTIONS, context);
    this.inputChannels = positiveInteger(options.inputChannels, 'inputChannels', context);
    this.hiddenChannels = positiveInteger(options.hiddenChannels, 'hiddenChannels', context);
    this.order = positiveInteger(options.order ?? 3, 'order', context);
    this.steps = positiveInteger(options.steps ?? 3, 'steps', context);
    if (this.order > this.steps) {
      throw new ConfigError(
        'order',
        `an order ≤ steps (${this.steps}): each of the order windows of steps − order + 1 states must fit in the ${this.steps} past states`,
        this.order,
        context,
      );
    }
    this.ranks = positiveInteger(options.ranks ?? 8, 'ranks', context);
    this.kernelSize = oddKernel(options.kernelSize ?? 5, 'kernelSize', context);
    this.bias = options.bias ?? true;
    this.lags = this.steps - this.order + 1;
    const rng = resolveRng(options.seed, 'seed', context);

    // The official constructor creates layers[l] and layers_[l] alternately; so does vid (the
    // initial values differ from PyTorch's anyway: different generators).
    const cores: Conv2d[] = [];
    const windows: LagWindowConv[] = [];
    for (let l = 0; l < this.order; l++) {
      const last = l === this.order - 1;
      cores.push(
        new Conv2d({
          inChannels: last ? this.ranks + this.inputChannels : this.ranks,
          outChannels: last ? 4 * this.hiddenChannels : this.ranks,
          kernelSize: this.kernelSize,
          bias: this.bias,
          seed: rng,
        }),
      );
      windows.push(
        new LagWindowConv({
          hiddenChannels: this.hiddenChannels,
          ranks: this.ranks,
          lags: this.lags,
          kernelSize: this.kernelSize,
          bias: this.bias,
          seed: rng,
        }),
      );
    }
    this.layers = this.registerModule('layers', new ModuleList(cores));
    this.layers_ = this.registerModule('layers_', new ModuleList(windows));
  }

  /**
   * The official first-step state: `steps` zero hidden states and a zero cell state, each
   * `[batch, height, width, hiddenChannels]`. (All hidden entries are one shared zero tensor;
   * dispose the state with {@link disposeState}.)
   */
  initialState(batch: number, height: number, width: number): ConvTTLSTMState {
    const context = 'ConvTTLSTMCell.initialState';
    const shape = [
      positiveInteger(batch, 'batch', context),
      positiveInteger(height, 'height', context),
      positiveInteger(width, 'width', context),
      this.hiddenChannels,
    ] as const;
    const zero = tf.zeros([...shape]) as tf.Tensor4D;
    return { h: new Array<tf.Tensor4D>(this.steps).fill(zero), c: tf.zeros([...shape]) as tf.Tensor4D };
  }

  /** {@link ConvTTLSTMCell.initialState} for the batch and frame size of `x: [batch, height, width, inputChannels]`. */
  zeroState(x: tf.Tensor4D): ConvTTLSTMState {
    assertRank(x, 4, 'x', 'ConvTTLSTMCell.zeroState', '[batch, height, width, channels]');
    return this.initialState(x.shape[0], x.shape[1], x.shape[2]);
  }

  /**
   * One step (see the module comment for the equations). Disposes nothing it is given; the
   * returned state shares `steps − 1` hidden tensors with `state`. `gates`: the result of
   * {@link ConvTTLSTMCell.prepare}, to split the gate kernel once per sequence instead of per step.
   *
   * x: `[batch, height, width, inputChannels]` → output h': `[batch, height, width, hiddenChannels]`.
   */
  step(x: tf.Tensor4D, state: ConvTTLSTMState, gates?: unknown): { output: tf.Tensor4D; state: ConvTTLSTMState } {
    this.#checkStep(x, state);
    return tf.tidy(() => {
      let train: tf.Tensor4D | undefined;
      for (let l = 0; l < this.order; l++) {
        const states = state.h.slice(l, l + this.lags);
        // window: lags × [B, H, W, C] → [B, H, W, lags·C], oldest first
        const window = states.length === 1 ? (states[0] as tf.Tensor4D) : tf.concat(states, 3);
        const reduced = this.layers_.at(l).apply(window); // [B, H, W, ranks]
        train = train === undefined ? reduced : tf.add<tf.Tensor4D>(reduced, this.#conv(l - 1, train));
      }
      // [x, T]: [B, H, W, inputChannels + ranks]; the gate convolution's four output blocks
      // (i, f, o, g: [B, H, W, C] each) as four convolutions, which on wasm is cheaper than one
      // convolution and a split of its channels (a strided copy, and a concat in the backward pass).
      const input = tf.concat([x, train as tf.Tensor4D], 3);
      const gate = this.layers.at(this.order - 1);
      const [ci, cf, co, cg] = ((gates as ConvBlock[] | undefined) ?? this.prepare()).map((block) =>
        gate.apply(input, block),
      ) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
      const i = tf.sigmoid(ci);
      const f = tf.sigmoid(cf);
      const o = tf.sigmoid(co);
      const g = tf.tanh(cg);
      const c: tf.Tensor4D = tf.add(tf.mul(f, state.c), tf.mul(i, g));
      const h: tf.Tensor4D = tf.mul(o, tf.tanh(c));
      return { output: h, state: { h: [...state.h.slice(1), h], c } };
    });
  }

  /**
   * The gate convolution `layers.{order−1}` split by output block into i, f, o, g (official
   * order): kernels `[kh, kw, inputChannels + ranks, hiddenChannels]` and biases. The caller
   * disposes them (inside a tidy, or after the rollout). Under a gradient tape the split is
   * recorded, so gradients reach the parameter.
   */
  prepare(): ConvBlock[] {
    return this.layers.at(this.order - 1).splitOutputBlocks(4);
  }

  /** The constructor options ({@link Module.getConfig}); the seed is not kept (the weights are saved). */
  override getConfig(): ModuleConfig {
    return {
      inputChannels: this.inputChannels,
      hiddenChannels: this.hiddenChannels,
      order: this.order,
      steps: this.steps,
      ranks: this.ranks,
      kernelSize: [...this.kernelSize],
      bias: this.bias,
    };
  }

  /** Disposes the tensors of a state (shared entries once): `@vid/cells`' `disposeState`. */
  disposeState(state: ConvTTLSTMState): void {
    disposeState(state);
  }

  #conv(index: number, x: tf.Tensor4D): tf.Tensor4D {
    return this.layers.at(index).apply(x);
  }

  #checkStep(x: tf.Tensor4D, state: ConvTTLSTMState): void {
    const context = 'ConvTTLSTMCell.step';
    assertRank(x, 4, 'x', context, '[batch, height, width, channels]');
    if (x.shape[3] !== this.inputChannels) {
      throw new ShapeError('x', `[batch, height, width, ${this.inputChannels}]`, formatShape(x.shape), context);
    }
    if (state.h.length !== this.steps) {
      throw new ShapeError('state.h', `${this.steps} hidden states (steps)`, `${state.h.length}`, context);
    }
    const expected = [x.shape[0], x.shape[1], x.shape[2], this.hiddenChannels];
    for (const [name, tensor] of [
      ['state.c', state.c],
      ...state.h.map((h, j) => [`state.h[${j}]`, h] as const),
    ] as const) {
      if (!tf.util.arraysEqual(tensor.shape, expected))
        throw new ShapeError(name, formatShape(expected), formatShape(tensor.shape), context);
    }
  }
}

registerClass(LagWindowConv);
registerClass(ConvTTLSTMCell);
