import { describe, expect, it } from 'vitest';

import { expectedArrays } from '../__fixtures__/paths.js';
import { resizeFrames, resizeImage } from './resize.js';

describe('bilinear resize with half-pixel centres (OpenCV INTER_LINEAR sampling)', () => {
  it('matches scikit-image resize(order=1, mode="edge", anti_aliasing=False) up and down', async () => {
    const { resize } = await expectedArrays();
    const [h, w] = resize.input.shape as [number, number];
    const bytes = Uint8Array.from(resize.input.values);
    const floats = Float32Array.from(resize.input.values);
    for (const [key, want] of Object.entries(resize.outputs)) {
      const [oh, ow] = want.shape as [number, number];
      const got = resizeImage(floats, h, w, 1, oh, ow);
      let worst = 0;
      want.values.forEach((v, i) => (worst = Math.max(worst, Math.abs(got[i]! - v))));
      expect(worst, key).toBeLessThan(1e-4);
      const gotBytes = resizeImage(bytes, h, w, 1, oh, ow);
      want.values.forEach((v, i) => expect(Math.abs(gotBytes[i]! - v), `${key}[${i}]`).toBeLessThanOrEqual(0.5 + 1e-9));
    }
  });

  it('nearest, multi-channel, identity and whole clips', () => {
    const rgb = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]); // 2×2×3
    expect(Array.from(resizeImage(rgb, 2, 2, 3, 4, 4, { filter: 'nearest' }).subarray(0, 12))).toEqual([
      1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6,
    ]);
    expect(resizeImage(rgb, 2, 2, 3, 2, 2)).toBe(rgb);
    const clip = resizeFrames(new Uint8Array(3 * 4 * 4).fill(9), [3, 4, 4, 1], 2, 6);
    expect(clip.length).toBe(36);
    expect(clip.every((v) => v === 9)).toBe(true);
    expect(() => resizeImage(rgb, 3, 3, 3, 1, 1)).toThrow(
      /image: expected 27 values for \[3, 3, 3\], received "12 values"/,
    );
  });
});
