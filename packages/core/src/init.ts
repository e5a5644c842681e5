/**
 * Seeded initializers with PyTorch's formulas (`torch.nn.init`). They draw from an {@link Rng}
 * on the host, so the same seed gives the same weights on every backend.
 *
 * Fans follow PyTorch's definitions, computed from the vid layout of the tensor:
 * - `[in, out]` (a linear kernel): fanIn = in, fanOut = out;
 * - `[kh, kw, in, out]` (a conv kernel) and other ranks ≥ 3: the receptive field is every
 *   dimension but the last two, fanIn = in × field, fanOut = out × field.
 */
import * as tf from '@tensorflow/tfjs-core';

import { ConfigError } from './errors.js';
import type { Rng } from './rng.js';

/** Makes an initial value for a parameter of `shape`. */
export type Initializer = (shape: readonly number[], rng: Rng) => tf.Tensor;

/** PyTorch's `_calculate_fan_in_and_fan_out`, on vid layouts (see the module comment). */
export function computeFans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) {
    throw new ConfigError('shape', 'at least 2 dimensions to compute fans', [...shape], 'computeFans');
  }
  const fieldSize = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  const fanIn = (shape[shape.length - 2] as number) * fieldSize;
  const fanOut = (shape[shape.length - 1] as number) * fieldSize;
  return { fanIn, fanOut };
}

/** PyTorch's `calculate_gain`. */
export function calculateGain(
  nonlinearity: 'linear' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu',
  param?: number,
): number {
  switch (nonlinearity) {
    case 'linear':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
  }
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** All zeros. */
export function zeros(): Initializer {
  return (shape) => tf.zeros([...shape]);
}

/** All ones. */
export function ones(): Initializer {
  return (shape) => tf.ones([...shape]);
}

/** A constant. */
export function constant(value: number): Initializer {
  return (shape) => tf.fill([...shape], value);
}

/** Uniform in [low, high) (`nn.init.uniform_`). */
export function uniform(low: number, high: number): Initializer {
  return (shape, rng) => tf.tensor(rng.fillUniform(new Float32Array(size(shape)), low, high), [...shape]);
}

/** Normal (`nn.init.normal_`). */
export function normal(mean = 0, std = 1): Initializer {
  return (shape, rng) => tf.tensor(rng.fillNormal(new Float32Array(size(shape)), mean, std), [...shape]);
}

/** Options of the Kaiming initializers. */
export interface KaimingOptions {
  /**
   * Negative slope of the rectifier after this layer. PyTorch's default for `nn.Linear` and
   * `nn.ConvNd` weights is `a = √5`, which gives U(−1/√fanIn, 1/√fanIn).
   * @default Math.sqrt(5)
   */
  readonly a?: number;
  /** @default 'fanIn' */
  readonly mode?: 'fanIn' | 'fanOut';
  /** @default 'leaky_relu' */
  readonly nonlinearity?: 'linear' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu';
  /** Overrides the fan computed from the shape (for fused or split parameters). */
  readonly fan?: number;
}

function kaimingStd(shape: readonly number[], options: KaimingOptions): number {
  const fans = options.fan === undefined ? computeFans(shape) : { fanIn: options.fan, fanOut: options.fan };
  const fan = options.mode === 'fanOut' ? fans.fanOut : fans.fanIn;
  const gain = calculateGain(options.nonlinearity ?? 'leaky_relu', options.a ?? Math.sqrt(5));
  return gain / Math.sqrt(fan);
}

/** `nn.init.kaiming_uniform_`: U(−b, b) with b = gain × √(3 / fan). PyTorch's default for weights. */
export function kaimingUniform(options: KaimingOptions = {}): Initializer {
  return (shape, rng) => {
    const bound = Math.sqrt(3) * kaimingStd(shape, options);
    return uniform(-bound, bound)(shape, rng);
  };
}

/** `nn.init.kaiming_normal_`: N(0, gain² / fan). */
export function kaimingNormal(options: KaimingOptions = {}): Initializer {
  return (shape, rng) => normal(0, kaimingStd(shape, options))(shape, rng);
}

/**
 * PyTorch's default bias of `nn.Linear` and `nn.ConvNd`: U(−1/√fanIn, 1/√fanIn), where fanIn is
 * that of the layer's weight.
 */
export function biasUniform(fanIn: number): Initializer {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return uniform(-bound, bound);
}

/** `nn.init.xavier_uniform_`: U(−b, b) with b = gain × √(6 / (fanIn + fanOut)). */
export function xavierUniform(gain = 1): Initializer {
  return (shape, rng) => {
    const { fanIn, fanOut } = computeFans(shape);
    const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
    return uniform(-bound, bound)(shape, rng);
  };
}

/** `nn.init.xavier_normal_`: N(0, gain² × 2 / (fanIn + fanOut)). */
export function xavierNormal(gain = 1): Initializer {
  return (shape, rng) => {
    const { fanIn, fanOut } = computeFans(shape);
    return normal(0, gain * Math.sqrt(2 / (fanIn + fanOut)))(shape, rng);
  };
}

/**
 * `nn.init.orthogonal_`: a (semi-)orthogonal matrix from the QR decomposition of a normal
 * matrix, with the sign of R's diagonal folded in so the result is uniformly distributed. The
 * tensor is viewed as `[prod(shape[:-1]), shape[-1]]` (vid's `[in, out]`): its columns are
 * orthonormal when rows ≥ columns, its rows otherwise.
 */
export function orthogonal(gain = 1): Initializer {
  return (shape, rng) => {
    if (shape.length < 2) throw new ConfigError('shape', 'at least 2 dimensions', [...shape], 'orthogonal');
    const cols = shape[shape.length - 1] as number;
    const rows = size(shape) / cols;
    const tall = rows >= cols;
    const m = tall ? rows : cols;
    const n = tall ? cols : rows;
    // A: m × n normal, column-major for the Householder sweep.
    const a = new Float64Array(m * n);
    for (let i = 0; i < a.length; i++) a[i] = rng.normal();
    const q = householderQ(a, m, n);
    const out = new Float32Array(rows * cols);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const value = gain * (q[j * m + i] as number);
        if (tall) out[i * cols + j] = value;
        else out[j * cols + i] = value;
      }
    }
    return tf.tensor(out, [...shape]);
  };
}

