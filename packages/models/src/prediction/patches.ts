/**
 * Space-to-depth patching, as Shi et al. 2015 (sec. 4.1) feed Moving MNIST to the ConvLSTM:
 * each 64×64 frame is cut into 4×4 patches, giving a 16×16×16 tensor. Channel `k` of a patched
 * pixel is `(dy·p + dx)·C + c`, TensorFlow's `space_to_depth` order (PredRNN's `reshape_patch`
 * uses the same).
 *
 * Written with reshapes and rank-4 transposes (fast on wasm), so gradients flow on every backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, formatShape, positiveInteger } from '@vid/core';

function check(x: tf.Tensor, patchSize: number, context: string): void {
  positiveInteger(patchSize, 'patchSize', context);
  if (x.rank !== 4 && x.rank !== 5) {
    throw new ShapeError(
      'x',
      'rank 4 [batch, height, width, channels] or rank 5 [batch, time, height, width, channels]',
      `rank ${x.rank} ${formatShape(x.shape)}`,
      context,
    );
  }
}

/** Merges the batch and time axes of a video: `[batch, time, h, w, c]` → `[batch·time, h, w, c]`. */
function frames(x: tf.Tensor): tf.Tensor4D {
  const [, , height, width, channels] = x.shape as number[];
  return tf.reshape(x, [-1, height as number, width as number, channels as number]);
}

/**
 * `[batch, (time,) height, width, channels]` → `[batch, (time,) height/p, width/p, p·p·channels]`.
 */
export function spaceToDepth(x: tf.Tensor, patchSize: number): tf.Tensor {
  const context = 'spaceToDepth';
  check(x, patchSize, context);
  const p = patchSize;
  const [height, width, channels] = x.shape.slice(-3) as [number, number, number];
  if (height % p !== 0 || width % p !== 0) {
    throw new ShapeError('x', `height and width divisible by patchSize ${p}`, formatShape(x.shape), context);
  }
  return tf.tidy(() => {
    const flat = x.rank === 5 ? frames(x) : (x as tf.Tensor4D);
    const n = flat.shape[0];
    const h = height / p;
    const w = width / p;
    // [n, H, W, C] → [n·h, dy, w, dx·C] → [n·h, w, dy, dx·C] → [n, h, w, p·p·C] (a rank-4
    // transpose: the (dx, c) block stays contiguous).
    const split = tf.reshape(flat, [n * h, p, w, p * channels]);
    const moved = tf.transpose(split, [0, 2, 1, 3]);
    const patched = tf.reshape(moved, [n, h, w, p * p * channels]);
    return x.rank === 5
      ? tf.reshape(patched, [x.shape[0] as number, x.shape[1] as number, h, w, p * p * channels])
      : patched;
  });
}

/**
 * The inverse of {@link spaceToDepth}: `[batch, (time,) h, w, p·p·channels]` →
 * `[batch, (time,) h·p, w·p, channels]`.
 */
export function depthToSpace(x: tf.Tensor, patchSize: number): tf.Tensor {
  const context = 'depthToSpace';
  check(x, patchSize, context);
  const p = patchSize;
  const [h, w, depth] = x.shape.slice(-3) as [number, number, number];
  if (depth % (p * p) !== 0) {
    throw new ShapeError('x', `channels divisible by patchSize² = ${p * p}`, formatShape(x.shape), context);
  }
  const channels = depth / (p * p);
  return tf.tidy(() => {
    const flat = x.rank === 5 ? frames(x) : (x as tf.Tensor4D);
    const n = flat.shape[0];
    // [n, h, w, p·p·C] → [n·h, w, dy, dx·C] → [n·h, dy, w, dx·C] → [n, h·p, w·p, C]
    const split = tf.reshape(flat, [n * h, w, p, p * channels]);
    const moved = tf.transpose(split, [0, 2, 1, 3]);
    const image = tf.reshape(moved, [n, h * p, w * p, channels]);
    return x.rank === 5
      ? tf.reshape(image, [x.shape[0] as number, x.shape[1] as number, h * p, w * p, channels])
      : image;
  });
}
