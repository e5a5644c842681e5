/**
 * The limits every file reader of vid enforces, so that no file (a downloaded checkpoint, a
 * dataset archive) can hang a reader, exhaust memory or reach a prototype. Each limit is far
 * above what real files need and far below what hurts; see `docs/decisions/core-reader-limits.md`.
 *
 * Raise a limit for the whole process with {@link setReadLimits}, or for one call through the
 * `limits` option that the readers take (`readTorchCheckpoint(path, name, { limits })`,
 * `ZipArchive.open(source, { limits })`, `unpickle(bytes, { limits })`, …).
 */
import { ConfigError } from '../errors.js';

/** What the readers accept at most. Every field is a count or a number of bytes. */
export interface ReadLimits {
  /**
   * Bytes one ZIP member (`.pt`, `.npz`) or one gzip stream (`.gz`) may inflate to.
   * @default 2 GiB (2 ** 31)
   */
  readonly maxInflatedBytes: number;
  /**
   * Largest inflated/compressed ratio accepted for members bigger than
   * {@link ReadLimits.inflateRatioGrace}. Deflate reaches about 1032:1 on constant bytes; real
   * arrays and checkpoints stay far below 100:1 (Apache POI's zip-bomb guard uses the same 100).
   * @default 100
   */
  readonly maxInflateRatio: number;
  /** Members that inflate to at most this many bytes are exempt from the ratio check. @default 16 MiB */
  readonly inflateRatioGrace: number;
  /**
   * Objects the unpickler may build and the checkpoint walk may visit (lists, tuples, dicts,
   * tensors). A state dict of 10,000 tensors needs about 60,000.
   * @default 10,000,000
   */
  readonly maxPickleNodes: number;
  /**
   * Bytes of one binary pickle integer (LONG1/LONG4). PyTorch writes at most 8; the legacy magic
   * number needs 10.
   * @default 1 MiB
   */
  readonly maxPickleLongBytes: number;
  /** Digits of one text pickle integer (INT/LONG), as Python's `int_max_str_digits`. @default 4300 */
  readonly maxPickleIntDigits: number;
  /** Tensors in one safetensors header (the largest published single files hold a few thousand). @default 100,000 */
  readonly maxSafetensorsTensors: number;
  /** Bytes of one safetensors JSON header (the reference implementation's limit). @default 100,000,000 */
  readonly maxSafetensorsHeaderBytes: number;
  /** Bytes of one `.npy` header (NumPy's `max_header_size` since 1.24 is 10,000). @default 65,536 */
  readonly maxNpyHeaderBytes: number;
  /** Nesting depth of the Python literal in an `.npy` header. @default 32 */
  readonly maxNpyHeaderDepth: number;
  /**
   * Bytes of one tensor that a checkpoint reader materialises from a strided view (a view with
   * zero strides can describe far more elements than its storage holds).
   * @default 2 GiB (2 ** 31)
   */
  readonly maxTensorBytes: number;
}

/** The defaults of {@link ReadLimits}. */
export const DEFAULT_READ_LIMITS: Readonly<ReadLimits> = Object.freeze({
  maxInflatedBytes: 2 ** 31,
  maxInflateRatio: 100,
  inflateRatioGrace: 16 * 2 ** 20,
  maxPickleNodes: 10_000_000,
  maxPickleLongBytes: 2 ** 20,
  maxPickleIntDigits: 4300,
  maxSafetensorsTensors: 100_000,
  maxSafetensorsHeaderBytes: 100_000_000,
  maxNpyHeaderBytes: 65_536,
  maxNpyHeaderDepth: 32,
  maxTensorBytes: 2 ** 31,
});

let current: Readonly<ReadLimits> = DEFAULT_READ_LIMITS;

function validate(limits: Partial<ReadLimits>, context: string): void {
  for (const [key, value] of Object.entries(limits)) {
    if (!Object.prototype.hasOwnProperty.call(DEFAULT_READ_LIMITS, key)) {
      throw new ConfigError(key, `one of ${Object.keys(DEFAULT_READ_LIMITS).join(', ')}`, key, context);
    }
    if (value !== undefined && (typeof value !== 'number' || !(value > 0) || Number.isNaN(value))) {
      throw new ConfigError(key, 'a positive number (Infinity lifts the limit)', value, context);
    }
  }
}

/** The limits in force for the whole process. */
export function getReadLimits(): Readonly<ReadLimits> {
  return current;
}

/**
 * Changes limits for the whole process (fields left out keep their value) and returns the
 * previous limits, so that a caller can restore them. `setReadLimits(DEFAULT_READ_LIMITS)` resets.
 */
export function setReadLimits(limits: Partial<ReadLimits>): Readonly<ReadLimits> {
  validate(limits, 'setReadLimits');
  const previous = current;
  current = Object.freeze({ ...current, ...limits });
  return previous;
}

/** The process limits with a call's overrides applied. */
export function resolveReadLimits(overrides?: Partial<ReadLimits>): Readonly<ReadLimits> {
  if (!overrides) return current;
  validate(overrides, 'limits');
  return { ...current, ...overrides };
}
