/**
 * The one place where host batches become TensorFlow.js tensors. Everything before it (reading,
 * decoding, generating, batching) runs on host arrays and needs no backend.
 */
import * as tf from '@tensorflow/tfjs-core';

import type { VideoBatch } from './video.js';

/**
 * A batch as a tensor `[batch, time, height, width, channels]` (NTHWC): float32 in [0, 1] for a
 * float batch; for a `'uint8'` batch an int32 tensor of the bytes 0–255 (TensorFlow.js has no
 * uint8 dtype). The caller owns (and disposes) the tensor.
 */
export function batchToTensor(batch: VideoBatch): tf.Tensor5D {
  const shape = [...batch.shape] as [number, number, number, number, number];
  if (batch.frames instanceof Float32Array) return tf.tensor5d(batch.frames, shape, 'float32');
  return tf.tensor5d(Int32Array.from(batch.frames), shape, 'int32');
}

/** The labels of a batch as an int32 tensor `[batch]`, or null when the batch has none. The caller owns it. */
export function labelsToTensor(batch: VideoBatch): tf.Tensor1D | null {
  return batch.labels ? tf.tensor1d(batch.labels, 'int32') : null;
}
