import { FileFormatError } from '@vid/core';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type Expected, expectedArrays, fixture, tempDir } from '../__fixtures__/paths.js';
import { parseIdx, parseIdxHeader, readIdx, serializeIdx } from './idx.js';

let expected: Expected;
let temp: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  expected = await expectedArrays();
  temp = await tempDir();
});
afterAll(() => temp.cleanup());

describe('IDX reader', () => {
  it('reads IDX files written with NumPy (bytes, big-endian float and short), plain and gzip', async () => {
    for (const name of ['tiny-images-idx3-ubyte', 'tiny-images-idx3-ubyte.gz']) {
      const got = await readIdx(fixture('arrays', name));
      const want = expected.idx['tiny-images-idx3-ubyte']!;
      expect(got.dtype).toBe('U8');
      expect(got.shape).toEqual(want.shape);
      expect(Array.from(got.data as Uint8Array)).toEqual(want.values);
    }
    const floats = await readIdx(fixture('arrays', 'tiny-idx2-float'));
    expect(floats).toMatchObject({ dtype: 'F32', shape: [2, 3] });
    expect(Array.from(floats.data as Float32Array)).toEqual(expected.idx['tiny-idx2-float']!.values);
    const shorts = await readIdx(fixture('arrays', 'tiny-idx1-short'));
    expect(Array.from(shorts.data as Int16Array)).toEqual([-300, 7, 32000]);
  });

  it('parses the header: magic, type code, rank and sizes', async () => {
    const bytes = new Uint8Array(await readFile(fixture('arrays', 'tiny-images-idx3-ubyte')));
    expect(parseIdxHeader(bytes)).toEqual({ magic: 0x803, dtype: 'U8', shape: [3, 4, 5], dataOffset: 16 });
    const round = serializeIdx(parseIdx(bytes));
    expect(round).toEqual(bytes);
  });

  it('rejects a wrong magic number, a truncated file and trailing bytes, naming the file', async () => {
    const bytes = new Uint8Array(await readFile(fixture('arrays', 'tiny-images-idx3-ubyte')));
    const path = join(temp.dir, 'bad-idx');
    await writeFile(path, Uint8Array.from([0x1a, 0x2b, 0x08, 0x03, ...bytes.subarray(4)]));
    await expect(readIdx(path)).rejects.toThrow(new RegExp(`${path}: not an IDX file: wrong magic number 0x1a2b0803`));
    await writeFile(path, bytes.subarray(0, 40));
    await expect(readIdx(path)).rejects.toThrow(
      new RegExp(`${path}: truncated: shape \\[3, 4, 5\\] needs 76 bytes, the file has 40`),
    );
    await writeFile(path, Uint8Array.from([...bytes, 1, 2]));
    await expect(readIdx(path)).rejects.toThrow(/2 unexpected bytes/);
    const gz = join(temp.dir, 'bad.gz');
    const packed = await readFile(fixture('arrays', 'tiny-images-idx3-ubyte.gz'));
    await writeFile(gz, packed.subarray(0, 30));
    await expect(readIdx(gz)).rejects.toThrow(FileFormatError);
    await expect(readIdx(gz)).rejects.toThrow(new RegExp(`${gz}: corrupted or truncated gzip data`));
  });
});
