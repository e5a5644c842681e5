/**
 * A small declarative schema for configuration files: every field has a type, a documentation
 * line and a default, and parsing gives errors that name the field path, the expected and the
 * received value (`ConfigError`). The same schema prints the documentation table of the
 * configuration (`describeSchema`), so the docs cannot drift from what is validated.
 */
import { ConfigError } from '@vid/core';

/** One row of the generated documentation. */
export interface FieldDoc {
  readonly path: string;
  readonly type: string;
  readonly default: string;
  readonly doc: string;
}

/** A schema node: parses an unknown value into a `T` (applying defaults) or throws. */
export interface Schema<T> {
  readonly type: string;
  readonly doc: string;
  /** The default, when the field may be omitted; `undefined` means required. */
  readonly defaultValue: T | undefined;
  /** Whether an omitted field is allowed and stays `undefined`. */
  readonly optional: boolean;
  parse(value: unknown, path: string, context: string): T;
  /** Documentation rows of this node and its children. */
  describe(path: string): FieldDoc[];
}

interface Common<T> {
  /** What the field means (one sentence, shown in the docs). */
  readonly doc: string;
  /** Value used when the field is omitted. Omit for a required field. */
  readonly default?: T;
  /** The field may be omitted and then stays undefined. */
  readonly optional?: boolean;
}

function formatDefault(value: unknown, optional: boolean): string {
  if (value === undefined) return optional ? '(none)' : '(required)';
  return JSON.stringify(value);
}

function leaf<T>(type: string, common: Common<T>, parse: (value: unknown, path: string, context: string) => T): Schema<T> {
  return {
    type,
    doc: common.doc,
    defaultValue: common.default,
    optional: common.optional ?? false,
    parse,
    describe: (path) => [{ path, type, default: formatDefault(common.default, common.optional ?? false), doc: common.doc }],
  };
}

/** A finite number, optionally an integer within bounds. */
export function number(options: Common<number> & { readonly min?: number; readonly max?: number; readonly integer?: boolean; readonly exclusiveMin?: boolean }): Schema<number> {
  const { min, max, integer, exclusiveMin } = options;
  const parts = [integer ? 'integer' : 'number'];
  if (min !== undefined) parts.push(`${exclusiveMin ? '>' : '≥'} ${min}`);
  if (max !== undefined) parts.push(`≤ ${max}`);
  const type = parts.join(' ');
  return leaf(type, options, (value, path, context) => {
    const ok =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      (!integer || Number.isInteger(value)) &&
      (min === undefined || (exclusiveMin ? value > min : value >= min)) &&
      (max === undefined || value <= max);
    if (!ok) throw new ConfigError(path, `${integer ? 'an' : 'a'} ${type}`, value, context);
    return value as number;
  });
}

/** `true` or `false`. */
export function boolean(options: Common<boolean>): Schema<boolean> {
  return leaf('boolean', options, (value, path, context) => {
    if (typeof value !== 'boolean') throw new ConfigError(path, 'true or false', value, context);
    return value;
  });
}

/** A string (non-empty unless `allowEmpty`). */
export function string(options: Common<string> & { readonly allowEmpty?: boolean }): Schema<string> {
  return leaf('string', options, (value, path, context) => {
    if (typeof value !== 'string' || (!options.allowEmpty && value.length === 0)) throw new ConfigError(path, 'a non-empty string', value, context);
    return value;
  });
}

/** One of a fixed set of strings. */
export function oneOf<const T extends string>(values: readonly T[], options: Common<T>): Schema<T> {
  const type = values.map((v) => `"${v}"`).join(' | ');
  return leaf(type, options, (value, path, context) => {
    if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
      throw new ConfigError(path, `one of ${values.map((v) => `"${v}"`).join(', ')}`, value, context);
    }
    return value as T;
  });
}

/** An array of items, optionally of a fixed length. */
export function array<T>(item: Schema<T>, options: Common<T[]> & { readonly length?: number; readonly minLength?: number }): Schema<T[]> {
  const type = `${item.type}[]${options.length !== undefined ? ` (${options.length})` : ''}`;
  const base = leaf<T[]>(type, options, (value, path, context) => {
    if (!Array.isArray(value)) throw new ConfigError(path, `an array of ${item.type}`, value, context);
    if (options.length !== undefined && value.length !== options.length) throw new ConfigError(path, `an array of ${options.length} values`, value, context);
    if (options.minLength !== undefined && value.length < options.minLength) throw new ConfigError(path, `an array of at least ${options.minLength} values`, value, context);
    return value.map((v, i) => item.parse(v, `${path}[${i}]`, context));
  });
  return base;
}

