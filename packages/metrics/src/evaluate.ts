/**
 * Per-frame evaluation of video prediction, as the papers report it: for each future-frame
 * index, each metric averaged over the test samples (a curve), and the mean over frames (the
 * table entry). {@link FrameMetrics} is fed batch after batch; the sums live on the host in
 * float64, so the result does not depend on the batch size.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError, assertKnownKeys, formatShape, oneOf } from '@vid/core';

import { type LPIPS, LPIPS_INPUT_PRESETS, type LpipsInputPreset } from './lpips/lpips.js';
import {
  type PixelErrorOptions,
  type PixelReduction,
  type PsnrOptions,
  mae,
  mse,
  psnr,
  resolvePsnrOptions,
} from './pixel.js';
import {
  type SsimConfig,
  type SsimOptions,
  type SsimPreset,
  describeSsim,
  resolveSsimConfig,
  ssim,
  ssimHost,
} from './ssim.js';

/** The per-frame metrics. */
export type FrameMetricName = 'mse' | 'mae' | 'psnr' | 'ssim' | 'lpips';

/** Named evaluation protocols: every convention of one published evaluation. */
export type EvaluationProtocol = 'standard' | 'convttlstm' | 'predrnn' | 'skimage';

/** What to do with predictions outside the value range. */
export type OutOfRangePolicy = 'error' | 'clamp';

/** The conventions of a protocol. */
export interface ProtocolDefinition {
  /** Where the protocol comes from. */
  readonly source: string;
  readonly mse: PixelReduction;
  readonly mae: PixelReduction;
  readonly psnr: PsnrOptions;
  readonly ssim: SsimPreset;
  /** The input convention the LPIPS model must follow. */
  readonly lpips: LpipsInputPreset;
  /** Predictions outside [0, 1]: clamped first (as both papers' code does) or an error. */
  readonly outOfRange: OutOfRangePolicy;
}

/**
 * The evaluation protocols, for frames in [0, 1]:
 *
 * - `standard`: the conventions as the metrics' papers define them: per-pixel MSE and MAE, PSNR
 *   with R = 1, SSIM `wang2004`, LPIPS with [0, 1] frames rescaled to [−1, 1]; predictions
 *   outside the range are an error.
 * - `convttlstm`: NVlabs/conv-tt-lstm `code/model_test.py`: predictions clamped to [0, 1];
 *   `compare_mse` (per-pixel), `compare_psnr` without `data_range` (skimage infers R = 1 for
 *   non-negative float targets), `compare_ssim` without `data_range` (SSIM preset `convttlstm`,
 *   R = 2), LPIPS AlexNet on [0, 1] frames without rescaling (LPIPS preset `convttlstm`).
 * - `predrnn`: thuml/predrnn-pytorch `core/trainer.py`: predictions clamped to [0, 1]; MSE
 *   summed over each frame (`np.square(x - gx).sum()`), PSNR and SSIM on `np.uint8(x * 255)`
 *   frames with R = 255 (`metrics.batch_psnr`, `compare_ssim`), LPIPS AlexNet on [0, 1] frames
 *   without rescaling. PredRNN reports no MAE; it is summed per frame here, as OpenSTL does.
 * - `skimage`: scikit-image's defaults with data range 1: `mean_squared_error`,
 *   `peak_signal_noise_ratio(data_range=1)`, `structural_similarity(data_range=1)` (SSIM preset
 *   `skimage`: 7×7 uniform window, sample covariance); LPIPS with [0, 1] frames rescaled to
 *   [−1, 1]; predictions outside the range are an error.
 */
