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

/** A clip cut to its first `frames` frames and checked against the configured size. */
export function fitClip(clip: VideoClip, frames: number, size: readonly [number, number], channels: number, source: string): VideoClip {
  const [t, h, w, c] = clip.shape;
  if (t < frames) throw new FileFormatError(source, `clip ${clip.id ?? ''} has ${t} frames, the configuration needs ${frames} (inputFrames + futureFrames)`);
  if (c !== channels) throw new FileFormatError(source, `clips have ${c} channels, the configuration has data.channels = ${channels}`);
  let out: VideoClip = t === frames ? clip : { ...clip, frames: clip.frames.subarray(0, frames * h * w * c), shape: [frames, h, w, c] };
  if (h !== size[0] || w !== size[1]) {
    out = { ...out, frames: resizeFrames(out.frames, out.shape, size[0], size[1]), shape: [frames, size[0], size[1], c] };
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
