import { FileFormatError } from '@vid/core';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type Expected, expectedArrays, fixture, tempDir } from '../__fixtures__/paths.js';
import { NpyArray, parseNpy, parseNpyHeader, readNpy, serializeNpy, writeNpy } from './npy.js';
import { NpzFile, readNpz, writeNpz } from './npz.js';

let expected: Expected;
let temp: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  expected = await expectedArrays();
  temp = await tempDir();
});
afterAll(() => temp.cleanup());

const DTYPES: Record<string, string> = {
  '|u1': 'U8',
  '<f4': 'F32',
  '>f8': 'F64',
  '<i4': 'I32',
  '|b1': 'BOOL',
  '<i2': 'I16',
  '<i8': 'I64',
  '<u2': 'U16',
  '<f8': 'F64',
};

describe('.npy written by NumPy reads back exactly', () => {
  it.each([
    'u1_2x3.npy',
    'f4_3x4.npy',
    'f8_big_endian.npy',
    'i4_fortran.npy',
    'b1.npy',
    'i2_scalar.npy',
    'i8_1d.npy',
    'u2_empty.npy',
    'i4_v2.npy',
  ])('%s', async (name) => {
    const want = expected.npy[name]!;
    const got = await readNpy(fixture('arrays', name));
    expect(got.shape).toEqual(want.shape);
    expect(got.dtype).toBe(DTYPES[want.dtype]);
    const values = Array.from(got.data as ArrayLike<number | bigint>, Number);
    expect(values).toEqual(want.values);
  });

  it('parses the header as a Python literal (version, fortran order, shape)', async () => {
    const bytes = new Uint8Array(await readFile(fixture('arrays', 'i4_fortran.npy')));
    const header = parseNpyHeader(bytes, 'i4_fortran.npy');
    expect(header).toMatchObject({
      descr: '<i4',
      fortranOrder: true,
      shape: [2, 3, 4],
      version: [1, 0],
      dataOffset: 128,
    });
    const v2 = parseNpyHeader(new Uint8Array(await readFile(fixture('arrays', 'i4_v2.npy'))));
    expect(v2.version).toEqual([2, 0]);
    expect(v2.dataOffset % 64).toBe(0);
    // Double quotes, no trailing comma, a 1-tuple and extra spaces are all valid Python.
    const text = `{"descr":"<f4" ,  'shape':(3,), 'fortran_order' : False}`;
    const handmade = new Uint8Array(10 + text.length + 1);
    handmade.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, text.length + 1, 0]);
    handmade.set(new TextEncoder().encode(`${text}\n`), 10);
    expect(parseNpyHeader(handmade)).toMatchObject({ descr: '<f4', shape: [3], fortranOrder: false });
  });

  it('writes files that match NumPy byte for byte', async () => {
    for (const name of ['u1_2x3.npy', 'f4_3x4.npy', 'i8_1d.npy', 'b1.npy', 'i2_scalar.npy']) {
      const original = new Uint8Array(await readFile(fixture('arrays', name)));
      expect(serializeNpy(parseNpy(original, name)), name).toEqual(original);
    }
    const path = join(temp.dir, 'roundtrip.npy');
    await writeNpy(path, { dtype: 'F32', shape: [2, 2], data: Float32Array.from([1, 2.5, -3, 4]) });
    expect(Array.from((await readNpy(path)).data as Float32Array)).toEqual([1, 2.5, -3, 4]);
  });

  it('reads slabs with positioned reads', async () => {
    const array = await NpyArray.open(fixture('arrays', 'f4_3x4.npy'));
    try {
      const all = expected.npy['f4_3x4.npy']!.values;
      const row = await array.readSlab([1]);
      expect(row.shape).toEqual([4]);
      expect(Array.from(row.data as Float32Array)).toEqual(all.slice(4, 8));
      const block = await array.readSlab([
        [1, 3],
        [1, 3],
      ]);
      expect(block.shape).toEqual([2, 2]);
      expect(Array.from(block.data as Float32Array)).toEqual([all[5], all[6], all[9], all[10]]);
      const column = await array.readSlab([[0, 3], 2]);
      expect(Array.from(column.data as Float32Array)).toEqual([all[2], all[6], all[10]]);
      await expect(array.readSlab([3])).rejects.toThrow(/index 3 on axis 0 is outside \[0, 3\)/);
    } finally {
      await array.close();
    }
  });
});

