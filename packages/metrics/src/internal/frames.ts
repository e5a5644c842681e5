/**
 * Input handling shared by the metrics: shape checks for a prediction/target pair, flattening of
 * leading dimensions into one batch of frames, value checks (debug mode), and image reductions
 * that keep float32 rounding small.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, assertFinite, debugChecksEnabled, formatShape } from '@vid/core';

/** A batch of frames and the leading shape it came from. */
export interface FlatFrames {
  /** `[n, height, width, channels]`, float32. */
  readonly frames: tf.Tensor4D;
  /** The dimensions before `[height, width, channels]` (empty for one image). */
  readonly leading: number[];
}

/**
 * Checks that `prediction` and `target` are `[..., height, width, channels]` float or int
 * tensors of one shape. Throws a {@link ShapeError} naming the argument otherwise.
 */
export function assertFramePair(prediction: tf.Tensor, target: tf.Tensor, context: string, minSize = 1): void {
  for (const [name, value] of [
    ['prediction', prediction],
    ['target', target],
  ] as const) {
    if (!(value instanceof tf.Tensor)) {
      throw new ShapeError(name, 'a tf.Tensor of shape [..., height, width, channels]', String(value), context);
    }
    if (value.rank < 3) {
      throw new ShapeError(
        name,
        'rank ≥ 3 ([..., height, width, channels]; add a channel axis to grayscale frames)',
        `rank ${value.rank} ${formatShape(value.shape)}`,
        context,
      );
    }
    if (value.dtype !== 'float32' && value.dtype !== 'int32') {
      throw new ShapeError(name, 'dtype float32 or int32', `dtype ${value.dtype}`, context);
    }
  }
  if (!tf.util.arraysEqual(prediction.shape, target.shape)) {
    throw new ShapeError(
      'target',
      `the shape of prediction ${formatShape(prediction.shape)}`,
      formatShape(target.shape),
      context,
    );
  }
  const [height, width] = prediction.shape.slice(-3) as [number, number];
  if (height < minSize || width < minSize) {
    throw new ShapeError(
      'prediction',
      `frames of at least ${minSize}×${minSize} pixels`,
      `${height}×${width} ${formatShape(prediction.shape)}`,
      context,
    );
  }
}

/** `[..., height, width, channels]` → `[n, height, width, channels]` float32 (inside a tidy). */
export function flattenFrames(x: tf.Tensor): FlatFrames {
  const leading = x.shape.slice(0, -3);
  const [height, width, channels] = x.shape.slice(-3) as [number, number, number];
  // x: [...leading, h, w, c] → [n, h, w, c]
  const frames = tf.reshape(x.dtype === 'float32' ? x : tf.cast(x, 'float32'), [
    -1,
    height,
    width,
    channels,
  ]) as tf.Tensor4D;
  return { frames, leading };
}

/** `[n]` → `[...leading]` (a scalar for one image). */
export function unflatten(values: tf.Tensor1D, leading: readonly number[]): tf.Tensor {
  return tf.reshape(values, [...leading]);
}

/**
 * The mean over `[height, width, channels]` of `[n, height, width, channels]` → `[n]`, reduced in
 * two stages (each row first, then the rows) so that float32 sums stay short.
 */
export function imageMean(x: tf.Tensor4D): tf.Tensor1D {
  // x: [n, h, w, c] → rows [n, h] → [n]
  return tf.mean(tf.mean(x, [2, 3]), 1) as tf.Tensor1D;
}

/** The sum over `[height, width, channels]` → `[n]`, in two stages. */
export function imageSum(x: tf.Tensor4D): tf.Tensor1D {
  return tf.sum(tf.sum(x, [2, 3]), 1) as tf.Tensor1D;
}

/**
 * With debug checks on (`setDebugChecks(true)` or `VID_DEBUG=1`), throws when a value is NaN or
 * infinite, or when the values of the pair span more than `dataRange` (the distance between the
 * smallest and largest possible value, as scikit-image defines it). Reads the values back, so it
 * is skipped when debug checks are off.
 */
export function debugCheckValues(
  prediction: tf.Tensor,
  target: tf.Tensor,
  context: string,
  range?: { readonly dataRange?: number; readonly interval?: readonly [number, number] },
): void {
  if (!debugChecksEnabled()) return;
  assertFinite(prediction, 'prediction', context);
  assertFinite(target, 'target', context);
  if (!range) return;
  // In float32: the pair may mix dtypes (float32 and int32), which tf.stack refuses.
  const [pMin, pMax, tMin, tMax] = tf.tidy(() =>
    tf
      .stack([tf.min(prediction), tf.max(prediction), tf.min(target), tf.max(target)].map((m) => tf.cast(m, 'float32')))
      .dataSync(),
  ) as unknown as number[];
  const show = (v: number): number => Number(v.toPrecision(6));
  const low = Math.min(pMin as number, tMin as number);
  const high = Math.max(pMax as number, tMax as number);
  if (range.interval) {
    const [lo, hi] = range.interval;
    for (const [name, min, max] of [
      ['prediction', pMin, pMax],
      ['target', tMin, tMax],
    ] as const) {
      if ((min as number) < lo || (max as number) > hi) {
        throw new ShapeError(
          name,
          `values in [${lo}, ${hi}]`,
          `values in [${show(min as number)}, ${show(max as number)}]`,
          context,
        );
      }
    }
  }
  if (range.dataRange !== undefined && high - low > range.dataRange * (1 + 1e-6)) {
    throw new ShapeError(
      'prediction and target',
      `values spanning at most dataRange = ${range.dataRange}`,
      `values in [${show(low)}, ${show(high)}] (span ${show(high - low)})`,
      context,
    );
  }
}
