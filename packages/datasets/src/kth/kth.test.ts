import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { collateVideos } from '../data/video.js';
import { fixture, tempDir } from '../__fixtures__/paths.js';
import { makeFlatVideo, makeKthFrames } from '../__fixtures__/videos.js';
import { FfmpegNotFoundError, findFfmpeg, hasFfmpeg } from '../video/ffmpeg.js';
import {
  KTH_ACTIONS,
  KthDataset,
  nonOverlappingClipStarts,
  parseKthSequences,
  predrnnClipStarts,
  scanKth,
} from './kth.js';

const ffmpegAvailable = await hasFfmpeg();
let temp: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  temp = await tempDir('vid-kth-');
});
afterAll(() => temp.cleanup());

describe('KTH clip starts', () => {
  it('walks each video backwards as OpenSTL does: stride = length, 3 for jogging and running', () => {
    // 13 frames, clips of 4, stride 4: from the end, windows end at frames 13, 9, 5 → starts 9, 5, 1 (0-based).
    expect(
      predrnnClipStarts(
        [...Array(13).keys()].map((i) => i + 1),
        4,
        4,
      ),
    ).toEqual([1, 5, 9]);
    // 11 frames, stride 3: windows end at 11, 8, 5 → starts 7, 4, 1.
    expect(
      predrnnClipStarts(
        [...Array(11).keys()].map((i) => i + 1),
        4,
        3,
      ),
    ).toEqual([1, 4, 7]);
    // A gap in the frame numbers (frame 6 missing) breaks the windows that span it.
    expect(predrnnClipStarts([1, 2, 3, 4, 5, 7, 8, 9, 10], 4, 4)).toEqual([1, 5]);
    expect(nonOverlappingClipStarts(13, 4)).toEqual([0, 4, 8]);
  });

  it('parses 00sequences.txt', () => {
    const text =
      'header line\n\nperson01_boxing_d1\t\tframes\t1-95, 96-185, 186-245,246-360\nperson13_handclapping_d3\t\tframes\t\nperson25_running_d4 frames 1-50 51-99\n';
    const sequences = parseKthSequences(text);
    expect(sequences.get('person01_boxing_d1')).toEqual([
      [1, 95],
      [96, 185],
      [186, 245],
      [246, 360],
    ]);
    expect(sequences.get('person25_running_d4')).toEqual([
      [1, 50],
      [51, 99],
    ]);
    expect(sequences.has('person13_handclapping_d3')).toBe(false);
    expect(() => parseKthSequences('person01_kicking_d1 frames 1-5', 'seq.txt')).toThrow(
      /seq\.txt: line 1: cannot read the video name "person01_kicking_d1"/,
    );
  });
});

