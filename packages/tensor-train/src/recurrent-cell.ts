/**
 * The small interface the network's rollout needs from a convolutional recurrent cell, and the
 * helpers that keep their states' memory in check.
 */
import * as tf from '@tensorflow/tfjs-core';

/** One step of a convolutional recurrent cell: `x: [batch, height, width, inputChannels]`. */
export interface ConvRecurrentCell<State> {
  /** Channels of the input `x`. */
  readonly inputChannels: number;
  /** Channels of the output (the hidden state `h`). */
  readonly hiddenChannels: number;
  /** The all-zero state the official code creates at the first step (`first_step=True`). */
  initialState(batch: number, height: number, width: number): State;
  /**
   * One pure step. Never disposes `x` or `state`; the returned state may share tensors with
   * the given one (a ring buffer of hidden states keeps all but its oldest).
   *
   * x: `[batch, height, width, inputChannels]` → output: `[batch, height, width, hiddenChannels]`.
   */
  step(x: tf.Tensor4D, state: State): { output: tf.Tensor4D; state: State };
}

/** Every tensor inside a state (nested arrays and plain objects). */
export function stateTensors(state: unknown, out: tf.Tensor[] = []): tf.Tensor[] {
  if (state instanceof tf.Tensor) out.push(state);
  else if (Array.isArray(state)) for (const item of state) stateTensors(item, out);
  else if (state !== null && typeof state === 'object') for (const item of Object.values(state)) stateTensors(item, out);
  return out;
}

/**
 * Disposes the tensors of `previous` that `next` no longer holds (states share tensors: the
 * ring buffer of a Conv-TT-LSTM keeps `steps − 1` of its hidden states from one step to the
 * next). `keep` lists tensors that must survive too (outputs still needed).
 */
export function disposeDropped(previous: unknown, next: unknown, keep: readonly tf.Tensor[] = []): void {
  const alive = new Set<tf.Tensor>([...stateTensors(next), ...keep]);
  for (const tensor of stateTensors(previous)) {
    if (!alive.has(tensor) && !tensor.isDisposed) tensor.dispose();
  }
}
