import * as tf from '@tensorflow/tfjs-core';
import { Rng, ShapeError, initBackend } from '@vid/core';
import { expectNoLeakedTensors, fixtureMetadata } from '@vid/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';

import { loadLocalFixture, values } from '../__fixtures__/local.js';
import {
  FeatureStatistics,
  FrechetVideoDistance,
  type GaussianStatistics,
  frechetDistance,
  frechetDistanceFromFeatures,
} from './fvd.js';
import { matMul, sqrtPsd, symmetricEigen } from './linalg.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

const relative = (actual: number, expected: number): number => Math.abs(actual - expected) / Math.abs(expected);

/** A random orthogonal matrix (QR of a Gaussian matrix by Gram–Schmidt), n × n row-major. */
function orthogonal(n: number, rng: Rng): Float64Array {
  const q = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const v = Float64Array.from({ length: n }, () => rng.normal());
    for (let k = 0; k < j; k++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += v[i]! * q[i * n + k]!;
      for (let i = 0; i < n; i++) v[i] = v[i]! - dot * q[i * n + k]!;
    }
    const norm = Math.hypot(...v);
    for (let i = 0; i < n; i++) q[i * n + j] = v[i]! / norm;
  }
  return q;
}

/** Q diag(λ) Qᵀ */
function fromSpectrum(q: Float64Array, lambda: readonly number[]): Float64Array {
  const n = lambda.length;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += q[i * n + j]! * lambda[j]! * q[k * n + j]!;
      out[i * n + k] = s;
    }
  return out;
}

const gaussian = (mean: number[], covariance: Float64Array): GaussianStatistics => ({
  dimension: mean.length,
  count: 100,
  mean: Float64Array.from(mean),
  covariance,
});

describe('symmetric eigendecomposition (float64, host)', () => {
  it('recovers a known spectrum and orthonormal eigenvectors', () => {
    const rng = new Rng(1);
    const n = 40;
    const q = orthogonal(n, rng);
    const lambda = Array.from({ length: n }, (_, i) => (i - 10) * 0.37);
    const { values: eig, vectors } = symmetricEigen(fromSpectrum(q, lambda), n);
    const sorted = [...lambda].sort((a, b) => a - b);
    for (let i = 0; i < n; i++) expect(Math.abs(eig[i]! - sorted[i]!)).toBeLessThan(1e-12);
    // A V = V Λ
    const a = fromSpectrum(q, lambda);
    const av = matMul(a, vectors, n);
    let worst = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) worst = Math.max(worst, Math.abs(av[i * n + j]! - vectors[i * n + j]! * eig[j]!));
    expect(worst).toBeLessThan(1e-12);
  });

  it('handles diagonal, repeated and zero eigenvalues, and 1 × 1', () => {
    expect(Array.from(symmetricEigen(Float64Array.from([3, 0, 0, 0, 1, 0, 0, 0, 2]), 3).values)).toEqual([1, 2, 3]);
    const ones = symmetricEigen(new Float64Array(16).fill(1), 4).values;
    expect(Math.abs(ones[3]! - 4)).toBeLessThan(1e-14);
    expect(Math.max(...Array.from(ones.slice(0, 3), Math.abs))).toBeLessThan(1e-14);
    expect(Array.from(symmetricEigen(Float64Array.from([5]), 1).values)).toEqual([5]);
    const root = sqrtPsd(Float64Array.from([4, 0, 0, 9]), 2);
    expect(Array.from(root)).toEqual([2, 0, 0, 3]);
  });

  it('decomposes a 400 × 400 matrix (the I3D feature dimension): eigenvalues sum to the trace', () => {
    const rng = new Rng(2);
    const n = 400;
    const x = Float64Array.from({ length: n * n }, () => rng.normal());
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = x[i * n + j]!;
    const { values: eig } = symmetricEigen(a, n);
    let traceA = 0;
    for (let i = 0; i < n; i++) traceA += a[i * n + i]!;
    expect(Math.abs(eig.reduce((s, v) => s + v, 0) - traceA)).toBeLessThan(1e-9 * n);
  });
});

