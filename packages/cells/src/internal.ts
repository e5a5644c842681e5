/** Small helpers shared by the cells. Not exported from the package. */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, Rng, ShapeError, formatShape } from '@vid/core';

/** The generator for a `seed` option: a given {@link Rng} is used as is, a number seeds a new one. */
export function resolveRng(seed: number | Rng | undefined, field: string, context: string): Rng {
  if (seed === undefined) return new Rng(0);
  if (seed instanceof Rng) return seed;
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new ConfigError(field, 'a finite number or an Rng', seed, context);
  return new Rng(seed);
}

/**
 * A stride-1 "same" convolution, NHWC, with an optional bias fused in. TensorFlow's `SAME` puts
 * the extra row/column of an even kernel at the bottom/right, as PyTorch's `padding='same'` does.
 *
 * x: `[batch, height, width, in]`, weight: `[kh, kw, in, out]`, bias: `[out]` → `[batch, height, width, out]`.
 */
export function convSame(x: tf.Tensor4D, weight: tf.Tensor, bias: tf.Tensor | null): tf.Tensor4D {
  if (bias) {
    return tf.fused.conv2d({ x, filter: weight as tf.Tensor4D, strides: 1, pad: 'same', bias });
  }
  return tf.conv2d(x, weight as tf.Tensor4D, 1, 'same');
}

/** Throws a {@link ShapeError} unless `tensor` has exactly `expected` as its shape. */
export function assertExactShape(tensor: tf.Tensor, expected: readonly number[], argument: string, context: string, names?: string): void {
  if (!tf.util.arraysEqual(tensor.shape, [...expected])) {
    throw new ShapeError(argument, `${formatShape(expected)}${names ? ` (${names})` : ''}`, formatShape(tensor.shape), context);
  }
}

/** `[kh, kw]` from a kernel size option. Any size ≥ 1, odd or even. */
export function kernelPair(value: unknown, field: string, context: string): [number, number] {
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1;
  if (ok(value)) return [value, value];
  if (Array.isArray(value) && value.length === 2 && ok(value[0]) && ok(value[1])) return [value[0], value[1]];
  throw new ConfigError(field, 'a positive integer or a pair [kh, kw] of positive integers', value, context);
}
