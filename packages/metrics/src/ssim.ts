/**
 * SSIM (Wang et al. 2004, "Image quality assessment: from error visibility to structural
 * similarity", eq. 13), batched over any leading dimensions, with the conventions that published
 * video-prediction tables actually used as named presets.
 *
 * The computation follows scikit-image 0.19 `skimage/metrics/_structural_similarity.py`:
 * local means, variances and covariance from a sliding window (`filter(x)`, `filter(x²)`, …),
 * `(2μxμy + C1)(2σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2))` with `C1 = (K1·R)²`,
 * `C2 = (K2·R)²`, averaged over the pixels at least `(windowSize − 1)/2` from the border
 * (skimage filters with reflected borders, then crops that strip before averaging — so only the
 * "valid" windows count, and this module filters with `valid` padding directly). Multi-channel
 * frames are averaged over channels, as skimage's `channel_axis` does.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, assertKnownKeys, finiteNumber, oneOf, positiveInteger } from '@vid/core';

import { assertFramePair, debugCheckValues, flattenFrames, imageMean, unflatten } from './internal/frames.js';
import { type Quantization, quantizeUint8 } from './pixel.js';

/** The sliding window: a Gaussian (Wang 2004) or a uniform box (skimage's default). */
export type SsimWindow = 'gaussian' | 'uniform';

/** Covariance normalisation: by N (`'population'`, Wang 2004) or N − 1 (`'sample'`, skimage's default). */
export type SsimCovariance = 'population' | 'sample';

/** The named SSIM conventions. */
export type SsimPreset = 'wang2004' | 'skimage' | 'convttlstm' | 'predrnn';

/** Options of {@link ssim}: a preset and any overrides. */
export interface SsimOptions {
  /**
   * The convention to start from; the other fields override it. See {@link SSIM_PRESETS}.
   * @default 'wang2004'
   */
  readonly preset?: SsimPreset;
  /** `'gaussian'` or `'uniform'`. @default the preset's */
  readonly window?: SsimWindow;
  /**
   * Odd window side. For a Gaussian window, the default is skimage's `2·⌊3.5σ + 0.5⌋ + 1`
   * (11 for σ = 1.5).
   * @default the preset's (11 or 7)
   */
  readonly windowSize?: number;
  /** Standard deviation of the Gaussian window. @default 1.5 */
  readonly sigma?: number;
  /** @default 0.01 */
  readonly k1?: number;
  /** @default 0.03 */
  readonly k2?: number;
  /**
   * R in `C1 = (K1·R)²`, `C2 = (K2·R)²`: the distance between the smallest and largest possible
   * value. With debug checks on, inputs that span more than R throw.
   * @default the preset's (1, 2 for `convttlstm`, 255 for `predrnn`)
   */
  readonly dataRange?: number;
  /** @default the preset's */
  readonly covariance?: SsimCovariance;
  /**
   * `'uint8'` maps [0, 1] frames to `np.uint8(x * 255)` (truncation) first, as PredRNN's
   * evaluation does. @default the preset's (`'none'`; `'uint8'` for `predrnn`)
   */
  readonly quantize?: Quantization;
}

/** A fully resolved SSIM convention. */
export interface SsimConfig {
  readonly preset: SsimPreset | 'custom';
  readonly window: SsimWindow;
  readonly windowSize: number;
  readonly sigma: number;
  readonly k1: number;
  readonly k2: number;
  readonly dataRange: number;
  readonly covariance: SsimCovariance;
  readonly quantize: Quantization;
}

const gaussianSize = (sigma: number): number => 2 * Math.floor(3.5 * sigma + 0.5) + 1;

