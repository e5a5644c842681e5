/**
 * Typed errors. Every message names the argument or file, what was expected and what was
 * received, so that a user can fix the call without reading the source.
 */

/** Base class of every error vid throws on purpose. */
export class VidError extends Error {
  override readonly name: string = 'VidError';
}

/** A tensor or array has the wrong rank, size, dtype or values. */
export class ShapeError extends VidError {
  override readonly name = 'ShapeError';
  constructor(
    /** The argument, parameter or tensor name that was wrong. */
    readonly argument: string,
    /** What was expected, in words or as a shape. */
    readonly expected: string,
    /** What was received. */
    readonly received: string,
    context?: string,
  ) {
    super(`${context ? `${context}: ` : ''}${argument}: expected ${expected}, received ${received}`);
  }
}

/** An options object or configuration field is invalid. */
export class ConfigError extends VidError {
  override readonly name = 'ConfigError';
  constructor(
    readonly field: string,
    readonly expected: string,
    readonly received: unknown,
    context?: string,
  ) {
    super(`${context ? `${context}: ` : ''}${field}: expected ${expected}, received ${formatValue(received)}`);
  }
}

/** A backend could not be loaded or used. */
export class BackendError extends VidError {
  override readonly name = 'BackendError';
}

/** A file is missing, truncated, corrupted or of an unsupported format. */
export class FileFormatError extends VidError {
  override readonly name = 'FileFormatError';
  constructor(
    /** The file (path or display name) being read. */
    readonly file: string,
    readonly detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}

/** A state dict does not match a module: missing, unexpected or mis-shaped keys. */
export class StateDictError extends VidError {
  override readonly name = 'StateDictError';
  constructor(
    message: string,
    readonly missing: readonly string[] = [],
    readonly unexpected: readonly string[] = [],
    readonly mismatched: readonly string[] = [],
  ) {
    super(message);
  }
}

/**
 * Formats a value for an error message: arrays as `[a, b]`, strings quoted, objects as JSON; at
 * most 200 characters (a value read from a hostile file can be megabytes long).
 */
export function formatValue(value: unknown): string {
  const text = formatWhole(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

function formatWhole(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value))
    return `[${value.slice(0, 64).map(formatValue).join(', ')}${value.length > 64 ? ', …' : ''}]`;
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  try {
    return JSON.stringify(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Formats a shape as `[2, 3, 4]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
