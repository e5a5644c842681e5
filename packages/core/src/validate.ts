/**
 * Argument checks shared by every package. Each throws a {@link ShapeError} or
 * {@link ConfigError} whose message names the argument, the expected and the received value.
 */
import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, ShapeError, formatShape } from './errors.js';
import { Rng } from './rng.js';

/** One dimension of an expected shape: a size, `null` for any, or a name for messages. */
export type ExpectedDim = number | null | string;

function describeShape(expected: readonly ExpectedDim[]): string {
  return `[${expected.map((d) => (d === null ? '*' : String(d))).join(', ')}]`;
}

/**
 * Checks a tensor's shape. `expected` lists one entry per dimension: a number must match, `null`
 * or a string (a name such as `'batch'`) matches anything.
 */
export function assertShape(
  value: tf.Tensor | { readonly shape: readonly number[] },
  expected: readonly ExpectedDim[],
  argument: string,
  context?: string,
): void {
  const shape = value.shape;
  const ok = shape.length === expected.length && expected.every((d, i) => typeof d !== 'number' || d === shape[i]);
  if (!ok) throw new ShapeError(argument, describeShape(expected), formatShape(shape), context);
}

/** Checks a tensor's rank. */
export function assertRank(
  value: tf.Tensor | { readonly shape: readonly number[] },
  rank: number | readonly number[],
  argument: string,
  context?: string,
  names?: string,
): void {
  const ranks = typeof rank === 'number' ? [rank] : rank;
  if (!ranks.includes(value.shape.length)) {
    throw new ShapeError(
      argument,
      `rank ${ranks.join(' or ')}${names ? ` (${names})` : ''}`,
      `rank ${value.shape.length} ${formatShape(value.shape)}`,
      context,
    );
  }
}

/** Checks a tensor's dtype. */
export function assertDtype(
  value: tf.Tensor,
  dtype: tf.DataType | readonly tf.DataType[],
  argument: string,
  context?: string,
): void {
  const dtypes = typeof dtype === 'string' ? [dtype] : dtype;
  if (!dtypes.includes(value.dtype)) {
    throw new ShapeError(argument, `dtype ${dtypes.join(' or ')}`, `dtype ${value.dtype}`, context);
  }
}

/** A positive integer option. */
export function positiveInteger(value: unknown, field: string, context?: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ConfigError(field, 'a positive integer', value, context);
  }
  return value;
}

/** A non-negative integer option. */
export function nonNegativeInteger(value: unknown, field: string, context?: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new ConfigError(field, 'a non-negative integer', value, context);
  }
  return value;
}

/** A finite number option, optionally within [min, max]. */
export function finiteNumber(
  value: unknown,
  field: string,
  context?: string,
  range?: { readonly min?: number; readonly max?: number },
): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new ConfigError(field, 'a finite number', value, context);
  if (range?.min !== undefined && value < range.min)
    throw new ConfigError(field, `a number ≥ ${range.min}`, value, context);
  if (range?.max !== undefined && value > range.max)
    throw new ConfigError(field, `a number ≤ ${range.max}`, value, context);
  return value;
}

/** One of a set of string options. */
export function oneOf<T extends string>(value: unknown, options: readonly T[], field: string, context?: string): T {
  if (typeof value !== 'string' || !(options as readonly string[]).includes(value)) {
    throw new ConfigError(field, `one of ${options.map((o) => JSON.stringify(o)).join(', ')}`, value, context);
  }
  return value as T;
}

/** A boolean option. */
export function bool(value: unknown, field: string, context?: string): boolean {
  if (typeof value !== 'boolean') throw new ConfigError(field, 'true or false', value, context);
  return value;
}

/** A size given as one number (square) or a pair. */
export function pairOf(value: unknown, field: string, context?: string): [number, number] {
  if (typeof value === 'number') {
    const n = positiveInteger(value, field, context);
    return [n, n];
  }
  if (Array.isArray(value) && value.length === 2) {
    return [positiveInteger(value[0], `${field}[0]`, context), positiveInteger(value[1], `${field}[1]`, context)];
  }
  throw new ConfigError(field, 'a positive integer or a pair [height, width]', value, context);
}

/** Rejects option keys that the options type does not have (catches typos like `hiddenSize`). */
export function assertKnownKeys(options: object, known: readonly string[], context: string): void {
  const unknown = Object.keys(options).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    throw new ConfigError(
      unknown.join(', '),
      `only known options (${known.join(', ')})`,
      `unknown option${unknown.length > 1 ? 's' : ''}`,
      context,
    );
  }
}

let debugChecks = false;

/**
 * Turns on checks that read tensor values back (NaN/Inf in inputs). Off by default because
 * every check synchronises with the backend. Also on when `VID_DEBUG=1`.
 */
export function setDebugChecks(enabled: boolean): void {
  debugChecks = enabled;
}

export function debugChecksEnabled(): boolean {
  return debugChecks || (typeof process !== 'undefined' && process.env?.VID_DEBUG === '1');
}

/** With debug checks on, throws if `value` holds NaN or ±Infinity (names the first bad index). */
export function assertFinite(value: tf.Tensor, argument: string, context?: string): void {
  if (!debugChecksEnabled()) return;
  const data = value.dataSync();
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (!Number.isFinite(v)) {
      throw new ShapeError(
        argument,
        'finite values',
        `${v} at flat index ${i} of ${formatShape(value.shape)}`,
        context,
      );
    }
  }
}

/** Throws unless `value` is a live tensor (names the argument and what it received). */
export function assertTensor(value: unknown, argument: string, context?: string): asserts value is tf.Tensor {
  if (!(value instanceof tf.Tensor))
    throw new ShapeError(argument, 'a tf.Tensor', value === null ? 'null' : typeof value, context);
  if (value.isDisposed) throw new ShapeError(argument, 'a live tensor', 'a disposed tensor', context);
}

/**
 * The generator a `seed` option stands for: an {@link Rng} as given (shared, so forks stay in
 * sequence), a finite number seeds a new one, `undefined` is seed 0.
 */
export function resolveRng(seed: unknown, field = 'seed', context?: string): Rng {
  if (seed === undefined) return new Rng(0);
  if (seed instanceof Rng) return seed;
  if (typeof seed !== 'number' || !Number.isFinite(seed))
    throw new ConfigError(field, 'a finite number or an Rng', seed, context);
  return new Rng(seed);
}
