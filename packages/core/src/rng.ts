import { ConfigError } from './errors.js';

/**
 * A seeded, serialisable random number generator: xoshiro128** (Blackman & Vigna 2018), seeded
 * through splitmix32. It gives the same sequence on every platform, and its whole state (four
 * 32-bit words plus a cached normal deviate) round-trips through JSON, so a resumed training run
 * draws exactly the numbers an uninterrupted one would.
 *
 * Library code never calls `Math.random`; everything random takes an `Rng` or a seed.
 */
export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  /** Second Box–Muller deviate, kept so that `normal()` uses both. */
  private spare: number | null = null;

  constructor(seed: number | string | RngState = 0) {
    if (typeof seed === 'object') {
      this.setState(seed);
      return;
    }
    let x = typeof seed === 'string' ? hashString(seed) : seedToUint32(seed);
    const next = (): number => {
      // splitmix32
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    return result;
  }

  /** Uniform in [0, 1), with 53 bits of resolution. */
  uniform(): number;
  /** Uniform in [low, high). */
  uniform(low: number, high: number): number;
  uniform(low = 0, high = 1): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    const u = (hi * 67108864 + lo) / 9007199254740992;
    return low + (high - low) * u;
  }

  /** A standard normal deviate (Box–Muller), or one with the given mean and standard deviation. */
  normal(mean = 0, std = 1): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return mean + std * z;
    }
    let u1 = 0;
    while (u1 === 0) u1 = this.uniform();
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    this.spare = r * Math.sin(theta);
    return mean + std * r * Math.cos(theta);
  }

  /** An integer in [0, n), without modulo bias. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 2 ** 32) {
      throw new ConfigError('n', 'an integer in [1, 2^32]', n, 'Rng.int');
    }
    const limit = 2 ** 32 - (2 ** 32 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** True with probability `p`. */
  bernoulli(p: number): boolean {
    return this.uniform() < p;
  }

  /** Shuffles `array` in place (Fisher–Yates) and returns it. */
  shuffle<T>(array: T[]): T[] {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = array[i] as T;
      array[i] = array[j] as T;
      array[j] = tmp;
    }
    return array;
  }

  /** A permutation of `0 … n-1`. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }

  /** Fills a Float32Array with uniform values in [low, high). */
  fillUniform(out: Float32Array, low = 0, high = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.uniform(low, high);
    return out;
  }

  /** Fills a Float32Array with normal values. */
  fillNormal(out: Float32Array, mean = 0, std = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.normal(mean, std);
    return out;
  }

  /**
   * An independent generator derived from this one's next output and `label`. Use it to give
   * each consumer (initializers, data shuffling, scheduled sampling) its own stream.
   */
  fork(label = ''): Rng {
    const a = this.nextUint32();
    const b = this.nextUint32();
    return new Rng(`${a}:${b}:${label}`);
  }

  /** The whole state, as plain JSON. */
  getState(): RngState {
    return { kind: 'xoshiro128**', s: [this.s0, this.s1, this.s2, this.s3], spare: this.spare };
  }

  /** Restores a state from `getState()`. */
  setState(state: RngState): void {
    if (
      state === null ||
      typeof state !== 'object' ||
      state.kind !== 'xoshiro128**' ||
      !Array.isArray(state.s) ||
      state.s.length !== 4 ||
      !state.s.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32)
    ) {
      throw new ConfigError('state', 'an RngState from Rng.getState()', state, 'Rng.setState');
    }
    [this.s0, this.s1, this.s2, this.s3] = state.s as [number, number, number, number];
    this.spare = state.spare ?? null;
  }

  /** A copy with the same state. */
  clone(): Rng {
    return new Rng(this.getState());
  }
}

/** The serialised state of an {@link Rng}. */
export interface RngState {
  readonly kind: 'xoshiro128**';
  readonly s: readonly number[];
  readonly spare: number | null;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

function seedToUint32(seed: number): number {
  if (!Number.isFinite(seed)) throw new ConfigError('seed', 'a finite number or a string', seed, 'Rng');
  // Mix the integer and fractional parts so that 1 and 1.5 differ, and large seeds keep their bits.
  const hi = Math.floor(seed / 2 ** 32) >>> 0;
  const lo = seed >>> 0;
  const frac = Math.floor((seed - Math.floor(seed)) * 2 ** 32) >>> 0;
  return (lo ^ Math.imul(hi, 0x9e3779b1) ^ Math.imul(frac, 0x85ebca6b)) >>> 0;
}

/** FNV-1a over UTF-16 code units. */
function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