describe('big files are read by slabs, never whole', () => {
  it('reading one sequence of a time-major file reads only its bytes', async () => {
    const bytes = new Uint8Array(await readFile(fixture('arrays', 'mnist_test_seq_small.npy'))); // [6, 3, 16, 16]
    const reads: Array<[number, number]> = [];
    const array = await NpyArray.fromReader(
      {
        name: 'counted.npy',
        read: async (offset, length) => {
          reads.push([offset, length]);
          return bytes.subarray(offset, offset + length);
        },
        close: async () => undefined,
      },
      bytes.byteLength,
    );
    reads.length = 0;
    const sequence = await array.readSlab([[0, 6], 1]);
    expect(sequence.shape).toEqual([6, 16, 16]);
    // Six positioned reads of one 16 × 16 frame each, at stride 3 frames.
    expect(reads).toEqual([0, 1, 2, 3, 4, 5].map((t) => [128 + (t * 3 + 1) * 256, 256]));
    expect(reads.reduce((n, [, length]) => n + length, 0)).toBe(1536);
  });
});

describe('.npz, stored and deflated', () => {
  it.each(['stored.npz', 'deflated.npz'])('%s reads back exactly', async (name) => {
    const arrays = await readNpz(fixture('arrays', name));
    expect([...arrays.keys()].sort()).toEqual(['images', 'weights']);
    for (const key of ['images', 'weights']) {
      const want = expected.npz[key]!;
      const got = arrays.get(key)!;
      expect(got.shape).toEqual(want.shape);
      expect(Array.from(got.data as ArrayLike<number>)).toEqual(want.values);
    }
  });

  it('reads slabs of stored members without inflating, and of deflated ones after inflating', async () => {
    for (const [name, stored] of [
      ['stored.npz', true],
      ['deflated.npz', false],
    ] as const) {
      const npz = await NpzFile.open(fixture('arrays', name));
      try {
        expect(npz.isStored('images')).toBe(stored);
        const slab = await (await npz.array('images')).readSlab([2]);
        expect(Array.from(slab.data as Uint8Array)).toEqual(expected.npz.images!.values.slice(30, 45));
      } finally {
        await npz.close();
      }
    }
  });

  it('round-trips through writeNpz, stored and compressed', async () => {
    for (const compress of [false, true]) {
      const path = join(temp.dir, `out-${compress}.npz`);
      await writeNpz(
        path,
        {
          x: { dtype: 'U8', shape: [3], data: Uint8Array.from([1, 2, 3]) },
          y: { dtype: 'I32', shape: [1, 2], data: Int32Array.from([-1, 7]) },
        },
        { compress },
      );
      const back = await readNpz(path);
      expect(Array.from(back.get('x')!.data as Uint8Array)).toEqual([1, 2, 3]);
      expect(Array.from(back.get('y')!.data as Int32Array)).toEqual([-1, 7]);
    }
  });
});

describe('bad .npy/.npz input gives errors that name the file', () => {
  it('a missing file', async () => {
    const path = join(temp.dir, 'nope.npy');
    await expect(readNpy(path)).rejects.toThrow(FileFormatError);
    await expect(readNpy(path)).rejects.toThrow(`${path}: no such file`);
  });

  it('a truncated file', async () => {
    const path = join(temp.dir, 'truncated.npy');
    const bytes = await readFile(fixture('arrays', 'f4_3x4.npy'));
    await writeFile(path, bytes.subarray(0, bytes.length - 5));
    await expect(readNpy(path)).rejects.toThrow(
      new RegExp(`${path}: truncated: shape \\[3, 4\\] of <f4 needs 176 bytes, the file has 171`),
    );
    await writeFile(path, bytes.subarray(0, 30));
    await expect(readNpy(path)).rejects.toThrow(/truncated: the \.npy header needs 128 bytes, the file has 30/);
  });

  it('a wrong magic number', async () => {
    const path = join(temp.dir, 'magic.npy');
    await writeFile(path, new TextEncoder().encode('PK\u0003\u0004 this is not numpy at all'));
    await expect(readNpy(path)).rejects.toThrow(new RegExp(`${path}: not a .npy file: wrong magic number`));
  });

  it('an unsupported dtype and a broken header', () => {
    const make = (text: string): Uint8Array => {
      const out = new Uint8Array(10 + text.length);
      out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, text.length, 0]);
      out.set(new TextEncoder().encode(text), 10);
      return out;
    };
    expect(() => parseNpy(make("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }\n"), 'c.npy')).toThrow(
      /c\.npy: unsupported \.npy dtype "<c8"/,
    );
    expect(() => parseNpy(make("{'descr': '<f4', 'fortran_order': False, 'shape': (1,\n"), 'h.npy')).toThrow(
      /h\.npy: corrupted \.npy header/,
    );
  });

  it('a file that is not a ZIP archive, and a missing key', async () => {
    const path = join(temp.dir, 'not.npz');
    await copyFile(fixture('arrays', 'u1_2x3.npy'), path);
    await expect(NpzFile.open(path)).rejects.toThrow(new RegExp(`${path}: not an .npz file`));
    const npz = await NpzFile.open(fixture('arrays', 'stored.npz'));
    try {
      await expect(npz.read('labels')).rejects.toThrow(/no array "labels" in the \.npz \(it has: images, weights\)/);
    } finally {
      await npz.close();
    }
  });
});