describe('Fréchet distance: analytic cases', () => {
  it('is 0 for identical sets', async () => {
    const features = tf.randomNormal([50, 12], 0, 1, 'float32', 3);
    expect(await frechetDistanceFromFeatures(features, features)).toBeLessThan(1e-9);
    features.dispose();
  });

  it('commuting covariances: ‖μ₁ − μ₂‖² + Σ (√a_i − √b_i)²', () => {
    const rng = new Rng(4);
    const n = 16;
    const q = orthogonal(n, rng);
    const a = Array.from({ length: n }, () => rng.uniform(0.1, 3));
    const b = Array.from({ length: n }, () => rng.uniform(0.1, 3));
    const meanA = Array.from({ length: n }, () => rng.normal());
    const meanB = Array.from({ length: n }, () => rng.normal());
    let expected = 0;
    for (let i = 0; i < n; i++) expected += (meanA[i]! - meanB[i]!) ** 2 + (Math.sqrt(a[i]!) - Math.sqrt(b[i]!)) ** 2;
    const actual = frechetDistance(gaussian(meanA, fromSpectrum(q, a)), gaussian(meanB, fromSpectrum(q, b)));
    expect(relative(actual, expected)).toBeLessThan(1e-10);
  });

  it('non-commuting 2 × 2 covariances: tr √(Σ₁Σ₂) = √(tr Σ₁Σ₂ + 2√(det Σ₁ det Σ₂))', () => {
    const s1 = Float64Array.from([2, 0.6, 0.6, 1]);
    const s2 = Float64Array.from([0.5, -0.3, -0.3, 1.5]);
    const product = matMul(s1, s2, 2);
    const det = (m: Float64Array) => m[0]! * m[3]! - m[1]! * m[2]!;
    const traceRoot = Math.sqrt(product[0]! + product[3]! + 2 * Math.sqrt(det(s1) * det(s2)));
    const expected = (1 - -1) ** 2 + (2 - 2) ** 2 + 3 + 2 - 2 * traceRoot;
    const actual = frechetDistance(gaussian([1, 2], s1), gaussian([-1, 2], s2));
    expect(relative(actual, expected)).toBeLessThan(1e-12);
  });

  it('samples of Gaussians with known statistics approach the closed form', async () => {
    // N(0, I) vs N(m, 4I) in d = 4: d² = ‖m‖² + d·(1 − 2)² = 4 + 4.
    const a = tf.randomNormal([20000, 4], 0, 1, 'float32', 7);
    const b = tf.tidy(() => tf.add(tf.randomNormal([20000, 4], 0, 2, 'float32', 8), tf.tensor1d([1, 1, 1, 1])));
    const actual = await frechetDistanceFromFeatures(a, b);
    expect(relative(actual, 8)).toBeLessThan(0.03);
    tf.dispose([a, b]);
  });
});

describe('Fréchet distance against scipy.linalg.sqrtm (fvd-reference fixture)', async () => {
  const contents = await loadLocalFixture('fvd-reference.safetensors');
  expect(fixtureMetadata<string>(contents, 'protocol')).toContain('sqrtm');
  for (const name of ['full', 'rank_deficient', 'shifted']) {
    it(`${name}: sample and population covariance, to 1e-4 relative`, async () => {
      const shape = (key: string) => contents.tensors.get(key)!.shape as [number, number];
      const a = tf.tensor2d(values(contents, `${name}.a`), shape(`${name}.a`));
      const b = tf.tensor2d(values(contents, `${name}.b`), shape(`${name}.b`));
      const sample = await frechetDistanceFromFeatures(a, b);
      const population = await frechetDistanceFromFeatures(a, b, { covariance: 'population' });
      expect(relative(sample, values(contents, `${name}.fvd`)[0]!)).toBeLessThan(1e-4);
      expect(relative(population, values(contents, `${name}.fvd_population`)[0]!)).toBeLessThan(1e-4);
      tf.dispose([a, b]);
    });
  }

  it('streams: statistics merged batch by batch equal one pass', async () => {
    const all = values(contents, 'full.a');
    const [rows, d] = contents.tensors.get('full.a')!.shape as [number, number];
    const whole = new FeatureStatistics().add(all, rows).statistics();
    const streamed = new FeatureStatistics();
    for (let start = 0; start < rows; start += 37) {
      const end = Math.min(rows, start + 37);
      streamed.add(all.slice(start * d, end * d), end - start);
    }
    const merged = streamed.statistics();
    expect(merged.count).toBe(rows);
    for (let i = 0; i < d * d; i++) expect(Math.abs(merged.covariance[i]! - whole.covariance[i]!)).toBeLessThan(1e-12);
    for (let i = 0; i < d; i++) expect(Math.abs(merged.mean[i]! - whole.mean[i]!)).toBeLessThan(1e-12);
  });
});

