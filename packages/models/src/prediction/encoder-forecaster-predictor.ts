/**
 * {@link VideoPredictor} adapter of Shi et al. 2015's encoder-forecaster
 * ({@link EncoderForecaster}): the encoder reads the context, the forecaster predicts the future. It has
 * no one-step outputs during the context, so `outputs: 'all'` gives the future outputs too.
 * Scheduled sampling applies when the forecaster reads the previous frame
 * (`forecasterInput: 'previous-frame'`); the paper's forecaster reads nothing.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@vid/core';
import { ConfigError, ShapeError, assertRank, formatShape, positiveInteger, sliceFrames } from '@vid/core';

import { EncoderForecaster, type EncoderForecasterOptions } from './encoder-forecaster.js';
import type { PredictorRolloutOptions, PredictorRolloutResult, VideoPredictor } from './predictor.js';
import type { EncoderForecasterSpec } from './spec.js';

export class EncoderForecasterPredictor implements VideoPredictor {
  readonly kind = 'encoder-forecaster';
  readonly spec: EncoderForecasterSpec;
  readonly module: EncoderForecaster;
  readonly channels: number;
  readonly sizeMultiple: number;

  /** Wraps a model (owned from now on) or builds one from options. */
  constructor(model: EncoderForecaster | (EncoderForecasterOptions & { readonly seed?: number | Rng })) {
    this.module = model instanceof EncoderForecaster ? model : new EncoderForecaster(model);
    const m = this.module;
    this.channels = m.frameChannels;
    this.sizeMultiple = m.patchSize;
    // A wrapped model (a loaded one) says its options itself: `getConfig`, as its file holds them.
    const options =
      model instanceof EncoderForecaster
        ? m.getConfig()
        : {
            frameSize: [...m.frameSize],
            frameChannels: m.frameChannels,
            patchSize: m.patchSize,
            hiddenChannels: [...m.hiddenChannels],
            forecasterInput: m.forecasterInput,
            ...specOptions(model),
          };
    this.spec = { type: 'encoder-forecaster', options };
  }

  rollout(frames: tf.Tensor5D, options: PredictorRolloutOptions): PredictorRolloutResult {
    const context = 'EncoderForecasterPredictor.rollout';
    assertRank(frames, 5, 'frames', context, '[batch, time, height, width, channels]');
    const inputFrames = positiveInteger(options.inputFrames, 'inputFrames', context);
    const futureFrames = positiveInteger(options.futureFrames, 'futureFrames', context);
    const time = frames.shape[1];
    const {
      inputFrames: _inputFrames,
      futureFrames: _futureFrames,
      outputs: _outputs,
      checkpointing: _checkpointing,
      ...teacherForcing
    } = options;
    // The paper's forecaster reads no frames: teacher forcing does not apply to it.
    const forcing = Boolean(options.teacherForcing) && this.module.forecasterInput === 'previous-frame';
    const needed = forcing ? inputFrames + futureFrames - 1 : inputFrames;
    if (time < needed)
      throw new ShapeError('frames', `at least ${needed} frames on axis 1`, formatShape(frames.shape), context);
    const ratio = options.scheduledSamplingRatio ?? 1;
    if (forcing && ratio > 0 && ratio < 1 && options.rng === undefined && options.teacherForcingMask === undefined) {
      throw new ConfigError('rng', 'an Rng for the scheduled-sampling draws', undefined, context);
    }
    const result = tf.tidy(() => {
      // context frames [batch, inputFrames, h, w, c]
      const observed = sliceFrames(frames, 0, inputFrames);
      // the ground truth the forecaster may read at steps 1 … N−1: frames inputFrames … inputFrames + N − 2
      const targets = forcing && futureFrames > 1 ? sliceFrames(frames, inputFrames, futureFrames - 1) : undefined;
      const forecast = this.module.apply(observed, {
        horizon: futureFrames,
        ...(targets ? { targets } : {}),
        ...(forcing ? teacherForcing : {}),
      });
      return { predictions: forecast.predictions, logits: forecast.logits };
    });
    return { predictions: result.predictions, logits: result.logits, firstFrame: inputFrames };
  }

  predict(context: tf.Tensor5D, futureFrames: number): tf.Tensor5D {
    assertRank(context, 5, 'context', 'EncoderForecasterPredictor.predict', '[batch, time, height, width, channels]');
    return this.rollout(context, { inputFrames: context.shape[1], futureFrames }).predictions;
  }

  dispose(): void {
    this.module.dispose();
  }
}

function specOptions(options: EncoderForecasterOptions): Record<string, unknown> {
  const { seed: _seed, ...rest } = options as EncoderForecasterOptions & { seed?: unknown };
  return rest as Record<string, unknown>;
}