export const EVALUATION_PROTOCOLS: Readonly<Record<EvaluationProtocol, ProtocolDefinition>> = {
  standard: {
    source: 'the metrics as defined: Wang et al. 2004 SSIM, Zhang et al. 2018 LPIPS',
    mse: 'mean',
    mae: 'mean',
    psnr: { dataRange: 1 },
    ssim: 'wang2004',
    lpips: 'unit',
    outOfRange: 'error',
  },
  convttlstm: {
    source: 'NVlabs/conv-tt-lstm code/model_test.py (Su et al. 2020)',
    mse: 'mean',
    mae: 'mean',
    psnr: { dataRange: 1 },
    ssim: 'convttlstm',
    lpips: 'convttlstm',
    outOfRange: 'clamp',
  },
  predrnn: {
    source: 'thuml/predrnn-pytorch core/trainer.py (Wang et al. 2017, 2022)',
    mse: 'sum',
    mae: 'sum',
    psnr: { dataRange: 255, quantize: 'uint8' },
    ssim: 'predrnn',
    lpips: 'predrnn',
    outOfRange: 'clamp',
  },
  skimage: {
    source:
      'scikit-image defaults (mean_squared_error, peak_signal_noise_ratio and structural_similarity with data_range=1)',
    mse: 'mean',
    mae: 'mean',
    psnr: { dataRange: 1 },
    ssim: 'skimage',
    lpips: 'unit',
    outOfRange: 'error',
  },
};

/** Options of {@link FrameMetrics}. */
export interface FrameMetricsOptions {
  /** The conventions to follow ({@link EVALUATION_PROTOCOLS}); the fields below override them. @default 'standard' */
  readonly protocol?: EvaluationProtocol;
  /**
   * The metrics to compute.
   * @default ['mse', 'mae', 'psnr', 'ssim'], plus 'lpips' when an LPIPS model is given
   */
  readonly metrics?: readonly FrameMetricName[];
  /** @default the protocol's */
  readonly mse?: PixelErrorOptions;
  /** @default the protocol's */
  readonly mae?: PixelErrorOptions;
  /** @default the protocol's */
  readonly psnr?: PsnrOptions;
  /** A cap in dB of each frame's PSNR, over the `psnr` options (see `PsnrOptions.maxDb`). @default none */
  readonly psnrMaxDb?: number;
  /** @default the protocol's */
  readonly ssim?: SsimPreset | SsimOptions;
  /**
   * The LPIPS model (loaded with real weights). The evaluator does not dispose it. Its input
   * convention must be the protocol's (`preset` of the LPIPS constructor), so a table says what
   * was computed.
   */
  readonly lpips?: LPIPS;
  /**
   * The range of the frames. Targets outside it are an error; predictions are clamped or
   * rejected (`outOfRange`). Only the `standard` protocol accepts a range other than [0, 1]
   * (PSNR and SSIM then use its width as R, and LPIPS must take `[-1,1]` frames for [−1, 1]).
   * @default [0, 1]
   */
  readonly valueRange?: readonly [number, number];
  /** @default the protocol's */
  readonly outOfRange?: OutOfRangePolicy;
}

/** One metric's results. */
export interface MetricSeries {
  readonly metric: FrameMetricName;
  /** A short column label, e.g. `MSE (per-frame sum)`. */
  readonly label: string;
  /** The exact convention, in words. */
  readonly convention: string;
  readonly higherIsBetter: boolean;
  /** The metric at each future-frame index, averaged over samples. */
  readonly perFrame: readonly number[];
  /** The mean over frames (= over every sample and frame). */
  readonly mean: number;
}

/** The result of an evaluation, ready for tables and curves. */
export interface FrameMetricsResult {
  readonly protocol: EvaluationProtocol;
  /** Where the protocol's conventions come from. */
  readonly source: string;
  /** Number of videos. */
  readonly samples: number;
  /** Number of future frames per video. */
  readonly frames: number;
  readonly metrics: { readonly [K in FrameMetricName]?: MetricSeries };
}

/**
 * `x` where `ok`, else 0. The select runs on flat views: tfjs-backend-webgl's `Select` kernel
 * supports rank 4 at most, and videos are rank 5.
 */
function zeroWhereNot(ok: tf.Tensor, x: tf.Tensor): tf.Tensor {
  const flat = tf.reshape(x, [-1]);
  return tf.reshape(tf.where(tf.reshape(ok, [-1]), flat, tf.zerosLike(flat)), x.shape);
}

const METRIC_ORDER: readonly FrameMetricName[] = ['mse', 'mae', 'psnr', 'ssim', 'lpips'];

