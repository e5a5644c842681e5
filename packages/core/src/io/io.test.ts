import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { FileFormatError } from '../errors.js';
import { hasReferenceFixture, loadReferenceFixture, referenceFixturePath } from '../testing/index.js';
import {
  type HostTensor,
  bfloat16ToNumber,
  castHost,
  float16ToNumber,
  numberToBfloat16,
  numberToFloat16,
  toFloat32Array,
} from './host-tensor.js';
import { unpickle } from './pickle.js';
import {
  SafetensorsFile,
  parseSafetensors,
  readSafetensors,
  serializeSafetensors,
  writeSafetensors,
} from './safetensors.js';
import { extractStateDict, readTorchCheckpoint } from './torch.js';
import { ZipArchive, bytesSource, crc32, writeZip } from './zip.js';

const fixtures = join(import.meta.dirname, '..', '..', 'test', 'fixtures');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vid-core-io-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function decodeExpected(values: Array<number | string>): number[] {
  return values.map((v) => (typeof v === 'number' ? v : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : Number(v)));
}

describe('safetensors', () => {
  it('reads every dtype of a file written outside vid, converting F16/BF16/I64 exactly', async () => {
    const { tensors, metadata } = await readSafetensors(join(fixtures, 'dtypes.safetensors'));
    const expected = JSON.parse(await readFile(join(fixtures, 'dtypes-expected.json'), 'utf8')) as Record<
      string,
      Array<number | string>
    >;
    expect(metadata.made_by).toContain('make_fixtures.py');
    expect([...tensors.keys()]).toEqual(Object.keys(expected));
    for (const [name, values] of Object.entries(expected)) {
      const tensor = tensors.get(name) as HostTensor;
      if (tensor.dtype === 'I64') {
        expect([...(tensor.data as BigInt64Array)].map(String)).toEqual(values);
      } else {
        expect([...toFloat32Array(tensor)]).toEqual(decodeExpected(values).map((v) => Math.fround(v)));
      }
    }
    expect(tensors.get('i32')?.shape).toEqual([2, 2]);
  });

  it('round-trips through write and read, in memory and on disk, with metadata', async () => {
    const tensors = new Map<string, HostTensor>([
      ['a.weight', { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, -6.5]) }],
      ['b', { dtype: 'I32', shape: [3], data: Int32Array.from([7, -8, 9]) }],
      ['c', castHost({ dtype: 'F32', shape: [2], data: Float32Array.from([0.1, -3]) }, 'BF16')],
      ['empty', { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) }],
    ]);
    const bytes = serializeSafetensors(tensors, { note: 'hello' });
    const parsed = parseSafetensors(bytes);
    expect(parsed.metadata).toEqual({ note: 'hello' });
    expect([...(parsed.tensors.get('a.weight')?.data ?? [])]).toEqual([1, 2, 3, 4, 5, -6.5]);
    const path = join(dir, 'roundtrip.safetensors');
    await writeSafetensors(path, tensors, { note: 'hello' });
    expect(new Uint8Array(await readFile(path))).toEqual(bytes);
    const file = await SafetensorsFile.open(path);
    expect(file.keys()).toEqual(['a.weight', 'b', 'c', 'empty']);
    expect([...((await file.read('b')).data as Int32Array)]).toEqual([7, -8, 9]);
    expect(toFloat32Array(await file.read('c'))[0]).toBeCloseTo(0.1, 2);
    await expect(file.read('missing')).rejects.toThrow(/no tensor named "missing"/);
    await file.close();
  });

  it('matches the reference fixtures when they are present', async () => {
    if (!(await hasReferenceFixture('fc-lstm.safetensors'))) return;
    const contents = await loadReferenceFixture('fc-lstm.safetensors');
    expect(contents?.tensors.size).toBeGreaterThan(0);
    expect(contents?.metadata.source).toBeTruthy();
  });

  it('gives clear errors for truncated, corrupted and non-safetensors files, without hanging', async () => {
    const good = serializeSafetensors({ x: { dtype: 'F32', shape: [4], data: new Float32Array(4) } });
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['empty', new Uint8Array(0), /truncated: a safetensors file starts with an 8-byte header length/],
      ['short header', good.slice(0, 20), /truncated: header length is \d+ bytes but the file has only 12/],
      [
        'truncated data',
        good.slice(0, good.byteLength - 3),
        /truncated: the header describes 16 bytes of tensor data, the file has 13/,
      ],
      [
        'huge header length',
        Uint8Array.from([255, 255, 255, 255, 255, 255, 255, 127, 1, 2]),
        /not a safetensors file: header length/,
      ],
      [
        'bad json',
        (() => {
          const b = good.slice();
          b[9] = 0x7b;
          b[10] = 0x7b;
          return b;
        })(),
        /corrupted header: not valid UTF-8 JSON/,
      ],
    ];
    for (const [name, bytes, pattern] of cases) {
      const path = join(dir, `${name.replace(/ /g, '-')}.safetensors`);
      await writeFile(path, bytes);
      const error = await readSafetensors(path).catch((e: unknown) => e);
      expect(error, name).toBeInstanceOf(FileFormatError);
      expect((error as Error).message, name).toMatch(pattern);
      expect((error as Error).message, name).toContain(path);
    }
    const badOffsets = new TextEncoder().encode(
      JSON.stringify({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 12] } }),
    );
    const bytes = new Uint8Array(8 + badOffsets.byteLength + 12);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(badOffsets.byteLength), true);
    bytes.set(badOffsets, 8);
    expect(() => parseSafetensors(bytes, 'bad.safetensors')).toThrow(
      /tensor "x": data_offsets \[0, 12\] span 12 bytes, expected 8 for F32 \[2\]/,
    );
    const unknownDtype = new TextEncoder().encode(
      JSON.stringify({ x: { dtype: 'Q8', shape: [1], data_offsets: [0, 1] } }),
    );
    const b2 = new Uint8Array(8 + unknownDtype.byteLength + 1);
    new DataView(b2.buffer).setBigUint64(0, BigInt(unknownDtype.byteLength), true);
    b2.set(unknownDtype, 8);
    expect(() => parseSafetensors(b2, 'q.safetensors')).toThrow(/unknown dtype "Q8"/);
    await expect(readSafetensors(join(dir, 'nope.safetensors'))).rejects.toThrow(/nope.safetensors: no such file/);
  });

  it('converts half and bfloat16 bit patterns both ways, rounding to nearest even', () => {
    expect(float16ToNumber(0x3c00)).toBe(1);
    expect(float16ToNumber(0xc000)).toBe(-2);
    expect(float16ToNumber(0x7bff)).toBe(65504);
    expect(float16ToNumber(0x0001)).toBe(2 ** -24);
    expect(float16ToNumber(0x7c00)).toBe(Infinity);
    expect(Number.isNaN(float16ToNumber(0x7e00))).toBe(true);
    for (const bits of [0x0000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x3555, 0x7bff, 0xfbff, 0x7c00]) {
      expect(numberToFloat16(float16ToNumber(bits))).toBe(bits);
    }
    expect(numberToFloat16(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(numberToFloat16(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(numberToFloat16(1e6)).toBe(0x7c00);
    expect(bfloat16ToNumber(0x3f80)).toBe(1);
    expect(numberToBfloat16(1)).toBe(0x3f80);
    expect(bfloat16ToNumber(numberToBfloat16(-3.140625))).toBe(-3.140625);
  });
});

describe('PyTorch checkpoints', () => {
  interface Expected {
    epoch: number;
    best_loss: number;
    tag: string;
    tensors: Record<string, { shape: number[]; dtype: string; values: Array<number | string> }>;
  }

  for (const format of ['zip', 'legacy'] as const) {
    it(`reads the ${format} format with every dtype, strided views and shared storages`, async () => {
      const expected = JSON.parse(await readFile(join(fixtures, 'checkpoint-expected.json'), 'utf8')) as Expected;
      const checkpoint = (await readTorchCheckpoint(join(fixtures, `checkpoint-${format}.pt`))) as Map<string, unknown>;
      expect(checkpoint.get('epoch')).toBe(7);
      expect(checkpoint.get('best_loss')).toBe(0.125);
      expect(checkpoint.get('tag')).toBe('vid');
      const state = extractStateDict(checkpoint);
      expect([...state.keys()]).toEqual(Object.keys(expected.tensors));
      for (const [name, e] of Object.entries(expected.tensors)) {
        const tensor = state.get(name) as HostTensor;
        expect(tensor.shape, name).toEqual(e.shape);
        if (tensor.dtype === 'I64') expect([...(tensor.data as BigInt64Array)].map(String), name).toEqual(e.values);
        else expect([...toFloat32Array(tensor)], name).toEqual(decodeExpected(e.values).map((v) => Math.fround(v)));
      }
    });
  }

  it('gives the official .pt fixture exactly the tensors of its safetensors twin', async () => {
    const pt = await referenceFixturePath('convttlstm-net.pt');
    if (!pt) return;
    const state = extractStateDict(await readTorchCheckpoint(pt));
    const reference = (await loadReferenceFixture('convttlstm-net.safetensors'))!;
    expect(state.size).toBe(146);
    for (const [name, tensor] of state) {
      const twin = reference.tensors.get(name);
      expect(twin, name).toBeDefined();
      expect(tensor.shape, name).toEqual(twin!.shape);
      expect(tensor.dtype, name).toBe(twin!.dtype);
      expect(
        Buffer.from(toFloat32Array(tensor).buffer).equals(Buffer.from(toFloat32Array(twin!).slice().buffer)),
        name,
      ).toBe(true);
    }
  });

  it('gives clear errors for truncated and corrupted checkpoints', async () => {
    const zip = new Uint8Array(await readFile(join(fixtures, 'checkpoint-zip.pt')));
    const legacy = new Uint8Array(await readFile(join(fixtures, 'checkpoint-legacy.pt')));
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['zip cut short', zip.slice(0, zip.byteLength - 100), /not a ZIP archive, or truncated|truncated/],
      ['zip cut in the middle', zip.slice(0, 1500), /truncated|end-of-central-directory/],
      ['legacy cut short', legacy.slice(0, legacy.byteLength - 40), /truncated/],
      ['text file', new TextEncoder().encode('hello, this is not a checkpoint'), /not a PyTorch checkpoint/],
      ['empty', new Uint8Array(0), /not a PyTorch checkpoint/],
    ];
    for (const [name, bytes, pattern] of cases) {
      const error = await readTorchCheckpoint(bytes, `${name}.pt`).catch((e: unknown) => e);
      expect(error, name).toBeInstanceOf(FileFormatError);
      expect((error as Error).message, name).toMatch(pattern);
      expect((error as Error).message, name).toContain(`${name}.pt`);
    }
    await expect(readTorchCheckpoint(join(dir, 'missing.pt'))).rejects.toThrow(/missing.pt: no such file/);
  });

  it('names the file when a checkpoint holds no state dict', async () => {
    const pickle = new Uint8Array([0x80, 0x02, 0x7d, 0x58, 1, 0, 0, 0, 0x61, 0x4b, 1, 0x73, 0x2e]); // {'a': 1}
    await writeZip(join(dir, 'no-state.pt'), [{ name: 'archive/data.pkl', data: pickle }]);
    const checkpoint = await readTorchCheckpoint(join(dir, 'no-state.pt'));
    expect(() => extractStateDict(checkpoint)).toThrow(/no-state\.pt: no state dict found/);
  });

  it('refuses pickles that would run code, naming the global', async () => {
    // cos\nsystem\n(S'echo pwned'\ntR.  — the classic os.system pickle.
    const evil = new TextEncoder().encode("cos\nsystem\n(S'echo pwned'\ntR.");
    expect(() => unpickle(evil, { file: 'evil.pkl' })).toThrow(/refusing to load global "os.system"/);
    const builtinsEval = new Uint8Array(Buffer.from("\x80\x02cbuiltins\neval\nX\x05\x00\x00\x00'1+1'\x85R.", 'latin1'));
    expect(() => unpickle(builtinsEval, { file: 'eval.pkl' })).toThrow(/refusing to load global "builtins.eval"/);
    const inst = new TextEncoder().encode('(i__main__\nFoo\n.');
    expect(() => unpickle(inst)).toThrow(/refusing opcode 0x69/);
    // Inside a real zip checkpoint: replace data.pkl with the evil pickle.
    const path = join(dir, 'evil.pt');
    await writeZip(path, [{ name: 'evil/data.pkl', data: evil }]);
    await expect(readTorchCheckpoint(path)).rejects.toThrow(/refusing to load global "os.system"/);
  });

  it('unpickles plain data of protocols 0, 2 and 4 as Python would', async () => {
    const pickles = JSON.parse(await readFile(join(fixtures, 'pickles.json'), 'utf8')) as Record<string, string>;
    for (const [protocol, b64] of Object.entries(pickles)) {
      const { value } = unpickle(new Uint8Array(Buffer.from(b64, 'base64')));
      const dict = value as Map<unknown, unknown>;
      expect(dict.get('none'), protocol).toBeNull();
      expect(dict.get('true')).toBe(true);
      expect(dict.get('false')).toBe(false);
      expect(dict.get('int')).toBe(-7);
      expect(dict.get('big')).toBe(2n ** 70n);
      expect(dict.get('neg_big')).toBe(-(2n ** 65n));
      expect(dict.get('float')).toBe(2.75);
      expect(dict.get('str')).toBe('héllo ✓');
      expect([...(dict.get('bytes') as Uint8Array)]).toEqual([0, 1, 255]);
      expect(dict.get('list')).toEqual([1, [2, 3], [4, 5]]);
      expect(dict.get('tuple')).toEqual([1]);
      expect(dict.get('empty')).toEqual([]);
      expect((dict.get('nested') as Map<string, Map<string, unknown>>).get('a')?.get('b')).toEqual([1.5, null]);
      expect([...(dict.get('set') as Set<number>)]).toEqual([3]);
      expect(dict.get(1)).toBe('int key');
    }
  });
});

describe('zip', () => {
  it('round-trips stored and deflated archives and checks sizes', async () => {
    const entries = [
      { name: 'a.txt', data: new TextEncoder().encode('hello hello hello hello') },
      { name: 'dir/b.bin', data: [Uint8Array.from([1, 2, 3]), Uint8Array.from([4, 5])] },
    ];
    for (const compress of [false, true]) {
      const path = join(dir, `test-${compress}.zip`);
      await writeZip(path, entries, { compress });
      const archive = await ZipArchive.openFile(path);
      expect(archive.names()).toEqual(['a.txt', 'dir/b.bin']);
      expect(new TextDecoder().decode(await archive.read('a.txt'))).toBe('hello hello hello hello');
      expect([...(await archive.read('dir/b.bin'))]).toEqual([1, 2, 3, 4, 5]);
      expect(archive.entries.get('a.txt')?.method).toBe(compress ? 8 : 0);
      if (!compress) expect([...(await archive.readRange('dir/b.bin', 1, 3))]).toEqual([2, 3, 4]);
      await archive.close();
    }
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    await expect(ZipArchive.open(bytesSource(new Uint8Array(10), 'tiny.zip'))).rejects.toThrow(
      /tiny.zip: not a ZIP archive/,
    );
  });
});