describe('KTH extracted-frames layout (PNG, no ffmpeg needed)', () => {
  let root: string;
  beforeAll(async () => {
    root = join(temp.dir, 'frames');
    await makeKthFrames(root, 'person01_boxing_d1', range(1, 13), (n) => 10 * n);
    await makeKthFrames(root, 'person02_running_d2', range(1, 11), (n) => 200 - 10 * n, [12, 16], true);
    await makeKthFrames(root, 'person17_walking_d1', [1, 2, 3, 4, 5, 7, 8, 9, 10], (n) => n);
    await makeKthFrames(root, 'person18_jogging_d4', range(1, 9), (n) => 3 * n);
  });

  it('finds the videos and counts clips per protocol and split', async () => {
    const videos = await scanKth(root);
    expect(videos.map((v) => v.name)).toEqual([
      'person01_boxing_d1',
      'person18_jogging_d4',
      'person02_running_d2',
      'person17_walking_d1',
    ]);
    const train = await KthDataset.open(root, { protocol: 'predrnn', split: 'train', sequenceLength: 4, size: [6, 8] });
    expect(train.clips.map((c) => [c.video.name, c.start])).toEqual([
      ['person01_boxing_d1', 1],
      ['person01_boxing_d1', 5],
      ['person01_boxing_d1', 9],
      ['person02_running_d2', 1],
      ['person02_running_d2', 4],
      ['person02_running_d2', 7],
    ]);
    const test = await KthDataset.open(root, { protocol: 'predrnn', split: 'test', sequenceLength: 4, size: [6, 8] });
    // jogging (9 frames, stride 3): starts 5, 2; walking with frame 6 missing: starts 5, 1.
    expect(test.clips.map((c) => [c.video.name, c.start])).toEqual([
      ['person18_jogging_d4', 2],
      ['person18_jogging_d4', 5],
      ['person17_walking_d1', 1],
      ['person17_walking_d1', 5],
    ]);
    const conv = await KthDataset.open(root, { protocol: 'conv-tt-lstm', split: 'train', sequenceLength: 4 });
    expect(conv.clips.map((c) => c.start)).toEqual([0, 4, 8, 0, 4]);
  });

  it('gives clips [T, H, W, 1] resized, with labels and the right frames', async () => {
    const train = await KthDataset.open(root, { protocol: 'predrnn', split: 'train', sequenceLength: 4, size: [6, 8] });
    const clip = await train.get(1); // boxing, frames 6–9 (0-based start 5): values 60, 70, 80, 90
    expect(clip.shape).toEqual([4, 6, 8, 1]);
    expect(clip.label).toBe(KTH_ACTIONS.indexOf('boxing'));
    expect([0, 1, 2, 3].map((t) => clip.frames[t * 48])).toEqual([60, 70, 80, 90]);
    const running = await train.get(3); // RGB PNG: channel 0; values 200 − 10·(2..5)
    expect(running.label).toBe(KTH_ACTIONS.indexOf('running'));
    expect([0, 1, 2, 3].map((t) => running.frames[t * 48])).toEqual([180, 170, 160, 150]);
    const conv = await KthDataset.open(root, { protocol: 'conv-tt-lstm', split: 'train', sequenceLength: 4 });
    expect((await conv.get(0)).shape).toEqual([4, 128, 128, 1]);
    const batches = await train.dataset({ shuffle: true, seed: 1 }).batch(4, { collate: collateVideos() }).toArray();
    expect(batches.map((b) => b.shape[0])).toEqual([4, 2]);
    expect(batches[1]!.progress).toMatchObject({ epoch: 0, seen: 6, epochSize: 6 });
    const values = batches.flatMap((b) => Array.from(b.frames));
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThanOrEqual(1);
    expect(batches.flatMap((b) => Array.from(b.labels!)).sort()).toEqual([0, 0, 0, 4, 4, 4]);
  });

  it('names the directory when it is missing or holds no KTH videos', async () => {
    await expect(KthDataset.open(join(temp.dir, 'missing'))).rejects.toThrow(
      `${join(temp.dir, 'missing')}: no such KTH directory`,
    );
    const empty = join(temp.dir, 'empty');
    await mkdir(empty);
    await expect(KthDataset.open(empty)).rejects.toThrow(`${empty}: no KTH videos found`);
    await expect(KthDataset.open(root, { protocol: 'predrnn', split: 'validation' })).rejects.toThrow(
      /split: expected one of train, test for protocol "predrnn"/,
    );
    await expect(KthDataset.open(root, { protocol: 'official' })).rejects.toThrow(/00sequences\.txt: no such file/);
  });
});

describe('ffmpeg detection', () => {
  it('a missing ffmpeg gives an error that says how to install it', async () => {
    const error = await findFfmpeg('/nonexistent/bin/ffmpeg').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FfmpegNotFoundError);
    expect((error as Error).message).toMatch(
      /ffmpeg was not found \(looked at: \/nonexistent\/bin\/ffmpeg\).*apt-get install -y ffmpeg.*VID_FFMPEG/,
    );
  });

  it('an ffmpeg path that does not exist gives the install error for the raw layout (as on a machine without ffmpeg)', async () => {
    await expect(
      KthDataset.open(fixture('kth'), { layout: 'avi', split: 'test', ffmpegPath: '/nonexistent/ffmpeg' }),
    ).rejects.toThrow(/ffmpeg was not found .*apt-get install -y ffmpeg/);
  });

  it.runIf(!ffmpegAvailable)('without ffmpeg, decoding an AVI raises the install error', async () => {
    await expect(KthDataset.open(fixture('kth'), { layout: 'avi' })).rejects.toThrow(FfmpegNotFoundError);
  });
});

