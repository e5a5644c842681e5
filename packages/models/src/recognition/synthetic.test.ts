import { describe, expect, it } from 'vitest';

import { movingGlyphVideos } from './synthetic.js';

/** Column extent [min, max] of the lit pixels of frame t of video v. */
function columns(set: ReturnType<typeof movingGlyphVideos>, v: number, t: number): [number, number] {
  const [, frames, size] = set.shape;
  let low = Infinity;
  let high = -Infinity;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (set.videos[((v * frames + t) * size + y) * size + x]! > 0.5) {
        low = Math.min(low, x);
        high = Math.max(high, x);
      }
    }
  }
  return [low, high];
}

describe('movingGlyphVideos', () => {
  it('direction: class 1 moves right, class 0 left, one pixel per frame; seeded', () => {
    const set = movingGlyphVideos({ count: 40, frames: 6, size: 12, seed: 3 });
    expect(set.shape).toEqual([40, 6, 12, 12, 1]);
    expect(set.videos.length).toBe(40 * 6 * 144);
    for (let v = 0; v < 40; v++) {
      const step = columns(set, v, 1)[0] - columns(set, v, 0)[0];
      expect(step).toBe(set.labels[v] === 1 ? 1 : -1);
      expect(columns(set, v, 5)[0] - columns(set, v, 0)[0]).toBe(5 * step);
    }
    const counts = [0, 1].map((c) => set.labels.filter((l) => l === c).length);
    expect(Math.min(...counts)).toBeGreaterThan(10);
    expect(movingGlyphVideos({ count: 40, frames: 6, size: 12, seed: 3 }).videos).toEqual(set.videos);
    expect(movingGlyphVideos({ count: 40, frames: 6, size: 12, seed: 4 }).videos).not.toEqual(set.videos);
  });

  it('delayed: the glyph rests for the first half, then moves left (class 0) or right (class 1)', () => {
    const set = movingGlyphVideos({ count: 30, frames: 8, size: 16, task: 'delayed', seed: 5 });
    for (let v = 0; v < 30; v++) {
      const x = Array.from({ length: 8 }, (_, t) => columns(set, v, t)[0]);
      for (let t = 1; t <= 4; t++) expect(x[t]).toBe(x[0]);
      for (let t = 5; t < 8; t++) expect(x[t]! - x[t - 1]!).toBe(set.labels[v] === 1 ? 1 : -1);
      // The resting position is uniform over 3 … 9 (room for 3 pixels either way) in both classes.
      expect(x[0]).toBeGreaterThanOrEqual(3);
      expect(x[0]).toBeLessThanOrEqual(9);
    }
  });

  it('rejects impossible layouts', () => {
    expect(() => movingGlyphVideos({ count: 2, frames: 10, size: 8 })).toThrow(
      /size: expected at least glyphSize \+ frames − 1 = 13/,
    );
    expect(() => movingGlyphVideos({ count: 0 })).toThrow(/count: expected a positive integer, received 0/);
    expect(() => movingGlyphVideos({ count: 2, task: 'spin' as never })).toThrow(
      /task: expected one of "direction", "delayed"/,
    );
    expect(() => movingGlyphVideos({ count: 2, noise: -1 })).toThrow(/noise: expected a number ≥ 0, received -1/);
  });
});
