/**
 * Weights that vid trained itself, by name: the {@link PRETRAINED} registry, {@link loadPretrained}
 * (a ready `VideoPredictor`) and {@link pretrainedUrl} (for `loadModel`/`loadPredictor` of
 * `@vid/core`/`@vid/models`). Each model ships as a vid model file (`savePredictor`: safetensors
 * whose metadata carries the architecture) beside its card: the recipe, the training record
 * (steps, wall time, CPU-hours, the learning curves) and the evaluation.
 *
 * The files are located with `new URL('../weights/…', import.meta.url)`: a `file:` URL in Node,
 * and in a page the URL that Vite, webpack 5 or Parcel gives the asset (for a bundler that does not
 * follow `new URL(…, import.meta.url)`, copy `@vid/pretrained/weights/` to your static files and
 * pass their URL to `loadPredictor`).
 */
import { ConfigError, FileFormatError, type ModelSource, resolveHandler } from '@vid/core';
import { type LoadPredictorOptions, type VideoPredictor, loadPredictor } from '@vid/models';

/** One shipped model. */
export interface PretrainedModel {
  /** The registry name, e.g. `mmnist-convttlstm`. */
  readonly name: string;
  /** The recurrent cell of every layer. */
  readonly cell: 'convlstm' | 'convttlstm';
  /** What it predicts. */
  readonly task: string;
  /** The `vid train` preset that reproduces it. */
  readonly preset: string;
  /** One line for pickers and `--help`. */
  readonly description: string;
  /** The model file (a vid model file, `savePredictor`). */
  readonly url: () => URL;
  /** The card: recipe, training record and evaluation (JSON, {@link PretrainedCard}). */
  readonly cardUrl: () => URL;
}

/** What a model's card holds (`weights/<name>.json`). */
export interface PretrainedCard {
  readonly name: string;
  readonly preset: string;
  /** The resolved training configuration. */
  readonly config: Record<string, unknown>;
  /** The command that reproduces the weights. */
  readonly command: string;
  /** Optimizer steps and sequences seen. */
  readonly steps: number;
  readonly sequences: number;
  /** Wall-clock seconds of training (pauses between resumed sessions excluded) and the CPU-hours it took. */
  readonly trainingSeconds: number;
  readonly cpuHours: number;
  /** Where and how it was trained. */
  readonly machine: string;
  readonly parameters: number;
  /** Training loss (mean over each logged window) and validation records, by step. */
  readonly curves: {
    readonly train: ReadonlyArray<readonly [number, number]>;
    readonly validation: ReadonlyArray<{ readonly step: number; readonly loss: number; readonly mse: number }>;
  };
  /** The evaluation on the generated Moving MNIST test set (`vid eval`), when recorded. */
  readonly evaluation?: Record<string, unknown>;
}

// Each URL is a literal so that bundlers can find the asset.
/** The shipped models, by name. */
export const PRETRAINED = {
  'mmnist-convlstm': {
    name: 'mmnist-convlstm',
    cell: 'convlstm',
    task: 'Moving MNIST (2 digits, 64×64): 10 frames in, the next frames out',
    preset: 'mmnist-convlstm-cpu',
    description: 'ConvLSTM (2 layers × 32, 3×3, 4×4 patches) trained by vid on CPU, Moving MNIST 10 → 10',
    url: () => new URL('../weights/mmnist-convlstm.safetensors', import.meta.url),
    cardUrl: () => new URL('../weights/mmnist-convlstm.json', import.meta.url),
  },
  'mmnist-convttlstm': {
    name: 'mmnist-convttlstm',
    cell: 'convttlstm',
    task: 'Moving MNIST (2 digits, 64×64): 10 frames in, the next frames out',
    preset: 'mmnist-convttlstm-cpu',
    description:
      'Conv-TT-LSTM (order 3, steps 3, rank 8; 2 layers × 32, 3×3, 4×4 patches) trained by vid on CPU, Moving MNIST 10 → 10',
    url: () => new URL('../weights/mmnist-convttlstm.safetensors', import.meta.url),
    cardUrl: () => new URL('../weights/mmnist-convttlstm.json', import.meta.url),
  },
} as const satisfies Record<string, PretrainedModel>;

/** A registry name. */
export type PretrainedName = keyof typeof PRETRAINED;

/** The names, in registry order. */
export const PRETRAINED_NAMES = Object.keys(PRETRAINED) as PretrainedName[];

/** The model `vid predict` and the demo use when none is named. */
export const DEFAULT_PRETRAINED: PretrainedName = 'mmnist-convttlstm';

/** Whether `name` is a registry name. */
export function isPretrainedName(name: unknown): name is PretrainedName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(PRETRAINED, name);
}

/** The registry entry of `name`, or a `ConfigError` that lists the names. */
export function pretrained(name: string, argument = 'name'): PretrainedModel {
  if (!isPretrainedName(name))
    throw new ConfigError(argument, `a shipped model: one of ${PRETRAINED_NAMES.join(', ')}`, name, '@vid/pretrained');
  return PRETRAINED[name];
}

/** The URL of a shipped model file (pass it to `loadModel` or `loadPredictor`). */
export function pretrainedUrl(name: string): URL {
  return pretrained(name).url();
}

/**
 * A shipped model as a ready predictor: `await loadPretrained('mmnist-convttlstm')`, then
 * `predictor.predict(context, 10)` with `context` `[batch, 10, 64, 64, 1]` in [0, 1].
 * `source` replaces where the file is read from (a URL or path you copied it to).
 */
export async function loadPretrained(
  name: string,
  options: { readonly source?: ModelSource } & Pick<LoadPredictorOptions, 'strict'> = {},
): Promise<VideoPredictor> {
  const entry = pretrained(name);
  return loadPredictor(options.source ?? entry.url(), {
    name: `@vid/pretrained ${entry.name}`,
    ...(options.strict !== undefined ? { strict: options.strict } : {}),
  });
}

/** A shipped model's card: its recipe, training record and evaluation. */
export async function pretrainedCard(name: string): Promise<PretrainedCard> {
  const entry = pretrained(name);
  const url = entry.cardUrl();
  const bytes = await resolveHandler(url).load?.();
  const text = new TextDecoder().decode(bytes);
  try {
    return JSON.parse(text) as PretrainedCard;
  } catch (error) {
    throw new FileFormatError(url.href, `not valid JSON (${(error as Error).message})`);
  }
}
