/**
 * Clips for training and evaluation: random access to clips, cutting and resizing them to a
 * configuration, and stacking them into float32 batches `[batch, time, height, width, channels]`.
 */
import { FileFormatError, Rng } from '@vid/core';
import { type VideoBatch, type VideoClip, resizeFrames, stackClips } from '@vid/datasets';

/** Random access to clips. */
export interface ClipSource {
  readonly length: number;
  get(index: number): Promise<VideoClip> | VideoClip;
  close?(): Promise<void>;
}

/**
 * Checks that float pixels are finite and in [0, 1]: a FileFormatError names the source, the
 * clip, and the first bad value's index (and frame, row, column).
 */
export function assertPixels(clip: VideoClip, source: string): void {
  const { frames } = clip;
  if (frames instanceof Uint8Array) return;
  const [, h, w, c] = clip.shape;
  for (let i = 0; i < frames.length; i++) {
    const value = frames[i] as number;
    if (value >= 0 && value <= 1) continue;
    const pixel = Math.floor(i / c);
    const where = `index ${i} (frame ${Math.floor(pixel / (h * w))}, row ${Math.floor(pixel / w) % h}, column ${pixel % w})`;
    const what =
      Number.isNaN(value) || !Number.isFinite(value)
        ? `holds ${value} at ${where}`
        : `holds ${value} (outside [0, 1]) at ${where}`;
    throw new FileFormatError(
      source,
      `sequence ${clip.id ?? '?'} ${what}: training data must be finite and in [0, 1] (uint8 bytes, or floats in [0, 1])`,
    );
  }
}

/** A clip cut to its first `frames` frames and checked against the configured size and [0, 1] range. */
export function fitClip(
  clip: VideoClip,
  frames: number,
  size: readonly [number, number],
  channels: number,
  source: string,
): VideoClip {
  const [t, h, w, c] = clip.shape;
  if (t < frames)
    throw new FileFormatError(
      source,
      `clip ${clip.id ?? ''} has ${t} frames, the configuration needs ${frames} (inputFrames + futureFrames)`,
    );
  if (c !== channels)
    throw new FileFormatError(source, `clips have ${c} channels, the configuration has data.channels = ${channels}`);
  assertPixels(clip, source);
  let out: VideoClip =
    t === frames ? clip : { ...clip, frames: clip.frames.subarray(0, frames * h * w * c), shape: [frames, h, w, c] };
  if (h !== size[0] || w !== size[1]) {
    out = {
      ...out,
      frames: resizeFrames(out.frames, out.shape, size[0], size[1]),
      shape: [frames, size[0], size[1], c],
    };
  }
  return out;
}

/** Stacks clips into a float32 batch. */
export function toBatch(clips: readonly VideoClip[]): VideoBatch {
  return stackClips(clips, 'float32');
}

/** Reads clips `[start, start + count)` of a source as one float32 batch. */
export async function readClips(source: ClipSource, start: number, count: number): Promise<VideoBatch> {
  const clips: VideoClip[] = [];
  for (let i = start; i < Math.min(source.length, start + count); i++) clips.push(await source.get(i));
  return toBatch(clips);
}

/**
 * The training order: position p of the data stream reads clip `order(epoch)[p mod length]`, where
 * each epoch has its own permutation seeded by (seed, epoch). A pure function of the position, so
 * a resumed run reads exactly the clips the uninterrupted run would have (one epoch's order cached).
 */
export function epochShuffled(seed: number | string, length: number): (position: number) => number {
  let cached: { epoch: number; order: ArrayLike<number> } | undefined;
  return (position) => {
    const epoch = Math.floor(position / length);
    if (cached?.epoch !== epoch) cached = { epoch, order: new Rng(`${seed}:order:${epoch}`).permutation(length) };
    return cached.order[position % length] as number;
  };
}
