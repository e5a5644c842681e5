/**
 * Building video predictors from JSON specifications, and saving and loading them.
 *
 * A predictor is saved as what it is: its module (`ConvRecurrentNet` or `EncoderForecaster`)
 * through `@vid/core`'s `saveModel`, one safetensors file with the class name and config in
 * `__metadata__`, plus one key of its own, `vid_predictor`, that says how the module is wrapped
 * (`{"type":"conv-recurrent-net","patchSize":4}`). So `loadModel(file)` gives the network and
 * `loadPredictor(file)` gives the predictor, from the same file. The architecture is stored once,
 * in `config`; `vid_predictor` holds only what the wrapper adds.
 *
 * `loadPredictor` also imports what vid did not write: official NVlabs/conv-tt-lstm checkpoints
 * (`torch.save` `.pt`/`.pth` files, or safetensors without vid's metadata, in PyTorch names and
 * layouts) with the official `ConvLSTMNet` arguments, and files written by the removed
 * `predictorWeights` (PyTorch layouts, the whole spec in `vid_predictor`), read-only.
 */
import type { Rng } from '@vid/core';
import {
  ConfigError,
  FileFormatError,
  type LoadModelOptions,
  MODEL_FORMAT,
  type Module,
  type ModelDestination,
  type ModelSource,
  type SavedModel,
  assertKnownKeys,
  classNameOf,
  parseSafetensors,
  readModel,
  resolveHandler,
  saveModel,
} from '@vid/core';

import { CopyLastFramePredictor } from './baseline.js';
import { isTorchCheckpoint, readOfficialCheckpoint } from './checkpoint.js';
import { EncoderForecaster } from './encoder-forecaster.js';
import { EncoderForecasterPredictor } from './encoder-forecaster-predictor.js';
import { ConvRecurrentNet } from './network.js';
import { isOfficialConfig } from './network-config.js';
import { ConvRecurrentPredictor } from './network-predictor.js';
import type { VideoPredictor } from './predictor.js';
import { LEGACY_PREDICTOR_TYPES, PREDICTOR_TYPES, type PredictorSpec } from './spec.js';

/** Options of {@link createPredictor}. */
export interface CreatePredictorOptions {
  /** Seed (or generator) of the initial weights. @default 0 */
  readonly seed?: number | Rng;
}

/** Checks a spec's shape (the models check their own options). */
export function validatePredictorSpec(spec: unknown, context = 'createPredictor'): PredictorSpec {
  if (spec === null || typeof spec !== 'object')
    throw new ConfigError('spec', `an object { type: ${PREDICTOR_TYPES.join(' | ')}, … }`, spec, context);
  const { type: given } = spec as { type?: unknown };
  const type = typeof given === 'string' ? (LEGACY_PREDICTOR_TYPES[given] ?? given) : given;
  const checked: object = type === given ? spec : { ...spec, type };
  switch (type) {
    case 'conv-recurrent-net':
      assertKnownKeys(checked, ['type', 'network', 'patchSize'], context);
      if (
        (checked as { network?: unknown }).network === null ||
        typeof (checked as { network?: unknown }).network !== 'object'
      ) {
        throw new ConfigError(
          'network',
          'the network options or the official ConvLSTMNet arguments (an object)',
          (checked as { network?: unknown }).network,
          context,
        );
      }
      return checked as PredictorSpec;
    case 'encoder-forecaster':
      assertKnownKeys(checked, ['type', 'options'], context);
      if (
        (checked as { options?: unknown }).options === null ||
        typeof (checked as { options?: unknown }).options !== 'object'
      ) {
        throw new ConfigError(
          'options',
          'the EncoderForecaster options (an object)',
          (checked as { options?: unknown }).options,
          context,
        );
      }
      return checked as PredictorSpec;
    case 'copy-last-frame':
      assertKnownKeys(checked, ['type', 'channels'], context);
      return checked as PredictorSpec;
    default:
      throw new ConfigError('type', `one of ${PREDICTOR_TYPES.join(', ')}`, type, context);
  }
}

/** Builds a predictor with fresh (seeded) weights from its specification. */
export function createPredictor(spec: PredictorSpec, options: CreatePredictorOptions = {}): VideoPredictor {
  const checked = validatePredictorSpec(spec);
  const seed = options.seed ?? 0;
  switch (checked.type) {
    case 'conv-recurrent-net':
      return ConvRecurrentPredictor.fromSpec(checked, seed);
    case 'encoder-forecaster':
      return new EncoderForecasterPredictor({ ...(checked.options as object), seed } as ConstructorParameters<
        typeof EncoderForecasterPredictor
      >[0]);
    case 'copy-last-frame':
      return new CopyLastFramePredictor(checked.channels !== undefined ? { channels: checked.channels } : {});
  }
}

