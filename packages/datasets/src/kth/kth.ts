/**
 * KTH Action (Schüldt, Laptev & Caputo 2004, "Recognizing Human Actions: A Local SVM Approach"):
 * 25 persons × 6 actions × 4 scenarios, 160 × 120 gray videos at 25 fps.
 *
 * Two layouts are read:
 * - raw: `personXX_<action>_dY_uncomp.avi` (in the root or in `<action>/` folders), decoded with
 *   ffmpeg, plus `00sequences.txt` (the frame ranges of each video's subsequences);
 * - extracted frames: `<action>/personXX_<action>_dY_uncomp/image_NNNN.png`, as PredRNN and
 *   OpenSTL prepare it, decoded in pure JavaScript.
 *
 * Protocols (presets, see {@link KTH_PROTOCOLS}):
 * - `'predrnn'` (PredRNN, E3D-LSTM, OpenSTL): chengtan9907/OpenSTL
 *   `openstl/datasets/dataloader_kth.py` `DataProcess.load_data`: persons 1–16 train, 17–25 test;
 *   frames resized to 128 × 128 (bilinear, `cv2.resize`), one channel; clip starts found by
 *   walking each video backwards from its last frame: a window of consecutive frame numbers is a
 *   clip, and the walk then moves back by the clip length (boxing, hand clapping, hand waving,
 *   walking) or by 3 frames (jogging, running — they leave the picture quickly); otherwise by 1.
 * - `'conv-tt-lstm'`: NVlabs/conv-tt-lstm `eval_paper/dataloader.py` `KTH_Dataset` with
 *   `unique_mode` and `eval_paper/test.sh`: frames at 120 × 120, upsampled to 128 × 128,
 *   non-overlapping clips `t · L` for `t < ⌊frames / L⌋` of `L = 10 + 20` or `10 + 40` frames;
 *   persons 1–16 train, 17–25 test.
 * - `'official'`: the split of the dataset's authors (`00sequences.txt`): persons 11–18 train,
 *   19–21, 23–25, 1, 4 validation, 22, 2, 3, 5–10 test; clips are cut, non-overlapping, inside the
 *   subsequences listed in `00sequences.txt`.
 *
 * Porting note: conv-tt-lstm's KTH files are already 120 × 120 (the paper's appendix B.4 derives
 * them from the 160 × 120 videos); from the raw layout this loader resizes 160 × 120 → 120 × 120
 * bilinearly, then → 128 × 128. conv-tt-lstm upsamples with `skimage.transform.resize`, whose
 * default border mode (`reflect`) differs from OpenCV's clamping on the outermost half pixel.
 */
import { ConfigError, FileFormatError, Rng, assertKnownKeys, oneOf, pairOf, positiveInteger } from '@vid/core';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { Dataset, type EpochTagged } from '../data/dataset.js';
import type { VideoClip } from '../data/video.js';
import { readPng } from '../image/png.js';
import { resizeFrames } from '../image/resize.js';
import { listDirectory } from '../io/fs.js';
import { countVideoFrames, readVideo } from '../video/ffmpeg.js';

/** The six actions, in alphabetical order: the label of a clip is its index here. */
export const KTH_ACTIONS = ['boxing', 'handclapping', 'handwaving', 'jogging', 'running', 'walking'] as const;
export type KthAction = (typeof KTH_ACTIONS)[number];

/** Actions whose clips start every 3 frames in the PredRNN protocol (OpenSTL `category_2`). */
export const KTH_FAST_ACTIONS: readonly KthAction[] = ['jogging', 'running'];

/** One video of KTH. */
export interface KthVideo {
  /** `personXX_<action>_dY`. */
  readonly name: string;
  readonly person: number;
  readonly action: KthAction;
  readonly scenario: number;
  /** The `.avi` file, or the folder of extracted frames. */
  readonly path: string;
  readonly layout: 'avi' | 'frames';
  /** Frame numbers present (1-based), for the frames layout: from the file names, sorted. */
  readonly frameNumbers?: readonly number[];
  /** Frame files, for the frames layout, in the order of `frameNumbers`. */
  readonly frameFiles?: readonly string[];
}