interface ResolvedMetric {
  readonly name: FrameMetricName;
  readonly label: string;
  readonly convention: string;
  readonly higherIsBetter: boolean;
  /** `[batch, time, h, w, c]` pair → `[batch, time]`, inside a tidy. */
  readonly compute: (prediction: tf.Tensor, target: tf.Tensor) => tf.Tensor;
  /** The same on host frames `[batch·time, h, w, c]` → `[batch·time]`, used instead of `compute` when present. */
  readonly host?: (
    prediction: Float32Array,
    target: Float32Array,
    shape: [number, number, number, number],
  ) => Float64Array;
}

/**
 * Accumulates per-frame metrics over batches of videos:
 *
 * ```ts
 * const metrics = new FrameMetrics({ protocol: 'convttlstm', lpips });
 * for (const { prediction, target } of batches) await metrics.update(prediction, target);
 * const result = metrics.result(); // result.metrics.ssim.perFrame, result.metrics.ssim.mean, …
 * ```
 */
export class FrameMetrics {
  readonly protocol: EvaluationProtocol;
  readonly source: string;
  readonly metrics: readonly FrameMetricName[];
  readonly valueRange: readonly [number, number];
  readonly outOfRange: OutOfRangePolicy;
  readonly ssimConfig: SsimConfig | null;
  readonly #resolved: readonly ResolvedMetric[];
  #frames: number | null = null;
  #samples = 0;
  #batches = 0;
  #sums: Float64Array[] = [];