/** The `__metadata__` key of a predictor file that says how its module is wrapped. */
export const PREDICTOR_METADATA_KEY = 'vid_predictor';

/**
 * `__metadata__.vid_predictor` of a file written by {@link savePredictor}: the predictor type and
 * what the wrapper adds to the module (the space-to-depth patch of a `ConvRecurrentNet`). The
 * architecture itself is the file's `class_name` and `config`.
 */
export type PredictorMetadata =
  { readonly type: 'conv-recurrent-net'; readonly patchSize: number } | { readonly type: 'encoder-forecaster' };

/** The predictor types whose parameters live in a registered module: its class, and how a loaded one is wrapped. */
const MODULE_PREDICTORS = {
  'conv-recurrent-net': {
    className: ConvRecurrentNet.className,
    wrap: (module: Module, info: PredictorMetadata): VideoPredictor =>
      new ConvRecurrentPredictor(module as ConvRecurrentNet, {
        patchSize: info.type === 'conv-recurrent-net' ? info.patchSize : 1,
      }),
  },
  'encoder-forecaster': {
    className: EncoderForecaster.className,
    wrap: (module: Module): VideoPredictor => new EncoderForecasterPredictor(module as EncoderForecaster),
  },
} as const;
type ModulePredictorType = keyof typeof MODULE_PREDICTORS;
const MODULE_PREDICTOR_TYPES = Object.keys(MODULE_PREDICTORS) as ModulePredictorType[];

/** What a spec adds to its module, for `__metadata__.vid_predictor`; null for parameter-free baselines. */
function predictorMetadata(spec: PredictorSpec): PredictorMetadata | null {
  switch (spec.type) {
    case 'conv-recurrent-net':
      return { type: spec.type, patchSize: spec.patchSize ?? 1 };
    case 'encoder-forecaster':
      return { type: spec.type };
    case 'copy-last-frame':
      return null;
  }
}

/** Options of {@link savePredictor}. */
export interface SavePredictorOptions {
  /** Extra string metadata (provenance: a run id, a step, the dataset), as `saveModel` takes it. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * Saves a predictor: `saveModel(predictor.module, destination)` with `__metadata__.vid_predictor`
 * saying how the module is wrapped ({@link PredictorMetadata}). The file is an ordinary vid model:
 * `loadModel(file)` returns the `ConvRecurrentNet` or `EncoderForecaster` itself, and
 * {@link loadPredictor} returns the predictor.
 *
 * Parameter-free baselines (`copy-last-frame`) have nothing to save and are refused with a
 * {@link ConfigError}: their spec rebuilds them (`createPredictor(predictor.spec)`).
 *
 * @param destination a file path (Node; written atomically), an `http(s)://` URL (POSTed),
 * `indexeddb://name`, `downloads://name`, or an IO handler; omit it to get the bytes only.
 * @returns what `saveModel` returns: the bytes, the location, the class name, config and tensor names.
 */
export async function savePredictor(
  predictor: VideoPredictor,
  destination?: ModelDestination,
  options: SavePredictorOptions = {},
): Promise<SavedModel> {
  const context = 'savePredictor';
  assertKnownKeys(options, ['metadata'], context);
  const info = predictorMetadata(predictor.spec);
  if (info === null || predictor.module === null) {
    throw new ConfigError(
      'predictor',
      `a predictor with parameters (${MODULE_PREDICTOR_TYPES.join(' or ')}); a parameter-free baseline has nothing to save, createPredictor(${JSON.stringify(predictor.spec)}) rebuilds it`,
      predictor.kind,
      context,
    );
  }
  const expected = MODULE_PREDICTORS[info.type].className;
  const className = classNameOf(predictor.module);
  if (className !== expected) {
    throw new ConfigError('predictor.module', `a ${expected} for a ${info.type} predictor`, className, context);
  }
  if (options.metadata && PREDICTOR_METADATA_KEY in options.metadata) {
    throw new ConfigError(
      `metadata.${PREDICTOR_METADATA_KEY}`,
      'a key other than vid_predictor (savePredictor writes it)',
      options.metadata[PREDICTOR_METADATA_KEY],
      context,
    );
  }
  return saveModel(predictor.module, destination, {
    metadata: { ...options.metadata, [PREDICTOR_METADATA_KEY]: JSON.stringify(info) },
  });
}

/** Options of {@link loadPredictor}. */
export interface LoadPredictorOptions {
  /**
   * Fail when the file holds tensors the model does not have (listed in the error); with `false`
   * they are skipped (a fixture that also stores inputs, outputs or gradients). Missing tensors
   * and shape mismatches are errors either way.
   * @default true
   */
  readonly strict?: boolean;
  /**
   * Official import only (a `.pt`, or safetensors without vid's metadata): what to build, as the
   * official `ConvLSTMNet` constructor arguments, vid `ConvRecurrentNet` options or a predictor
   * spec (object or JSON text). Default: the file's `__metadata__.config` (official arguments, as
   * `ConvRecurrentNet.saveSafetensors` writes them). A vid model file carries its architecture,
   * and giving one is a {@link ConfigError}.
   */
  readonly config?: PredictorSpec | Record<string, unknown> | string;
  /** Official import only: the patch size when `config` is a network configuration. @default the file's patch_size, else 1 */
  readonly patchSize?: number;
  /** Name of the source in messages (for bytes, which are otherwise `<N bytes>`). */
  readonly name?: string;
}

const LOAD_KEYS = ['strict', 'config', 'patchSize', 'name'] as const;

function parseJson(text: string, what: string, context: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ConfigError(what, 'valid JSON', text.slice(0, 80), context);
  }
}

