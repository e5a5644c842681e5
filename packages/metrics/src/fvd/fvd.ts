/**
 * FVD (Unterthiner et al. 2018, "Towards Accurate Generative Models of Video: A New Metric &
 * Challenges", eq. 1): the Fréchet distance between Gaussians fitted to the features of real and
 * generated videos,
 *
 *     d² = ‖μ₁ − μ₂‖² + tr(Σ₁) + tr(Σ₂) − 2 tr( (Σ₁ Σ₂)^{1/2} )
 *
 * (Dowson & Landau 1982; the same formula as FID, Heusel et al. 2017). The reference code
 * (google-research/frechet_video_distance) uses `tfgan.eval.frechet_classifier_distance`, with
 * sample covariances, on the 400 logits of an I3D network trained on Kinetics-400, for 16-frame
 * 224×224 clips scaled to [−1, 1]. Those I3D weights cannot ship with vid: the feature
 * extractor here is pluggable.
 *
 * Porting note: `tr((Σ₁Σ₂)^{1/2})` is not computed with a general matrix square root
 * (`scipy.linalg.sqrtm`, which goes through a complex Schur form and can return small imaginary
 * parts), but with two symmetric eigendecompositions in float64 on the host: `Σ₁Σ₂` is similar
 * to the symmetric PSD matrix `Σ₁^{1/2} Σ₂ Σ₁^{1/2}`, so their square roots have the same trace,
 * `Σᵢ √λᵢ(Σ₁^{1/2} Σ₂ Σ₁^{1/2})`. Tested against `scipy.linalg.sqrtm` to 1e-4 relative.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError, assertKnownKeys, formatShape, oneOf } from '@vid/core';

import { matMul, sqrtPsd, symmetricEigen, symmetrize, trace } from './linalg.js';

/** How the covariance of a feature set is normalised: by N − 1 (`'sample'`, FVD/FID reference code) or N. */
export type CovarianceKind = 'sample' | 'population';

/** A Gaussian fitted to feature vectors. */
export interface GaussianStatistics {
  /** Feature dimension d. */
  readonly dimension: number;
  /** Number of feature vectors it was fitted to. */
  readonly count: number;
  /** `[d]` */
  readonly mean: Float64Array;
  /** `[d, d]` row-major, symmetric. */
  readonly covariance: Float64Array;
}

/**
 * Streaming mean and covariance of feature vectors in float64 on the host. Batches are merged
 * with the pairwise update of Chan, Golub & LeVeque (1979): each batch is centred on its own mean
 * first, so large means do not cancel the covariance.
 */
export class FeatureStatistics {
  #dimension: number | null;
  #count = 0;
  #mean: Float64Array | null = null;
  /** Σ (x − mean)(x − mean)ᵀ, `[d, d]`. */
  #comoment: Float64Array | null = null;

  /** @param dimension the feature dimension, or `undefined` to take it from the first batch. */
  constructor(dimension?: number) {
    if (dimension !== undefined && (!Number.isInteger(dimension) || dimension < 1)) {
      throw new ConfigError('dimension', 'a positive integer', dimension, 'FeatureStatistics');
    }
    this.#dimension = dimension ?? null;
  }

  /** Feature dimension (null before the first batch when not given). */
  get dimension(): number | null {
    return this.#dimension;
  }

  /** Number of feature vectors so far. */
  get count(): number {
    return this.#count;
  }

