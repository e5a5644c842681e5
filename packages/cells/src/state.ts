/** Helpers that walk the tensors of a {@link RecurrentState}. */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, formatShape } from '@vid/core';

import type { RecurrentState } from './types.js';

/** Every tensor in a state, in key order (lists flattened). */
export function stateTensors(state: RecurrentState): tf.Tensor[] {
  const out: tf.Tensor[] = [];
  for (const value of Object.values(state)) {
    if (value instanceof tf.Tensor) out.push(value);
    else out.push(...value);
  }
  return out;
}

/** Applies `fn` to every tensor of a state and returns a state of the same structure. */
export function mapState<S extends RecurrentState>(state: S, fn: (tensor: tf.Tensor, key: string) => tf.Tensor): S {
  const out: Record<string, tf.Tensor | tf.Tensor[]> = {};
  for (const [key, value] of Object.entries(state)) {
    out[key] = value instanceof tf.Tensor ? fn(value, key) : value.map((t, i) => fn(t, `${key}[${i}]`));
  }
  return out as unknown as S;
}

/** Disposes every tensor of a state (each at most once). */
export function disposeState(state: RecurrentState | null | undefined): void {
  if (!state) return;
  for (const tensor of new Set(stateTensors(state))) tensor.dispose();
}

/** Checks that `state` has the same keys and shapes as `expected` (a state from `zeroState`). */
export function assertStateLike(
  state: RecurrentState,
  expected: RecurrentState,
  argument: string,
  context: string,
): void {
  for (const key of Object.keys(expected)) {
    const want = expected[key] as tf.Tensor | readonly tf.Tensor[];
    const got = state[key];
    if (got === undefined) {
      throw new ShapeError(`${argument}.${key}`, 'a tensor', 'nothing (missing key)', context);
    }
    if (want instanceof tf.Tensor) {
      if (!(got instanceof tf.Tensor)) throw new ShapeError(`${argument}.${key}`, 'a tensor', 'a list', context);
      if (!tf.util.arraysEqual(got.shape, want.shape)) {
        throw new ShapeError(`${argument}.${key}`, formatShape(want.shape), formatShape(got.shape), context);
      }
    } else {
      if (got instanceof tf.Tensor || got.length !== want.length) {
        throw new ShapeError(
          `${argument}.${key}`,
          `a list of ${want.length} tensors`,
          got instanceof tf.Tensor ? 'a tensor' : `${got.length}`,
          context,
        );
      }
      want.forEach((w, i) => {
        const g = got[i] as tf.Tensor;
        if (!tf.util.arraysEqual(g.shape, w.shape)) {
          throw new ShapeError(`${argument}.${key}[${i}]`, formatShape(w.shape), formatShape(g.shape), context);
        }
      });
    }
  }
}