/**
 * The SSIM conventions of the papers, each exactly as it ran (scikit-image 0.19.3 semantics):
 *
 * - `wang2004`: 11×11 Gaussian window, σ = 1.5, population covariance, R = 1 — Wang et al. 2004,
 *   and skimage's documented way to match it (`gaussian_weights=True, sigma=1.5,
 *   use_sample_covariance=False`). For frames in [0, 1].
 * - `skimage`: skimage's defaults: 7×7 uniform window, sample covariance; R = 1 here (skimage
 *   itself would infer R from the dtype — pass `dataRange` for other frames).
 * - `convttlstm`: the NVlabs/conv-tt-lstm evaluation (`code/model_test.py`):
 *   `compare_ssim(origin, pred)` on float frames in [0, 1] without `data_range`, so skimage
 *   infers R = 2 from the float dtype's range [−1, 1]; 7×7 uniform, sample covariance. The
 *   constants are 4× too large for [0, 1] data, which raises SSIM.
 * - `predrnn`: the thuml/predrnn-pytorch evaluation (`core/trainer.py`): frames
 *   `np.uint8(x * 255)` (truncated), `compare_ssim(pred, real, multichannel=True)`: 7×7
 *   uniform, sample covariance, R = 255 from the uint8 dtype. Takes [0, 1] frames.
 */
export const SSIM_PRESETS: Readonly<Record<SsimPreset, Omit<SsimConfig, 'preset'>>> = {
  wang2004: {
    window: 'gaussian',
    windowSize: 11,
    sigma: 1.5,
    k1: 0.01,
    k2: 0.03,
    dataRange: 1,
    covariance: 'population',
    quantize: 'none',
  },
  skimage: {
    window: 'uniform',
    windowSize: 7,
    sigma: 1.5,
    k1: 0.01,
    k2: 0.03,
    dataRange: 1,
    covariance: 'sample',
    quantize: 'none',
  },
  convttlstm: {
    window: 'uniform',
    windowSize: 7,
    sigma: 1.5,
    k1: 0.01,
    k2: 0.03,
    dataRange: 2,
    covariance: 'sample',
    quantize: 'none',
  },
  predrnn: {
    window: 'uniform',
    windowSize: 7,
    sigma: 1.5,
    k1: 0.01,
    k2: 0.03,
    dataRange: 255,
    covariance: 'sample',
    quantize: 'uint8',
  },
};

const SSIM_KEYS = [
  'preset',
  'window',
  'windowSize',
  'sigma',
  'k1',
  'k2',
  'dataRange',
  'covariance',
  'quantize',
] as const;

/** Resolves a preset name or options into a full {@link SsimConfig} (validating every field). */
export function resolveSsimConfig(options: SsimPreset | SsimOptions | SsimConfig = {}): SsimConfig {
  const context = 'ssim';
  const given = (typeof options === 'string' ? { preset: options } : options) as SsimOptions | SsimConfig;
  if (typeof given !== 'object' || given === null)
    throw new ConfigError('options', 'a preset name or an options object', given, context);
  assertKnownKeys(given, SSIM_KEYS, context);
  // A resolved custom config passed back in is re-validated on top of `wang2004`.
  const wasCustom = given.preset === 'custom';
  const preset = wasCustom
    ? 'wang2004'
    : oneOf(given.preset ?? 'wang2004', Object.keys(SSIM_PRESETS) as SsimPreset[], 'preset', context);
  const base = SSIM_PRESETS[preset];
  const window = oneOf(given.window ?? base.window, ['gaussian', 'uniform'] as const, 'window', context);
  const sigma = finiteNumber(given.sigma ?? base.sigma, 'sigma', context, { min: Number.MIN_VALUE });
  // Without an explicit size: the preset's, unless the window or σ changed (then skimage's rule).
  const sizeFollowsPreset = window === base.window && (window === 'uniform' || sigma === base.sigma);
  const defaultSize = sizeFollowsPreset ? base.windowSize : window === 'gaussian' ? gaussianSize(sigma) : 7;
  const windowSize = positiveInteger(given.windowSize ?? defaultSize, 'windowSize', context);
  if (windowSize % 2 !== 1)
    throw new ConfigError('windowSize', 'an odd window size (as skimage requires)', windowSize, context);
  const k1 = finiteNumber(given.k1 ?? base.k1, 'k1', context, { min: 0 });
  const k2 = finiteNumber(given.k2 ?? base.k2, 'k2', context, { min: 0 });
  const dataRange = finiteNumber(given.dataRange ?? base.dataRange, 'dataRange', context, { min: Number.MIN_VALUE });
  const covariance = oneOf(
    given.covariance ?? base.covariance,
    ['population', 'sample'] as const,
    'covariance',
    context,
  );
  const quantize = oneOf(given.quantize ?? base.quantize, ['none', 'uint8'] as const, 'quantize', context);
  if (covariance === 'sample' && windowSize === 1) {
    throw new ConfigError('windowSize', 'at least 3 with sample covariance (N − 1 would be 0)', windowSize, context);
  }
  const config = { window, windowSize, sigma, k1, k2, dataRange, covariance, quantize };
  const custom = wasCustom || (Object.keys(config) as Array<keyof typeof config>).some((k) => config[k] !== base[k]);
  return { preset: custom ? 'custom' : preset, ...config };
}