describe('FrechetVideoDistance with a pluggable extractor', () => {
  // A stand-in extractor: per-video mean over space of each frame's channels → [batch, time·channels].
  const extractor = (videos: tf.Tensor) => tf.tidy(() => tf.reshape(tf.mean(videos, [2, 3]), [videos.shape[0]!, -1]));

  it('accumulates batches, matches the one-shot distance, and leaks no tensors', async () => {
    const real = tf.randomUniform([24, 3, 8, 8, 2], 0, 1, 'float32', 10);
    const fake = tf.randomUniform([24, 3, 8, 8, 2], 0.1, 1, 'float32', 11);
    const fvd = new FrechetVideoDistance({ extractor });
    await expectNoLeakedTensors(async () => {
      for (let start = 0; start < 24; start += 8) {
        const r = tf.slice(real, [start], [8]);
        const g = tf.slice(fake, [start], [8]);
        await fvd.update(r, g);
        tf.dispose([r, g]);
      }
    }, 'FrechetVideoDistance.update');
    const expected = await (async () => {
      const fa = extractor(real);
      const fb = extractor(fake);
      const value = await frechetDistanceFromFeatures(fa, fb);
      tf.dispose([fa, fb]);
      return value;
    })();
    expect(relative(fvd.compute(), expected)).toBeLessThan(1e-10);
    expect(fvd.real.count).toBe(24);
    // An object with extract() works too.
    const other = new FrechetVideoDistance({ extractor: { extract: extractor }, covariance: 'population' });
    await other.update(real, real);
    expect(other.compute()).toBeLessThan(1e-9);
    tf.dispose([real, fake]);
  });

  it('gives clear errors', async () => {
    expect(() => new FrechetVideoDistance({} as never)).toThrow(
      /extractor: expected a function or an object with extract/,
    );
    const fvd = new FrechetVideoDistance({ extractor: (v) => tf.reshape(v, [v.shape[0]!, -1]) });
    const frames = tf.zeros([2, 8, 8, 1]);
    await expect(fvd.update(frames, null)).rejects.toThrow(
      /real: expected \[batch, time, height, width, channels\], received \[2, 8, 8, 1\]/,
    );
    expect(() => fvd.compute()).toThrow(/at least 2 feature vectors/);
    const bad = new FrechetVideoDistance({ extractor: () => tf.zeros([3]) });
    const videos = tf.zeros([2, 1, 2, 2, 1]);
    await expect(bad.update(videos, null)).rejects.toThrow(
      /extractor\(real\): expected \[2, dimension\] features, received \[3\]/,
    );
    const nan = new FeatureStatistics(2);
    expect(() => nan.add([1, 2, NaN, 4], 2)).toThrow(/finite feature values, received NaN in row 1, column 0/);
    expect(() => nan.add([1, 2, 3], 1)).toThrow(ShapeError);
    expect(() => frechetDistance(gaussian([0], Float64Array.from([1])), gaussian([0, 0], new Float64Array(4)))).toThrow(
      /b: expected features of dimension 1/,
    );
    tf.dispose([frames, videos]);
  });
});
