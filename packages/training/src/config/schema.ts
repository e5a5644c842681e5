/**
 * The configuration schema, built on zod 4: every field has a type, a documentation line and a
 * default. Parsing is zod's (`z.strictObject`, defaults, checks); its issues become `ConfigError`s
 * that name the field path, the expected and the received value, with a "did you mean" for
 * unknown keys. The same schema prints the documentation table (`describeSchema`, behind
 * `--config-doc`) and exports a JSON Schema for editors (`jsonSchema`).
 */
import { ConfigError } from '@vid/core';
import { z } from 'zod';

/** One row of the generated documentation. */
export interface FieldDoc {
  readonly path: string;
  readonly type: string;
  readonly default: string;
  readonly doc: string;
}

/** A schema node: a zod schema with its documentation; `parse` gives a `T` (defaults applied) or throws a ConfigError. */
export interface Schema<T> {
  readonly type: string;
  readonly doc: string;
  /** The default, when the field may be omitted; `undefined` means required. */
  readonly defaultValue: T | undefined;
  /** Whether an omitted field is allowed and stays `undefined`. */
  readonly optional: boolean;
  /** The zod schema that validates the node. */
  readonly zod: z.ZodType;
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

/** Dotted path of a zod issue path under `base` (`train.betas[1]`). */
function joinPath(base: string, parts: readonly PropertyKey[]): string {
  let out = base;
  for (const part of parts)
    out = typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part);
  return out;
}

function valueAt(root: unknown, parts: readonly PropertyKey[]): unknown {
  let node = root;
  for (const part of parts)
    node = node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[part] : undefined;
  return node;
}

/** Parses with zod; the first issue becomes a ConfigError (its message is the expected phrase). */
function parseWith<T>(schema: z.ZodType, value: unknown, path: string, context: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data as T;
  const issue = result.error.issues[0] as z.core.$ZodIssue;
  if (issue.code === 'unrecognized_keys') {
    const parent = joinPath(path, issue.path);
    const key = issue.keys[0] as string;
    return fail(
      parent ? `${parent}.${key}` : key,
      issue.message.replace('{path}', parent ? ` of ${parent}` : '').replace('{key}', key),
      'an unknown key',
      context,
    );
  }
  const received = valueAt(value, issue.path);
  return fail(joinPath(path, issue.path) || '(root)', issue.message, received, context);
}

function fail(path: string, expected: string, received: unknown, context: string): never {
  throw new ConfigError(path, expected, received, context);
}

function leaf<T>(type: string, common: Common<T>, schema: z.ZodType): Schema<T> {
  let zod: z.ZodType = common.doc ? schema.describe(common.doc) : schema;
  if (common.default !== undefined) zod = zod.default(structuredClone(common.default) as never);
  else if (common.optional) zod = zod.optional();
  return {
    type,
    doc: common.doc,
    defaultValue: common.default,
    optional: common.optional ?? false,
    zod,
    parse: (value, path, context) => parseWith<T>(zod, value, path, context),
    describe: (path) => [
      { path, type, default: formatDefault(common.default, common.optional ?? false), doc: common.doc },
    ],
  };
}

/** A finite number, optionally an integer within bounds. */
export function number(
  options: Common<number> & {
    readonly min?: number;
    readonly max?: number;
    readonly integer?: boolean;
    readonly exclusiveMin?: boolean;
  },
): Schema<number> {
  const { min, max, integer, exclusiveMin } = options;
  const parts = [integer ? 'integer' : 'number'];
  if (min !== undefined) parts.push(`${exclusiveMin ? '>' : '≥'} ${min}`);
  if (max !== undefined) parts.push(`≤ ${max}`);
  const type = parts.join(' ');
  const error = `${integer ? 'an' : 'a'} ${type}`;
  let schema = z.number({ error });
  if (integer) schema = schema.int({ error });
  if (min !== undefined) schema = exclusiveMin ? schema.gt(min, { error }) : schema.gte(min, { error });
  if (max !== undefined) schema = schema.lte(max, { error });
  return leaf(type, options, schema);
}

/** `true` or `false`. */
export function boolean(options: Common<boolean>): Schema<boolean> {
  return leaf('boolean', options, z.boolean({ error: 'true or false' }));
}