/** A one-line description of a convention, for result tables. */
export function describeSsim(config: SsimConfig): string {
  const window =
    config.window === 'gaussian'
      ? `${config.windowSize}×${config.windowSize} Gaussian window (σ = ${config.sigma})`
      : `${config.windowSize}×${config.windowSize} uniform window`;
  const input = config.quantize === 'uint8' ? ', on uint8(x·255) frames' : '';
  const name = config.preset === 'custom' ? 'custom' : config.preset;
  return `SSIM [${name}]: ${window}, ${config.covariance} covariance, K1 ${config.k1}, K2 ${config.k2}, data range ${config.dataRange}${input}`;
}

/**
 * The 1-D window weights: scipy.ndimage's Gaussian kernel (`exp(−x²/2σ²)`, normalised to sum 1,
 * on `windowSize` taps) or a box of `1/windowSize`.
 */
export function ssimWindow1d(config: Pick<SsimConfig, 'window' | 'windowSize' | 'sigma'>): Float32Array {
  return Float32Array.from(windowWeights(config));
}

/** The window weights in float64 (the host path uses them as they are). */
function windowWeights(config: Pick<SsimConfig, 'window' | 'windowSize' | 'sigma'>): Float64Array {
  const radius = (config.windowSize - 1) / 2;
  const weights = new Float64Array(config.windowSize);
  let total = 0;
  for (let i = 0; i < config.windowSize; i++) {
    const x = i - radius;
    const w = config.window === 'gaussian' ? Math.exp((-0.5 * x * x) / (config.sigma * config.sigma)) : 1;
    weights[i] = w;
    total += w;
  }
  return weights.map((w) => w / total);
}

/**
 * SSIM per image and channel: frames `[n, height, width, channels]` (already quantized) →
 * `[n]`, the mean over channels of the mean of the SSIM map over the valid windows. Runs inside
 * the caller's tidy.
 */