/**
 * The thin Q (m × n, column-major) of A = QR by Householder reflections, with columns signed so
 * that R has a positive diagonal (as `torch.linalg.qr` followed by `q *= sign(diag(r))`).
 */
function householderQ(a: Float64Array, m: number, n: number): Float64Array {
  const r = Float64Array.from(a);
  const vs: Float64Array[] = [];
  const signs = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let norm = 0;
    for (let i = k; i < m; i++) norm += (r[k * m + i] as number) ** 2;
    norm = Math.sqrt(norm);
    const x0 = r[k * m + k] as number;
    const alpha = x0 >= 0 ? -norm : norm;
    const v = new Float64Array(m);
    for (let i = k; i < m; i++) v[i] = r[k * m + i] as number;
    v[k] = x0 - alpha;
    let vnorm = 0;
    for (let i = k; i < m; i++) vnorm += (v[i] as number) ** 2;
    if (vnorm > 0) {
      for (let j = k; j < n; j++) {
        let dot = 0;
        for (let i = k; i < m; i++) dot += (v[i] as number) * (r[j * m + i] as number);
        const scale = (2 * dot) / vnorm;
        for (let i = k; i < m; i++) r[j * m + i] = (r[j * m + i] as number) - scale * (v[i] as number);
      }
    }
    vs.push(v);
    signs[k] = (r[k * m + k] as number) >= 0 ? 1 : -1;
  }
  // Q = H0 H1 … H(n-1) applied to the first n columns of the identity.
  const q = new Float64Array(m * n);
  for (let j = 0; j < n; j++) q[j * m + j] = 1;
  for (let k = n - 1; k >= 0; k--) {
    const v = vs[k] as Float64Array;
    let vnorm = 0;
    for (let i = k; i < m; i++) vnorm += (v[i] as number) ** 2;
    if (vnorm === 0) continue;
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let i = k; i < m; i++) dot += (v[i] as number) * (q[j * m + i] as number);
      const scale = (2 * dot) / vnorm;
      for (let i = k; i < m; i++) q[j * m + i] = (q[j * m + i] as number) - scale * (v[i] as number);
    }
  }
  for (let j = 0; j < n; j++)
    for (let i = 0; i < m; i++) q[j * m + i] = (q[j * m + i] as number) * (signs[j] as number);
  return q;
}

/** Resolves an initializer and draws a value, checking the shape first. */
export function initialize(initializer: Initializer, shape: readonly number[], rng: Rng): tf.Tensor {
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ConfigError('shape', 'non-negative integers', [...shape], 'initialize');
  }
  return initializer(shape, rng);
}
