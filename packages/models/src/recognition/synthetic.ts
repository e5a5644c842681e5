/**
 * Seeded synthetic video tasks for recognition: a small random glyph moving across a dark frame.
 * They need no download, run in milliseconds, and have labels that only motion can tell — the
 * shape and the covered positions carry no information about the class.
 */
import { ConfigError, Rng, assertKnownKeys, oneOf, positiveInteger } from '@vid/core';

/**
 * `'direction'`: class 0 moves left, class 1 moves right (one pixel per frame).
 * `'delayed'`: the glyph rests for the first half of the video (frames 0 … ⌊T/2⌋), then moves
 * left (class 0) or right (class 1) — the class shows only in the second half, for early
 * recognition.
 */
export type MovingGlyphTask = 'direction' | 'delayed';

/** Options of {@link movingGlyphVideos}. */
export interface MovingGlyphOptions {
  /** Number of videos. */
  readonly count: number;
  /** Frames per video. @default 8 */
  readonly frames?: number;
  /** Frame height and width. @default 16 */
  readonly size?: number;
  /** Glyph height and width (a random binary pattern, at least half on). @default 4 */
  readonly glyphSize?: number;
  /** @default 'direction' */
  readonly task?: MovingGlyphTask;
  /** Standard deviation of Gaussian pixel noise added to every frame. @default 0 */
  readonly noise?: number;
  /** Seed of everything random (glyphs, positions, labels, noise). @default 0 */
  readonly seed?: number;
}

/** Videos on the host, ready for `tf.tensor5d(videos, shape)`. */
export interface SyntheticVideos {
  /** `[count, frames, size, size, 1]`, row-major, values in [0, 1] (plus noise). */
  readonly videos: Float32Array;
  readonly shape: readonly [number, number, number, number, number];
  /** Class of each video. */
  readonly labels: Int32Array;
}

const OPTION_KEYS = ['count', 'frames', 'size', 'glyphSize', 'task', 'noise', 'seed'] as const;

/**
 * Videos of a random glyph moving left or right (see {@link MovingGlyphTask}). Each video draws
 * its own glyph, row, start column and label. For `'direction'` the start column is uniform over
 * the positions that keep the whole path inside the frame, so that the set of covered positions
 * has the same distribution in both classes (the start alone does not: a glyph at the left edge
 * must be moving right); for `'delayed'` it is uniform over the positions from which both
 * directions fit, so that the resting glyph carries no information about the class.
 */
export function movingGlyphVideos(options: MovingGlyphOptions): SyntheticVideos {
  const context = 'movingGlyphVideos';
  assertKnownKeys(options, OPTION_KEYS, context);
  const count = positiveInteger(options.count, 'count', context);
  const frames = positiveInteger(options.frames ?? 8, 'frames', context);
  const size = positiveInteger(options.size ?? 16, 'size', context);
  const glyph = positiveInteger(options.glyphSize ?? 4, 'glyphSize', context);
  const task = oneOf(options.task ?? 'direction', ['direction', 'delayed'] as const, 'task', context);
  const noise = options.noise ?? 0;
  if (typeof noise !== 'number' || !(noise >= 0)) throw new ConfigError('noise', 'a number ≥ 0', noise, context);
  if (glyph + frames - 1 > size) {
    throw new ConfigError(
      'size',
      `at least glyphSize + frames − 1 = ${glyph + frames - 1} (room for the path)`,
      size,
      context,
    );
  }
  if (task === 'delayed' && frames < 3)
    throw new ConfigError('frames', "at least 3 for task 'delayed'", frames, context);
  const moving = frames - 1 - Math.floor(frames / 2); // pixels travelled in the second half ('delayed')
  if (task === 'delayed' && glyph + 2 * moving > size) {
    throw new ConfigError(
      'size',
      `at least glyphSize + 2 · ${moving} = ${glyph + 2 * moving} (room to move either way)`,
      size,
      context,
    );
  }
  const rng = new Rng(options.seed ?? 0);
  const frameSize = size * size;
  const videos = new Float32Array(count * frames * frameSize);
  const labels = new Int32Array(count);
  const half = Math.floor(frames / 2);
  for (let v = 0; v < count; v++) {
    const label = rng.int(2);
    labels[v] = label;
    // Column offsets of the path relative to the start, frame by frame.
    const direction = label === 1 ? 1 : -1;
    const offsets: number[] = [];
    for (let t = 0; t < frames; t++) offsets.push(direction * (task === 'delayed' ? Math.max(0, t - half) : t));
    const low = Math.min(...offsets);
    const high = Math.max(...offsets);
    // 'direction': uniform over the starts whose path fits. 'delayed': uniform over the starts from
    // which both directions fit, so that the resting glyph says nothing about the class.
    const start =
      task === 'direction'
        ? -low + rng.int(size - glyph - (high - low) + 1)
        : moving + rng.int(size - glyph - 2 * moving + 1);
    const row = rng.int(size - glyph + 1);
    const pattern = glyphPattern(glyph, rng);
    for (let t = 0; t < frames; t++) {
      const base = (v * frames + t) * frameSize;
      const column = start + (offsets[t] as number);
      for (let y = 0; y < glyph; y++) {
        for (let x = 0; x < glyph; x++) videos[base + (row + y) * size + column + x] = pattern[y * glyph + x] as number;
      }
    }
  }
  if (noise > 0) for (let i = 0; i < videos.length; i++) videos[i] = (videos[i] as number) + noise * rng.normal();
  return { videos, shape: [count, frames, size, size, 1], labels };
}

/** A random binary glyph with at least half of its pixels on, and its border rows/columns used. */
function glyphPattern(size: number, rng: Rng): Float32Array {
  for (;;) {
    const pattern = new Float32Array(size * size);
    for (let i = 0; i < pattern.length; i++) pattern[i] = rng.uniform() < 0.6 ? 1 : 0;
    const on = pattern.reduce((a, b) => a + b, 0);
    const row = (y: number) => pattern.slice(y * size, (y + 1) * size).some((p) => p > 0);
    const column = (x: number) =>
      Array.from({ length: size }, (_, y) => pattern[y * size + x] as number).some((p) => p > 0);
    if (on >= pattern.length / 2 && row(0) && row(size - 1) && column(0) && column(size - 1)) return pattern;
  }
}
