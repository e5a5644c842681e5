/** Small helpers shared by the modules of the package. Not exported from the package. */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, Rng, ShapeError, formatShape } from '@vid/core';

/** The generator for a `seed` option: a given {@link Rng} is used as is, a number seeds a new one. */
export function resolveRng(seed: number | Rng | undefined, field: string, context: string): Rng {
  if (seed === undefined) return new Rng(0);
  if (seed instanceof Rng) return seed;
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new ConfigError(field, 'a finite number or an Rng', seed, context);
  return new Rng(seed);
}

/** Throws a {@link ShapeError} unless `tensor` has exactly `expected` as its shape. */
export function assertExactShape(tensor: tf.Tensor, expected: readonly number[], argument: string, context: string, names?: string): void {
  if (!tf.util.arraysEqual(tensor.shape, [...expected])) {
    throw new ShapeError(argument, `${formatShape(expected)}${names ? ` (${names})` : ''}`, formatShape(tensor.shape), context);
  }
}

/** Throws unless `value` is a tensor (names the argument and what it received). */
export function assertTensor(value: unknown, argument: string, context: string): asserts value is tf.Tensor {
  if (!(value instanceof tf.Tensor)) {
    throw new ShapeError(argument, 'a tf.Tensor', value === null ? 'null' : typeof value, context);
  }
  if (value.isDisposed) throw new ShapeError(argument, 'a live tensor', 'a disposed tensor', context);
}

/**
 * Splits the last axis into `parts` equal blocks with slices (on wasm, `tf.split` and its gradient
 * are several times slower than slices).
 *
 * x: `[..., parts·n]` → `parts` × `[..., n]`.
 */
export function splitLast(x: tf.Tensor, parts: number): tf.Tensor[] {
  const axis = x.rank - 1;
  const size = (x.shape[axis] as number) / parts;
  const sizes = x.shape.map((d, i) => (i === axis ? size : d));
  return Array.from({ length: parts }, (_, k) => tf.slice(x, x.shape.map((_, i) => (i === axis ? k * size : 0)), sizes));
}

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
