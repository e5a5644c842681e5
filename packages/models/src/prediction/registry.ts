/**
 * Building, saving and loading video predictors from JSON specifications, and the model presets.
 *
 * Weights files are safetensors with the model's PyTorch names and layouts (for `ConvRecurrentNet`
 * the official `ConvLSTMNet.state_dict()`), and in `__metadata__`: `vid_predictor` (the spec as
 * JSON) and, for `ConvRecurrentNet` with an official cell, `config` (the official constructor arguments) and `patch_size`.
 * Official `torch.save` checkpoints (`.pt`) load too.
 */
import type { Rng } from '@vid/core';
import { ConfigError, FileFormatError, type HostTensor, SafetensorsFile, assertKnownKeys, extractStateDict, readTorchCheckpoint } from '@vid/core';

import { CopyLastFramePredictor } from './baseline.js';
import { EncoderForecasterPredictor } from './encoder-forecaster-predictor.js';
import { OFFICIAL_CELL_TYPES, isOfficialConfig } from './network-config.js';
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
  if (spec === null || typeof spec !== 'object') throw new ConfigError('spec', `an object { type: ${PREDICTOR_TYPES.join(' | ')}, … }`, spec, context);
  const { type: given } = spec as { type?: unknown };
  const type = typeof given === 'string' ? (LEGACY_PREDICTOR_TYPES[given] ?? given) : given;
  const checked: object = type === given ? spec : { ...spec, type };
  switch (type) {
    case 'conv-recurrent-net':
      assertKnownKeys(checked, ['type', 'network', 'patchSize'], context);
      if ((checked as { network?: unknown }).network === null || typeof (checked as { network?: unknown }).network !== 'object') {
        throw new ConfigError('network', 'the network options or the official ConvLSTMNet arguments (an object)', (checked as { network?: unknown }).network, context);
      }
      return checked as PredictorSpec;
    case 'encoder-forecaster':
      assertKnownKeys(checked, ['type', 'options'], context);
      if ((checked as { options?: unknown }).options === null || typeof (checked as { options?: unknown }).options !== 'object') {
        throw new ConfigError('options', 'the EncoderForecaster options (an object)', (checked as { options?: unknown }).options, context);
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
      return new EncoderForecasterPredictor({ ...(checked.options as object), seed } as ConstructorParameters<typeof EncoderForecasterPredictor>[0]);
    case 'copy-last-frame':
      return new CopyLastFramePredictor(checked.channels !== undefined ? { channels: checked.channels } : {});
  }
}

/** The parameters of a predictor (PyTorch names and layouts) and the metadata of its weights file. */
export async function predictorWeights(predictor: VideoPredictor): Promise<{ tensors: Map<string, HostTensor>; metadata: Record<string, string> }> {
  if (!predictor.module) return { tensors: new Map(), metadata: { vid_predictor: JSON.stringify(predictor.spec) } };
  const tensors = await predictor.module.exportStateDict({ layout: 'torch' });
  const metadata: Record<string, string> = { format: 'pt', vid_predictor: JSON.stringify(predictor.spec) };
  if (predictor instanceof ConvRecurrentPredictor) {
    metadata.patch_size = String(predictor.patchSize);
    if (OFFICIAL_CELL_TYPES.includes(predictor.module.config.cell)) {
      metadata.config = JSON.stringify(predictor.officialConfig());
      metadata.source = '@vid/models ConvRecurrentNet (NVlabs/conv-tt-lstm ConvLSTMNet state_dict)';
    }
  }
  return { tensors, metadata };
}

/** Loads parameters (PyTorch names and layouts) into a predictor; every mismatch is listed. */
export function loadPredictorWeights(predictor: VideoPredictor, tensors: ReadonlyMap<string, HostTensor>, source = '<weights>'): void {
  if (!predictor.module) return;
  predictor.module.loadStateDict(tensors, { layout: 'torch', source });
}

/** Options of {@link loadPredictor}. */
export interface LoadPredictorOptions {
  /**
   * What to build: a predictor spec, vid `ConvRecurrentNet` options, or the official `ConvLSTMNet`
   * constructor arguments (object or JSON text). Default: the file's `vid_predictor` metadata,
   * else its `config` metadata (official arguments).
   */
  readonly config?: PredictorSpec | Record<string, unknown> | string;
  /** Patch size when `config` is a network configuration. @default the file's patch_size, else 1 */
  readonly patchSize?: number;
}

/** Reads a weights file: safetensors (with its metadata) or a `torch.save` checkpoint. */
export async function readWeightsFile(path: string): Promise<{ tensors: Map<string, HostTensor>; metadata: Record<string, string> }> {
  if (path.endsWith('.safetensors')) {
    const file = await SafetensorsFile.open(path);
    try {
      return { tensors: await file.readAll(), metadata: { ...file.metadata } };
    } finally {
      await file.close();
    }
  }
  if (/\.(pt|pth|bin|ckpt)$/.test(path)) {
    const state = extractStateDict(await readTorchCheckpoint(path));
    return { tensors: state as Map<string, HostTensor>, metadata: {} };
  }
  throw new FileFormatError(path, 'expected a .safetensors file or a PyTorch checkpoint (.pt, .pth)');
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ConfigError(what, 'valid JSON', text.slice(0, 80), 'loadPredictor');
  }
}

/**
 * Loads a predictor with its weights from a safetensors or PyTorch file. The architecture comes
 * from `options.config` (a spec, vid network options or the official arguments) or from the
 * file's metadata.
 */
export async function loadPredictor(path: string, options: LoadPredictorOptions = {}): Promise<VideoPredictor> {
  const { tensors, metadata } = await readWeightsFile(path);
  let config: unknown = typeof options.config === 'string' ? parseJson(options.config, 'config') : options.config;
  if (config === undefined) {
    if (metadata.vid_predictor) config = parseJson(metadata.vid_predictor, `${path} __metadata__.vid_predictor`);
    else if (metadata.config) config = parseJson(metadata.config, `${path} __metadata__.config`);
    else throw new ConfigError('config', `a model configuration (${path} has no vid_predictor or config metadata): pass the official ConvLSTMNet arguments or a vid config`, undefined, 'loadPredictor');
  }
  let spec: PredictorSpec;
  const isSpec = (value: object): boolean => 'type' in value && typeof value.type === 'string' && (PREDICTOR_TYPES.includes(value.type as never) || value.type in LEGACY_PREDICTOR_TYPES);
  if (config !== null && typeof config === 'object' && isSpec(config)) {
    spec = validatePredictorSpec(config, 'loadPredictor');
  } else {
    const patchSize = options.patchSize ?? (metadata.patch_size ? Number(metadata.patch_size) : 1);
    if (config === null || typeof config !== 'object' || (!isOfficialConfig(config) && !('layersPerBlock' in config))) {
      throw new ConfigError('config', 'a predictor spec ({ type, … }), vid ConvRecurrentNet options or the official ConvLSTMNet arguments', config, 'loadPredictor');
    }
    spec = { type: 'conv-recurrent-net', network: config as Record<string, unknown>, patchSize };
  }
  const predictor = createPredictor(spec);
  try {
    loadPredictorWeights(predictor, tensors, path);
  } catch (error) {
    predictor.dispose();
    throw error;
  }
  return predictor;
}
