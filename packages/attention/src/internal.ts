/** Small helpers shared by the modules of the package. Not exported from the package. */
import * as tf from '@tensorflow/tfjs-core';

/**
 * The time steps of a batch-major sequence as a list, each `[batch, ...rest]`.
 *
 * x: `[batch, time, ...rest]` → time × `[batch, ...rest]`. A rank-3 transpose and an unstack on
 * axis 0 (faster on wasm than unstacking axis 1); the list is a copy, safe to reorder.
 */
export function timeSteps(x: tf.Tensor): tf.Tensor[] {
  const [batch, time] = x.shape as [number, number];
  const rest = x.shape.slice(2);
  const size = rest.reduce((a, b) => a * b, 1);
  // [batch, time, ...rest] → [batch, time, size] → [time, batch, size]
  const timeMajor = tf.transpose(tf.reshape(x, [batch, time, size]), [1, 0, 2]);
  return tf.unstack(timeMajor).map((step) => tf.reshape(step, [batch, ...rest]));
}

/**
 * Stacks per-step tensors into a batch-major sequence.
 *
 * steps: time × `[batch, ...rest]` → `[batch, time, ...rest]` (through a rank-3 transpose).
 */
export function stackTime(steps: readonly tf.Tensor[]): tf.Tensor {
  const first = steps[0] as tf.Tensor;
  const batch = first.shape[0] as number;
  const rest = first.shape.slice(1);
  const size = rest.reduce((a, b) => a * b, 1);
  // time × [batch, size] → [time, batch, size] → [batch, time, size] → [batch, time, ...rest]
  const stacked = tf.stack(steps.map((s) => tf.reshape(s, [batch, size])));
  return tf.reshape(tf.transpose(stacked, [1, 0, 2]), [batch, steps.length, ...rest]);
}
