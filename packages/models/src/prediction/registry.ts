/**
 * Building, saving and loading video predictors from JSON specifications, and the model presets.
 *
 * Weights files are safetensors with the model's PyTorch names and layouts (for ConvTTLSTMNet the
 * official `ConvLSTMNet.state_dict()`), and in `__metadata__`: `vid_predictor` (the spec as
 * JSON) and, for ConvTTLSTMNet, `config` (the official constructor arguments) and `patch_size`.
 * Official `torch.save` checkpoints (`.pt`) load too.
 */
import type { Rng} from '@vid/core';
import { ConfigError, FileFormatError, type HostTensor, SafetensorsFile, assertKnownKeys, extractStateDict, readTorchCheckpoint } from '@vid/core';
import { isOfficialConfig, paperNetwork } from '@vid/tensor-train';

import { CopyLastFramePredictor } from './baseline.js';
import { ConvTTLSTMPredictor } from './convttlstm-net.js';
import { EncoderForecasterPredictor } from './encoder-forecaster.js';
import type { VideoPredictor } from './predictor.js';
import { PREDICTOR_TYPES, type PredictorSpec } from './spec.js';

/** Options of {@link createPredictor}. */
export interface CreatePredictorOptions {
  /** Seed (or generator) of the initial weights. @default 0 */
  readonly seed?: number | Rng;
}

/** Checks a spec's shape (the models check their own options). */
export function validatePredictorSpec(spec: unknown, context = 'createPredictor'): PredictorSpec {
  if (spec === null || typeof spec !== 'object') throw new ConfigError('spec', `an object { type: ${PREDICTOR_TYPES.join(' | ')}, … }`, spec, context);
  const { type } = spec as { type?: unknown };
  switch (type) {
    case 'convttlstm-net':
      assertKnownKeys(spec, ['type', 'network', 'patchSize'], context);
      if ((spec as { network?: unknown }).network === null || typeof (spec as { network?: unknown }).network !== 'object') {
        throw new ConfigError('network', 'the network options or the official ConvLSTMNet arguments (an object)', (spec as { network?: unknown }).network, context);
      }
      return spec as PredictorSpec;
    case 'encoder-forecaster':
      assertKnownKeys(spec, ['type', 'options'], context);
      if ((spec as { options?: unknown }).options === null || typeof (spec as { options?: unknown }).options !== 'object') {
        throw new ConfigError('options', 'the EncoderForecaster options (an object)', (spec as { options?: unknown }).options, context);
      }
      return spec as PredictorSpec;
    case 'copy-last-frame':
      assertKnownKeys(spec, ['type', 'channels'], context);
      return spec as PredictorSpec;
    default:
      throw new ConfigError('type', `one of ${PREDICTOR_TYPES.join(', ')}`, type, context);
  }
}

/** Builds a predictor with fresh (seeded) weights from its specification. */
export function createPredictor(spec: PredictorSpec, options: CreatePredictorOptions = {}): VideoPredictor {
  const checked = validatePredictorSpec(spec);
  const seed = options.seed ?? 0;
  switch (checked.type) {
    case 'convttlstm-net':
      return ConvTTLSTMPredictor.fromSpec(checked, seed);
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
  if (predictor instanceof ConvTTLSTMPredictor) {
    metadata.config = JSON.stringify(predictor.officialConfig());
    metadata.patch_size = String(predictor.patchSize);
    metadata.source = '@vid/models ConvTTLSTMPredictor (NVlabs/conv-tt-lstm ConvLSTMNet state_dict)';
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
   * What to build: a predictor spec, vid `ConvTTLSTMNet` options, or the official `ConvLSTMNet`
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
  if (config !== null && typeof config === 'object' && 'type' in config && PREDICTOR_TYPES.includes((config as { type: never }).type)) {
    spec = validatePredictorSpec(config, 'loadPredictor');
  } else {
    const patchSize = options.patchSize ?? (metadata.patch_size ? Number(metadata.patch_size) : 1);
    if (config === null || typeof config !== 'object' || (!isOfficialConfig(config) && !('layersPerBlock' in config))) {
      throw new ConfigError('config', 'a predictor spec ({ type, … }), vid ConvTTLSTMNet options or the official ConvLSTMNet arguments', config, 'loadPredictor');
    }
    spec = { type: 'convttlstm-net', network: config as Record<string, unknown>, patchSize };
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

/** A named model preset: a spec and what it is. */
export interface PredictorPreset {
  readonly description: string;
  readonly spec: PredictorSpec;
}

/** Model presets (architectures only; the apps' training presets add data and schedules). */
export const PREDICTOR_PRESETS = {
  /** Su et al. 2020: Conv-TT-LSTM, 4 blocks × 3 layers, 32-48-48-32, skip 2, order 3, steps 3, rank 8, 5×5 (2,687,281 parameters). */
  'convttlstm-paper': { description: 'Su et al. 2020: the paper\'s Conv-TT-LSTM network (NVlabs/conv-tt-lstm ConvLSTMNet)', spec: { type: 'convttlstm-net', network: { ...paperNetwork('convttlstm') } } },
  /** The paper's ConvLSTM baseline: the same network with ConvLSTM cells (3,973,201 parameters). */
  'convlstm-paper': { description: 'Su et al. 2020: the ConvLSTM baseline (same network, ConvLSTM cells)', spec: { type: 'convttlstm-net', network: { ...paperNetwork('convlstm') } } },
  /** Shi et al. 2015, Moving MNIST: 3 layers 128-64-64, 5×5, 4×4 patches, forecaster without input. */
  'encoder-forecaster-shi2015': {
    description: 'Shi et al. 2015: encoder-forecaster, ConvLSTM 128-64-64, 5×5 kernels, 4×4 patches of 64×64 frames',
    spec: { type: 'encoder-forecaster', options: { frameSize: [64, 64], frameChannels: 1, patchSize: 4, hiddenChannels: [128, 64, 64], kernelSize: 5, peephole: 'spatial', forecasterInput: 'none' } },
  },
  /** A small ConvLSTM on 4×4 patches of 64×64 frames: trains on a CPU in minutes. */
  'convlstm-small': {
    description: 'A small ConvLSTM (one 32-channel layer, 3×3) on 4×4 patches of 64×64 frames',
    spec: { type: 'convttlstm-net', patchSize: 4, network: { cell: 'convlstm', inputChannels: 16, layersPerBlock: [1], hiddenChannels: [32], skipStride: null, kernelSize: 3, bias: true, outputSigmoid: false } },
  },
  /** The copy-last-frame baseline. */
  'copy-last-frame': { description: 'Baseline: every future frame is the last context frame', spec: { type: 'copy-last-frame', channels: 1 } },
} as const satisfies Record<string, PredictorPreset>;

export type PredictorPresetName = keyof typeof PREDICTOR_PRESETS;