  constructor(options: FrameMetricsOptions = {}) {
    const context = 'FrameMetrics';
    if (typeof options !== 'object' || options === null)
      throw new ConfigError('options', 'an options object', options, context);
    assertKnownKeys(
      options,
      ['protocol', 'metrics', 'mse', 'mae', 'psnr', 'psnrMaxDb', 'ssim', 'lpips', 'valueRange', 'outOfRange'],
      context,
    );
    this.protocol = oneOf(
      options.protocol ?? 'standard',
      Object.keys(EVALUATION_PROTOCOLS) as EvaluationProtocol[],
      'protocol',
      context,
    );
    const protocol = EVALUATION_PROTOCOLS[this.protocol];
    this.source = protocol.source;
    const range = options.valueRange ?? [0, 1];
    if (
      !Array.isArray(range) ||
      range.length !== 2 ||
      !range.every(Number.isFinite) ||
      !((range[0] as number) < (range[1] as number))
    ) {
      throw new ConfigError('valueRange', '[low, high] with low < high', range, context);
    }
    this.valueRange = [range[0] as number, range[1] as number];
    const width = this.valueRange[1] - this.valueRange[0];
    const unit = this.valueRange[0] === 0 && this.valueRange[1] === 1;
    if (!unit && this.protocol !== 'standard') {
      throw new ConfigError(
        'valueRange',
        `[0, 1] for the ${this.protocol} protocol (its code assumes frames in [0, 1])`,
        range,
        context,
      );
    }
    this.outOfRange = oneOf(
      options.outOfRange ?? protocol.outOfRange,
      ['error', 'clamp'] as const,
      'outOfRange',
      context,
    );

    const requested = options.metrics ?? [...METRIC_ORDER.slice(0, 4), ...(options.lpips ? (['lpips'] as const) : [])];
    if (!Array.isArray(requested) || requested.length === 0)
      throw new ConfigError('metrics', `a non-empty list of ${METRIC_ORDER.join(', ')}`, requested, context);
    for (const [i, m] of requested.entries()) oneOf(m, METRIC_ORDER, `metrics[${i}]`, context);
    this.metrics = METRIC_ORDER.filter((m) => requested.includes(m));

    const mseReduction = oneOf(
      options.mse?.reduction ?? protocol.mse,
      ['mean', 'sum'] as const,
      'mse.reduction',
      context,
    );
    const maeReduction = oneOf(
      options.mae?.reduction ?? protocol.mae,
      ['mean', 'sum'] as const,
      'mae.reduction',
      context,
    );
    const psnrBase = options.psnr ?? (this.protocol === 'standard' ? { dataRange: width } : protocol.psnr);
    const psnrOptions = resolvePsnrOptions(
      options.psnrMaxDb !== undefined ? { ...psnrBase, maxDb: options.psnrMaxDb } : psnrBase,
    );
    const ssimConfig = resolveSsimConfig(
      options.ssim ??
        (this.protocol === 'standard' && !unit ? { preset: protocol.ssim, dataRange: width } : protocol.ssim),
    );
    this.ssimConfig = this.metrics.includes('ssim') ? ssimConfig : null;
    const lpips = options.lpips;
    if (this.metrics.includes('lpips')) {
      if (!lpips) throw new ConfigError('lpips', "an LPIPS model when metrics include 'lpips'", lpips, context);
      const expected =
        this.protocol === 'standard' && !unit
          ? this.valueRange[0] === -1 && this.valueRange[1] === 1
            ? 'official'
            : null
          : protocol.lpips;
      // Conventions, not names, must match (convttlstm and predrnn are the same convention).
      const wanted = expected === null ? null : LPIPS_INPUT_PRESETS[expected];
      const matches = wanted !== null && lpips.inputRange === wanted.inputRange && lpips.rescale === wanted.rescale;
      if (!matches) {
        throw new ConfigError(
          'lpips',
          expected === null
            ? `no LPIPS for frames in [${this.valueRange.join(', ')}] (LPIPS takes [0, 1] or [-1, 1] frames)`
            : `an LPIPS built with preset '${expected}' for the ${this.protocol} protocol on frames in [${this.valueRange.join(', ')}]`,
          `an LPIPS with preset '${lpips.inputPreset}' (inputRange '${lpips.inputRange}', rescale ${lpips.rescale})`,
          context,
        );
      }
    }
    const psnrRange = psnrOptions.dataRange;
    const all: Record<FrameMetricName, () => ResolvedMetric> = {
      mse: () => ({
        name: 'mse',
        label: mseReduction === 'sum' ? 'MSE (per-frame sum)' : 'MSE',
        convention:
          mseReduction === 'sum'
            ? 'squared error summed over each frame (height × width × channels values), averaged over samples'
            : 'squared error averaged over pixels and channels',
        higherIsBetter: false,
        compute: (p, t) => mse(p, t, { reduction: mseReduction }),
      }),
      mae: () => ({
        name: 'mae',
        label: maeReduction === 'sum' ? 'MAE (per-frame sum)' : 'MAE',
        convention:
          maeReduction === 'sum'
            ? 'absolute error summed over each frame, averaged over samples'
            : 'absolute error averaged over pixels and channels',
        higherIsBetter: false,
        compute: (p, t) => mae(p, t, { reduction: maeReduction }),
      }),
      psnr: () => ({
        name: 'psnr',
        label: 'PSNR (dB)',
        convention: `10·log10(R²/MSE) per frame, R = ${psnrRange}${psnrOptions.quantize === 'uint8' ? ', on uint8(x·255) frames' : ''}${psnrOptions.maxDb !== Infinity ? `, capped at ${psnrOptions.maxDb} dB` : ''}, averaged over samples`,
        higherIsBetter: true,
        compute: (p, t) => psnr(p, t, psnrOptions),
      }),
      ssim: () => ({
        name: 'ssim',
        label: 'SSIM',
        convention: describeSsim(ssimConfig),
        higherIsBetter: true,
        compute: (p, t) => ssim(p, t, ssimConfig),
        host: (p, t, shape) => ssimHost(p, t, shape, ssimConfig),
      }),
      lpips: () => ({
        name: 'lpips',
        label: 'LPIPS',
        convention: (lpips as LPIPS).describe(),
        higherIsBetter: false,
        compute: (p, t) => (lpips as LPIPS).distance(p, t),
      }),
    };
    this.#resolved = this.metrics.map((m) => all[m]());
  }

  /** Number of videos so far. */
  get samples(): number {
    return this.#samples;
  }

