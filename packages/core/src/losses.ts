/**
 * Cross-entropy losses in their numerically stable forms, shared by every package that classifies
 * (`@vid/attention`, `@vid/models`' recognition models and the encoder-forecaster's `'bce'` loss).
 */
import * as tf from '@tensorflow/tfjs-core';

import { ShapeError, formatShape } from './errors.js';

/**
 * Softmax cross-entropy per example: `−log softmax(logits)[label]`.
 *
 * logits: `[..., classes]`, labels: `[...]` integer class indices (any numeric dtype) → `[...]`.
 * Runs in a `tf.tidy`; nothing given is disposed.
 */
export function softmaxCrossEntropy(logits: tf.Tensor, labels: tf.Tensor, context = 'softmaxCrossEntropy'): tf.Tensor {
  const classes = logits.shape[logits.rank - 1] as number;
  if (!tf.util.arraysEqual(labels.shape, logits.shape.slice(0, -1))) {
    throw new ShapeError(
      'labels',
      `${formatShape(logits.shape.slice(0, -1))} (class indices; the shape of logits without its last axis)`,
      formatShape(labels.shape),
      context,
    );
  }
  return tf.tidy(() => {
    const oneHot = tf.oneHot(tf.cast(tf.reshape(labels, [-1]), 'int32'), classes);
    const logProbabilities = tf.logSoftmax(tf.reshape(logits, [-1, classes]));
    const loss = tf.neg(tf.sum(tf.mul(oneHot, logProbabilities), -1));
    return tf.reshape(loss, labels.shape);
  });
}

/**
 * Sigmoid (binary) cross-entropy per element, `max(z, 0) − z·y + log(1 + e^{−|z|})`, the stable form
 * of `−y log σ(z) − (1 − y) log(1 − σ(z))` (as `torch.nn.BCEWithLogitsLoss`).
 *
 * logits, targets: the same shape; targets in [0, 1] → that shape. Runs in a `tf.tidy`.
 */
export function sigmoidCrossEntropy(logits: tf.Tensor, targets: tf.Tensor, context = 'sigmoidCrossEntropy'): tf.Tensor {
  if (!tf.util.arraysEqual(logits.shape, targets.shape)) {
    throw new ShapeError(
      'targets',
      `${formatShape(logits.shape)} (the shape of the logits)`,
      formatShape(targets.shape),
      context,
    );
  }
  return tf.tidy(() => {
    const y = tf.cast(targets, 'float32');
    return tf.add(tf.sub(tf.relu(logits), tf.mul(logits, y)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
  });
}
