import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Rng } from '@vid/core';
import { collateVideos } from '../data/video.js';
import { fixture, tempDir } from '../__fixtures__/paths.js';
import { makeFlatVideo } from '../__fixtures__/videos.js';
import { FfmpegNotFoundError, findFfmpeg, hasFfmpeg } from '../video/ffmpeg.js';
import {
  SomethingSomethingV2,
  observedFrameCount,
  readSsv2Annotations,
  readSsv2Labels,
  sampleFrameIndices,
  templateToClassName,
} from './ssv2.js';

const ffmpegAvailable = await hasFfmpeg();
let temp: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  temp = await tempDir('vid-ssv2-');
});
afterAll(() => temp.cleanup());

describe('SSv2 annotations', () => {
  it('maps bracketed templates to labels; the test file has ids only', async () => {
    expect(templateToClassName('Putting [number of] [something] onto [something]')).toBe(
      'Putting number of something onto something',
    );
    const labelsFile = fixture('ssv2', 'something-something-v2-labels.json');
    const labels = await readSsv2Labels(labelsFile);
    expect(labels.get('Putting something into something')).toBe(1);
    const train = await readSsv2Annotations(fixture('ssv2', 'something-something-v2-train.json'), labels);
    expect(train.map((e) => [e.id, e.label])).toEqual([
      ['101', 1],
      ['102', 0],
    ]);
    expect(train[0]!.placeholders).toEqual(['a pen', 'a cup']);
    const validation = await readSsv2Annotations(fixture('ssv2', 'something-something-v2-validation.json'), labels);
    expect(validation.map((e) => e.label)).toEqual([2]);
    const test = await readSsv2Annotations(fixture('ssv2', 'something-something-v2-test.json'), labels);
    expect(test).toEqual([
      { id: '101', label: null },
      { id: '201', label: null },
    ]);
  });

  it('an unknown template is an error naming the file, the entry and the labels file', async () => {
    const path = join(temp.dir, 'bad-train.json');
    await writeFile(path, JSON.stringify([{ id: '7', template: 'Juggling [something]' }]));
    const labelsFile = fixture('ssv2', 'something-something-v2-labels.json');
    await expect(readSsv2Annotations(path, await readSsv2Labels(labelsFile), labelsFile)).rejects.toThrow(
      `${path}: entry 0 (id 7): template "Juggling [something]" (class "Juggling something") is not in ${labelsFile}`,
    );
    await writeFile(path, '[{"id": "1"');
    await expect(readSsv2Annotations(path, null)).rejects.toThrow(new RegExp(`${path}: not valid JSON`));
    await expect(SomethingSomethingV2.open(join(temp.dir, 'nothing'))).rejects.toThrow(
      `${join(temp.dir, 'nothing')}: no such Something-Something V2 directory`,
    );
  });
});

describe('frame sampling', () => {
  it('uniform: centres of equal parts; segment: one frame per segment, seeded', () => {
    expect(sampleFrameIndices(40, 4)).toEqual([5, 15, 25, 35]);
    expect(sampleFrameIndices(3, 6)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(sampleFrameIndices(40, 4, 'segment')).toEqual([5, 15, 25, 35]);
    const picks = sampleFrameIndices(40, 4, 'segment', new Rng(1));
    picks.forEach((p, i) => expect(p >= 10 * i && p < 10 * (i + 1)).toBe(true));
    expect(sampleFrameIndices(40, 4, 'segment', new Rng(1))).toEqual(picks);
  });

  it('early recognition keeps the first p% of the frames', () => {
    expect([25, 50, 75, 100].map((p) => observedFrameCount(40, p))).toEqual([10, 20, 30, 40]);
    expect(observedFrameCount(7, 25)).toBe(2);
    expect(observedFrameCount(3, 1)).toBe(1);
  });
});

describe.runIf(ffmpegAvailable)('SSv2 clips decoded from WebM by ffmpeg', () => {
  it('reads the committed fixtures: shapes, values, labels, early view', async () => {
    const train = await SomethingSomethingV2.open(fixture('ssv2'), { numFrames: 4, size: [8, 12] });
    expect(train.length).toBe(2);
    expect(train.classes).toEqual([
      'Approaching something with your camera',
      'Putting something into something',
      'Putting number of something onto something',
    ]);
    const clip = await train.get(0); // 101.webm: 12 frames at 30 + 20·n; uniform picks 1, 4, 7, 10
    expect(clip.shape).toEqual([4, 8, 12, 3]);
    expect(clip.label).toBe(1);
    const got = [0, 1, 2, 3].map((t) => clip.frames[t * 288 + 150]!);
    [50, 110, 170, 230].forEach((want, t) => expect(Math.abs(got[t]! - want)).toBeLessThanOrEqual(4));
    // Early view: the first 50% (6 frames) → picks 0, 2, 3, 5 → 30, 70, 90, 130.
    const early = await SomethingSomethingV2.open(fixture('ssv2'), {
      numFrames: 4,
      size: [8, 12],
      observedPercent: 50,
      channels: 1,
    });
    const earlyClip = await early.get(0);
    expect(earlyClip.shape).toEqual([4, 8, 12, 1]);
    [30, 70, 90, 130].forEach((want, t) =>
      expect(Math.abs(earlyClip.frames[t * 96 + 50]! - want)).toBeLessThanOrEqual(4),
    );
    const test = await SomethingSomethingV2.open(fixture('ssv2'), { split: 'test', numFrames: 2, size: 8 });
    const batch = (await test.dataset().batch(2, { collate: collateVideos() }).toArray())[0]!;
    expect(batch.shape).toEqual([2, 2, 8, 8, 3]);
    expect(batch.labels).toBeNull();
    expect(batch.ids).toEqual(['101', '201']);
  });

  it('makes clips with ffmpeg in a temporary directory, and names an undecodable video', async () => {
    const ffmpeg = await findFfmpeg();
    const root = join(temp.dir, 'ssv2');
    await cp(fixture('ssv2'), root, { recursive: true, filter: (source) => !source.endsWith('.webm') });
    await makeFlatVideo(ffmpeg, join(root, 'videos', '101.webm'), 20, { width: 16, height: 16, base: 0, step: 10 });
    await writeFile(join(root, 'videos', '102.webm'), 'not a webm file');
    const train = await SomethingSomethingV2.open(root, { numFrames: 5, sampling: 'segment', size: 16, seed: 4 });
    const clip = await train.get(0);
    expect(clip.shape).toEqual([5, 16, 16, 3]);
    // Segment sampling in training: frame i comes from segment [4i, 4i + 4).
    for (let t = 0; t < 5; t++) {
      const value = clip.frames[t * 768]!;
      expect(value).toBeGreaterThanOrEqual(40 * t - 4);
      expect(value).toBeLessThanOrEqual(40 * t + 34);
    }
    await expect(train.get(1)).rejects.toThrow(
      new RegExp(`${join(root, 'videos', '102.webm')}: ffmpeg could not decode this video`),
    );
  });
});

describe.runIf(!ffmpegAvailable)('SSv2 without ffmpeg', () => {
  it('raises the install error', async () => {
    const train = await SomethingSomethingV2.open(fixture('ssv2'));
    await expect(train.get(0)).rejects.toThrow(FfmpegNotFoundError);
  });
});
