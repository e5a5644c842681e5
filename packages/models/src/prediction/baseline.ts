/**
 * The copy-last-frame baseline: every future frame is the last context frame. The reference
 * point of every video-prediction table (a model that does not beat it on MSE has not learned
 * motion).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError, assertRank, formatShape, positiveInteger, sliceFrames } from '@vid/core';

import type { PredictorRolloutOptions, PredictorRolloutResult, VideoPredictor } from './predictor.js';
import type { PredictorSpec } from './spec.js';

/** The copy-last-frame baseline as a {@link VideoPredictor} (no parameters). */
export class CopyLastFramePredictor implements VideoPredictor {
  readonly kind = 'copy-last-frame';
  readonly module = null;
  readonly sizeMultiple = 1;
  readonly channels: number;
  readonly spec: PredictorSpec;

  constructor(options: { readonly channels?: number } = {}) {
    this.channels = positiveInteger(options.channels ?? 1, 'channels', 'CopyLastFramePredictor');
    this.spec = { type: 'copy-last-frame', channels: this.channels };
  }

  rollout(frames: tf.Tensor5D, options: PredictorRolloutOptions): PredictorRolloutResult {
    const context = 'CopyLastFramePredictor.rollout';
    assertRank(frames, 5, 'frames', context, '[batch, time, height, width, channels]');
    const inputFrames = positiveInteger(options.inputFrames, 'inputFrames', context);
    const futureFrames = positiveInteger(options.futureFrames, 'futureFrames', context);
    const [, time, , , channels] = frames.shape;
    if (channels !== this.channels)
      throw new ShapeError(
        'frames',
        `[batch, time, height, width, ${this.channels}]`,
        formatShape(frames.shape),
        context,
      );
    if (time < inputFrames)
      throw new ShapeError(
        'frames',
        `at least inputFrames = ${inputFrames} frames on axis 1`,
        formatShape(frames.shape),
        context,
      );
    const all = options.outputs === 'all';
    if (
      options.teacherForcing &&
      options.scheduledSamplingRatio !== undefined &&
      (options.scheduledSamplingRatio < 0 || options.scheduledSamplingRatio > 1)
    ) {
      throw new ConfigError(
        'scheduledSamplingRatio',
        'a probability in [0, 1]',
        options.scheduledSamplingRatio,
        context,
      );
    }
    const predictions = tf.tidy(() => {
      // The last context frame [batch, 1, h, w, c], repeated over the future.
      const last = sliceFrames(frames, inputFrames - 1, 1);
      const future = tf.tile(last, [1, futureFrames, 1, 1, 1]) as tf.Tensor5D;
      if (!all || inputFrames === 1) return future;
      // One-step outputs during the context (frame t predicts frame t + 1): [batch, inputFrames − 1, …] ++ future
      const context = sliceFrames(frames, 0, inputFrames - 1);
      return tf.concat([context, future], 1) as tf.Tensor5D;
    });
    return { predictions, logits: null, firstFrame: all ? 1 : inputFrames };
  }

  predict(context: tf.Tensor5D, futureFrames: number): tf.Tensor5D {
    assertRank(context, 5, 'context', 'CopyLastFramePredictor.predict', '[batch, time, height, width, channels]');
    return this.rollout(context, { inputFrames: context.shape[1], futureFrames }).predictions;
  }

  dispose(): void {}
}
