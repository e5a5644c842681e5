import { createHash } from 'node:crypto';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Dataset } from '../data/dataset.js';
import { collateVideos } from '../data/video.js';
import { NpyArray, writeNpy } from '../io/npy.js';
import { type Expected, expectedArrays, fixture, tempDir } from '../__fixtures__/paths.js';
import { digitSetFromArray } from './digits.js';
import { MovingMnistFile, writeMovingMnistFile } from './files.js';
import { MovingMnist } from './moving-mnist.js';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const toBytes = (frames: Uint8Array | Float32Array): Uint8Array =>
  frames instanceof Uint8Array ? frames : Uint8Array.from(frames, (v) => Math.round(v * 255));

let expected: Expected;
let temp: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  expected = await expectedArrays();
  temp = await tempDir();
});
afterAll(() => temp.cleanup());

describe('Moving MNIST files written by NumPy', () => {
  it.each([
    ['mnist_test_seq_small.npy', 'mnist_test_seq'],
    ['convttlstm_small.npz', 'conv-tt-lstm'],
    ['convttlstm_small_deflated.npz', 'conv-tt-lstm'],
    ['predrnn_small.npz', 'predrnn'],
  ])('%s (%s) gives the same sequences', async (name, format) => {
    const file = await MovingMnistFile.open(fixture('arrays', name));
    try {
      expect(file.format).toBe(format);
      expect(file.length).toBe(3);
      expect(file.clipShape).toEqual([6, 16, 16, 1]);
      for (let i = 0; i < 3; i++) {
        const clip = await file.get(i);
        expect(clip.shape).toEqual([6, 16, 16, 1]);
        expect(sha256(toBytes(clip.frames)), `sequence ${i}`).toBe(expected.moving_mnist_small.sha256_per_sequence[i]);
      }
      await expect(file.get(3)).rejects.toThrow(/sequence index 3 is outside \[0, 3\)/);
    } finally {
      await file.close();
    }
  });

  it('batches a file through Dataset.fromIndexed with epoch progress', async () => {
    const file = await MovingMnistFile.open(fixture('arrays', 'mnist_test_seq_small.npy'));
    try {
      const batches = await Dataset.fromIndexed(file)
        .batch(2, { collate: collateVideos({ dtype: 'uint8' }) })
        .toArray();
      expect(batches.map((b) => b.shape)).toEqual([
        [2, 6, 16, 16, 1],
        [1, 6, 16, 16, 1],
      ]);
      expect(batches.map((b) => b.progress)).toEqual([
        { epoch: 0, seen: 2, epochSize: 3, fraction: 2 / 3 },
        { epoch: 0, seen: 3, epochSize: 3, fraction: 1 },
      ]);
      expect(sha256(batches[1]!.frames as Uint8Array)).toBe(expected.moving_mnist_small.sha256_per_sequence[2]);
    } finally {
      await file.close();
    }
  });
});

