/**
 * The model-agnostic contract of a video predictor: whatever the architecture (the paper's
 * ConvTTLSTMNet, Shi et al.'s encoder-forecaster, a baseline), training and evaluation code see
 * one `rollout` that reads context frames and predicts future ones, in test mode (feeding back
 * its own predictions) or in training mode (teacher forcing with a scheduled-sampling ratio).
 *
 * Layout: videos `[batch, time, height, width, channels]`, values in [0, 1].
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Module, Rng } from '@vid/core';

import type { PredictorSpec } from './spec.js';

/** Options of {@link VideoPredictor.rollout}. */
export interface PredictorRolloutOptions {
  /** Context frames read from the start of `frames`. */
  readonly inputFrames: number;
  /** Frames predicted after the context. */
  readonly futureFrames: number;
  /**
   * Training mode: at future steps, feed the ground truth `frames[:, t]` with probability
   * `ratio` (per sample and step, drawn from `rng`) and the previous prediction otherwise.
   * `frames` must then hold at least `inputFrames + futureFrames − 1` frames.
   * @default false (test mode: predictions are fed back)
   */
  readonly teacherForcing?: boolean;
  /**
   * Scheduled-sampling ratio: the probability of feeding the ground truth (Bengio et al. 2015;
   * NVlabs/conv-tt-lstm starts at 1 and decays it). Only with `teacherForcing`.
   * @default 1
   */
  readonly ratio?: number;
  /** Generator of the scheduled-sampling draws (advanced by the draws). Required when 0 < ratio < 1. */
  readonly rng?: Rng;
  /**
   * A given teacher-forcing mask instead of drawn ones (to replay a recorded run): `[batch,
   * futureFrames − 1]` row-major, 1 = ground truth. Only with `teacherForcing`; `ratio` and `rng` are then unused.
   */
  readonly mask?: ArrayLike<number>;
  /**
   * Which outputs to return: `'future'`, the `futureFrames` predictions; `'all'`, every one-step
   * output of the rollout the model has (for ConvTTLSTMNet the `inputFrames + futureFrames − 1`
   * outputs the official training loss compares; an encoder-forecaster has only future outputs).
   * @default 'future'
   */
  readonly outputs?: 'future' | 'all';
}

/** What {@link VideoPredictor.rollout} returns; the caller disposes the tensors. */
export interface PredictorRolloutResult {
  /** Predicted frames `[batch, n, height, width, channels]`. */
  readonly predictions: tf.Tensor5D;
  /** The same before the output sigmoid, for models that have one (else null). */
  readonly logits: tf.Tensor5D | null;
  /**
   * The index, in the time axis of the input `frames` (and of the full clip), of the frame that
   * `predictions[:, 0]` predicts: `inputFrames` for future outputs, 1 for all one-step outputs.
   */
  readonly firstFrame: number;
}

/**
 * A video prediction model behind one interface. Its parameters (if any) live in `module`, with
 * the names of the underlying model (official PyTorch names for ConvTTLSTMNet).
 */
export interface VideoPredictor {
  /** What it is: `'convttlstm-net'`, `'encoder-forecaster'`, `'copy-last-frame'`. */
  readonly kind: string;
  /** The JSON specification that rebuilds it (see `createPredictor`). */
  readonly spec: PredictorSpec;
  /** The parameters; null for parameter-free baselines. */
  readonly module: Module | null;
  /** Channels of the frames it reads and writes. */
  readonly channels: number;
  /** Frame height and width must be multiples of this (space-to-depth patches). */
  readonly sizeMultiple: number;
  /**
   * Runs the model over `frames` `[batch, time, height, width, channels]`. Inside `tf.tidy`;
   * use it inside `Adam.computeGradients` to train. Never disposes `frames`.
   */
  rollout(frames: tf.Tensor5D, options: PredictorRolloutOptions): PredictorRolloutResult;
  /** Test-mode prediction: context `[batch, T, h, w, c]` (all T frames read) → `[batch, futureFrames, h, w, c]`. */
  predict(context: tf.Tensor5D, futureFrames: number): tf.Tensor5D;
  /** Frees the parameters. */
  dispose(): void;
}