function ssimPerImage(x: tf.Tensor4D, y: tf.Tensor4D, config: SsimConfig, dataRange: number): tf.Tensor1D {
  const [n, height, width, channels] = x.shape;
  const size = config.windowSize;
  // Channels become images, so every filter is a plain one-channel convolution, and each of
  // the five maps is filtered on its own: on wasm this is ~3× faster than stacking them along
  // channels for a depthwise filter (or along the batch), because concat and split copy.
  // [n, h, w, c] → [n, c, h, w] → [n·c, h, w, 1]
  const planes = (t: tf.Tensor4D): tf.Tensor4D =>
    channels === 1 ? t : (tf.reshape(tf.transpose(t, [0, 3, 1, 2]), [n * channels, height, width, 1]) as tf.Tensor4D);
  const xp = planes(x);
  const yp = planes(y);
  // Variances are E[x²] − E[x]², which cancels badly in float32 when the mean is large; shift
  // both images by one per-plane offset first (variances and covariance do not change), and add
  // it back to the local means for the luminance term.
  const offset = tf.mul(tf.add(tf.mean(xp, [1, 2], true), tf.mean(yp, [1, 2], true)), 0.5); // [n·c, 1, 1, 1]
  const xc = tf.sub(xp, offset) as tf.Tensor4D;
  const yc = tf.sub(yp, offset) as tf.Tensor4D;
  const taps = tf.tensor1d(ssimWindow1d(config));
  // Separable window: a [size, 1] then a [1, size] convolution, 'valid' (skimage's crop).
  const vertical = tf.reshape(taps, [size, 1, 1, 1]) as tf.Tensor4D;
  const horizontal = tf.reshape(taps, [1, size, 1, 1]) as tf.Tensor4D;
  const filter = (t: tf.Tensor): tf.Tensor4D =>
    tf.conv2d(tf.conv2d(t as tf.Tensor4D, vertical, 1, 'valid'), horizontal, 1, 'valid');
  // Each: [n·c, h, w, 1] → [n·c, h', w', 1]
  const uxc = filter(xc);
  const uyc = filter(yc);
  const uxx = filter(tf.mul(xc, xc));
  const uyy = filter(tf.mul(yc, yc));
  const uxy = filter(tf.mul(xc, yc));
  const points = size * size;
  const covNorm = config.covariance === 'sample' ? points / (points - 1) : 1;
  const vx = tf.mul(tf.sub(uxx, tf.mul(uxc, uxc)), covNorm);
  const vy = tf.mul(tf.sub(uyy, tf.mul(uyc, uyc)), covNorm);
  const vxy = tf.mul(tf.sub(uxy, tf.mul(uxc, uyc)), covNorm);
  const ux = tf.add(uxc, offset);
  const uy = tf.add(uyc, offset);
  const c1 = (config.k1 * dataRange) ** 2;
  const c2 = (config.k2 * dataRange) ** 2;
  const a1 = tf.add(tf.mul(tf.mul(ux, uy), 2), c1);
  const a2 = tf.add(tf.mul(vxy, 2), c2);
  const b1 = tf.add(tf.add(tf.mul(ux, ux), tf.mul(uy, uy)), c1);
  const b2 = tf.add(tf.add(vx, vy), c2);
  const map = tf.div(tf.mul(a1, a2), tf.mul(b1, b2)) as tf.Tensor4D; // [n·c, h', w', 1]
  // Mean over each plane's valid windows, then over channels (skimage's channel_axis): [n·c] → [n, c] → [n]
  return tf.mean(tf.reshape(imageMean(map), [n, channels]), 1) as tf.Tensor1D;
}

/**
 * Structural similarity per image, under a named convention ({@link SSIM_PRESETS}) or explicit
 * options. Differentiable (use `1 − ssim` as a loss).
 *
 * prediction, target: `[..., height, width, channels]`, at least `windowSize` pixels on each
 * side → `[...]` (a scalar for one image). Any number of channels (averaged, as skimage's
 * `channel_axis`).
 *
 * Values outside the data range are computed as given (the formula does not clip); with debug
 * checks on (`setDebugChecks(true)`), NaNs and values spanning more than `dataRange` (or, for
 * `quantize: 'uint8'`, outside [0, 1]) throw.
 */
export function ssim(
  prediction: tf.Tensor,
  target: tf.Tensor,
  options: SsimPreset | SsimOptions | SsimConfig = {},
): tf.Tensor {
  const config = resolveSsimConfig(options);
  const context = `ssim (${config.preset})`;
  assertFramePair(prediction, target, context, config.windowSize);
  debugCheckValues(
    prediction,
    target,
    context,
    config.quantize === 'uint8' ? { interval: [0, 1] } : { dataRange: config.dataRange },
  );
  return tf.tidy(() => {
    let p = flattenFrames(prediction);
    let t = flattenFrames(target);
    let dataRange = config.dataRange;
    if (config.quantize === 'uint8') {
      // SSIM is invariant to scaling the data and R together: uint8 levels / 255 with R/255
      // equals skimage on the uint8 frames with R, and keeps float32 cancellation small.
      p = { frames: tf.div(quantizeUint8(p.frames), 255) as tf.Tensor4D, leading: p.leading };
      t = { frames: tf.div(quantizeUint8(t.frames), 255) as tf.Tensor4D, leading: t.leading };
      dataRange = config.dataRange / 255;
    }
    return unflatten(ssimPerImage(p.frames, t.frames, config, dataRange), p.leading);
  });
}

/**
 * SSIM per frame on host arrays, in float64: the same definition as {@link ssim} (scikit-image's
 * computation, valid windows, the same presets and options) without TensorFlow.js. It is what
 * {@link FrameMetrics} evaluates with: scikit-image itself works in float64, so this is closer to
 * it than the float32 tensor path, and about 10× faster on wasm than the tensor path, whose
 * one-channel convolutions XNNPACK runs at under 1 GMAC/s. Not differentiable (use {@link ssim}
 * as a loss).
 *
 * prediction, target: `[n, height, width, channels]` row-major (float values; with
 * `quantize: 'uint8'`, frames in [0, 1]) → `[n]`, each the mean over channels of the mean of the
 * SSIM map over the valid windows.
 */
