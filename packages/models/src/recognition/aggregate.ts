/**
 * Turning per-frame predictions into one prediction per video: the aggregations of Ng et al. 2015,
 * "Beyond Short Snippets: Deep Networks for Video Classification", section 3.2 (an LSTM predicts
 * at every frame; the video's answer is the prediction at the last step, the max or the sum over
 * time, or a linearly weighted sum over time), and LRCN's average (Donahue et al. 2015).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, assertTensor, formatShape, oneOf } from '@vid/core';

/**
 * `'mean'`: the average over time (LRCN); `'max'`: the maximum over time, per class; `'sum'`: the
 * sum over time; `'last'`: the last step; `'weighted'`: Σ_t g_t p_t / Σ_t g_t with Ng et al.'s
 * linear weights g_t = t / T ({@link linearTimeWeights}).
 */
export type PredictionAggregation = 'mean' | 'max' | 'sum' | 'last' | 'weighted';

export const PREDICTION_AGGREGATIONS: readonly PredictionAggregation[] = ['mean', 'max', 'sum', 'last', 'weighted'];

/**
 * Ng et al. 2015's linear weighting over time: g_t = t / T for steps t = 1 … T, rising from 1/T
 * to 1, so that later predictions, which have seen more of the video, count more. The same g
 * weights the per-step losses in training.
 */
export function linearTimeWeights(time: number): Float32Array {
  return Float32Array.from({ length: time }, (_, i) => (i + 1) / time);
}

/**
 * One prediction per video from per-step class probabilities.
 *
 * probabilities: `[batch, time, classes]` → `[batch, classes]`. For `'mean'`, `'last'` and
 * `'weighted'` the rows stay distributions; `'max'` and `'sum'` are scores (their argmax is the
 * answer; divide by the row sum for a distribution).
 */
export function aggregatePredictions(probabilities: tf.Tensor, method: PredictionAggregation): tf.Tensor2D {
  const context = 'aggregatePredictions';
  assertTensor(probabilities, 'probabilities', context);
  oneOf(method, PREDICTION_AGGREGATIONS, 'method', context);
  if (probabilities.rank !== 3 || (probabilities.shape[1] as number) < 1) {
    throw new ShapeError('probabilities', '[batch, time ≥ 1, classes]', formatShape(probabilities.shape), context);
  }
  const [batch, time, classes] = probabilities.shape as [number, number, number];
  return tf.tidy(() => {
    switch (method) {
      case 'mean':
        return tf.mean(probabilities, 1) as tf.Tensor2D;
      case 'max':
        return tf.max(probabilities, 1) as tf.Tensor2D;
      case 'sum':
        return tf.sum(probabilities, 1) as tf.Tensor2D;
      case 'last':
        return tf.reshape(tf.slice(probabilities, [0, time - 1, 0], [batch, 1, classes]), [
          batch,
          classes,
        ]) as tf.Tensor2D;
      case 'weighted': {
        const g = linearTimeWeights(time);
        const total = g.reduce((a, b) => a + b, 0);
        // Σ_t g_t p_t / Σ_t g_t: [batch, time, classes] · [1, time, 1] → sum over time
        return tf.div(tf.sum(tf.mul(probabilities, tf.tensor3d(g, [1, time, 1])), 1), total) as tf.Tensor2D;
      }
    }
  });
}