  /**
   * Adds a batch. prediction, target: `[batch, time, height, width, channels]`, the future
   * frames only; `time` must be the same in every batch. The caller keeps ownership of both.
   * NaN or infinite values, targets outside the value range, and (with `outOfRange: 'error'`)
   * predictions outside it throw, naming the batch; nothing of that batch is added.
   */
  async update(prediction: tf.Tensor, target: tf.Tensor): Promise<void> {
    const context = `FrameMetrics.update (batch ${this.#batches})`;
    for (const [name, value] of [
      ['prediction', prediction],
      ['target', target],
    ] as const) {
      if (!(value instanceof tf.Tensor) || value.rank !== 5) {
        throw new ShapeError(
          name,
          '[batch, time, height, width, channels]',
          value instanceof tf.Tensor ? formatShape(value.shape) : String(value),
          context,
        );
      }
    }
    if (!tf.util.arraysEqual(prediction.shape, target.shape)) {
      throw new ShapeError(
        'target',
        `the shape of prediction ${formatShape(prediction.shape)}`,
        formatShape(target.shape),
        context,
      );
    }
    const [batch, time] = prediction.shape as [number, number];
    if (this.#frames !== null && time !== this.#frames) {
      throw new ShapeError(
        'prediction',
        `${this.#frames} frames per video (as in the previous batches)`,
        `${time} ${formatShape(prediction.shape)}`,
        context,
      );
    }
    const [low, high] = this.valueRange;
    // One read-back: [6 checks] ++ [tensor metrics · batch · time] values; the host metrics
    // (SSIM) read the clamped frames back besides.
    const hostMetrics = this.#resolved.some((metric) => metric.host);
    let frames: [tf.Tensor, tf.Tensor] | null = null;
    const packed = tf.tidy(() => {
      // Everything in float32 (int32 or uint8-valued frames too: tf.stack needs one dtype).
      const floatPrediction = tf.cast(prediction, 'float32');
      const floatTarget = tf.cast(target, 'float32');
      const predictionOk = tf.isFinite(floatPrediction);
      const targetOk = tf.isFinite(floatTarget);
      const bad = (ok: tf.Tensor) => tf.sum(tf.cast(tf.logicalNot(ok), 'float32'));
      // Metrics run on finite values (NaNs are reported from `checks`, not propagated).
      const checks = tf.stack([
        bad(predictionOk),
        bad(targetOk),
        tf.min(floatPrediction),
        tf.max(floatPrediction),
        tf.min(floatTarget),
        tf.max(floatTarget),
      ]);
      const finitePrediction = zeroWhereNot(predictionOk, floatPrediction);
      const used = this.outOfRange === 'clamp' ? tf.clipByValue(finitePrediction, low, high) : finitePrediction;
      const finiteTarget = zeroWhereNot(targetOk, floatTarget);
      if (hostMetrics) frames = [tf.keep(used), tf.keep(finiteTarget)];
      // Each tensor metric: [batch, time] → [batch·time]; packed after the 6 checks.
      const values = this.#resolved
        .filter((metric) => !metric.host)
        .map((metric) => tf.reshape(metric.compute(used, finiteTarget), [-1]));
      return tf.concat([checks, ...values]);
    });
    let data: Float32Array;
    let hostFrames: [Float32Array, Float32Array] | null = null;
    try {
      data = (await packed.data()) as Float32Array;
      if (frames) {
        const [p, t] = frames as [tf.Tensor, tf.Tensor];
        hostFrames = [(await p.data()) as Float32Array, (await t.data()) as Float32Array];
      }
    } finally {
      packed.dispose();
      if (frames) tf.dispose(frames);
    }
    const [badPrediction, badTarget, pMin, pMax, tMin, tMax] = data as unknown as number[];
    if ((badTarget as number) > 0)
      throw new ShapeError('target', 'finite values', `${badTarget} NaN or infinite value(s)`, context);
    if ((badPrediction as number) > 0)
      throw new ShapeError('prediction', 'finite values', `${badPrediction} NaN or infinite value(s)`, context);
    const show = (v: number): number => Number(v.toPrecision(6));
    if ((tMin as number) < low || (tMax as number) > high) {
      throw new ShapeError(
        'target',
        `values in [${low}, ${high}] (valueRange)`,
        `values in [${show(tMin as number)}, ${show(tMax as number)}]`,
        context,
      );
    }
    if (this.outOfRange === 'error' && ((pMin as number) < low || (pMax as number) > high)) {
      throw new ShapeError(
        'prediction',
        `values in [${low}, ${high}] (valueRange; or outOfRange: 'clamp')`,
        `values in [${show(pMin as number)}, ${show(pMax as number)}]`,
        context,
      );
    }
    if (this.#frames === null) {
      this.#frames = time;
      this.#sums = this.#resolved.map(() => new Float64Array(time));
    }
    const [, , height, width, channels] = prediction.shape as [number, number, number, number, number];
    let packedIndex = 0;
    for (let m = 0; m < this.#resolved.length; m++) {
      const metric = this.#resolved[m] as ResolvedMetric;
      const sums = this.#sums[m] as Float64Array;
      let values: ArrayLike<number>;
      let offset = 0;
      if (metric.host && hostFrames) {
        values = metric.host(hostFrames[0], hostFrames[1], [batch * time, height, width, channels]);
      } else {
        values = data;
        offset = 6 + packedIndex * batch * time;
        packedIndex++;
      }
      for (let b = 0; b < batch; b++) {
        for (let t = 0; t < time; t++) sums[t] = (sums[t] as number) + (values[offset + b * time + t] as number);
      }
    }
    this.#samples += batch;
    this.#batches += 1;
  }