/**
 * Loads a predictor, from a file path or `file://` URL (Node), an `http(s)://` URL, bytes,
 * `indexeddb://name` or an IO handler: whatever `@vid/core`'s `loadModel` reads.
 *
 * - A vid model file ({@link savePredictor}, or `saveModel` of a `ConvRecurrentNet` or an
 *   `EncoderForecaster`): `readModel` rebuilds the module from its class and config, and
 *   `__metadata__.vid_predictor` says how to wrap it (a `ConvRecurrentNet` saved by `saveModel`
 *   alone is wrapped with patch size 1).
 * - Official import: a `torch.save` checkpoint (`.pt`, `.pth`, detected by its first bytes) or
 *   safetensors without vid's metadata, in PyTorch names and layouts, built from
 *   `options.config` (the official `ConvLSTMNet` arguments) or the file's `config` metadata.
 *   Files written by the removed `predictorWeights` load here too (read-only; their
 *   `vid_predictor` holds the whole spec): re-save them with {@link savePredictor}.
 */
export async function loadPredictor(source: ModelSource, options: LoadPredictorOptions = {}): Promise<VideoPredictor> {
  assertKnownKeys(options, LOAD_KEYS, 'loadPredictor');
  const handler = resolveHandler(source, 'source');
  if (typeof handler.load !== 'function') {
    throw new ConfigError(
      'source',
      'a source that can be read (a path, a URL, bytes, indexeddb:// or a handler with load)',
      handler.location,
      'loadPredictor',
    );
  }
  const location = options.name ?? handler.location;
  const bytes = await handler.load();
  if (bytes.byteLength === 0)
    throw new FileFormatError(
      location,
      'the file is empty (expected a vid model, a safetensors file or a PyTorch checkpoint)',
    );
  if (isSavedModel(bytes))
    return loadSavedPredictor(bytes, parseSafetensors(bytes, location).metadata, location, options);
  return importPredictor(bytes, location, options);
}

/**
 * Whether bytes are a vid model file (safetensors with `__metadata__.format` `vid.model`, as
 * `saveModel` and {@link savePredictor} write): it carries its architecture, and
 * {@link loadPredictor} takes no `config` for it. False for `torch.save` files, other safetensors
 * and anything unreadable (which {@link loadPredictor} then reports).
 */
export function isSavedModel(bytes: Uint8Array): boolean {
  if (bytes.byteLength === 0 || isTorchCheckpoint(bytes)) return false;
  try {
    return parseSafetensors(bytes, '<bytes>').metadata.format === MODEL_FORMAT;
  } catch {
    return false;
  }
}