const VIDEO_NAME =
  /^person(\d{2})_(boxing|handclapping|handwaving|jogging|running|walking)_d(\d)(?:_uncomp)?(?:\.avi)?$/;

/** Parses `personXX_<action>_dY[_uncomp][.avi]`, or returns null. */
export function parseKthName(
  name: string,
): { person: number; action: KthAction; scenario: number; name: string } | null {
  const match = VIDEO_NAME.exec(name);
  if (!match) return null;
  const person = Number(match[1]);
  const action = match[2] as KthAction;
  const scenario = Number(match[3]);
  return { person, action, scenario, name: `person${match[1]}_${action}_d${scenario}` };
}

/**
 * Parses `00sequences.txt`: lines like `person01_boxing_d1   frames  1-95, 96-185, 186-245, 246-360`.
 * Returns 1-based inclusive `[start, end]` ranges per video. Tolerates the file's irregular
 * spacing and missing commas; a line it cannot read is an error naming the file and line.
 */
export function parseKthSequences(text: string, file = '00sequences.txt'): Map<string, Array<[number, number]>> {
  const out = new Map<string, Array<[number, number]>>();
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (!trimmed || !/^person\d/.test(trimmed)) return;
    const [first] = trimmed.split(/\s+/);
    const parsed = parseKthName(first as string);
    if (!parsed)
      throw new FileFormatError(
        file,
        `line ${i + 1}: cannot read the video name ${JSON.stringify(first)} (expected personXX_<action>_dY)`,
      );
    const ranges = [...trimmed.matchAll(/(\d+)\s*-\s*(\d+)/g)].map(
      (m) => [Number(m[1]), Number(m[2])] as [number, number],
    );
    if (ranges.length === 0) return; // a few entries of the released file are empty
    for (const [start, end] of ranges) {
      if (start < 1 || end < start) throw new FileFormatError(file, `line ${i + 1}: bad frame range ${start}-${end}`);
    }
    out.set(parsed.name, ranges);
  });
  if (out.size === 0)
    throw new FileFormatError(
      file,
      'no sequence lines found (expected lines like "person01_boxing_d1 frames 1-95, 96-185")',
    );
  return out;
}

/** Reads `00sequences.txt`. */
export async function readKthSequences(path: string): Promise<Map<string, Array<[number, number]>>> {
  let text: string;
  try {
    text = await readFile(path, 'latin1');
  } catch {
    throw new FileFormatError(path, "no such file (expected KTH's 00sequences.txt)");
  }
  return parseKthSequences(text, path);
}

const FRAME_FILE = /^image_?(\d+)\.png$/i;

/** Finds the videos under `root` (both layouts; `layout` picks one when both are present). */
export async function scanKth(root: string, layout: 'auto' | 'avi' | 'frames' = 'auto'): Promise<KthVideo[]> {
  const entries = await listDirectory(root, 'KTH directory');
  const avis: KthVideo[] = [];
  const frames: KthVideo[] = [];
  const addAvi = (dir: string, file: string): void => {
    const parsed = parseKthName(file);
    if (parsed && file.endsWith('.avi')) avis.push({ ...parsed, path: join(dir, file), layout: 'avi' });
  };
  for (const entry of entries) {
    if (entry.isFile()) addAvi(root, entry.name);
    if (!entry.isDirectory() || !(KTH_ACTIONS as readonly string[]).includes(entry.name)) continue;
    const actionDir = join(root, entry.name);
    for (const child of await listDirectory(actionDir)) {
      if (child.isFile()) addAvi(actionDir, child.name);
      const parsed = parseKthName(child.name);
      if (!child.isDirectory() || !parsed) continue;
      const videoDir = join(actionDir, child.name);
      const files = (await listDirectory(videoDir))
        .filter((f) => f.isFile() && FRAME_FILE.test(f.name))
        .map((f) => ({ file: f.name, number: Number(FRAME_FILE.exec(f.name)?.[1]) }))
        .sort((a, b) => a.number - b.number);
      if (files.length === 0) continue;
      frames.push({
        ...parsed,
        path: videoDir,
        layout: 'frames',
        frameNumbers: files.map((f) => f.number),
        frameFiles: files.map((f) => join(videoDir, f.file)),
      });
    }
  }
  const chosen = layout === 'avi' ? avis : layout === 'frames' ? frames : frames.length > 0 ? frames : avis;
  if (chosen.length === 0) {
    throw new FileFormatError(
      root,
      `no KTH videos found (expected personXX_<action>_dY_uncomp.avi files, or <action>/personXX_<action>_dY_uncomp/image_NNNN.png frames${layout === 'auto' ? '' : `; layout "${layout}"`})`,
    );
  }
  const order = (v: KthVideo): number => KTH_ACTIONS.indexOf(v.action) * 10000 + v.person * 10 + v.scenario;
  return chosen.sort((a, b) => order(a) - order(b));
}

