/**
 * Training losses of video predictors, and the official training step's loss on a clip
 * (NVlabs/conv-tt-lstm `code/model_train.py`: the rollout on `frames[:, :−1]` with teacher
 * forcing and the scheduled-sampling ratio, L1 + MSE against the last `output_frames` frames).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, type Rng, ShapeError, accurateMean, assertRank, formatShape, positiveInteger, sliceFrames } from '@vid/core';
import { l1MseLoss } from '@vid/tensor-train';

import type { VideoPredictor } from './predictor.js';

/** A reconstruction loss: `'l1+mse'` (the official one), `'mse'`, `'l1'`, or `'bce'` on logits. */
export type PredictionLossKind = 'l1+mse' | 'mse' | 'l1' | 'bce';

export const PREDICTION_LOSSES: readonly PredictionLossKind[] = ['l1+mse', 'mse', 'l1', 'bce'];

/**
 * A reconstruction loss between predictions and targets of one shape (any), as a mean over
 * every element. `'bce'` takes logits as `prediction` (binary cross-entropy with logits, the
 * loss of Shi et al. 2015 on [0, 1] targets).
 */
export function reconstructionLoss(kind: PredictionLossKind, prediction: tf.Tensor, target: tf.Tensor): tf.Scalar {
  if (!tf.util.arraysEqual(prediction.shape, target.shape)) {
    throw new ShapeError('target', `the shape of prediction ${formatShape(prediction.shape)}`, formatShape(target.shape), 'reconstructionLoss');
  }
  return tf.tidy(() => {
    switch (kind) {
      case 'l1+mse':
        return l1MseLoss(prediction, target);
      case 'mse':
        return accurateMean(tf.square(tf.sub(prediction, target)));
      case 'l1':
        return accurateMean(tf.abs(tf.sub(prediction, target)));
      case 'bce': {
        // max(x, 0) − x·z + log(1 + exp(−|x|)): the stable form of −z·log σ(x) − (1 − z)·log(1 − σ(x)).
        const x = prediction;
        const terms = tf.add(tf.sub(tf.relu(x), tf.mul(x, target)), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
        return accurateMean(terms);
      }
      default:
        throw new ConfigError('loss', `one of ${PREDICTION_LOSSES.join(', ')}`, kind, 'reconstructionLoss');
    }
  });
}

/** Options of {@link predictionLoss}. */
export interface PredictionLossOptions {
  /** Context frames. */
  readonly inputFrames: number;
  /** Predicted frames; the clip holds `inputFrames + futureFrames` frames. */
  readonly futureFrames: number;
  /**
   * One-step outputs the loss compares: the last `outputFrames` outputs of the rollout against
   * the last `outputFrames` frames of the clip.
   * @default every output the model has (inputFrames + futureFrames − 1 for ConvTTLSTMNet, as the official default 19 for 10 → 10)
   */
  readonly outputFrames?: number;
  /** Scheduled-sampling ratio (probability of the ground truth at future steps). @default 1 */
  readonly ratio?: number;
  /** Generator of the scheduled-sampling draws. */
  readonly rng?: Rng;
  /** A given teacher-forcing mask `[batch, futureFrames − 1]` (row-major, 1 = ground truth) instead of drawing one from `ratio`. */
  readonly mask?: ArrayLike<number>;
  /** @default 'l1+mse' */
  readonly loss?: PredictionLossKind;
}

/**
 * The training loss of a predictor on clips `[batch, inputFrames + futureFrames, h, w, c]`: the
 * teacher-forced rollout on `clip[:, :−1]` (all one-step outputs), compared with the clip
 * frames each output predicts. Use inside `Adam.computeGradients`. Returns a scalar.
 */
export function predictionLoss(predictor: VideoPredictor, clip: tf.Tensor5D, options: PredictionLossOptions): tf.Scalar {
  const context = 'predictionLoss';
  assertRank(clip, 5, 'clip', context, '[batch, time, height, width, channels]');
  const inputFrames = positiveInteger(options.inputFrames, 'inputFrames', context);
  const futureFrames = positiveInteger(options.futureFrames, 'futureFrames', context);
  const total = inputFrames + futureFrames;
  if (clip.shape[1] !== total) {
    throw new ShapeError('clip', `${total} frames (inputFrames ${inputFrames} + futureFrames ${futureFrames}) on axis 1`, formatShape(clip.shape), context);
  }
  const kind = options.loss ?? 'l1+mse';
  return tf.tidy(() => {
    // The rollout reads clip[:, :−1] (every predictor reads frames from the start and stops
    // before the last one, which is only a target), so the clip is passed as it is, uncopied.
    const result = predictor.rollout(clip, {
      inputFrames,
      futureFrames,
      teacherForcing: true,
      ratio: options.ratio ?? 1,
      ...(options.rng !== undefined ? { rng: options.rng } : {}),
      ...(options.mask !== undefined ? { mask: options.mask } : {}),
      outputs: 'all',
    });
    const available = result.predictions.shape[1];
    const outputFrames = positiveInteger(options.outputFrames ?? available, 'outputFrames', context);
    if (outputFrames > available) {
      throw new ConfigError('outputFrames', `at most the ${available} one-step outputs ${predictor.kind} gives`, outputFrames, context);
    }
    // Outputs [firstFrame, total) predict clip frames [firstFrame, total); keep the last outputFrames.
    const start = available - outputFrames;
    const source = kind === 'bce' ? result.logits : result.predictions;
    if (source === null) throw new ConfigError('loss', `"l1+mse", "mse" or "l1" (${predictor.kind} has no logits for "bce")`, kind, context);
    const outputs = sliceFrames(source, start, outputFrames);
    const target = sliceFrames(clip, total - outputFrames, outputFrames);
    return reconstructionLoss(kind, outputs, target);
  });
}