describe('writing the standard files', () => {
  const digits = digitSetFromArray(
    Uint8Array.from({ length: 3 * 16 }, (_, i) => (i * 37) % 256),
    [3, 4, 4],
  );
  const generator = new MovingMnist({ digits, canvasSize: 12, sequenceLength: 5 });

  it.each(['mnist_test_seq', 'conv-tt-lstm', 'predrnn'] as const)('%s round-trips a fixed set', async (format) => {
    const set = generator.fixedSet(4, 'write');
    const path = join(temp.dir, format === 'mnist_test_seq' ? 'seq.npy' : `${format}.npz`);
    await writeMovingMnistFile(path, set, { format, compress: format === 'predrnn' });
    const file = await MovingMnistFile.open(path);
    try {
      expect(file.format).toBe(format);
      expect(file.length).toBe(4);
      for (let i = 0; i < 4; i++) expect(toBytes((await file.get(i)).frames)).toEqual((await set.get(i)).frames);
    } finally {
      await file.close();
    }
    if (format === 'mnist_test_seq') {
      const array = await NpyArray.open(path);
      expect(array.header).toMatchObject({ descr: '|u1', shape: [5, 4, 12, 12], fortranOrder: false });
      await array.close();
    }
  });

  it('names the file on bad input: wrong shape, unknown npz, truncated npy', async () => {
    const flat = join(temp.dir, 'flat.npy');
    await copyFile(fixture('arrays', 'u1_2x3.npy'), flat);
    await expect(MovingMnistFile.open(flat)).rejects.toThrow(
      new RegExp(`${flat}: expected a time-major Moving MNIST array .* found shape \\[2, 3\\]`),
    );
    await expect(MovingMnistFile.open(fixture('arrays', 'stored.npz'))).rejects.toThrow(
      /stored\.npz: not a known Moving MNIST \.npz: .* found images, weights/,
    );
    const cut = join(temp.dir, 'cut.npy');
    const bytes = await readFile(fixture('arrays', 'mnist_test_seq_small.npy'));
    await writeFile(cut, bytes.subarray(0, 1000));
    await expect(MovingMnistFile.open(cut)).rejects.toThrow(
      new RegExp(`${cut}: truncated: shape \\[6, 3, 16, 16\\] of \\|u1 needs 4736 bytes, the file has 1000`),
    );
  });
});

describe('issue 12 bug 2: the layout of a Moving MNIST .npy is stated, never guessed', () => {
  const write = async (name: string, shape: number[]): Promise<string> => {
    const path = join(temp.dir, name);
    const size = shape.reduce((a, b) => a * b, 1);
    // Sequence-major values: element (n, t, …) holds n·10 + t, so a swap of time and sequences shows.
    const data = new Uint8Array(size);
    const per = size / ((shape[0] as number) * (shape[1] as number));
    for (let n = 0; n < (shape[0] as number); n++)
      for (let t = 0; t < (shape[1] as number); t++)
        data.fill(n * 10 + t, (n * (shape[1] as number) + t) * per, (n * (shape[1] as number) + t + 1) * per);
    await writeNpy(path, { dtype: 'U8', shape, data });
    return path;
  };

  it('reads a sequence-major [N, T, H, W, 1] file with layout "sequence-major"', async () => {
    const path = await write('sequence-major.npy', [3, 5, 4, 4, 1]);
    const file = await MovingMnistFile.open(path, { layout: 'sequence-major' });
    try {
      expect(file.length).toBe(3);
      expect(file.clipShape).toEqual([5, 4, 4, 1]);
      const clip = await file.get(2);
      expect(clip.frames[0]).toBe(20);
      expect(clip.frames[16 * 4]).toBe(24);
    } finally {
      await file.close();
    }
  });

  it('refuses a 5-D file without a stated layout, and a [T, H, W, 1] clip under any layout, naming the file, the shape and the layouts tried', async () => {
    const five = await write('five.npy', [3, 5, 4, 4, 1]);
    await expect(MovingMnistFile.open(five)).rejects.toThrow(
      /five\.npy.*\[3, 5, 4, 4, 1\].*time-major.*sequence-major/,
    );
    const clip = await write('clip.npy', [10, 64, 64, 1]);
    await expect(MovingMnistFile.open(clip)).rejects.toThrow(/clip\.npy.*\[10, 64, 64, 1\].*time-major/);
    await expect(MovingMnistFile.open(clip, { layout: 'sequence-major' })).rejects.toThrow(
      /clip\.npy.*\[10, 64, 64, 1\].*sequence-major/,
    );
  });

  it('keeps time-major the default for mnist_test_seq.npy', async () => {
    const file = await MovingMnistFile.open(fixture('arrays', 'mnist_test_seq_small.npy'));
    expect(file.clipShape).toEqual([6, 16, 16, 1]);
    expect(file.length).toBe(3);
    await file.close();
  });
});