/** Which persons belong to each split. */
export type KthSplit = 'train' | 'validation' | 'test';

const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);

/** A KTH protocol: a split, frame sizes and how clips are cut. */
export interface KthProtocol {
  readonly persons: Readonly<Partial<Record<KthSplit, readonly number[]>>>;
  /** Output frame size `[height, width]`. */
  readonly size: readonly [number, number];
  /** An intermediate size the frames pass through first (conv-tt-lstm's 120 × 120). */
  readonly intermediateSize?: readonly [number, number];
  /** Frames per clip (input + output). */
  readonly sequenceLength: number;
  /** How clip starts are found. */
  readonly clipping: 'predrnn' | 'non-overlapping' | 'sequences';
}

/** The protocol presets. */
export const KTH_PROTOCOLS = {
  /** PredRNN / E3D-LSTM / OpenSTL: persons 1–16 / 17–25, 128 × 128, stride = length (3 for jogging, running). */
  predrnn: {
    persons: { train: range(1, 16), test: range(17, 25) },
    size: [128, 128],
    sequenceLength: 20,
    clipping: 'predrnn',
  },
  /** conv-tt-lstm: 120 × 120 → 128 × 128, 10 → 20 (30 frames; 50 for 10 → 40), non-overlapping clips. */
  'conv-tt-lstm': {
    persons: { train: range(1, 16), test: range(17, 25) },
    size: [128, 128],
    intermediateSize: [120, 120],
    sequenceLength: 30,
    clipping: 'non-overlapping',
  },
  /** The official split of 00sequences.txt; clips inside its subsequences. */
  official: {
    persons: { train: range(11, 18), validation: [19, 20, 21, 23, 24, 25, 1, 4], test: [22, 2, 3, 5, 6, 7, 8, 9, 10] },
    size: [120, 160],
    sequenceLength: 20,
    clipping: 'sequences',
  },
} as const satisfies Record<string, KthProtocol>;

export type KthProtocolName = keyof typeof KTH_PROTOCOLS;

/**
 * Clip starts (indices into `frameNumbers`) by the PredRNN/OpenSTL backward walk over one
 * video: from the last frame back, a window of `length` consecutive frame numbers is a clip;
 * then the walk moves back by `length` (or by `stride` when smaller), else by one frame. Returned
 * in ascending order.
 */
export function predrnnClipStarts(frameNumbers: readonly number[], length: number, stride: number): number[] {
  const starts: number[] = [];
  let index = frameNumbers.length - 1;
  while (index >= length - 1) {
    const start = index - length + 1;
    if ((frameNumbers[index] as number) - (frameNumbers[start] as number) === length - 1) {
      starts.push(start);
      index -= stride - 1;
    }
    index -= 1;
  }
  return starts.reverse();
}

/** Non-overlapping clip starts `t · length` for `t < ⌊frames / length⌋` (conv-tt-lstm `unique_mode`). */
export function nonOverlappingClipStarts(frames: number, length: number): number[] {
  return Array.from({ length: Math.floor(frames / length) }, (_, t) => t * length);
}

/** One clip of KTH: a video and the frames it takes. */
export interface KthClipRef {
  readonly video: KthVideo;
  /** Index of the first frame in the video's frame list (0-based). */
  readonly start: number;
  readonly length: number;
  readonly label: number;
}

