/**
 * `vid score` (also `vid eval --prediction P --target T`): scores predictions made elsewhere
 * (say, by a PyTorch model) against ground truth, per future frame, under one or more metric
 * protocols of `@vid/metrics`. Arrays `[B, T, H, W, C]` (or `[T, H, W, C]`), float32 in [0, 1] or
 * uint8.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, FileFormatError, ShapeError, initBackend } from '@vid/core';
import {
  EVALUATION_PROTOCOLS,
  type EvaluationProtocol,
  FrameMetrics,
  type FrameMetricName,
  type FrameMetricsResult,
  LPIPS,
  LPIPS_INPUT_PRESETS,
  type WeightTensor,
  readWeightSource,
} from '@vid/metrics';

import { readVideoArray } from './arrays.js';
import { type ReportEntry, jsonReport, markdownReport, writeReports } from './report.js';

/** Options of {@link scorePredictions}. */
export interface ScoreOptions {
  readonly prediction: string;
  readonly target: string;
  /** @default ['mse', 'psnr', 'ssim'] (+ 'lpips' with weights) */
  readonly metrics?: readonly FrameMetricName[];
  /** @default ['standard', 'convttlstm', 'predrnn', 'skimage'] */
  readonly protocols?: readonly EvaluationProtocol[];
  readonly lpipsWeights?: readonly string[];
  /** Sequences per batch. @default 8 */
  readonly batchSize?: number;
  /** Predictions outside [0, 1]: clamp them (as the papers' code) or fail. @default 'clamp' */
  readonly outOfRange?: 'clamp' | 'error';
  /** Write results.{md,csv,json} and curves.png here. */
  readonly out?: string;
  readonly initBackend?: boolean;
}

/** What {@link scorePredictions} returns. */
export interface ScoreResult {
  readonly results: Record<string, FrameMetricsResult>;
  /** Machine-readable results: per protocol, per metric, per frame and mean. */
  readonly json: Record<string, unknown>;
  readonly markdown: string;
}

export const ALL_PROTOCOLS: readonly EvaluationProtocol[] = ['standard', 'convttlstm', 'predrnn', 'skimage'];

/** Scores a prediction array against a target array; see the module comment. */
export async function scorePredictions(options: ScoreOptions): Promise<ScoreResult> {
  const context = 'vid score';
  if (options.initBackend ?? true) await initBackend({ log: false });
  const protocols = options.protocols ?? ALL_PROTOCOLS;
  for (const p of protocols)
    if (!(p in EVALUATION_PROTOCOLS))
      throw new ConfigError('--protocol', `one of ${ALL_PROTOCOLS.join(', ')}`, p, context);
  const prediction = await readVideoArray(options.prediction, { checkRange: false });
  const target = await readVideoArray(options.target);
  if (prediction.shape.some((d, i) => d !== target.shape[i])) {
    throw new ShapeError(
      '--prediction',
      `the shape of --target [${target.shape.join(', ')}]`,
      `[${prediction.shape.join(', ')}]`,
      context,
    );
  }
  if (prediction.data.some(Number.isNaN)) throw new FileFormatError(options.prediction, 'contains NaN');
  const [b, t, h, w, c] = target.shape;
  const lpipsModels = new Map<string, LPIPS>();
  const wantLpips = options.metrics ? options.metrics.includes('lpips') : Boolean(options.lpipsWeights?.length);
  if (wantLpips && !options.lpipsWeights?.length)
    throw new ConfigError(
      '--lpips-weights',
      'the LPIPS weights files when --metrics includes lpips',
      undefined,
      context,
    );
  const metrics =
    options.metrics ?? (['mse', 'psnr', 'ssim', ...(wantLpips ? (['lpips'] as const) : [])] as FrameMetricName[]);
  try {
    const accumulators = new Map<EvaluationProtocol, FrameMetrics>();
    // The weight files are read once; protocols with the same LPIPS input convention share a model.
    const weights = new Map<string, WeightTensor>();
    if (wantLpips)
      for (const file of options.lpipsWeights ?? [])
        for (const [name, tensor] of await readWeightSource(file)) weights.set(name, tensor);
    for (const protocol of protocols) {
      let lpips: LPIPS | undefined;
      if (wantLpips) {
        const preset = EVALUATION_PROTOCOLS[protocol].lpips;
        const convention = JSON.stringify(LPIPS_INPUT_PRESETS[preset]);
        lpips = lpipsModels.get(convention) ?? (await LPIPS.load({ net: 'alex', preset, weights }));
        lpipsModels.set(convention, lpips);
      }
      accumulators.set(
        protocol,
        new FrameMetrics({ protocol, metrics, outOfRange: options.outOfRange ?? 'clamp', ...(lpips ? { lpips } : {}) }),
      );
    }
    const batchSize = options.batchSize ?? 8;
    const clipSize = t * h * w * c;
    for (let start = 0; start < b; start += batchSize) {
      const n = Math.min(batchSize, b - start);
      const p = tf.tensor5d(prediction.data.subarray(start * clipSize, (start + n) * clipSize), [n, t, h, w, c]);
      const q = tf.tensor5d(target.data.subarray(start * clipSize, (start + n) * clipSize), [n, t, h, w, c]);
      try {
        for (const accumulator of accumulators.values()) await accumulator.update(p, q);
      } finally {
        tf.dispose([p, q]);
      }
    }
    const results = Object.fromEntries([...accumulators].map(([protocol, acc]) => [protocol, acc.result()])) as Record<
      string,
      FrameMetricsResult
    >;
    const entries: ReportEntry[] = Object.entries(results).map(([protocol, result]) => ({ label: protocol, result }));
    const extra = { prediction: options.prediction, target: options.target, shape: [b, t, h, w, c] };
    const json = jsonReport(entries, extra);
    const markdown = options.out
      ? (await writeReports(options.out, `vid score — ${options.prediction} vs ${options.target}`, entries, { extra }))
          .markdown
      : entries.map((e) => markdownReport(`protocol ${e.label}`, [e])).join('\n');
    return { results, json, markdown };
  } finally {
    for (const model of lpipsModels.values()) model.dispose();
  }
}
