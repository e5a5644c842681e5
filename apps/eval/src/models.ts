/**
 * Loading the model to evaluate or run: a vid run or checkpoint folder, a vid model file
 * (`savePredictor`; it carries its architecture), or an official PyTorch checkpoint (`.pt`, or
 * safetensors without vid's metadata) with a configuration — a vid training config (JSON/YAML
 * file), the official `ConvLSTMNet` constructor arguments (JSON file or inline JSON, e.g. the
 * `config` object of the reference fixtures' metadata), or a predictor spec. With a vid model
 * file, a training config sets only the data; network arguments or a spec are refused
 * (`loadPredictor` says the file holds its architecture).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { ConfigError, FileFormatError, readFileBytes } from '@vid/core';
import { type PredictorSpec, type VideoPredictor, isSavedModel, loadPredictor } from '@vid/models';
import { PRETRAINED_NAMES, loadPretrained, pretrained } from '@vid/pretrained';
import type { TrainConfig } from '@vid/training';
import { loadCheckpoint, predictorSpec, readConfigFile, resolveCheckpointDir, resolveConfig } from '@vid/training/node';

/** A loaded model and where it came from. */
export interface LoadedModel {
  readonly predictor: VideoPredictor;
  /** The vid training configuration, when the model is a vid checkpoint (or one was given). */
  readonly trainConfig: TrainConfig | null;
  /** Describes the source in one line. */
  readonly description: string;
  /** The run folder of a vid checkpoint (for default output locations). */
  readonly runDir: string | null;
}

/** Parses `--config`: a file (JSON/YAML) or inline JSON. */
export function readModelConfig(config: string): Record<string, unknown> {
  const trimmed = config.trim();
  if (trimmed.startsWith('{')) {
    try {
      return JSON.parse(trimmed) as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError(
        '--config',
        'valid inline JSON or a file path',
        `${trimmed.slice(0, 60)}… (${(error as Error).message})`,
      );
    }
  }
  return readConfigFile(config);
}

/** A vid training configuration (has any of its sections) rather than network arguments or a spec. */
function isTrainConfig(value: Record<string, unknown>): boolean {
  return ['preset', 'model', 'data', 'train'].some((key) => key in value) && !('type' in value);
}

/** Turns a parsed `--config` into what `loadPredictor` accepts, and the training config if any. */
export function modelConfig(
  value: Record<string, unknown>,
  source: string,
): { config: PredictorSpec | Record<string, unknown>; trainConfig: TrainConfig | null } {
  if (isTrainConfig(value)) {
    const trainConfig = resolveConfig({ overrides: value, checkPaths: false });
    return { config: predictorSpec(trainConfig), trainConfig };
  }
  if (value.vid_predictor && typeof value.vid_predictor === 'string')
    return { config: JSON.parse(value.vid_predictor) as PredictorSpec, trainConfig: null };
  if (Object.keys(value).length === 0)
    throw new ConfigError(
      '--config',
      'a vid config, the official ConvLSTMNet arguments or a predictor spec',
      `an empty object (${source})`,
    );
  return { config: value, trainConfig: null };
}

/**
 * Loads a weights file, with `--config` when given: for a vid model file (it carries its
 * architecture) a training config sets only the data and is not passed on.
 */
async function loadWeights(
  file: string,
  parsed?: { config: PredictorSpec | Record<string, unknown>; trainConfig: TrainConfig | null },
  bytes?: Uint8Array,
): Promise<VideoPredictor> {
  bytes ??= await readFileBytes(file);
  const useConfig = parsed !== undefined && !(parsed.trainConfig !== null && isSavedModel(bytes));
  return loadPredictor(bytes, { name: file, ...(useConfig ? { config: parsed.config } : {}) });
}

/** Loads a model from a checkpoint folder, or from a weights file and an optional configuration. */
export async function loadModel(checkpoint: string, config?: string): Promise<LoadedModel> {
  if (!existsSync(checkpoint)) throw new FileFormatError(checkpoint, 'no such checkpoint, run folder or weights file');
  if (statSync(checkpoint).isDirectory()) {
    const dir = await resolveCheckpointDir(checkpoint);
    const loaded = await loadCheckpoint(dir);
    const trainConfig = (loaded.state.config as TrainConfig | undefined) ?? null;
    // The checkpoint's model file is already in memory (loadCheckpoint checked it is finite).
    const predictor = await loadWeights(
      join(dir, 'model.safetensors'),
      config ? modelConfig(readModelConfig(config), config) : undefined,
      loaded.model,
    );
    return {
      predictor,
      trainConfig,
      description: `vid checkpoint ${dir} (step ${loaded.step})`,
      runDir: join(dir, '..', '..'),
    };
  }
  if (config === undefined) {
    // A vid model file carries its architecture; an official safetensors its config metadata.
    const predictor = await loadWeights(checkpoint);
    return { predictor, trainConfig: null, description: `weights ${checkpoint}`, runDir: null };
  }
  const parsed = modelConfig(readModelConfig(config), config);
  const { trainConfig } = parsed;
  const predictor = await loadWeights(checkpoint, parsed);
  return {
    predictor,
    trainConfig,
    description: `weights ${checkpoint} with config ${config.trim().startsWith('{') ? '(inline JSON)' : config}`,
    runDir: null,
  };
}

/** A shipped model of `@vid/pretrained`, by registry name (`--model`). */
export async function loadShippedModel(name: string, argument = '--model'): Promise<LoadedModel> {
  const entry = pretrained(name, argument);
  const predictor = await loadPretrained(entry.name);
  return {
    predictor,
    trainConfig: null,
    description: `shipped model ${entry.name} (@vid/pretrained; ${entry.description})`,
    runDir: null,
  };
}

/** The `--model` help text: the shipped names. */
export const SHIPPED_MODELS_HELP = `a shipped model (@vid/pretrained): ${PRETRAINED_NAMES.join(', ')}`;
