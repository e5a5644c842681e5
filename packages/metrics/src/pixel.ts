/**
 * Pixel metrics: MSE, MAE and PSNR per image, batched over any leading dimensions.
 *
 * Two conventions for MSE (and MAE) coexist in the video-prediction literature:
 *
 * - `'mean'`: the mean over pixels and channels, as `skimage.metrics.mean_squared_error` (used by
 *   NVlabs/conv-tt-lstm `code/model_test.py` through `compare_mse`);
 * - `'sum'`: the sum over pixels and channels of one frame, then averaged over samples, as
 *   thuml/predrnn-pytorch `core/trainer.py` (`np.square(x - gx).sum()`) and chengtan9907/OpenSTL
 *   `openstl/core/metrics.py` (`np.mean(..., axis=(0, 1)).sum()`) compute it.
 *
 * They differ by the number of values per frame: `sum = mean × height × width × channels`, so
 * ×4096 for 64×64 grayscale Moving MNIST. A table that reports "MSE 24.4" and one that reports
 * "MSE 5.9 ×10⁻³" can describe the same predictions.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, assertKnownKeys, finiteNumber, oneOf } from '@vid/core';

import { assertFramePair, debugCheckValues, flattenFrames, imageMean, imageSum, unflatten } from './internal/frames.js';

/** How the per-pixel errors of one frame are reduced. */
export type PixelReduction = 'mean' | 'sum';

/** Options of {@link mse} and {@link mae}. */
export interface PixelErrorOptions {
  /**
   * `'mean'` over height, width and channels (scikit-image, conv-tt-lstm), or `'sum'` over them
   * (PredRNN, OpenSTL: "per frame").
   * @default 'mean'
   */
  readonly reduction?: PixelReduction;
}

function resolveReduction(options: PixelErrorOptions, context: string): PixelReduction {
  assertKnownKeys(options, ['reduction'], context);
  return oneOf(options.reduction ?? 'mean', ['mean', 'sum'] as const, 'reduction', context);
}

function pixelError(
  prediction: tf.Tensor,
  target: tf.Tensor,
  options: PixelErrorOptions,
  context: string,
  error: (d: tf.Tensor4D) => tf.Tensor4D,
): tf.Tensor {
  const reduction = resolveReduction(options, context);
  assertFramePair(prediction, target, context);
  debugCheckValues(prediction, target, context);
  return tf.tidy(() => {
    const p = flattenFrames(prediction);
    const t = flattenFrames(target);
    const e = error(tf.sub(p.frames, t.frames));
    return unflatten(reduction === 'sum' ? imageSum(e) : imageMean(e), p.leading);
  });
}

/**
 * Mean squared error per image.
 *
 * prediction, target: `[..., height, width, channels]` → `[...]` (a scalar for one image).
 */
export function mse(prediction: tf.Tensor, target: tf.Tensor, options: PixelErrorOptions = {}): tf.Tensor {
  return pixelError(prediction, target, options, 'mse', (d) => tf.square(d));
}

/**
 * Mean absolute error per image.
 *
 * prediction, target: `[..., height, width, channels]` → `[...]`.
 */
export function mae(prediction: tf.Tensor, target: tf.Tensor, options: PixelErrorOptions = {}): tf.Tensor {
  return pixelError(prediction, target, options, 'mae', (d) => tf.abs(d));
}

/** How frames are quantized before a metric, to reproduce evaluations that ran on 8-bit images. */
export type Quantization = 'none' | 'uint8';

/** Options of {@link psnr}. */
export interface PsnrOptions {
  /**
   * The data range `R` in `10·log10(R² / MSE)`: the distance between the smallest and largest
   * possible value (1 for frames in [0, 1], 255 for 8-bit frames). No default: it is the
   * convention that decides the number.
   */
  readonly dataRange: number;
  /**
   * `'uint8'` first maps [0, 1] frames to 8-bit values as `np.uint8(x * 255)` does (truncation;
   * values are clipped to [0, 255] where NumPy would wrap around), the PredRNN evaluation
   * (`core/utils/metrics.py::batch_psnr`); use it with `dataRange: 255`.
   * @default 'none'
   */
  readonly quantize?: Quantization;
  /**
   * A cap in dB for each frame's PSNR. An exactly matched frame (MSE 0) has an infinite PSNR
   * (scikit-image, and the papers' code that calls it), which makes any mean over frames
   * infinite; a cap keeps the mean finite. vid's evaluations use 100 dB (an MSE of 1e-10 at
   * R = 1, far above any real prediction), see `PSNR_CAP_DB`.
   * @default Infinity (no cap: scikit-image's number)
   */
  readonly maxDb?: number;
}

/** The PSNR cap of vid's evaluations, in dB (see {@link PsnrOptions.maxDb}). */
export const PSNR_CAP_DB = 100;

/** Validates {@link PsnrOptions} and fills in the defaults. */
export function resolvePsnrOptions(options: PsnrOptions): Required<PsnrOptions> {
  const context = 'psnr';
  if (options === undefined || options === null || typeof options !== 'object') {
    throw new ConfigError(
      'options.dataRange',
      'a data range (1 for frames in [0, 1], 255 for 8-bit frames); PSNR has no default range',
      options,
      context,
    );
  }
  assertKnownKeys(options, ['dataRange', 'quantize', 'maxDb'], context);
  const dataRange = finiteNumber(options.dataRange, 'dataRange', context, { min: Number.MIN_VALUE });
  const quantize = oneOf(options.quantize ?? 'none', ['none', 'uint8'] as const, 'quantize', context);
  const maxDb =
    options.maxDb === undefined || options.maxDb === Infinity
      ? Infinity
      : finiteNumber(options.maxDb, 'maxDb', context);
  return { dataRange, quantize, maxDb };
}

/** `np.uint8(x * 255)` of [0, 1] frames (truncation, clipped to [0, 255]), as float32. */
export function quantizeUint8(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() =>
    tf.floor(tf.clipByValue(tf.mul(x.dtype === 'float32' ? x : tf.cast(x, 'float32'), 255), 0, 255)),
  );
}

/**
 * Peak signal-to-noise ratio per image, `10·log10(R² / MSE)` in dB with the per-pixel MSE, as
 * `skimage.metrics.peak_signal_noise_ratio`. Identical images give `+Infinity` (as scikit-image).
 *
 * prediction, target: `[..., height, width, channels]` → `[...]`.
 */
export function psnr(prediction: tf.Tensor, target: tf.Tensor, options: PsnrOptions): tf.Tensor {
  const context = 'psnr';
  const { dataRange, quantize, maxDb } = resolvePsnrOptions(options);
  assertFramePair(prediction, target, context);
  debugCheckValues(prediction, target, context, quantize === 'uint8' ? { interval: [0, 1] } : { dataRange });
  return tf.tidy(() => {
    const p = flattenFrames(quantize === 'uint8' ? quantizeUint8(prediction) : prediction);
    const t = flattenFrames(quantize === 'uint8' ? quantizeUint8(target) : target);
    const meanSquared = imageMean(tf.square(tf.sub(p.frames, t.frames)) as tf.Tensor4D);
    // 10·log10(R²/mse) = (ln R² − ln mse) · 10/ln 10
    const db = tf.mul(
      tf.sub(tf.scalar(Math.log(dataRange * dataRange)), tf.log(meanSquared)),
      10 / Math.LN10,
    ) as tf.Tensor1D;
    return unflatten(maxDb === Infinity ? db : tf.minimum(db, maxDb), p.leading);
  });
}