  /** The per-frame means and overall means so far. */
  result(): FrameMetricsResult {
    if (this.#frames === null || this.#samples === 0) {
      throw new ShapeError(
        'FrameMetrics',
        'at least one batch (call update first)',
        'no batches',
        'FrameMetrics.result',
      );
    }
    const frames = this.#frames;
    const metrics: { [K in FrameMetricName]?: MetricSeries } = {};
    this.#resolved.forEach((metric, m) => {
      const perFrame = Array.from(this.#sums[m] as Float64Array, (s) => s / this.#samples);
      const mean = perFrame.reduce((a, b) => a + b, 0) / frames;
      metrics[metric.name] = {
        metric: metric.name,
        label: metric.label,
        convention: metric.convention,
        higherIsBetter: metric.higherIsBetter,
        perFrame,
        mean,
      };
    });
    return { protocol: this.protocol, source: this.source, samples: this.#samples, frames, metrics };
  }

  /** Forgets every batch. */
  reset(): void {
    this.#frames = null;
    this.#samples = 0;
    this.#batches = 0;
    this.#sums = [];
  }
}

/** Evaluates one batch of videos (see {@link FrameMetrics}). */
export async function evaluateFrames(
  prediction: tf.Tensor,
  target: tf.Tensor,
  options: FrameMetricsOptions = {},
): Promise<FrameMetricsResult> {
  const metrics = new FrameMetrics(options);
  await metrics.update(prediction, target);
  return metrics.result();
}

/**
 * A Markdown table of a result: one row per metric (mean, then each frame), with the
 * conventions listed under it.
 */
export function formatMetricsTable(result: FrameMetricsResult, options: { readonly digits?: number } = {}): string {
  const digits = options.digits ?? 4;
  const series = METRIC_ORDER.map((m) => result.metrics[m]).filter((s): s is MetricSeries => s !== undefined);
  const format = (v: number): string =>
    Number.isFinite(v)
      ? Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0)
        ? v.toExponential(digits - 1)
        : v.toFixed(digits)
      : String(v);
  const header = ['metric', 'mean', ...Array.from({ length: result.frames }, (_, t) => `t+${t + 1}`)];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const s of series)
    lines.push(
      `| ${s.label} ${s.higherIsBetter ? '↑' : '↓'} | ${format(s.mean)} | ${s.perFrame.map(format).join(' | ')} |`,
    );
  lines.push(
    '',
    `Protocol \`${result.protocol}\` (${result.source}), ${result.samples} videos × ${result.frames} frames.`,
  );
  for (const s of series) lines.push(`- ${s.label}: ${s.convention}`);
  return lines.join('\n');
}
