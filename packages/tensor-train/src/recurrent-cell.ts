/**
 * The small interface the network's rollout needs from a convolutional recurrent cell, and the
 * helpers that keep their states' memory in check.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { type RecurrentState, mapState, stateTensors } from '@vid/cells';

/**
 * One step of a convolutional recurrent cell, the `RecurrentCell` contract of `@vid/cells`
 * (docs/decisions/cells-recurrent-cell-contract.md) restricted to frames, plus an optional
 * per-rollout `prepare`. `@vid/cells`' `ConvLSTMCell` satisfies it as it is.
 */
export interface ConvRecurrentCell<State> {
  /** Channels of the input `x`. */
  readonly inputSize: number;
  /** Channels of the output (the hidden state `h`). */
  readonly outputSize: number;
  /**
   * The all-zero state the official code creates at the first step (`first_step=True`), for a
   * one-step input `x: [batch, height, width, inputSize]`.
   */
  zeroState(x: tf.Tensor4D): State;
  /**
   * One pure step. Never disposes `x` or `state`; the returned state may share tensors with
   * the given one (a ring buffer of hidden states keeps all but its oldest).
   *
   * x: `[batch, height, width, inputSize]` → output: `[batch, height, width, outputSize]`.
   */
  step(x: tf.Tensor4D, state: State, prepared?: unknown): { output: tf.Tensor4D; state: State };
  /**
   * Optional: tensors derived from the parameters once per rollout (e.g. a split gate kernel),
   * passed back to every `step`. Created inside the rollout's tidy, under its gradient tape.
   */
  prepare?(): unknown;
}

/** Every tensor of a list of per-layer states, layer by layer (`@vid/cells`' `stateTensors` of each). */
export function layerStateTensors(states: readonly unknown[]): tf.Tensor[] {
  return states.flatMap((state) => stateTensors(state as RecurrentState));
}

/** Per-layer states rebuilt with each tensor replaced, visited in the order of {@link layerStateTensors}. */
export function mapLayerStates(states: readonly unknown[], fn: (tensor: tf.Tensor) => tf.Tensor): unknown[] {
  return states.map((state) => mapState(state as RecurrentState, (tensor) => fn(tensor)));
}

/**
 * Disposes the tensors of the per-layer states `previous` that `next` no longer holds (states
 * share tensors: the ring buffer of a Conv-TT-LSTM keeps `steps − 1` of its hidden states from
 * one step to the next). `keep` lists tensors that must survive too (outputs still needed).
 */
export function disposeDropped(previous: readonly unknown[], next: readonly unknown[], keep: readonly tf.Tensor[] = []): void {
  const alive = new Set<tf.Tensor>([...layerStateTensors(next), ...keep]);
  for (const tensor of layerStateTensors(previous)) {
    if (!alive.has(tensor) && !tensor.isDisposed) tensor.dispose();
  }
}
