/**
 * Evaluation of a predictor on a set of clips under a metric protocol of `@vid/metrics`: test-mode
 * rollouts (the whole context in, `futureFrames` predicted), per-frame MSE/PSNR/SSIM (LPIPS
 * when given), and the copy-last-frame and all-black baselines on the same clips.
 */
import * as tf from '@tensorflow/tfjs-core';
import { sliceFrames } from '@vid/core';
import {
  FrameMetrics,
  type FrameMetricName,
  type FrameMetricsResult,
  type EvaluationProtocol,
  type LPIPS,
  PSNR_CAP_DB,
} from '@vid/metrics';
import { CopyLastFramePredictor, type VideoPredictor } from '@vid/models';
import { batchToTensor } from '@vid/datasets';

import { type ClipSource, readClips } from './clips.js';
import type { SampleVideos } from '../render/samples.js';

/** Options of {@link evaluatePredictor}. */
export interface EvaluateOptions {
  readonly inputFrames: number;
  readonly futureFrames: number;
  readonly protocol: EvaluationProtocol;
  /** Clips per batch. @default 16 */
  readonly batchSize?: number;
  /** Metrics. @default mse, psnr, ssim (+ lpips when given) */
  readonly metrics?: readonly FrameMetricName[];
  readonly lpips?: LPIPS;
  /** Also evaluate the copy-last-frame baseline. @default true */
  readonly baseline?: boolean;
  /** Also evaluate an all-black prediction (what a model that has learnt nothing but the background scores). @default true */
  readonly allBlack?: boolean;
  /** Keep the first `keepSamples` clips' frames for pictures. @default 0 */
  readonly keepSamples?: number;
  /** Called after each batch with the number of clips done. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** What {@link evaluatePredictor} returns. */
export interface EvaluationResult {
  readonly model: FrameMetricsResult;
  readonly baseline: FrameMetricsResult | null;
  /** The all-black prediction's metrics (null when `allBlack` is false). */
  readonly allBlack: FrameMetricsResult | null;
  readonly samples: SampleVideos | null;
  readonly clips: number;
}

/** Evaluates `predictor` (and the copy-last-frame baseline) on `source`. */
export async function evaluatePredictor(
  predictor: VideoPredictor,
  source: ClipSource,
  options: EvaluateOptions,
): Promise<EvaluationResult> {
  const batchSize = options.batchSize ?? 16;
  const metrics =
    options.metrics ?? (['mse', 'psnr', 'ssim', ...(options.lpips ? (['lpips'] as const) : [])] as FrameMetricName[]);
  // Predictions are clamped to [0, 1] before the metrics, as NVlabs/conv-tt-lstm `code/model_test.py` does.
  // PSNR per frame is capped at PSNR_CAP_DB (100 dB): an exact match (the copy-last-frame
  // baseline on a still frame) would otherwise make the mean infinite.
  const common = {
    protocol: options.protocol,
    metrics,
    outOfRange: 'clamp' as const,
    psnrMaxDb: PSNR_CAP_DB,
    ...(options.lpips ? { lpips: options.lpips } : {}),
  };
  const model = new FrameMetrics(common);
  const withBaseline = options.baseline ?? true;
  const baselineMetrics = withBaseline ? new FrameMetrics(common) : null;
  const blackMetrics = (options.allBlack ?? true) ? new FrameMetrics(common) : null;
  const copyLast = new CopyLastFramePredictor({ channels: predictor.channels });
  const keep = Math.min(options.keepSamples ?? 0, source.length);
  const kept: { context: Float32Array[]; truth: Float32Array[]; prediction: Float32Array[] } = {
    context: [],
    truth: [],
    prediction: [],
  };
  let shape: [number, number, number] = [0, 0, 0];
  const { inputFrames, futureFrames } = options;
  for (let start = 0; start < source.length; start += batchSize) {
    const batch = await readClips(source, start, batchSize);
    const [n, , h, w, c] = batch.shape;
    shape = [h, w, c];
    const clip = batchToTensor(batch);
    // context = clip[:, :inputFrames], truth = clip[:, inputFrames : inputFrames + futureFrames]
    const context = sliceFrames(clip, 0, inputFrames);
    const truth = sliceFrames(clip, inputFrames, futureFrames);
    const prediction = predictor.predict(context, futureFrames);
    try {
      await model.update(prediction, truth);
      if (baselineMetrics) {
        const copied = copyLast.predict(context, futureFrames);
        await baselineMetrics.update(copied, truth).finally(() => copied.dispose());
      }
      if (blackMetrics) {
        const black = tf.zerosLike(truth);
        await blackMetrics.update(black, truth).finally(() => black.dispose());
      }
      const take = Math.min(n, keep - start);
      if (take > 0) {
        const pick = async (t: tf.Tensor5D, frames: number): Promise<Float32Array> => {
          // [n, frames, h, w, c] → the first `take` clips, as [n, frames·h·w·c] rows (a fast rank-2 slice).
          const part = tf.tidy(() =>
            tf.slice(tf.reshape(t, [n, frames * h * w * c]), [0, 0], [take, frames * h * w * c]),
          );
          const data = (await part.data()) as Float32Array;
          part.dispose();
          return data;
        };
        kept.context.push(await pick(context, inputFrames));
        kept.truth.push(await pick(truth, futureFrames));
        kept.prediction.push(await pick(prediction, futureFrames));
      }
    } finally {
      tf.dispose([clip, context, truth, prediction]);
    }
    options.onProgress?.(Math.min(source.length, start + batchSize), source.length);
  }
  const concat = (parts: Float32Array[]): Float32Array => {
    const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    let offset = 0;
    for (const p of parts) {
      out.set(p, offset);
      offset += p.length;
    }
    return out;
  };
  const samples: SampleVideos | null =
    keep > 0
      ? {
          context: concat(kept.context),
          truth: concat(kept.truth),
          prediction: concat(kept.prediction),
          samples: keep,
          inputFrames,
          futureFrames,
          height: shape[0],
          width: shape[1],
          channels: shape[2],
        }
      : null;
  return {
    model: model.result(),
    baseline: baselineMetrics?.result() ?? null,
    allBlack: blackMetrics?.result() ?? null,
    samples,
    clips: source.length,
  };
}