/** Options of {@link KthDataset.open}. */
export interface KthOptions {
  /** The protocol preset. @default 'predrnn' */
  readonly protocol?: KthProtocolName;
  /** @default 'train' */
  readonly split?: KthSplit;
  /** Frames per clip (input + output). @default the protocol's (20; 30 for conv-tt-lstm) */
  readonly sequenceLength?: number;
  /** Output frame size, one number or `[height, width]`. @default the protocol's */
  readonly size?: number | readonly [number, number];
  /** Which layout to read when both are present. @default 'auto' (frames first) */
  readonly layout?: 'auto' | 'avi' | 'frames';
  /** `00sequences.txt`, for the `'official'` protocol. @default `<root>/00sequences.txt` */
  readonly sequencesFile?: string;
  /** The ffmpeg executable for `.avi` files. @default found by `findFfmpeg` */
  readonly ffmpegPath?: string;
}

const KNOWN = ['protocol', 'split', 'sequenceLength', 'size', 'layout', 'sequencesFile', 'ffmpegPath'];

/** A KTH split under a protocol: an indexed set of clips `[T, H, W, 1]` with action labels. */
export class KthDataset {
  private cached: { video: KthVideo; frames: Uint8Array; count: number } | null = null;

  private constructor(
    readonly root: string,
    readonly protocol: KthProtocol,
    readonly split: KthSplit,
    readonly videos: readonly KthVideo[],
    /** Every clip of the split, video by video. */
    readonly clips: readonly KthClipRef[],
    private readonly ffmpegPath: string | undefined,
  ) {}

  /** Scans `root`, selects the split's persons and cuts the clips (counting `.avi` frames with ffmpeg). */
  static async open(root: string, options: KthOptions = {}): Promise<KthDataset> {
    const context = 'KthDataset.open';
    assertKnownKeys(options, KNOWN, context);
    const name = oneOf(
      options.protocol ?? 'predrnn',
      Object.keys(KTH_PROTOCOLS) as KthProtocolName[],
      'protocol',
      context,
    );
    const preset: KthProtocol = KTH_PROTOCOLS[name];
    const split = oneOf(options.split ?? 'train', ['train', 'validation', 'test'], 'split', context);
    const persons = preset.persons[split];
    if (!persons)
      throw new ConfigError(
        'split',
        `one of ${Object.keys(preset.persons).join(', ')} for protocol "${name}"`,
        split,
        context,
      );
    const protocol: KthProtocol = {
      ...preset,
      sequenceLength: positiveInteger(options.sequenceLength ?? preset.sequenceLength, 'sequenceLength', context),
      size: options.size === undefined ? preset.size : pairOf(options.size, 'size', context),
    };
    const videos = (await scanKth(root, options.layout ?? 'auto')).filter((v) => persons.includes(v.person));
    const sequences =
      protocol.clipping === 'sequences'
        ? await readKthSequences(options.sequencesFile ?? join(root, '00sequences.txt'))
        : null;
    const length = protocol.sequenceLength;
    const clips: KthClipRef[] = [];
    for (const video of videos) {
      const label = KTH_ACTIONS.indexOf(video.action);
      const numbers =
        video.frameNumbers ??
        Array.from({ length: await countVideoFrames(video.path, { ffmpegPath: options.ffmpegPath }) }, (_, i) => i + 1);
      let starts: number[];
      if (protocol.clipping === 'predrnn') {
        starts = predrnnClipStarts(numbers, length, KTH_FAST_ACTIONS.includes(video.action) ? 3 : length);
      } else if (protocol.clipping === 'non-overlapping') {
        starts = nonOverlappingClipStarts(numbers.length, length);
      } else {
        const ranges = sequences?.get(video.name) ?? [];
        starts = [];
        for (const [first, last] of ranges) {
          const begin = numbers.indexOf(first);
          if (begin < 0) continue;
          for (
            let s = begin;
            s + length - 1 < numbers.length && (numbers[s + length - 1] as number) <= last;
            s += length
          ) {
            if ((numbers[s + length - 1] as number) - (numbers[s] as number) === length - 1) starts.push(s);
          }
        }
      }
      for (const start of starts) clips.push({ video, start, length, label });
    }
    return new KthDataset(root, protocol, split, videos, clips, options.ffmpegPath);
  }