describe.runIf(ffmpegAvailable)('KTH raw layout (.avi decoded by ffmpeg)', () => {
  let ffmpeg: string;
  let root: string;
  beforeAll(async () => {
    ffmpeg = await findFfmpeg();
    root = join(temp.dir, 'avi');
    await mkdir(join(root, 'boxing'), { recursive: true });
    await makeFlatVideo(ffmpeg, join(root, 'boxing', 'person03_boxing_d2_uncomp.avi'), 13, { base: 10, step: 15 });
    await makeFlatVideo(ffmpeg, join(root, 'person04_jogging_d1_uncomp.avi'), 11, { base: 200, step: -12 });
    await makeFlatVideo(ffmpeg, join(root, 'person20_handwaving_d3_uncomp.avi'), 9, { base: 50, step: 5 });
    await writeFile(
      join(root, '00sequences.txt'),
      'person03_boxing_d2 frames 1-6, 7-13\nperson04_jogging_d1 frames 2-11\n',
    );
  });

  it('cuts clips per protocol from frame counts, and decodes the right frames', async () => {
    const train = await KthDataset.open(root, { split: 'train', sequenceLength: 4, size: [12, 16] });
    expect(train.clips.map((c) => [c.video.name, c.start])).toEqual([
      ['person03_boxing_d2', 1],
      ['person03_boxing_d2', 5],
      ['person03_boxing_d2', 9],
      ['person04_jogging_d1', 1],
      ['person04_jogging_d1', 4],
      ['person04_jogging_d1', 7],
    ]);
    expect((await KthDataset.open(root, { split: 'test', sequenceLength: 4 })).clips).toHaveLength(2);
    const clip = await train.get(1); // frames 6..9 of boxing: 10 + 15·(5..8)
    expect(clip.shape).toEqual([4, 12, 16, 1]);
    const got = [0, 1, 2, 3].map((t) => clip.frames[t * 192 + 100]!);
    [85, 100, 115, 130].forEach((want, t) => expect(Math.abs(got[t]! - want)).toBeLessThanOrEqual(3));
    const official = await KthDataset.open(root, { protocol: 'official', split: 'validation', sequenceLength: 3 });
    // person04 is in the official validation split: frames 2–11 give clips at frames 2, 5, 8.
    expect(official.clips.map((c) => [c.video.name, c.start])).toEqual([
      ['person04_jogging_d1', 1],
      ['person04_jogging_d1', 4],
      ['person04_jogging_d1', 7],
    ]);
    expect((await official.get(0)).shape).toEqual([3, 120, 160, 1]);
  });

  it('reads the committed fixtures (made by tooling/fixtures/datasets/make_video_fixtures.sh)', async () => {
    const kth = await KthDataset.open(fixture('kth'), {
      split: 'train',
      sequenceLength: 5,
      layout: 'avi',
      size: [24, 32],
    }).catch((e: Error) => e);
    // person02_walking_d3 is not a video: opening counts its frames and names it.
    expect(kth).toBeInstanceOf(Error);
    expect((kth as Error).message).toMatch(/person02_walking_d3_uncomp\.avi: ffmpeg could not read this video/);
    const test = await KthDataset.open(fixture('kth'), {
      split: 'test',
      sequenceLength: 5,
      layout: 'avi',
      size: [24, 32],
    });
    expect(test.clips.map((c) => c.start)).toEqual([0, 3, 6]); // running, 11 frames, stride 3
    const clip = await test.get(2);
    expect(clip.label).toBe(KTH_ACTIONS.indexOf('running'));
    const got = [0, 1, 2, 3, 4].map((t) => clip.frames[t * 768 + 300]!);
    [128, 116, 104, 92, 80].forEach((want, t) => expect(Math.abs(got[t]! - want)).toBeLessThanOrEqual(3));
  });
});

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}
