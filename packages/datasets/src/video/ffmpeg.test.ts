import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { fixture, tempDir } from '../__fixtures__/paths.js';
import { makeFlatVideo } from '../__fixtures__/videos.js';
import { countVideoFrames, decodeVideo, findFfmpeg, hasFfmpeg, readVideo } from './ffmpeg.js';

const ffmpegAvailable = await hasFfmpeg();
const npmFfmpeg = ((): string | null => {
  try {
    return (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
  } catch {
    return null;
  }
})();
let temp: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  temp = await tempDir('vid-ffmpeg-');
});
afterAll(() => temp.cleanup());

describe.runIf(ffmpegAvailable)('decoding with ffmpeg', () => {
  it('streams every frame, gray or RGB, and stops ffmpeg on an early break', async () => {
    const ffmpeg = await findFfmpeg();
    const file = join(temp.dir, 'clip.avi');
    await makeFlatVideo(ffmpeg, file, 30, { base: 0, step: 8 });
    expect(await countVideoFrames(file)).toBe(30);
    const video = await readVideo(file);
    expect(video.shape).toEqual([30, 24, 32, 1]);
    for (let t = 0; t < 30; t += 7) expect(Math.abs(video.frames[t * 768 + 5]! - 8 * t)).toBeLessThanOrEqual(3);
    const rgb = await readVideo(file, { pixelFormat: 'rgb', maxFrames: 3 });
    expect(rgb.shape).toEqual([3, 24, 32, 3]);
    let seen = 0;
    for await (const frame of decodeVideo(file)) {
      expect(frame.width).toBe(32);
      if (++seen === 2) break;
    }
    expect(seen).toBe(2);
  });

  it('names a file that is missing or that ffmpeg cannot decode, and never hangs', async () => {
    await expect(readVideo(join(temp.dir, 'missing.avi'))).rejects.toThrow(
      `${join(temp.dir, 'missing.avi')}: no such file (expected a video file)`,
    );
    const broken = fixture('kth', 'person02_walking_d3_uncomp.avi');
    await expect(readVideo(broken)).rejects.toThrow(new RegExp(`${broken}: ffmpeg could not decode this video`));
    await expect(countVideoFrames(broken)).rejects.toThrow(new RegExp(`${broken}: ffmpeg could not read this video`));
  });
});

describe.runIf(npmFfmpeg !== null)(
  'the npm-installed ffmpeg (@ffmpeg-installer/ffmpeg, used where no system ffmpeg exists)',
  () => {
    it('decodes the committed AVI and WebM fixtures', async () => {
      const avi = await readVideo(fixture('kth', 'person01_boxing_d1_uncomp.avi'), { ffmpegPath: npmFfmpeg! });
      expect(avi.shape).toEqual([13, 24, 32, 1]);
      expect(Math.abs(avi.frames[12 * 768]! - 190)).toBeLessThanOrEqual(3);
      const webm = await readVideo(fixture('ssv2', 'videos', '102.webm'), {
        ffmpegPath: npmFfmpeg!,
        pixelFormat: 'rgb',
      });
      expect(webm.shape).toEqual([8, 16, 24, 3]);
      expect(await countVideoFrames(fixture('ssv2', 'videos', '201.webm'), { ffmpegPath: npmFfmpeg! })).toBe(10);
    });
  },
);