  /**
   * Adds `rows` feature vectors from host memory: `values` holds `rows × dimension` numbers,
   * row-major. NaN or infinite values throw (naming the row).
   */
  add(values: ArrayLike<number>, rows: number, name = 'features'): this {
    const context = 'FeatureStatistics';
    if (!Number.isInteger(rows) || rows < 1) throw new ConfigError('rows', 'a positive integer', rows, context);
    if (values.length % rows !== 0)
      throw new ShapeError(name, `${rows} rows of equal length`, `${values.length} values`, context);
    const d = values.length / rows;
    if (this.#dimension === null) this.#dimension = d;
    if (d !== this.#dimension)
      throw new ShapeError(
        name,
        `[batch, ${this.#dimension}] (the feature dimension so far)`,
        `[${rows}, ${d}]`,
        context,
      );
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i] as number)) {
        throw new ShapeError(
          name,
          'finite feature values',
          `${values[i]} in row ${Math.floor(i / d)}, column ${i % d}`,
          context,
        );
      }
    }
    // Batch mean and comoment, centred on the batch mean.
    const batchMean = new Float64Array(d);
    for (let r = 0; r < rows; r++)
      for (let j = 0; j < d; j++) batchMean[j] = (batchMean[j] as number) + (values[r * d + j] as number);
    for (let j = 0; j < d; j++) batchMean[j] = (batchMean[j] as number) / rows;
    const batchComoment = new Float64Array(d * d);
    const centred = new Float64Array(d);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < d; j++) centred[j] = (values[r * d + j] as number) - (batchMean[j] as number);
      for (let i = 0; i < d; i++) {
        const ci = centred[i] as number;
        if (ci === 0) continue;
        const row = i * d;
        for (let j = i; j < d; j++)
          batchComoment[row + j] = (batchComoment[row + j] as number) + ci * (centred[j] as number);
      }
    }
    for (let i = 0; i < d; i++)
      for (let j = 0; j < i; j++) batchComoment[i * d + j] = batchComoment[j * d + i] as number;
    if (this.#mean === null || this.#comoment === null) {
      this.#mean = batchMean;
      this.#comoment = batchComoment;
      this.#count = rows;
      return this;
    }
    // Merge (Chan et al. 1979): M = Ma + Mb + δδᵀ·na·nb/n, μ = μa + δ·nb/n.
    const total = this.#count + rows;
    const weight = (this.#count * rows) / total;
    const delta = new Float64Array(d);
    for (let j = 0; j < d; j++) delta[j] = (batchMean[j] as number) - (this.#mean[j] as number);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        const k = i * d + j;
        this.#comoment[k] =
          (this.#comoment[k] as number) +
          (batchComoment[k] as number) +
          (delta[i] as number) * (delta[j] as number) * weight;
      }
    }
    for (let j = 0; j < d; j++) this.#mean[j] = (this.#mean[j] as number) + ((delta[j] as number) * rows) / total;
    this.#count = total;
    return this;
  }

  /**
   * Adds the rows of a `[batch, dimension]` tensor (read back asynchronously; the caller keeps
   * ownership of `features`).
   */
  async update(features: tf.Tensor, name = 'features'): Promise<this> {
    if (!(features instanceof tf.Tensor) || features.rank !== 2) {
      throw new ShapeError(
        name,
        '[batch, dimension]',
        features instanceof tf.Tensor ? formatShape(features.shape) : String(features),
        'FeatureStatistics',
      );
    }
    const data = await features.data();
    return this.add(data as Float32Array, features.shape[0] as number, name);
  }

  /** The fitted Gaussian. Sample covariance needs at least two vectors. */
  statistics(covariance: CovarianceKind = 'sample'): GaussianStatistics {
    const kind = oneOf(covariance, ['sample', 'population'] as const, 'covariance', 'FeatureStatistics');
    const needed = kind === 'sample' ? 2 : 1;
    if (this.#mean === null || this.#comoment === null || this.#dimension === null || this.#count < needed) {
      throw new ShapeError(
        'features',
        `at least ${needed} feature vector${needed > 1 ? 's' : ''} for a ${kind} covariance`,
        `${this.#count}`,
        'FeatureStatistics',
      );
    }
    const divisor = kind === 'sample' ? this.#count - 1 : this.#count;
    return {
      dimension: this.#dimension,
      count: this.#count,
      mean: Float64Array.from(this.#mean),
      covariance: Float64Array.from(this.#comoment, (v) => v / divisor),
    };
  }

  /** Forgets every vector. */
  reset(): void {
    this.#count = 0;
    this.#mean = null;
    this.#comoment = null;
  }
}

function checkStatistics(value: GaussianStatistics, name: string): void {
  const d = value?.dimension;
  if (!Number.isInteger(d) || d < 1 || value.mean?.length !== d || value.covariance?.length !== d * d) {
    throw new ShapeError(
      name,
      'GaussianStatistics with mean [d] and covariance [d, d]',
      value
        ? `dimension ${d}, mean of ${value.mean?.length}, covariance of ${value.covariance?.length}`
        : String(value),
      'frechetDistance',
    );
  }
}

/**
 * The Fréchet distance between two Gaussians (float64, host). The result is clipped at 0
 * (rounding can make a distance between identical sets −1e-13).
 */
export function frechetDistance(a: GaussianStatistics, b: GaussianStatistics): number {
  checkStatistics(a, 'a');
  checkStatistics(b, 'b');
  if (a.dimension !== b.dimension)
    throw new ShapeError(
      'b',
      `features of dimension ${a.dimension} (as a)`,
      `dimension ${b.dimension}`,
      'frechetDistance',
    );
  const n = a.dimension;
  let meanTerm = 0;
  for (let i = 0; i < n; i++) meanTerm += ((a.mean[i] as number) - (b.mean[i] as number)) ** 2;
  const sigmaA = symmetrize(Float64Array.from(a.covariance), n);
  const sigmaB = symmetrize(Float64Array.from(b.covariance), n);
  // tr((Σa Σb)^{1/2}) = Σ √λ(Σa^{1/2} Σb Σa^{1/2}), a symmetric PSD matrix.
  const rootA = sqrtPsd(sigmaA, n);
  const inner = symmetrize(matMul(matMul(rootA, sigmaB, n), rootA, n), n);
  const { values } = symmetricEigen(inner, n);
  let traceRoot = 0;
  for (const v of values) traceRoot += Math.sqrt(Math.max(v, 0));
  return Math.max(0, meanTerm + trace(sigmaA, n) + trace(sigmaB, n) - 2 * traceRoot);
}

/**
 * The Fréchet distance between two sets of feature vectors, `[n₁, d]` and `[n₂, d]` tensors
 * (read back; the caller keeps ownership).
 */
export async function frechetDistanceFromFeatures(
  a: tf.Tensor,
  b: tf.Tensor,
  options: { readonly covariance?: CovarianceKind } = {},
): Promise<number> {
  assertKnownKeys(options, ['covariance'], 'frechetDistanceFromFeatures');
  const covariance = options.covariance ?? 'sample';
  const statsA = await new FeatureStatistics().update(a, 'a');
  const statsB = await new FeatureStatistics().update(b, 'b');
  return frechetDistance(statsA.statistics(covariance), statsB.statistics(covariance));
}

/**
 * Maps a batch of videos to feature vectors: `[batch, time, height, width, channels]` →
 * `[batch, dimension]`. For FVD as published: an I3D network (Kinetics-400, 400 logits), 16
 * frames resized to 224×224, values in [−1, 1] — which you provide, e.g. as a TensorFlow.js
 * graph model converted from TF-Hub's `i3d-kinetics-400`. The function may return a new tensor
 * (disposed by the caller) and must not dispose its input.
 */
export type VideoFeatureExtractor = ((videos: tf.Tensor) => tf.Tensor) | { extract(videos: tf.Tensor): tf.Tensor };

/** Options of {@link FrechetVideoDistance}. */
export interface FrechetVideoDistanceOptions {
  /** The feature network (see {@link VideoFeatureExtractor}). */
  readonly extractor: VideoFeatureExtractor;
  /** @default 'sample' (the FVD reference code) */
  readonly covariance?: CovarianceKind;
}

/**
 * FVD, fed batch after batch: `update(real, generated)` extracts features and accumulates their
 * statistics on the host; `compute()` gives the distance.
 */
export class FrechetVideoDistance {
  readonly covariance: CovarianceKind;
  readonly real = new FeatureStatistics();
  readonly generated = new FeatureStatistics();
  readonly #extract: (videos: tf.Tensor) => tf.Tensor;

  constructor(options: FrechetVideoDistanceOptions) {
    const context = 'FrechetVideoDistance';
    if (typeof options !== 'object' || options === null)
      throw new ConfigError('options', 'an options object with an extractor', options, context);
    assertKnownKeys(options, ['extractor', 'covariance'], context);
    const extractor = options.extractor;
    if (typeof extractor === 'function') this.#extract = extractor;
    else if (extractor && typeof extractor.extract === 'function')
      this.#extract = (videos) => extractor.extract(videos);
    else
      throw new ConfigError(
        'extractor',
        'a function or an object with extract(videos) returning [batch, dimension] features',
        extractor,
        context,
      );
    this.covariance = oneOf(options.covariance ?? 'sample', ['sample', 'population'] as const, 'covariance', context);
  }

  async #add(stats: FeatureStatistics, videos: tf.Tensor, name: string): Promise<void> {
    if (!(videos instanceof tf.Tensor) || videos.rank !== 5) {
      throw new ShapeError(
        name,
        '[batch, time, height, width, channels]',
        videos instanceof tf.Tensor ? formatShape(videos.shape) : String(videos),
        'FrechetVideoDistance',
      );
    }
    const features = tf.tidy(() => this.#extract(videos));
    try {
      if (features.rank !== 2 || features.shape[0] !== videos.shape[0]) {
        throw new ShapeError(
          `extractor(${name})`,
          `[${videos.shape[0]}, dimension] features`,
          formatShape(features.shape),
          'FrechetVideoDistance',
        );
      }
      await stats.update(features, `extractor(${name})`);
    } finally {
      if (features !== videos) features.dispose();
    }
  }

  /** Adds a batch of real videos, generated videos, or both (either may be null). */
  async update(real: tf.Tensor | null, generated: tf.Tensor | null): Promise<void> {
    if (real) await this.#add(this.real, real, 'real');
    if (generated) await this.#add(this.generated, generated, 'generated');
  }

  /** The FVD of everything added so far. */
  compute(): number {
    return frechetDistance(this.real.statistics(this.covariance), this.generated.statistics(this.covariance));
  }

  /** Forgets both sets. */
  reset(): void {
    this.real.reset();
    this.generated.reset();
  }
}
