/**
 * Something-Something V2 (Goyal et al. 2017, "The 'something something' video database for
 * learning and evaluating visual common sense"): 220,847 WebM videos `<id>.webm` of 174 template
 * actions. Annotations:
 * - `something-something-v2-labels.json`: template (brackets removed) → class id (a string);
 * - `something-something-v2-train.json` / `-validation.json`: `[{ id, label, template,
 *   placeholders }]`, where `template` has brackets (`"Putting [something] into [something]"`)
 *   and maps to its class by dropping them;
 * - `something-something-v2-test.json`: `[{ id }]` only (no labels).
 *
 * Frames are sampled uniformly (centres of equal parts) or by segments (TSN, Wang et al. 2016:
 * one frame from each of K equal segments, at a seeded random offset in training, at the centre
 * otherwise), to a fixed count and a fixed size. The early-recognition view keeps only the first
 * p% of each video's frames before sampling.
 */
import {
  ConfigError,
  FileFormatError,
  Rng,
  assertKnownKeys,
  finiteNumber,
  oneOf,
  pairOf,
  positiveInteger,
} from '@vid/core';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { Dataset, type EpochTagged, type IndexedSource } from '../data/dataset.js';
import type { VideoClip } from '../data/video.js';
import { resizeFrames } from '../image/resize.js';
import { exists, listDirectory } from '../io/fs.js';
import { readVideo } from '../video/ffmpeg.js';

export type Ssv2Split = 'train' | 'validation' | 'test';

/** One annotated video. */
export interface Ssv2Entry {
  readonly id: string;
  /** Class index, `null` in the test split. */
  readonly label: number | null;
  /** The template with brackets, where given. */
  readonly template?: string;
  readonly placeholders?: readonly string[];
}

/** The class name of a template: brackets dropped (`"Putting [something] into [something]"` → `"Putting something into something"`). */
export function templateToClassName(template: string): string {
  return template.replace(/\[|\]/g, '');
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new FileFormatError(path, 'no such file (expected a Something-Something V2 JSON annotation file)');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new FileFormatError(path, `not valid JSON (${(error as Error).message})`);
  }
}

/** Reads `something-something-v2-labels.json`: class name → index. */
export async function readSsv2Labels(path: string): Promise<Map<string, number>> {
  const json = await readJson(path);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new FileFormatError(
      path,
      'expected an object mapping each template to its class id, e.g. {"Approaching something with your camera": "0"}',
    );
  }
  const out = new Map<string, number>();
  for (const [name, id] of Object.entries(json as Record<string, unknown>)) {
    const value = typeof id === 'string' ? Number(id) : id;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw new FileFormatError(
        path,
        `class id of ${JSON.stringify(name)} must be a non-negative integer (as a string), found ${JSON.stringify(id)}`,
      );
    }
    out.set(name, value);
  }
  return out;
}

/** Reads a split file and maps templates to labels. An unknown template is an error naming both files. */
export async function readSsv2Annotations(
  path: string,
  labels: ReadonlyMap<string, number> | null,
  labelsFile = 'the labels file',
): Promise<Ssv2Entry[]> {
  const json = await readJson(path);
  if (!Array.isArray(json)) throw new FileFormatError(path, 'expected an array of {"id": …} entries');
  return json.map((raw, i): Ssv2Entry => {
    const entry = raw as { id?: unknown; template?: unknown; placeholders?: unknown };
    if (typeof entry !== 'object' || entry === null || (typeof entry.id !== 'string' && typeof entry.id !== 'number')) {
      throw new FileFormatError(path, `entry ${i} has no "id" (found ${JSON.stringify(raw)})`);
    }
    const id = String(entry.id);
    if (entry.template === undefined) return { id, label: null };
    if (typeof entry.template !== 'string')
      throw new FileFormatError(path, `entry ${i} (id ${id}): "template" must be a string`);
    let label: number | null = null;
    if (labels) {
      const name = templateToClassName(entry.template);
      const found = labels.get(name);
      if (found === undefined) {
        throw new FileFormatError(
          path,
          `entry ${i} (id ${id}): template ${JSON.stringify(entry.template)} (class ${JSON.stringify(name)}) is not in ${labelsFile}`,
        );
      }
      label = found;
    }
    return {
      id,
      label,
      template: entry.template,
      placeholders: Array.isArray(entry.placeholders) ? entry.placeholders.map(String) : undefined,
    };
  });
}