/** A vid model file: the module from `readModel`, wrapped as `vid_predictor` says. */
async function loadSavedPredictor(
  bytes: Uint8Array,
  metadata: Readonly<Record<string, string>>,
  location: string,
  options: LoadPredictorOptions,
): Promise<VideoPredictor> {
  const context = `loadPredictor(${location})`;
  for (const key of ['config', 'patchSize'] as const) {
    if (options[key] !== undefined) {
      throw new ConfigError(
        key,
        `no ${key}: a vid model file holds its architecture (config and patchSize are for official PyTorch checkpoints)`,
        options[key],
        context,
      );
    }
  }
  const info = savedPredictorMetadata(metadata, location);
  const { className } = MODULE_PREDICTORS[info.type];
  const readOptions: LoadModelOptions = {
    expectClass: className,
    ...(options.strict !== undefined ? { strict: options.strict } : {}),
  };
  const { model } = await readModel({ location, load: async () => bytes }, readOptions);
  try {
    return MODULE_PREDICTORS[info.type].wrap(model, info);
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/** `__metadata__.vid_predictor`, checked; a file without it is wrapped by its class (patch size 1). */
function savedPredictorMetadata(metadata: Readonly<Record<string, string>>, location: string): PredictorMetadata {
  const text = metadata[PREDICTOR_METADATA_KEY];
  if (text === undefined) {
    const type = MODULE_PREDICTOR_TYPES.find((t) => MODULE_PREDICTORS[t].className === metadata.class_name);
    if (type === undefined) {
      const classes = MODULE_PREDICTOR_TYPES.map((t) => MODULE_PREDICTORS[t].className).join(' or ');
      throw new FileFormatError(
        location,
        `not a video predictor: expected a model of class ${classes}, received a ${String(metadata.class_name)} (load it with loadModel)`,
      );
    }
    return type === 'conv-recurrent-net' ? { type, patchSize: 1 } : { type };
  }
  const where = `__metadata__.${PREDICTOR_METADATA_KEY}`;
  let info: unknown;
  try {
    info = JSON.parse(text);
  } catch {
    throw new FileFormatError(location, `${where}: expected JSON, received ${text.slice(0, 80)}`);
  }
  const type = (info as { type?: unknown } | null)?.type;
  if (info === null || typeof info !== 'object' || !MODULE_PREDICTOR_TYPES.includes(type as ModulePredictorType)) {
    throw new FileFormatError(
      location,
      `${where}: expected { type: ${MODULE_PREDICTOR_TYPES.join(' | ')}, … }, received ${text.slice(0, 80)}`,
    );
  }
  if (type === 'encoder-forecaster') {
    assertKnownKeys(info, ['type'], `${location} ${where}`);
    return { type };
  }
  assertKnownKeys(info, ['type', 'patchSize'], `${location} ${where}`);
  const patchSize = (info as { patchSize?: unknown }).patchSize ?? 1;
  if (typeof patchSize !== 'number' || !Number.isInteger(patchSize) || patchSize < 1) {
    throw new FileFormatError(
      location,
      `${where}.patchSize: expected a positive integer, received ${JSON.stringify(patchSize)}`,
    );
  }
  return { type: 'conv-recurrent-net', patchSize };
}

/**
 * Official import: a state dict in PyTorch names and layouts (a `torch.save` file or safetensors
 * without vid's metadata) and an architecture from `options.config`, the legacy
 * `vid_predictor` spec, or the official `config` metadata.
 */
async function importPredictor(
  bytes: Uint8Array,
  location: string,
  options: LoadPredictorOptions,
): Promise<VideoPredictor> {
  const context = 'loadPredictor';
  const checkpoint = await readOfficialCheckpoint(bytes, { name: location });
  const { metadata } = checkpoint;
  let config: unknown =
    typeof options.config === 'string' ? parseJson(options.config, 'config', context) : options.config;
  if (config === undefined) {
    if (metadata[PREDICTOR_METADATA_KEY])
      config = parseJson(
        metadata[PREDICTOR_METADATA_KEY],
        `${location} __metadata__.${PREDICTOR_METADATA_KEY}`,
        context,
      );
    else if (metadata.config) config = parseJson(metadata.config, `${location} __metadata__.config`, context);
    else {
      throw new ConfigError(
        'config',
        `a model configuration (${location} is not a vid model and has no config metadata): pass the official ConvLSTMNet arguments or a vid config`,
        undefined,
        context,
      );
    }
  }
  let spec: PredictorSpec;
  const isSpec = (value: object): boolean =>
    'type' in value &&
    typeof value.type === 'string' &&
    (PREDICTOR_TYPES.includes(value.type as never) || value.type in LEGACY_PREDICTOR_TYPES);
  if (config !== null && typeof config === 'object' && isSpec(config)) {
    spec = validatePredictorSpec(config, context);
  } else {
    const patchSize = options.patchSize ?? (metadata.patch_size ? Number(metadata.patch_size) : 1);
    if (config === null || typeof config !== 'object' || (!isOfficialConfig(config) && !('layersPerBlock' in config))) {
      throw new ConfigError(
        'config',
        'a predictor spec ({ type, … }), vid ConvRecurrentNet options or the official ConvLSTMNet arguments',
        config,
        context,
      );
    }
    spec = { type: 'conv-recurrent-net', network: config as Record<string, unknown>, patchSize };
  }
  const predictor = createPredictor(spec);
  try {
    if (predictor.module) {
      const parameters = predictor.module.stateDict();
      const skip = options.strict === false ? (name: string): boolean => !parameters.has(name) : undefined;
      predictor.module.loadStateDict(checkpoint.stateDict, {
        layout: 'torch',
        source: location,
        ...(skip ? { ignore: skip } : {}),
      });
    }
  } catch (error) {
    predictor.dispose();
    throw error;
  }
  return predictor;
}