/** A string (non-empty unless `allowEmpty`). */
export function string(options: Common<string> & { readonly allowEmpty?: boolean }): Schema<string> {
  const error = 'a non-empty string';
  return leaf('string', options, options.allowEmpty ? z.string({ error }) : z.string({ error }).min(1, { error }));
}

/** One of a fixed set of strings. */
export function oneOf<const T extends string>(values: readonly T[], options: Common<T>): Schema<T> {
  const type = values.map((v) => `"${v}"`).join(' | ');
  return leaf(
    type,
    options,
    z.enum(values as unknown as [T, ...T[]], { error: `one of ${values.map((v) => `"${v}"`).join(', ')}` }),
  );
}

/** An array of items, optionally of a fixed length. */
export function array<T>(
  item: Schema<T>,
  options: Common<T[]> & { readonly length?: number; readonly minLength?: number },
): Schema<T[]> {
  const type = `${item.type}[]${options.length !== undefined ? ` (${options.length})` : ''}`;
  let schema = z.array(item.zod, { error: `an array of ${item.type}` });
  if (options.length !== undefined)
    schema = schema.length(options.length, { error: `an array of ${options.length} values` });
  if (options.minLength !== undefined)
    schema = schema.min(options.minLength, { error: `an array of at least ${options.minLength} values` });
  return leaf(type, options, schema);
}

/** Allows `null` beside the inner schema. */
export function nullable<T>(inner: Schema<T>, options: Common<T | null>): Schema<T | null> {
  return leaf<T | null>(`${inner.type} | null`, options, inner.zod.nullable());
}

/** Any JSON object, kept as is (for pass-through sections validated elsewhere). */
export function record(options: Common<Record<string, unknown>>): Schema<Record<string, unknown>> {
  return leaf('object', options, z.record(z.string(), z.unknown(), { error: 'an object' }));
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
export function object<S extends Shape>(
  shape: S,
  options: { readonly doc: string; readonly optional?: boolean },
): Schema<Parsed<S>> {
  const keys = Object.keys(shape);
  const fields = Object.fromEntries(keys.map((key) => [key, (shape[key] as Schema<unknown>).zod]));
  let zod: z.ZodType = z
    .strictObject(fields, {
      error: (issue) => {
        if (issue.code === 'unrecognized_keys') {
          const key = (issue.keys as string[])[0] as string;
          const hint = suggest(key, keys);
          return `a known key{path} (${hint ? `did you mean "${hint}"? ` : ''}known: ${keys.join(', ')})`;
        }
        return 'an object';
      },
    })
    .describe(options.doc);
  // An omitted section is parsed from {} (its fields' defaults).
  if (options.optional ?? true) zod = zod.prefault({});
  return {
    type: 'object-section',
    doc: options.doc,
    defaultValue: undefined,
    optional: options.optional ?? true,
    zod,
    parse: (value, path, context) => parseWith<Parsed<S>>(zod, value, path, context),
    describe: (path) => keys.flatMap((key) => (shape[key] as Schema<unknown>).describe(path ? `${path}.${key}` : key)),
  };
}

/** A JSON Schema (draft 2020-12) of a configuration schema, for editors (`"$schema"` in config files). */
export function jsonSchema(schema: Schema<unknown>): Record<string, unknown> {
  return z.toJSONSchema(schema.zod, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

/** The documentation of a schema as a Markdown table. */
export function describeSchema(schema: Schema<unknown>): string {
  const rows = schema.describe('');
  const escape = (text: string): string => text.replaceAll('|', '\\|');
  return [
    '| field | type | default | meaning |',
    '|---|---|---|---|',
    ...rows.map((r) => `| \`${r.path}\` | ${escape(r.type)} | \`${escape(r.default)}\` | ${escape(r.doc)} |`),
  ].join('\n');
}

/** Deep merge of plain objects (arrays and scalars of `override` replace those of `base`). */
export function deepMerge(base: unknown, override: unknown): unknown {
  if (override === undefined) return structuredClone(base);
  if (
    base === null ||
    override === null ||
    typeof base !== 'object' ||
    typeof override !== 'object' ||
    Array.isArray(base) ||
    Array.isArray(override)
  ) {
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