/** How frames are chosen. */
export type FrameSampling = 'uniform' | 'segment';

/**
 * Indices of `count` frames out of `available`:
 * - `'uniform'`: the centres of `count` equal parts, `⌊(i + ½) · available / count⌋`;
 * - `'segment'`: one frame per equal segment, `⌊i · available / count + offset⌋` with `offset`
 *   drawn from `U[0, available / count)` by `rng`, or the segment's centre without `rng`.
 * Fewer available frames than `count` repeat frames.
 */
export function sampleFrameIndices(
  available: number,
  count: number,
  sampling: FrameSampling = 'uniform',
  rng?: Rng,
): number[] {
  positiveInteger(available, 'available', 'sampleFrameIndices');
  positiveInteger(count, 'count', 'sampleFrameIndices');
  const step = available / count;
  return Array.from({ length: count }, (_, i) => {
    const offset = sampling === 'segment' && rng ? rng.uniform() * step : step / 2;
    return Math.min(available - 1, Math.floor(i * step + offset));
  });
}

/** Frames kept by the early-recognition view: the first `percent`% (at least one). */
export function observedFrameCount(total: number, percent: number): number {
  return Math.max(1, Math.min(total, Math.ceil((total * percent) / 100)));
}

/** Options of {@link SomethingSomethingV2.open}. */
export interface Ssv2Options {
  /** @default 'train' */
  readonly split?: Ssv2Split;
  /** Folder of the `<id>.webm` files. @default `<root>/20bn-something-something-v2`, else `<root>/videos`, else `<root>` */
  readonly videoDirectory?: string;
  /** Frames per clip. @default 16 */
  readonly numFrames?: number;
  /** @default 'uniform' */
  readonly sampling?: FrameSampling;
  /** Frame size, one number or `[height, width]`. @default [112, 112] */
  readonly size?: number | readonly [number, number];
  /** 3 (RGB) or 1 (gray). @default 3 */
  readonly channels?: 1 | 3;
  /** Early recognition: sample only from the first `observedPercent`% of each video (25, 50, …). @default 100 */
  readonly observedPercent?: number;
  /** Seed of the segment offsets. @default 0 */
  readonly seed?: number | string;
  /** The ffmpeg executable. @default found by `findFfmpeg` */
  readonly ffmpegPath?: string;
}

const KNOWN = [
  'split',
  'videoDirectory',
  'numFrames',
  'sampling',
  'size',
  'channels',
  'observedPercent',
  'seed',
  'ffmpegPath',
];

/** A split of Something-Something V2: clips `[numFrames, H, W, C]` with class labels. */
export class SomethingSomethingV2 implements IndexedSource<VideoClip> {
  readonly numFrames: number;
  readonly sampling: FrameSampling;
  readonly size: readonly [number, number];
  readonly channels: 1 | 3;
  readonly observedPercent: number;
  readonly seed: number | string;

  private constructor(
    readonly root: string,
    readonly split: Ssv2Split,
    readonly videoDirectory: string,
    /** Class names by index. */
    readonly classes: readonly string[],
    readonly entries: readonly Ssv2Entry[],
    private readonly options: Ssv2Options,
  ) {
    const context = 'SomethingSomethingV2';
    this.numFrames = positiveInteger(options.numFrames ?? 16, 'numFrames', context);
    this.sampling = oneOf(options.sampling ?? 'uniform', ['uniform', 'segment'], 'sampling', context);
    this.size = pairOf(options.size ?? [112, 112], 'size', context);
    const channels = options.channels ?? 3;
    if (channels !== 1 && channels !== 3) throw new ConfigError('channels', '1 or 3', channels, context);
    this.channels = channels;
    this.observedPercent = finiteNumber(options.observedPercent ?? 100, 'observedPercent', context, {
      min: Number.MIN_VALUE,
      max: 100,
    });
    if (this.observedPercent <= 0)
      throw new ConfigError('observedPercent', 'a percentage in (0, 100]', this.observedPercent, context);
    this.seed = options.seed ?? 0;
  }

