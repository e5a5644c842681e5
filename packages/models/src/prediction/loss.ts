/**
 * Training losses of video predictors, and the official training step's loss on a clip
 * (NVlabs/conv-tt-lstm `code/model_train.py`: the rollout on `frames[:, :−1]` with teacher
 * forcing and the scheduled-sampling ratio, L1 + MSE against the last `output_frames` frames).
 * The one place where vid defines them: every model and app calls these.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  ShapeError,
  accurateMean,
  assertKnownKeys,
  assertRank,
  formatShape,
  positiveInteger,
  sigmoidCrossEntropy,
  sliceFrames,
} from '@vid/core';

import type { VideoPredictor } from './predictor.js';
import type { TeacherForcingOptions } from './teacher-forcing.js';

/**
 * The official training loss (`code/model_train.py`): `l1_loss(pred, target) + mse_loss(pred,
 * target)`, both with `reduction="mean"`. pred, target: the same shape (any) → scalar.
 */
export function l1MseLoss(prediction: tf.Tensor, target: tf.Tensor): tf.Scalar {
  if (!tf.util.arraysEqual(prediction.shape, target.shape)) {
    throw new ShapeError(
      'target',
      `the shape of prediction ${formatShape(prediction.shape)}`,
      formatShape(target.shape),
      'l1MseLoss',
    );
  }
  return tf.tidy(() => {
    const difference = tf.sub(prediction, target);
    return tf.add(accurateMean(tf.abs(difference)), accurateMean(tf.square(difference)));
  });
}

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
    throw new ShapeError(
      'target',
      `the shape of prediction ${formatShape(prediction.shape)}`,
      formatShape(target.shape),
      'reconstructionLoss',
    );
  }
  return tf.tidy(() => {
    switch (kind) {
      case 'l1+mse':
        return l1MseLoss(prediction, target);
      case 'mse':
        return accurateMean(tf.square(tf.sub(prediction, target)));
      case 'l1':
        return accurateMean(tf.abs(tf.sub(prediction, target)));
      case 'bce':
        // Binary cross-entropy on logits (the stable form, @vid/core's sigmoidCrossEntropy), mean.
        return accurateMean(sigmoidCrossEntropy(prediction, target, 'reconstructionLoss'));
      default:
        throw new ConfigError('loss', `one of ${PREDICTION_LOSSES.join(', ')}`, kind, 'reconstructionLoss');
    }
  });
}

/**
 * Options of {@link predictionLoss}: the clip's protocol, the loss, and the teacher forcing of
 * the rollout (`teacherForcing` is implied: the loss always teacher-forces, with
 * `scheduledSamplingRatio` 1 by default, as the official script starts).
 */
export interface PredictionLossOptions extends Omit<TeacherForcingOptions, 'teacherForcing'> {
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
  /** @default 'l1+mse' */
  readonly loss?: PredictionLossKind;
  /** Gradient checkpointing per time step, for models that have it (see `ConvRecurrentNet`). @default false */
  readonly checkpointing?: boolean;
}

const LOSS_KEYS = [
  'inputFrames',
  'futureFrames',
  'outputFrames',
  'loss',
  'scheduledSamplingRatio',
  'rng',
  'teacherForcingMask',
  'checkpointing',
] as const;

/**
 * The training loss of a predictor on clips `[batch, inputFrames + futureFrames, h, w, c]`: the
 * teacher-forced rollout on `clip[:, :−1]` (all one-step outputs), compared with the clip
 * frames each output predicts. Use inside `Adam.computeGradients`. Returns a scalar.
 */
export function predictionLoss(
  predictor: VideoPredictor,
  clip: tf.Tensor5D,
  options: PredictionLossOptions,
): tf.Scalar {
  const context = 'predictionLoss';
  assertKnownKeys(options, LOSS_KEYS, context);
  assertRank(clip, 5, 'clip', context, '[batch, time, height, width, channels]');
  const inputFrames = positiveInteger(options.inputFrames, 'inputFrames', context);
  const futureFrames = positiveInteger(options.futureFrames, 'futureFrames', context);
  const total = inputFrames + futureFrames;
  if (clip.shape[1] !== total) {
    throw new ShapeError(
      'clip',
      `${total} frames (inputFrames ${inputFrames} + futureFrames ${futureFrames}) on axis 1`,
      formatShape(clip.shape),
      context,
    );
  }
  const kind = options.loss ?? 'l1+mse';
  return tf.tidy(() => {
    // The rollout reads clip[:, :−1] (every predictor reads frames from the start and stops
    // before the last one, which is only a target), so the clip is passed as it is, uncopied.
    const result = predictor.rollout(clip, {
      inputFrames,
      futureFrames,
      teacherForcing: true,
      scheduledSamplingRatio: options.scheduledSamplingRatio ?? 1,
      ...(options.rng !== undefined ? { rng: options.rng } : {}),
      ...(options.teacherForcingMask !== undefined ? { teacherForcingMask: options.teacherForcingMask } : {}),
      ...(options.checkpointing ? { checkpointing: true } : {}),
      outputs: 'all',
    });
    const available = result.predictions.shape[1];
    const outputFrames = positiveInteger(options.outputFrames ?? available, 'outputFrames', context);
    if (outputFrames > available) {
      throw new ConfigError(
        'outputFrames',
        `at most the ${available} one-step outputs ${predictor.kind} gives`,
        outputFrames,
        context,
      );
    }
    // Outputs [firstFrame, total) predict clip frames [firstFrame, total); keep the last outputFrames.
    const start = available - outputFrames;
    const source = kind === 'bce' ? result.logits : result.predictions;
    if (source === null)
      throw new ConfigError(
        'loss',
        `"l1+mse", "mse" or "l1" (${predictor.kind} has no logits for "bce")`,
        kind,
        context,
      );
    const outputs = sliceFrames(source, start, outputFrames);
    const target = sliceFrames(clip, total - outputFrames, outputFrames);
    return reconstructionLoss(kind, outputs, target);
  });
}
