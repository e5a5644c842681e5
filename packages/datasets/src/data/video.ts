/**
 * Video clips on the host and their batches. A clip is `[time, height, width, channels]`
 * (THWC), a batch `[batch, time, height, width, channels]` (NTHWC), the layout of every vid
 * model. Pixels are bytes (0–255) or floats in [0, 1].
 */
import { ShapeError, formatShape } from '@vid/core';

import type { EpochProgress } from './dataset.js';

/** One clip in host memory. */
export interface VideoClip {
  /** Pixels, row-major: bytes 0–255 or floats in [0, 1]. */
  readonly frames: Uint8Array | Float32Array;
  /** `[time, height, width, channels]`. */
  readonly shape: readonly [number, number, number, number];
  /** Class index, where the dataset has labels. */
  readonly label?: number;
  /** Identifies the clip: a file, a video id, a sequence index. */
  readonly id?: string;
}

/** The dtype of batched pixels: bytes as read, or floats in [0, 1]. */
export type PixelDtype = 'uint8' | 'float32';

/** A batch of clips in host memory. */
export interface VideoBatch {
  /** Pixels, `[batch, time, height, width, channels]` row-major. */
  readonly frames: Uint8Array | Float32Array;
  readonly dtype: PixelDtype;
  /** `[batch, time, height, width, channels]`. */
  readonly shape: readonly [number, number, number, number, number];
  /** Class indices `[batch]`, when every clip has one. */
  readonly labels: Int32Array | null;
  /** Clip ids `[batch]` (empty strings where a clip has none). */
  readonly ids: readonly string[];
  /** Where the batch stands in its epoch, when the clips are epoch-tagged. */
  readonly progress: EpochProgress | null;
}

/** Options of {@link collateVideos}. */
export interface CollateOptions {
  /** `'float32'` gives [0, 1] floats, `'uint8'` the bytes. @default 'float32' */
  readonly dtype?: PixelDtype;
}

/**
 * Stacks clips of one shape into a {@link VideoBatch}. Bytes become floats by `/ 255` (as
 * OpenSTL's loaders do); floats become bytes by rounding `255·x`, clamped to [0, 255].
 */
export function collateVideos(
  options: CollateOptions = {},
): (clips: VideoClip[], progress: EpochProgress | null) => VideoBatch {
  const dtype = options.dtype ?? 'float32';
  return (clips, progress) => stackClips(clips, dtype, progress);
}

/** Stacks clips of one shape into a batch (see {@link collateVideos}). */
export function stackClips(
  clips: readonly VideoClip[],
  dtype: PixelDtype = 'float32',
  progress: EpochProgress | null = null,
): VideoBatch {
  const first = clips[0];
  if (!first) throw new ShapeError('clips', 'at least one clip', 'none', 'stackClips');
  const [t, h, w, c] = first.shape;
  const clipSize = t * h * w * c;
  const out = dtype === 'uint8' ? new Uint8Array(clips.length * clipSize) : new Float32Array(clips.length * clipSize);
  const labels = clips.every((clip) => clip.label !== undefined) ? new Int32Array(clips.length) : null;
  clips.forEach((clip, i) => {
    if (clip.shape.some((d, k) => d !== first.shape[k])) {
      throw new ShapeError(
        `clips[${i}].shape`,
        formatShape(first.shape),
        formatShape(clip.shape),
        'stackClips (every clip of a batch must have one shape; resize or crop them first)',
      );
    }
    if (clip.frames.length !== clipSize) {
      throw new ShapeError(`clips[${i}].frames.length`, String(clipSize), String(clip.frames.length), 'stackClips');
    }
    const offset = i * clipSize;
    writePixels(clip.frames, out, offset);
    if (labels) labels[i] = clip.label as number;
  });
  return {
    frames: out,
    dtype,
    shape: [clips.length, t, h, w, c],
    labels,
    ids: clips.map((clip) => clip.id ?? ''),
    progress,
  };
}

/** `float32(v / 255)` for every byte `v`. */
export const BYTE_TO_UNIT: Float32Array = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/** Copies pixels into `out` at `offset`, converting between bytes and [0, 1] floats. */
export function writePixels(source: Uint8Array | Float32Array, out: Uint8Array | Float32Array, offset: number): void {
  const n = source.length;
  if (source instanceof Uint8Array && out instanceof Uint8Array) {
    out.set(source, offset);
  } else if (source instanceof Float32Array && out instanceof Float32Array) {
    out.set(source, offset);
  } else if (source instanceof Uint8Array) {
    // float32(v / 255), computed in float64 as NumPy's `x / 255.0` then cast.
    for (let i = 0; i < n; i++) out[offset + i] = BYTE_TO_UNIT[source[i] as number] as number;
  } else {
    for (let i = 0; i < n; i++) {
      const v = Math.round((source[i] as number) * 255);
      out[offset + i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
}
