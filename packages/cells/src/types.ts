/**
 * The contract between cells and runners. A cell is a pure step function over one time step;
 * runners ({@link rnn}, {@link StackedRNN}) and network rollouts own the time loop.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Module } from '@vid/core';

/**
 * A recurrent state: named tensors (or lists of tensors, for cells that keep a window of past
 * states, such as Conv-TT-LSTM). Every tensor's first axis is the batch.
 *
 * One key convention for every cell: `h` is the hidden state (for Conv-TT-LSTM, the window of the
 * last `steps` hidden states, oldest first) and `c` the cell state of the LSTMs.
 */
export interface RecurrentState {
  readonly [name: string]: tf.Tensor | readonly tf.Tensor[];
}

/** The state of an LSTM: hidden state `h` and cell state `c`, both `[batch, ..., hidden]`. */
export interface LSTMState<T extends tf.Tensor = tf.Tensor> extends RecurrentState {
  readonly h: T;
  readonly c: T;
}

/** The state of a GRU: hidden state `h`, `[batch, ..., hidden]`. */
export interface GRUState<T extends tf.Tensor = tf.Tensor> extends RecurrentState {
  readonly h: T;
}

/** What one step returns. `output` may be one of the state's tensors (it is `state.h` for LSTMs and GRUs). */
export interface StepResult<S extends RecurrentState = RecurrentState, O extends tf.Tensor = tf.Tensor> {
  /** `[batch, ..., outputSize]`. */
  readonly output: O;
  readonly state: S;
}

/**
 * A recurrent cell: one time step, `step(x, state) → { output, state }`. The one cell contract of
 * vid: `rnn`, `StackedRNN`, the video-prediction network of `@vid/models` and the recognition
 * models all run any cell that implements it (ConvLSTM, ConvGRU, Conv-TT-LSTM, FC-LSTM, yours).
 *
 * - `x` is `[batch, ...spatial, inputSize]` (`[batch, features]` for fully connected cells,
 *   `[batch, height, width, channels]` for convolutional ones); the output has the same leading
 *   axes and `outputSize` on the last.
 * - `step` never disposes its inputs (`x`, `state`) and returns new tensors that the caller owns;
 *   it does not loop over time.
 * - `zeroState(x)` makes the all-zero state whose shapes follow from `x` (a one-step input).
 *
 * Implement it (on a {@link Module}) to run a new cell with {@link rnn} and {@link StackedRNN}.
 */
export interface RecurrentCell<S extends RecurrentState = RecurrentState> {
  /** The size of the last axis of `x`. Zero for a cell without input (Shi et al.'s forecaster). */
  readonly inputSize: number;
  /** The size of the last axis of the output. */
  readonly outputSize: number;
  /**
   * The rank of one step's `x` (2 for `[batch, features]`, 4 for `[batch, height, width,
   * channels]`), when fixed; runners then check that sequences have one more axis.
   */
  readonly inputRank?: number;
  /**
   * One time step. `prepared` is what {@link RecurrentCell.prepare} returned for this sequence
   * (undefined when the cell has no `prepare`, or when the caller did not call it: the cell then
   * prepares for itself).
   */
  step(x: tf.Tensor, state: S, prepared?: unknown): StepResult<S>;
  /**
   * Optional: tensors derived from the parameters once per sequence (e.g. a gate kernel split
   * into its four blocks), passed back to every `step` of that sequence. Runners call it inside
   * their tidy, under the gradient tape, so gradients reach the parameters; the tidy disposes it.
   */
  prepare?(): unknown;
  /**
   * The zero state for a one-step input `x` (`[batch, ...spatial, inputSize]`). The returned
   * state may hold one tensor under several names (Conv-TT-LSTM's zero window): dispose it with
   * `disposeState`.
   */
  zeroState(x: tf.Tensor): S;
}

/** A recurrent cell that owns its parameters, as the stacked runners need. */
export type RecurrentModule<S extends RecurrentState = RecurrentState> = Module & RecurrentCell<S>;

/** Any recurrent cell, whatever its state (for generic signatures). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRecurrentCell = RecurrentCell<any>;

/** The state type of a cell, from its `zeroState`. */
export type StateOf<C extends AnyRecurrentCell> = ReturnType<C['zeroState']>;