  /** Reads the label and split files under `root` and finds the video folder. */
  static async open(root: string, options: Ssv2Options = {}): Promise<SomethingSomethingV2> {
    const context = 'SomethingSomethingV2.open';
    assertKnownKeys(options, KNOWN, context);
    await listDirectory(root, 'Something-Something V2 directory');
    const split = oneOf(options.split ?? 'train', ['train', 'validation', 'test'], 'split', context);
    const labelsFile = join(root, 'something-something-v2-labels.json');
    const labels = await readSsv2Labels(labelsFile);
    const entries = await readSsv2Annotations(join(root, `something-something-v2-${split}.json`), labels, labelsFile);
    let videoDirectory = options.videoDirectory;
    if (!videoDirectory) {
      videoDirectory = root;
      for (const candidate of ['20bn-something-something-v2', 'videos']) {
        if (await exists(join(root, candidate))) {
          videoDirectory = join(root, candidate);
          break;
        }
      }
    }
    await listDirectory(videoDirectory, 'video directory');
    const classes: string[] = [];
    for (const [name, index] of labels) classes[index] = name;
    return new SomethingSomethingV2(root, split, videoDirectory, classes, entries, options);
  }

  get length(): number {
    return this.entries.length;
  }

  /** The video file of entry `index`. */
  videoPath(index: number): string {
    return join(this.videoDirectory, `${(this.entries[index] as Ssv2Entry).id}.webm`);
  }

  /**
   * Clip `index`: `numFrames` frames sampled from the (observed part of the) video, resized.
   * With `'segment'` sampling the offsets come from a generator seeded by `seed`, the index and
   * `draw` (pass the epoch to draw new offsets each epoch).
   */
  async get(index: number, draw = 0): Promise<VideoClip> {
    const entry = this.entries[index];
    if (!entry)
      throw new ConfigError('index', `an integer in [0, ${this.entries.length})`, index, 'SomethingSomethingV2.get');
    const path = this.videoPath(index);
    const video = await readVideo(path, {
      pixelFormat: this.channels === 1 ? 'gray' : 'rgb',
      ffmpegPath: this.options.ffmpegPath,
    });
    const [total, h, w, c] = video.shape;
    const observed = observedFrameCount(total, this.observedPercent);
    const rng =
      this.sampling === 'segment' && this.split === 'train' ? new Rng(`${this.seed}:ssv2:${index}:${draw}`) : undefined;
    const picks = sampleFrameIndices(observed, this.numFrames, this.sampling, rng);
    const frameSize = h * w * c;
    const chosen = new Uint8Array(picks.length * frameSize);
    picks.forEach((frame, i) =>
      chosen.set(video.frames.subarray(frame * frameSize, (frame + 1) * frameSize), i * frameSize),
    );
    const [outH, outW] = this.size;
    const frames = resizeFrames(chosen, [picks.length, h, w, c], outH, outW);
    return { frames, shape: [picks.length, outH, outW, c], label: entry.label ?? undefined, id: entry.id };
  }

  /** The clips as a dataset (seeded order when `shuffle`), with epoch progress. */
  dataset(
    options: { readonly shuffle?: boolean; readonly seed?: number | string; readonly epochs?: number } = {},
  ): Dataset<VideoClip & EpochTagged> {
    const get = (index: number, draw: number): Promise<VideoClip> => this.get(index, draw);
    const length = this.length;
    const epochs = options.epochs ?? 1;
    return new Dataset(
      async function* (iteration: number) {
        for (let epoch = 0; epoch < epochs; epoch++) {
          const order = options.shuffle
            ? new Rng(`${options.seed ?? 0}:ssv2:${iteration}:${epoch}`).permutation(length)
            : null;
          for (let i = 0; i < length; i++)
            yield { ...(await get(order ? (order[i] as number) : i, epoch)), epoch, epochSize: length };
        }
      } as unknown as (iteration: number) => AsyncIterator<VideoClip & EpochTagged>,
      epochs === Infinity ? Infinity : this.length * epochs,
    );
  }
}
