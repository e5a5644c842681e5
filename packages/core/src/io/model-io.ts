/**
 * One way to save and load any model: `saveModel(model, destination)` writes one safetensors file
 * whose `__metadata__` says what the model is (format, version, registered class name, JSON
 * config), and `loadModel(source)` rebuilds the architecture from it and loads the weights, with
 * no other input (tfjs-layers' `model.save` / `tf.loadLayersModel`, with safetensors instead of
 * `model.json` + shards). The file is an ordinary safetensors file: the tensors are the module's
 * `stateDict()` under its dotted names, in vid layout, so `safetensors.safe_open` reads it too.
 *
 * `__metadata__` (every value a string, as the safetensors format requires):
 *
 * | key              | value                                                       |
 * | ---------------- | ----------------------------------------------------------- |
 * | `format`         | `vid.model`                                                 |
 * | `format_version` | `1` (readers refuse a higher major version)                 |
 * | `class_name`     | the registered class name (`ConvLSTM`, `LRCN`, …)           |
 * | `config`         | `JSON.stringify(model.getConfig())`                         |
 * | `layout`         | `vid` (NHWC / `[kh, kw, in, out]`; not PyTorch's)           |
 * | `library`        | `@vid/core`                                                 |
 *
 * See docs/decisions/ for why this format.
 */
import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, FileFormatError, StateDictError, formatShape } from '../errors.js';
import type { Module } from '../module.js';
import { type ModuleConfig, classNameOf, deserializeModule, getRegisteredClass } from '../registry.js';
import { type ModelDestination, type ModelIOHandler, type ModelSource, resolveHandler } from './handlers.js';
import type { DType, HostTensor } from './host-tensor.js';
import { tensorToHost } from './host-tensor.js';
import { parseSafetensors, serializeSafetensors } from './safetensors.js';

/** The value of `__metadata__.format` in a saved model. */
export const MODEL_FORMAT = 'vid.model';
/** The version of the saved-model format this build writes (and the highest it reads). */
export const MODEL_FORMAT_VERSION = 1;

/** The `__metadata__` of a saved model, parsed. */
export interface ModelMetadata {
  readonly format: typeof MODEL_FORMAT;
  readonly formatVersion: number;
  readonly className: string;
  readonly config: ModuleConfig;
  /** Any other string metadata in the file (for example `user.*` keys given to `saveModel`). */
  readonly extra: Readonly<Record<string, string>>;
}