/** Allows `null` beside the inner schema. */
export function nullable<T>(inner: Schema<T>, options: Common<T | null>): Schema<T | null> {
  return {
    ...leaf<T | null>(`${inner.type} | null`, options, (value, path, context) => (value === null ? null : inner.parse(value, path, context))),
  };
}

/** Any JSON object, kept as is (for pass-through sections validated elsewhere). */
export function record(options: Common<Record<string, unknown>>): Schema<Record<string, unknown>> {
  return leaf('object', options, (value, path, context) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(path, 'an object', value, context);
    return value as Record<string, unknown>;
  });
}

type Shape = Record<string, Schema<unknown>>;
type Parsed<S extends Shape> = { -readonly [K in keyof S]: S[K] extends Schema<infer T> ? T : never };

/** Levenshtein distance, for "did you mean" hints. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] as number;
      row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length] as number;
}

/** The closest known key, when it is close enough to be a typo. */
export function suggest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = distance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** An object with known fields: unknown keys are errors (with a "did you mean"), defaults fill omitted fields. */
export function object<S extends Shape>(shape: S, options: { readonly doc: string; readonly optional?: boolean }): Schema<Parsed<S>> {
  const keys = Object.keys(shape);
  const parse = (value: unknown, path: string, context: string): Parsed<S> => {
    const input = value === undefined ? {} : value;
    if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new ConfigError(path || '(root)', 'an object', value, context);
    for (const key of Object.keys(input)) {
      if (!keys.includes(key)) {
        const hint = suggest(key, keys);
        throw new ConfigError(
          path ? `${path}.${key}` : key,
          `a known key${path ? ` of ${path}` : ''} (${hint ? `did you mean "${hint}"? ` : ''}known: ${keys.join(', ')})`,
          'an unknown key',
          context,
        );
      }
    }
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      const field = shape[key] as Schema<unknown>;
      const child = path ? `${path}.${key}` : key;
      const raw = (input as Record<string, unknown>)[key];
      if (raw === undefined) {
        if (field.defaultValue !== undefined) out[key] = field.parse(structuredClone(field.defaultValue), child, context);
        else if (field.optional || field.type === 'object-section') out[key] = field.type === 'object-section' ? field.parse(undefined, child, context) : undefined;
        else throw new ConfigError(child, `a value (${field.type}: ${field.doc})`, undefined, context);
      } else {
        out[key] = field.parse(raw, child, context);
      }
    }
    return out as Parsed<S>;
  };
  return {
    type: 'object-section',
    doc: options.doc,
    defaultValue: undefined,
    optional: options.optional ?? true,
    parse,
    describe: (path) => keys.flatMap((key) => (shape[key] as Schema<unknown>).describe(path ? `${path}.${key}` : key)),
  };
}

/** The documentation of a schema as a Markdown table. */
export function describeSchema(schema: Schema<unknown>): string {
  const rows = schema.describe('');
  const escape = (text: string): string => text.replaceAll('|', '\\|');
  return ['| field | type | default | meaning |', '|---|---|---|---|', ...rows.map((r) => `| \`${r.path}\` | ${escape(r.type)} | \`${escape(r.default)}\` | ${escape(r.doc)} |`)].join('\n');
}

/** Deep merge of plain objects (arrays and scalars of `override` replace those of `base`). */
export function deepMerge(base: unknown, override: unknown): unknown {
  if (override === undefined) return structuredClone(base);
  if (base === null || override === null || typeof base !== 'object' || typeof override !== 'object' || Array.isArray(base) || Array.isArray(override)) {
    return structuredClone(override);
  }
  const out: Record<string, unknown> = structuredClone(base) as Record<string, unknown>;
  for (const [key, value] of Object.entries(override)) out[key] = deepMerge(out[key], value);
  return out;
}

/** Sets `a.b.c = value` in a plain object, creating sections as needed. */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  parts.slice(0, -1).forEach((part) => {
    const next = node[part];
    if (next === undefined || next === null || typeof next !== 'object' || Array.isArray(next)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  });
  node[parts[parts.length - 1] as string] = value;
}