export function ssimHost(
  prediction: ArrayLike<number>,
  target: ArrayLike<number>,
  shape: readonly [number, number, number, number],
  options: SsimPreset | SsimOptions | SsimConfig = {},
): Float64Array {
  const config = resolveSsimConfig(options);
  const context = `ssimHost (${config.preset})`;
  const [n, height, width, channels] = shape;
  const size = config.windowSize;
  if (![n, height, width, channels].every((d) => Number.isInteger(d) && d > 0))
    throw new ConfigError('shape', '[n, height, width, channels] of positive integers', shape, context);
  const total = n * height * width * channels;
  if (prediction.length !== total || target.length !== total)
    throw new ConfigError(
      'prediction/target',
      `${total} values each (shape [${shape.join(', ')}])`,
      `${prediction.length} and ${target.length}`,
      context,
    );
  if (height < size || width < size)
    throw new ConfigError('shape', `frames of at least ${size}×${size} (the window)`, `${height}×${width}`, context);
  // The window in float64 (ssimWindow1d rounds it to float32 for the tensor path).
  const taps = windowWeights(config);
  let dataRange = config.dataRange;
  const uint8 = config.quantize === 'uint8';
  // uint8(x·255) levels / 255 with R / 255 (as the tensor path): float32 x·255, then floor.
  if (uint8) dataRange /= 255;
  const level = (v: number): number => Math.floor(Math.min(255, Math.max(0, Math.fround(v * 255)))) / 255;
  const c1 = (config.k1 * dataRange) ** 2;
  const c2 = (config.k2 * dataRange) ** 2;
  const points = size * size;
  const covNorm = config.covariance === 'sample' ? points / (points - 1) : 1;
  const oh = height - size + 1;
  const ow = width - size + 1;
  const plane = height * width;
  const uniform = config.window === 'uniform';
  // One plane at a time: the five maps (x, y, x², y², xy) filtered along rows into [height, ow]
  // (running sums for a uniform window, taps for a Gaussian), then down the columns, one output
  // row at a time, into the SSIM formula. Both passes walk memory contiguously.
  const xs = new Float64Array(plane);
  const ys = new Float64Array(plane);
  const rows = Array.from({ length: 5 }, () => new Float64Array(uniform ? 0 : height * ow));
  const acc = Array.from({ length: 5 }, () => new Float64Array(ow));
  const boxScale = 1 / (size * size);
  const ssimAt = (sx: number, sy: number, sxx: number, syy: number, sxy: number): number => {
    const sigmaX = covNorm * (sxx - sx * sx);
    const sigmaY = covNorm * (syy - sy * sy);
    const sigmaXY = covNorm * (sxy - sx * sy);
    return ((2 * sx * sy + c1) * (2 * sigmaXY + c2)) / ((sx * sx + sy * sy + c1) * (sigmaX + sigmaY + c2));
  };
  const [hx, hy, hxx, hyy, hxy] = rows as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  const [ax, ay, axx, ayy, axy] = acc as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  /**
   * A uniform window (scipy's uniform_filter as skimage runs it): running sums along each row into
   * a ring of the last `size` rows, and running column sums of that ring; the SSIM map's sum.
   */
  const ring = Array.from({ length: 5 }, () => new Float64Array(size * ow));
  const [rx, ry, rxx, ryy, rxy] = ring as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  const boxPlane = (): number => {
    ax.fill(0);
    ay.fill(0);
    axx.fill(0);
    ayy.fill(0);
    axy.fill(0);
    let sum = 0;
    for (let r = 0; r < height; r++) {
      const row = r * width;
      const o = (r % size) * ow;
      let sx = 0;
      let sy = 0;
      let sxx = 0;
      let syy = 0;
      let sxy = 0;
      for (let k = 0; k < size; k++) {
        const a = xs[row + k] as number;
        const b = ys[row + k] as number;
        sx += a;
        sy += b;
        sxx += a * a;
        syy += b * b;
        sxy += a * b;
      }
      for (let col = 0; col < ow; col++) {
        if (col > 0) {
          const a = xs[row + col + size - 1] as number;
          const b = ys[row + col + size - 1] as number;
          const a0 = xs[row + col - 1] as number;
          const b0 = ys[row + col - 1] as number;
          sx += a - a0;
          sy += b - b0;
          sxx += a * a - a0 * a0;
          syy += b * b - b0 * b0;
          sxy += a * b - a0 * b0;
        }
        rx[o + col] = sx;
        ry[o + col] = sy;
        rxx[o + col] = sxx;
        ryy[o + col] = syy;
        rxy[o + col] = sxy;
        ax[col] = (ax[col] as number) + sx;
        ay[col] = (ay[col] as number) + sy;
        axx[col] = (axx[col] as number) + sxx;
        ayy[col] = (ayy[col] as number) + syy;
        axy[col] = (axy[col] as number) + sxy;
      }
      if (r < size - 1) continue;
      // Output row r − size + 1, then its first row leaves the column sums.
      const first = ((r - size + 1) % size) * ow;
      for (let col = 0; col < ow; col++) {
        const x = ax[col] as number;
        const y = ay[col] as number;
        const xx = axx[col] as number;
        const yy = ayy[col] as number;
        const xy = axy[col] as number;
        sum += ssimAt(x * boxScale, y * boxScale, xx * boxScale, yy * boxScale, xy * boxScale);
        ax[col] = x - (rx[first + col] as number);
        ay[col] = y - (ry[first + col] as number);
        axx[col] = xx - (rxx[first + col] as number);
        ayy[col] = yy - (ryy[first + col] as number);
        axy[col] = xy - (rxy[first + col] as number);
      }
    }
    return sum;
  };
  /** A Gaussian window: taps along rows, then down columns; the SSIM map's sum. */
  const tapsPlane = (): number => {
    for (let r = 0; r < height; r++) {
      const row = r * width;
      const o = r * ow;
      for (let col = 0; col < ow; col++) {
        let sx = 0;
        let sy = 0;
        let sxx = 0;
        let syy = 0;
        let sxy = 0;
        for (let k = 0; k < size; k++) {
          const w = taps[k] as number;
          const a = xs[row + col + k] as number;
          const b = ys[row + col + k] as number;
          const wa = w * a;
          const wb = w * b;
          sx += wa;
          sy += wb;
          sxx += wa * a;
          syy += wb * b;
          sxy += wa * b;
        }
        hx[o + col] = sx;
        hy[o + col] = sy;
        hxx[o + col] = sxx;
        hyy[o + col] = syy;
        hxy[o + col] = sxy;
      }
    }
    let sum = 0;
    for (let r = 0; r < oh; r++) {
      ax.fill(0);
      ay.fill(0);
      axx.fill(0);
      ayy.fill(0);
      axy.fill(0);
      for (let k = 0; k < size; k++) {
        const w = taps[k] as number;
        const o = (r + k) * ow;
        for (let col = 0; col < ow; col++) {
          ax[col] = (ax[col] as number) + w * (hx[o + col] as number);
          ay[col] = (ay[col] as number) + w * (hy[o + col] as number);
          axx[col] = (axx[col] as number) + w * (hxx[o + col] as number);
          ayy[col] = (ayy[col] as number) + w * (hyy[o + col] as number);
          axy[col] = (axy[col] as number) + w * (hxy[o + col] as number);
        }
      }
      for (let col = 0; col < ow; col++)
        sum += ssimAt(ax[col] as number, ay[col] as number, axx[col] as number, ayy[col] as number, axy[col] as number);
    }
    return sum;
  };
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let frameSum = 0;
    for (let c = 0; c < channels; c++) {
      const base = i * plane * channels + c;
      for (let p = 0; p < plane; p++) {
        const a = prediction[base + p * channels] as number;
        const b = target[base + p * channels] as number;
        xs[p] = uint8 ? level(a) : a;
        ys[p] = uint8 ? level(b) : b;
      }
      const mapSum = uniform ? boxPlane() : tapsPlane();
      frameSum += mapSum / (oh * ow);
    }
    out[i] = frameSum / channels;
  }
  return out;
}