/** Options of {@link saveModel}. */
export interface SaveModelOptions {
  /**
   * Extra string metadata to store (keys may not collide with the format's own keys). Useful for
   * provenance: a run id, the dataset, the commit.
   */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** What {@link saveModel} returns. */
export interface SavedModel {
  /** The whole file (also when it went elsewhere), for hashing or sending on. */
  readonly bytes: Uint8Array;
  /** Where it went (a path, a URL, `indexeddb://name`), or null when no destination was given. */
  readonly location: string | null;
  readonly className: string;
  readonly config: ModuleConfig;
  /** The saved tensor names, in file order. */
  readonly tensors: readonly string[];
}

/** Options of {@link loadModel} and {@link readModel}. */
export interface LoadModelOptions {
  /**
   * Fail when the file holds tensors the model does not have (for example a fixture that also
   * stores gradients or inputs). With `false`, those tensors are skipped and
   * {@link readModel} lists them in `skipped`. Missing tensors, shape and dtype mismatches are
   * errors either way.
   * @default true
   */
  readonly strict?: boolean;
  /**
   * Require this registered class (or one of these): loading anything else is a
   * {@link ConfigError}. Guards against loading, say, an LRCN where a ConvLSTM is expected.
   */
  readonly expectClass?: string | readonly string[];
}

/** What {@link readModel} returns. */
export interface LoadedModel<M extends Module = Module> {
  readonly model: M;
  readonly metadata: ModelMetadata;
  /** Tensors in the file that the model does not have (only with `strict: false`). */
  readonly skipped: readonly string[];
  /** Where it came from, for messages. */
  readonly location: string;
}

const RESERVED = new Set(['format', 'format_version', 'class_name', 'config', 'layout', 'library']);

/** The safetensors dtype a variable of each tfjs dtype is saved as. */
const DTYPE_OF: Readonly<Record<string, DType>> = { float32: 'F32', int32: 'I32', bool: 'BOOL' };

/** Serialises a model (architecture + weights) to safetensors bytes. */
export async function serializeModel(
  model: Module,
  options: SaveModelOptions = {},
): Promise<{ bytes: Uint8Array; className: string; config: ModuleConfig; tensors: string[] }> {
  const className = classNameOf(model);
  const config = model.getConfig();
  const configJson = JSON.stringify(config);
  // The config must survive a JSON round trip (no Rng objects, functions or tensors).
  const roundTrip = JSON.stringify(JSON.parse(configJson));
  if (roundTrip !== configJson) {
    throw new ConfigError('config', 'a JSON-serialisable config', config, `saveModel(${className})`);
  }
  const extra = options.metadata ?? {};
  for (const [key, value] of Object.entries(extra)) {
    if (RESERVED.has(key))
      throw new ConfigError(`metadata.${key}`, `a key other than ${[...RESERVED].join(', ')}`, key, 'saveModel');
    if (typeof value !== 'string') throw new ConfigError(`metadata.${key}`, 'a string', value, 'saveModel');
  }
  const tensors = new Map<string, HostTensor>();
  for (const [name, variable] of model.stateDict()) tensors.set(name, await tensorToHost(variable));
  const metadata: Record<string, string> = {
    ...extra,
    format: MODEL_FORMAT,
    format_version: String(MODEL_FORMAT_VERSION),
    class_name: className,
    config: configJson,
    layout: 'vid',
    library: '@vid/core',
  };
  return { bytes: serializeSafetensors(tensors, metadata), className, config, tensors: [...tensors.keys()] };
}

/**
 * Saves a model with its architecture: one safetensors file holding every parameter (by dotted
 * name, vid layout) and, in `__metadata__`, the class name, the config and the format version.
 *
 * The model's class must be registered (`registerClass`) and implement `getConfig()`; every
 * class in the vid packages does.
 *
 * @param destination a file path or `file://` URL (Node; written atomically), an `http(s)://`
 * URL (POSTed), `indexeddb://name` or `downloads://name` (browsers), or a {@link ModelIOHandler}.
 * Omit it to get the bytes only (`result.bytes`).
 *
 * @example
 * ```ts
 * await saveModel(model, 'runs/convlstm.safetensors');
 * const model2 = await loadModel('runs/convlstm.safetensors');
 * ```
 */
export async function saveModel(
  model: Module,
  destination?: ModelDestination,
  options: SaveModelOptions = {},
): Promise<SavedModel> {
  const serialized = await serializeModel(model, options);
  let location: string | null = null;
  if (destination !== undefined) {
    const handler = resolveHandler(destination, 'destination');
    if (typeof handler.save !== 'function') {
      throw new ConfigError(
        'destination',
        'a destination that can be written (a path, a URL, indexeddb://, downloads:// or a handler with save)',
        handler.location,
        'saveModel',
      );
    }
    location = (await handler.save({ bytes: serialized.bytes, className: serialized.className })).location;
  }
  return { ...serialized, location };
}

/** Parses and checks the `__metadata__` of a saved model. */
export function parseModelMetadata(metadata: Readonly<Record<string, string>>, location: string): ModelMetadata {
  if (metadata.format !== MODEL_FORMAT) {
    const hint =
      Object.keys(metadata).length === 0
        ? 'no __metadata__: a bare state dict, load it with module.loadStateDict'
        : `format ${JSON.stringify(metadata.format ?? null)}`;
    throw new FileFormatError(
      location,
      `not a vid model (expected __metadata__.format = "${MODEL_FORMAT}", received ${hint})`,
    );
  }
  const version = Number(metadata.format_version);
  if (!Number.isInteger(version) || version < 1) {
    throw new FileFormatError(
      location,
      `__metadata__.format_version: expected a positive integer, received ${JSON.stringify(metadata.format_version ?? null)}`,
    );
  }
  if (version > MODEL_FORMAT_VERSION) {
    throw new FileFormatError(
      location,
      `__metadata__.format_version: expected ≤ ${MODEL_FORMAT_VERSION} (this @vid/core), received ${version}; upgrade @vid/core`,
    );
  }
  const className = metadata.class_name;
  if (typeof className !== 'string' || className.length === 0) {
    throw new FileFormatError(location, '__metadata__.class_name: expected a class name, received none');
  }
  if (metadata.layout !== undefined && metadata.layout !== 'vid') {
    throw new FileFormatError(
      location,
      `__metadata__.layout: expected "vid", received ${JSON.stringify(metadata.layout)}`,
    );
  }
  let config: unknown;
  try {
    config = JSON.parse(metadata.config ?? '{}');
  } catch (error) {
    throw new FileFormatError(
      location,
      `__metadata__.config: expected JSON, received invalid JSON (${(error as Error).message})`,
    );
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new FileFormatError(
      location,
      `__metadata__.config: expected a JSON object, received ${JSON.stringify(config)}`,
    );
  }
  const extra = Object.fromEntries(Object.entries(metadata).filter(([key]) => !RESERVED.has(key)));
  return { format: MODEL_FORMAT, formatVersion: version, className, config: config as ModuleConfig, extra };
}

/** Reads only the metadata of a saved model (class, config, version), without building it. */
export async function inspectModel(
  source: ModelSource,
): Promise<ModelMetadata & { readonly tensors: ReadonlyMap<string, { dtype: DType; shape: readonly number[] }> }> {
  const handler = loadHandler(source);
  const contents = parseSafetensors(await handler.load!(), handler.location);
  const tensors = new Map([...contents.tensors].map(([name, t]) => [name, { dtype: t.dtype, shape: t.shape }]));
  return { ...parseModelMetadata(contents.metadata, handler.location), tensors };
}

function loadHandler(source: ModelSource): ModelIOHandler {
  const handler = resolveHandler(source, 'source');
  if (typeof handler.load !== 'function') {
    throw new ConfigError(
      'source',
      'a source that can be read (a path, a URL, bytes, indexeddb:// or a handler with load)',
      handler.location,
      'loadModel',
    );
  }
  return handler;
}

/**
 * Loads a model saved by {@link saveModel} and reports what it did: the model, its metadata and
 * (with `strict: false`) the names of the tensors it skipped.
 *
 * Every tensor of the model must be in the file with its exact shape and dtype, or a
 * {@link StateDictError} lists the missing ones and the mismatches. Tensors in the file that the
 * model lacks fail too (listed), unless `strict: false`.
 */
export async function readModel<M extends Module = Module>(
  source: ModelSource,
  options: LoadModelOptions = {},
): Promise<LoadedModel<M>> {
  const handler = loadHandler(source);
  const location = handler.location;
  const contents = parseSafetensors(await handler.load!(), location);
  const metadata = parseModelMetadata(contents.metadata, location);
  if (options.expectClass !== undefined) {
    const expected = typeof options.expectClass === 'string' ? [options.expectClass] : options.expectClass;
    if (!expected.includes(metadata.className)) {
      throw new ConfigError(
        'expectClass',
        `a model of class ${expected.join(' or ')}`,
        metadata.className,
        `loadModel(${location})`,
      );
    }
  }
  try {
    getRegisteredClass(metadata.className);
  } catch (error) {
    if (error instanceof ConfigError)
      throw new ConfigError(error.field, error.expected, error.received, `loadModel(${location})`);
    throw error;
  }
  let model: M;
  try {
    model = deserializeModule<M>({ className: metadata.className, config: metadata.config });
  } catch (error) {
    if (error instanceof ConfigError) {
      throw new FileFormatError(
        location,
        `__metadata__.config does not build a ${metadata.className}: ${error.message}`,
      );
    }
    throw error;
  }
  try {
    const strict = options.strict ?? true;
    const parameters = model.stateDict();
    const unexpected = [...contents.tensors.keys()].filter((name) => !parameters.has(name));
    const missing = [...parameters.keys()].filter((name) => !contents.tensors.has(name));
    if (missing.length > 0 || (strict && unexpected.length > 0)) {
      const parts: string[] = [];
      if (missing.length) parts.push(`missing tensors (${missing.length}): ${missing.join(', ')}`);
      if (strict && unexpected.length) {
        parts.push(
          `unexpected tensors (${unexpected.length}): ${unexpected.join(', ')} (pass {strict: false} to skip them)`,
        );
      }
      throw new StateDictError(
        `${location}: the file does not match ${metadata.className}: ${parts.join('; ')}`,
        missing,
        strict ? unexpected : [],
      );
    }
    const mismatched: string[] = [];
    for (const [name, variable] of parameters) {
      const tensor = contents.tensors.get(name) as HostTensor;
      const expectedDtype = DTYPE_OF[variable.dtype];
      const problems: string[] = [];
      if (expectedDtype !== undefined && tensor.dtype !== expectedDtype)
        problems.push(`dtype ${expectedDtype}, received ${tensor.dtype}`);
      if (!tf.util.arraysEqual([...tensor.shape], variable.shape))
        problems.push(`shape ${formatShape(variable.shape)}, received ${formatShape(tensor.shape)}`);
      if (problems.length) mismatched.push(`${name}: expected ${problems.join('; expected ')}`);
    }
    if (mismatched.length > 0) {
      throw new StateDictError(
        `${location}: tensors do not match ${metadata.className}: ${mismatched.join('; ')}`,
        [],
        [],
        mismatched,
      );
    }
    const skip = new Set(unexpected);
    model.loadStateDict(contents.tensors, { source: location, ignore: (name) => skip.has(name) });
    return { model, metadata, skipped: unexpected, location };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/**
 * Loads a model saved by {@link saveModel}: rebuilds its class from the registered name and the
 * config in the file, then loads every weight. Import the package that defines the class first
 * (`import '@vid/cells'`), so that it is registered.
 *
 * @param source a file path or `file://` URL (Node), an `http(s)://` URL, bytes
 * (`Uint8Array`/`ArrayBuffer`), `indexeddb://name`, or a {@link ModelIOHandler}.
 *
 * With `{strict: false}`, tensors in the file that the model lacks are skipped; use
 * {@link readModel} to get their names.
 */
export async function loadModel<M extends Module = Module>(
  source: ModelSource,
  options: LoadModelOptions = {},
): Promise<M> {
  return (await readModel<M>(source, options)).model;
}
