/**
 * Test helper: the deterministic "hashed" weights and inputs of
 * `tooling/fixtures/metrics/make_lpips_trunks.py`, regenerated bit for bit. Each value is a pure
 * function of (seed, element index): murmur3's 32-bit finaliser, evaluated in float64 and rounded
 * to float32, which NumPy and JavaScript do identically.
 */
import type { HostTensor } from '@vid/core';

function fmix32(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** `u_i = fmix32((i·0x9E3779B1 + seed) mod 2³²) / 2³²` in [0, 1), float64. */
export function hashedUniform(seed: number, count: number): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = fmix32((Math.imul(i, 0x9e3779b1) + seed) >>> 0) / 4294967296;
  return out;
}

const parameterSeed = (index: number): number => fmix32(Math.imul(index + 1, 0x632be5ab) >>> 0);

/** Parameter `index` of the fixture's list, in PyTorch layout, as the script makes it. */
export function hashedParameter(name: string, shape: readonly number[], index: number): HostTensor {
  const count = shape.reduce((a, b) => a * b, 1);
  const u = hashedUniform(parameterSeed(index), count);
  const data = new Float32Array(count);
  if (name.startsWith('lin')) {
    for (let i = 0; i < count; i++) data[i] = (u[i] as number) * 0.1;
  } else if (name.endsWith('bias')) {
    for (let i = 0; i < count; i++) data[i] = (2 * (u[i] as number) - 1) * 0.05;
  } else {
    const bound = Math.sqrt(6 / shape.slice(1).reduce((a, b) => a * b, 1));
    for (let i = 0; i < count; i++) data[i] = (2 * (u[i] as number) - 1) * bound;
  }
  return { dtype: 'F32', shape: [...shape], data };
}

/** All parameters of a fixture entry (`config[net].parameters`: `[name, shape]` in order). */
export function hashedStateDict(
  parameters: ReadonlyArray<readonly [string, readonly number[]]>,
): Map<string, HostTensor> {
  return new Map(parameters.map(([name, shape], index) => [name, hashedParameter(name, shape, index)]));
}

/** The fixture inputs, NCHW float32: `x0 = 2u − 1`, `x1 = clip(x0 + 0.3(2u′ − 1), −1, 1)`. */
export function hashedInputs(shape: readonly number[]): { x0: Float32Array; x1: Float32Array } {
  const count = shape.reduce((a, b) => a * b, 1);
  const u0 = hashedUniform(1001, count);
  const u1 = hashedUniform(1002, count);
  const x0 = new Float32Array(count);
  const x1 = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const a = 2 * (u0[i] as number) - 1;
    x0[i] = a;
    x1[i] = Math.min(1, Math.max(-1, a + 0.3 * (2 * (u1[i] as number) - 1)));
  }
  return { x0, x1 };
}