  get length(): number {
    return this.clips.length;
  }

  /** Decoded (and resized) frames of a video, `[frames, H, W]` bytes; the last video is cached. */
  private async videoFrames(video: KthVideo): Promise<{ frames: Uint8Array; count: number }> {
    if (this.cached?.video === video) return this.cached;
    let frames: Uint8Array;
    let shape: readonly [number, number, number, number];
    if (video.layout === 'avi') {
      const decoded = await readVideo(video.path, { pixelFormat: 'gray', ffmpegPath: this.ffmpegPath });
      frames = decoded.frames;
      shape = decoded.shape;
    } else {
      const files = video.frameFiles as readonly string[];
      const images = [];
      for (const file of files) images.push(await readPng(file, 1));
      const first = images[0] as { height: number; width: number };
      frames = new Uint8Array(images.length * first.height * first.width);
      images.forEach((image, i) => {
        if (image.height !== first.height || image.width !== first.width) {
          throw new FileFormatError(
            files[i] as string,
            `frame size ${image.width}×${image.height} differs from the video's first frame (${first.width}×${first.height})`,
          );
        }
        frames.set(image.data, i * first.height * first.width);
      });
      shape = [images.length, first.height, first.width, 1];
    }
    const { intermediateSize, size } = this.protocol;
    if (intermediateSize) {
      frames = resizeFrames(frames, shape, intermediateSize[0], intermediateSize[1]);
      shape = [shape[0], intermediateSize[0], intermediateSize[1], 1];
    }
    frames = resizeFrames(frames, shape, size[0], size[1]);
    this.cached = { video, frames, count: shape[0] };
    return this.cached;
  }

  /** Clip `index`: `[T, H, W, 1]` bytes with its action label. */
  async get(index: number): Promise<VideoClip> {
    const clip = this.clips[index];
    if (!clip) throw new ConfigError('index', `an integer in [0, ${this.clips.length})`, index, 'KthDataset.get');
    const { frames, count } = await this.videoFrames(clip.video);
    const [h, w] = this.protocol.size;
    if (clip.start + clip.length > count) {
      throw new FileFormatError(
        clip.video.path,
        `decoded ${count} frames, the clip needs frames ${clip.start + 1}–${clip.start + clip.length}`,
      );
    }
    return {
      frames: frames.slice(clip.start * h * w, (clip.start + clip.length) * h * w),
      shape: [clip.length, h, w, 1],
      label: clip.label,
      id: `${clip.video.name}:${clip.start}`,
    };
  }

  /**
   * The clips as a dataset, video by video (each video decoded once per epoch). With `shuffle`,
   * the videos and the clips inside each video come in a seeded random order each epoch; chain
   * `.shuffle({ bufferSize, seed })` to mix clips across videos.
   */
  dataset(
    options: { readonly shuffle?: boolean; readonly seed?: number | string; readonly epochs?: number } = {},
  ): Dataset<VideoClip & EpochTagged> {
    const epochs = options.epochs ?? 1;
    const total = this.clips.length;
    const byVideo = new Map<KthVideo, number[]>();
    this.clips.forEach((clip, i) => byVideo.set(clip.video, [...(byVideo.get(clip.video) ?? []), i]));
    const groups = [...byVideo.values()];
    const get = (index: number): Promise<VideoClip> => this.get(index);
    return new Dataset(
      async function* (iteration: number) {
        for (let epoch = 0; epoch < epochs; epoch++) {
          const rng = options.shuffle ? new Rng(`${options.seed ?? 0}:kth:${iteration}:${epoch}`) : null;
          const order = rng ? rng.shuffle([...groups]) : groups;
          for (const group of order) {
            for (const index of rng ? rng.shuffle([...group]) : group)
              yield { ...(await get(index)), epoch, epochSize: total };
          }
        }
      } as unknown as (iteration: number) => AsyncIterator<VideoClip & EpochTagged>,
      epochs === Infinity ? Infinity : total * epochs,
    );
  }
}
