/**
 * Tensor helpers shared by the packages: an accurate mean, and time-axis helpers for videos
 * `[batch, time, height, width, channels]`. The video helpers are written with rank-3
 * slices: tfjs-backend-wasm runs slices of rank ≤ 4 natively, and a rank-5 slice that is not
 * contiguous (a time range of a batch of more than one video) falls back to a generic JavaScript
 * copy that is orders of magnitude slower (~300 ms for `[8, 20, 64, 64, 1]`), in the forward
 * pass and, as its gradient, in the backward pass.
 */
import * as tf from '@tensorflow/tfjs-core';

import { ShapeError, formatShape } from './errors.js';
import { assertRank } from './validate.js';

/**
 * Frames `start … start + count − 1` of a batch of videos, as `video[:, start:start + count]`.
 *
 * video: `[batch, time, height, width, channels]` → `[batch, count, height, width, channels]` (a
 * new tensor; the whole video when the range covers it).
 */
export function sliceFrames(video: tf.Tensor, start: number, count: number): tf.Tensor5D {
  assertRank(video, 5, 'video', 'sliceFrames', '[batch, time, height, width, channels]');
  const [batch, time, height, width, channels] = video.shape as [number, number, number, number, number];
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 1 || start + count > time) {
    throw new ShapeError(
      'video',
      `at least ${start + count} frames on axis 1 (frames ${start} … ${start + count - 1})`,
      formatShape(video.shape),
      'sliceFrames',
    );
  }
  if (start === 0 && count === time) return tf.clone(video) as tf.Tensor5D;
  return tf.tidy(() => {
    // [B, T, H, W, C] → [B, T, H·W·C] → [B, count, H·W·C] → [B, count, H, W, C]
    const flat = tf.reshape(video, [batch, time, height * width * channels]);
    return tf.reshape(tf.slice(flat, [0, start, 0], [batch, count, height * width * channels]), [
      batch,
      count,
      height,
      width,
      channels,
    ]) as tf.Tensor5D;
  });
}

/**
 * Per-step frames stacked into a batch of videos: time × `[batch, height, width, channels]` →
 * `[batch, time, height, width, channels]`. Stacked on a new leading axis and transposed, so that
 * the gradient is a transpose and contiguous slices (stacking on axis 1 directly would make the
 * gradient one strided rank-5 slice per step).
 */
export function stackFrames(frames: readonly tf.Tensor[]): tf.Tensor5D {
  if (frames.length === 0) throw new ShapeError('frames', 'at least one frame', 'none', 'stackFrames');
  return tf.tidy(() => tf.transpose(tf.stack([...frames], 0), [1, 0, 2, 3, 4]) as tf.Tensor5D);
}

/**
 * Mean over every element, summed one axis at a time (a reduction tree like PyTorch's cascade
 * sum): the float32 rounding error grows with the length of one axis, not with the element
 * count. For a million elements of 0.1 (1000 × 1000) it is 1.6e-7 off, where `tf.mean` on wasm
 * is 9.6e-4 off. x: any shape → scalar.
 */
export function accurateMean(x: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    let total: tf.Tensor = x;
    for (let axis = x.rank - 1; axis >= 0; axis--) total = tf.sum(total, axis);
    return tf.div(total, x.size) as tf.Scalar;
  });
}
