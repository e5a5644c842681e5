/**
 * The model-agnostic contract of a video predictor: whatever the architecture (the paper's
 * `ConvRecurrentNet` with any cell, Shi et al.'s encoder-forecaster, a baseline), training and evaluation code see
 * one `rollout` that reads context frames and predicts future ones, in test mode (feeding back
 * its own predictions) or in training mode (teacher forcing with a scheduled-sampling ratio).
 *
 * Layout: videos `[batch, time, height, width, channels]`, values in [0, 1].
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Module } from '@vid/core';

import type { PredictorSpec } from './spec.js';
import type { TeacherForcingOptions } from './teacher-forcing.js';

/**
 * Options of {@link VideoPredictor.rollout}. Teacher forcing (`teacherForcing`,
 * `scheduledSamplingRatio`, `rng`, `teacherForcingMask`: see {@link TeacherForcingOptions}) feeds
 * the ground truth `frames[:, t]` at future steps where the mask is 1; `frames` must then hold
 * at least `inputFrames + futureFrames − 1` frames. The mask is `[batch, futureFrames − 1]`.
 */
export interface PredictorRolloutOptions extends TeacherForcingOptions {
  /** Context frames read from the start of `frames`. */
  readonly inputFrames: number;
  /** Frames predicted after the context. */
  readonly futureFrames: number;
  /**
   * Which outputs to return: `'future'`, the `futureFrames` predictions; `'all'`, every one-step
   * output of the rollout the model has (for `ConvRecurrentNet` the `inputFrames + futureFrames − 1`
   * outputs the official training loss compares; an encoder-forecaster has only future outputs).
   * @default 'future'
   */
  readonly outputs?: 'future' | 'all';
  /** Gradient checkpointing per time step, where the model has it (`ConvRecurrentNet`); ignored elsewhere. @default false */
  readonly checkpointing?: boolean;
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
 * the names of the underlying model (official PyTorch names for `ConvRecurrentNet`).
 */
export interface VideoPredictor {
  /** What it is: `'conv-recurrent-net'`, `'encoder-forecaster'`, `'copy-last-frame'`. */
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
