/**
 * NumPy's `.npy` format (numpy/lib/format.py, format versions 1.0, 2.0 and 3.0): the magic
 * `\x93NUMPY`, a version, a little-endian header length (u16 in 1.0, u32 in 2.0/3.0), and a
 * header that is a Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`
 * padded with spaces to a multiple of 64 bytes and ended by `\n`. The raw elements follow.
 *
 * The header is parsed as the Python literal it is (strings in either quote, booleans, tuples
 * with or without a trailing comma), not matched with a regular expression. Big-endian dtypes are
 * byte-swapped on read; Fortran-order arrays are transposed to C order on read. The header may
 * be at most `maxNpyHeaderBytes` long and nest `maxNpyHeaderDepth` deep (`@vid/core`'s
 * {@link ReadLimits}); the parser keeps its own stack depth, so no header can overflow the
 * JavaScript stack, and dict keys such as `__proto__` stay plain keys.
 *
 * {@link NpyArray} reads slabs of an array with positioned reads from a file (or from a stored
 * member of an `.npz`), so that `mnist_test_seq.npy` (800 MB) is never read whole.
 */
import {
  type DType,
  FileFormatError,
  type FileHandleLike,
  type HostTensor,
  type ReadLimits,
  formatValue,
  getReadLimits,
  numElements,
} from '@vid/core';

import { openFile, readAt, writeBytesAtomic } from './fs.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** The parsed header of an `.npy` array. */
export interface NpyHeader {
  /** NumPy's type string, e.g. `'<f4'`, `'|u1'`. */
  readonly descr: string;
  /** The element type, mapped onto vid's dtypes. */
  readonly dtype: DType;
  /** True when the type string is big-endian (`>`). */
  readonly bigEndian: boolean;
  readonly fortranOrder: boolean;
  readonly shape: readonly number[];
  /** Format version `[major, minor]`. */
  readonly version: readonly [number, number];
  /** Offset of the first element from the start of the `.npy` bytes. */
  readonly dataOffset: number;
  /** Bytes per element. */
  readonly itemSize: number;
}

const KIND_TO_DTYPE: Readonly<Record<string, DType>> = {
  b1: 'BOOL',
  u1: 'U8',
  i1: 'I8',
  u2: 'U16',
  i2: 'I16',
  f2: 'F16',
  u4: 'U32',
  i4: 'I32',
  f4: 'F32',
  u8: 'U64',
  i8: 'I64',
  f8: 'F64',
};

const DTYPE_TO_DESCR: Readonly<Partial<Record<DType, string>>> = {
  BOOL: '|b1',
  U8: '|u1',
  I8: '|i1',
  U16: '<u2',
  I16: '<i2',
  F16: '<f2',
  U32: '<u4',
  I32: '<i4',
  F32: '<f4',
  U64: '<u8',
  I64: '<i8',
  F64: '<f8',
};

// ---------------------------------------------------------------------------------------------
// A parser of the Python literals that appear in `.npy` headers.

type PyLiteral = string | number | boolean | null | PyLiteral[] | { [key: string]: PyLiteral };

class LiteralParser {
  private at = 0;
  private depth = 0;
  constructor(
    private readonly text: string,
    private readonly file: string,
    private readonly maxDepth: number,
  ) {}

  private enter(): void {
    if (++this.depth > this.maxDepth) this.fail(`nested deeper than maxNpyHeaderDepth = ${this.maxDepth}`);
  }

  private fail(what: string): never {
    const text = this.text.trim();
    // A hostile header may be 64 KiB long: quote at most 120 characters of it.
    const shown = text.length > 120 ? `${text.slice(0, 120)}…` : text;
    throw new FileFormatError(
      this.file,
      `corrupted .npy header: ${what} at character ${this.at} of ${JSON.stringify(shown)}`,
    );
  }

  private skipSpace(): void {
    while (this.at < this.text.length && /\s/.test(this.text[this.at] as string)) this.at++;
  }

  parseAll(): PyLiteral {
    const value = this.value();
    this.skipSpace();
    if (this.at !== this.text.length) this.fail('unexpected trailing text');
    return value;
  }

  private value(): PyLiteral {
    this.skipSpace();
    const c = this.text[this.at];
    if (c === '{') return this.dict();
    if (c === '(' || c === '[') return this.sequence(c === '(' ? ')' : ']');
    if (c === "'" || c === '"') return this.string();
    const word = /^(True|False|None|-?\d+L?)/.exec(this.text.slice(this.at));
    if (!word) this.fail('expected a value');
    this.at += word[0].length;
    if (word[0] === 'True') return true;
    if (word[0] === 'False') return false;
    if (word[0] === 'None') return null;
    return Number.parseInt(word[0], 10);
  }

  private string(): string {
    const quote = this.text[this.at];
    let out = '';
    this.at++;
    while (this.at < this.text.length && this.text[this.at] !== quote) {
      if (this.text[this.at] === '\\') this.at++;
      out += this.text[this.at];
      this.at++;
    }
    if (this.at >= this.text.length) this.fail('unterminated string');
    this.at++;
    return out;
  }

  private sequence(close: string): PyLiteral[] {
    this.enter();
    this.at++;
    const items: PyLiteral[] = [];
    for (;;) {
      this.skipSpace();
      if (this.text[this.at] === close) {
        this.at++;
        this.depth--;
        return items;
      }
      items.push(this.value());
      this.skipSpace();
      if (this.text[this.at] === ',') this.at++;
      else if (this.text[this.at] !== close) this.fail(`expected "," or "${close}"`);
    }
  }

  private dict(): { [key: string]: PyLiteral } {
    this.enter();
    this.at++;
    // Null prototype: a key "__proto__" is stored as a key, never as the object's prototype.
    const out = Object.create(null) as { [key: string]: PyLiteral };
    for (;;) {
      this.skipSpace();
      if (this.text[this.at] === '}') {
        this.at++;
        this.depth--;
        return out;
      }
      const key = this.value();
      if (typeof key !== 'string') this.fail('expected a string key');
      this.skipSpace();
      if (this.text[this.at] !== ':') this.fail('expected ":"');
      this.at++;
      out[key] = this.value();
      this.skipSpace();
      if (this.text[this.at] === ',') this.at++;
      else if (this.text[this.at] !== '}') this.fail('expected "," or "}"');
    }
  }
}

/** The NumPy type string `descr` as a vid dtype. */
export function parseDescr(descr: string, file = '<npy>'): { dtype: DType; bigEndian: boolean; itemSize: number } {
  const match = /^([<>|=]?)([biuf])(\d+)$/.exec(descr);
  const dtype = match ? KIND_TO_DTYPE[`${match[2]}${match[3]}`] : undefined;
  if (!match || !dtype) {
    throw new FileFormatError(
      file,
      `unsupported .npy dtype ${formatValue(descr)} (expected a bool, integer or float type such as '|u1', '<i4', '<f4', '>f8')`,
    );
  }
  const itemSize = Number(match[3]);
  return { dtype, bigEndian: match[1] === '>' && itemSize > 1, itemSize };
}

/** Parses the header of `.npy` bytes (`bytes` needs only to hold the header). */
export function parseNpyHeader(
  bytes: Uint8Array,
  file = '<npy>',
  totalSize?: number,
  limits: Readonly<ReadLimits> = getReadLimits(),
): NpyHeader {
  if (bytes.byteLength < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    const got = Array.from(bytes.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new FileFormatError(
      file,
      `not a .npy file: wrong magic number (expected 93 4e 55 4d 50 59 "\\x93NUMPY", found ${got || 'an empty file'})`,
    );
  }
  const major = bytes[6] as number;
  const minor = bytes[7] as number;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.byteLength < 12) throw new FileFormatError(file, 'truncated .npy header');
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new FileFormatError(file, `unsupported .npy format version ${major}.${minor} (expected 1.0, 2.0 or 3.0)`);
  }
  if (headerLength > limits.maxNpyHeaderBytes) {
    throw new FileFormatError(
      file,
      `the .npy header is ${headerLength} bytes, more than maxNpyHeaderBytes = ${limits.maxNpyHeaderBytes} (raise it with setReadLimits() from @vid/core)`,
    );
  }
  if (headerStart + headerLength > bytes.byteLength) {
    throw new FileFormatError(
      file,
      `truncated: the .npy header needs ${headerStart + headerLength} bytes, ${bytes.byteLength} are there`,
    );
  }
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(headerStart, headerStart + headerLength),
  );
  const literal = new LiteralParser(text, file, limits.maxNpyHeaderDepth).parseAll();
  if (typeof literal !== 'object' || literal === null || Array.isArray(literal)) {
    throw new FileFormatError(file, `corrupted .npy header: expected a dict, found ${formatValue(text.trim())}`);
  }
  const keys = Object.keys(literal).sort();
  if (keys.join() !== 'descr,fortran_order,shape') {
    // NumPy refuses the same ("Header does not contain the correct keys").
    throw new FileFormatError(
      file,
      `corrupted .npy header: expected the keys 'descr', 'fortran_order' and 'shape', found ${keys.map((k) => `'${k}'`).join(', ') || 'none'}`,
    );
  }
  const { descr, fortran_order: fortranOrder, shape } = literal;
  if (typeof descr !== 'string')
    throw new FileFormatError(
      file,
      `unsupported .npy header: 'descr' must be a type string (structured dtypes are not supported), found ${formatValue(descr)}`,
    );
  if (typeof fortranOrder !== 'boolean')
    throw new FileFormatError(
      file,
      `corrupted .npy header: 'fortran_order' must be True or False, found ${formatValue(fortranOrder)}`,
    );
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0)) {
    throw new FileFormatError(
      file,
      `corrupted .npy header: 'shape' must be a tuple of non-negative integers, found ${formatValue(shape)}`,
    );
  }
  const parsed = parseDescr(descr, file);
  const dims = shape as number[];
  const dataOffset = headerStart + headerLength;
  if (totalSize !== undefined) {
    const needed = dataOffset + numElements(dims) * parsed.itemSize;
    if (totalSize < needed) {
      throw new FileFormatError(
        file,
        `truncated: shape [${dims.join(', ')}] of ${descr} needs ${needed} bytes, the file has ${totalSize}`,
      );
    }
  }
  return {
    descr,
    dtype: parsed.dtype,
    bigEndian: parsed.bigEndian,
    itemSize: parsed.itemSize,
    fortranOrder,
    shape: dims,
    version: [major, minor],
    dataOffset,
  };
}

/**
 * Little-endian elements of `dtype` from raw bytes (byte-swapped first when big-endian). Copies,
 * unless `owned`: the bytes are a fresh buffer of their own that nobody else holds, which the
 * result then takes over.
 */
function elementsFromBytes(
  raw: Uint8Array,
  header: Pick<NpyHeader, 'dtype' | 'bigEndian' | 'itemSize'>,
  owned = false,
): HostTensor['data'] {
  const bytes = owned && raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength ? raw : raw.slice(); // aligned, owned by the result
  if (header.bigEndian) {
    const size = header.itemSize;
    for (let at = 0; at < bytes.length; at += size) bytes.subarray(at, at + size).reverse();
  }
  const n = bytes.byteLength / header.itemSize;
  const buffer = bytes.buffer;
  switch (header.dtype) {
    case 'BOOL':
    case 'U8':
      return new Uint8Array(buffer, 0, n);
    case 'I8':
      return new Int8Array(buffer, 0, n);
    case 'U16':
    case 'F16':
      return new Uint16Array(buffer, 0, n);
    case 'I16':
      return new Int16Array(buffer, 0, n);
    case 'U32':
      return new Uint32Array(buffer, 0, n);
    case 'I32':
      return new Int32Array(buffer, 0, n);
    case 'F32':
      return new Float32Array(buffer, 0, n);
    case 'F64':
      return new Float64Array(buffer, 0, n);
    case 'I64':
      return new BigInt64Array(buffer, 0, n);
    case 'U64':
      return new BigUint64Array(buffer, 0, n);
    default:
      throw new FileFormatError('<npy>', `dtype ${header.dtype} is not supported`);
  }
}

/** Reorders a Fortran-order (column-major) array into C order. */
function fortranToC<A extends HostTensor['data']>(data: A, shape: readonly number[]): A {
  const rank = shape.length;
  if (rank < 2) return data;
  const out = new (data.constructor as new (n: number) => A)(data.length);
  const fStrides: number[] = [];
  let stride = 1;
  for (let d = 0; d < rank; d++) {
    fStrides.push(stride);
    stride *= shape[d] as number;
  }
  const index = new Array<number>(rank).fill(0);
  for (let c = 0; c < data.length; c++) {
    let f = 0;
    for (let d = 0; d < rank; d++) f += (index[d] as number) * (fStrides[d] as number);
    (out as unknown as number[])[c] = (data as unknown as number[])[f] as number;
    for (let d = rank - 1; d >= 0; d--) {
      index[d] = (index[d] as number) + 1;
      if ((index[d] as number) < (shape[d] as number)) break;
      index[d] = 0;
    }
  }
  return out;
}

/** Parses a whole `.npy` file in memory into a C-order host tensor. */
export function parseNpy(bytes: Uint8Array, file = '<npy>'): HostTensor {
  const header = parseNpyHeader(bytes, file, bytes.byteLength);
  const count = numElements(header.shape);
  const raw = bytes.subarray(header.dataOffset, header.dataOffset + count * header.itemSize);
  let data = elementsFromBytes(raw, header);
  if (header.fortranOrder) data = fortranToC(data, header.shape);
  return { dtype: header.dtype, shape: [...header.shape], data };
}

/** Serialises a host tensor as `.npy` bytes (format 1.0, or 2.0 when the header needs it), C order, little-endian. */
export function serializeNpy(tensor: HostTensor): Uint8Array {
  const descr = DTYPE_TO_DESCR[tensor.dtype];
  if (!descr)
    throw new FileFormatError(
      '<npy>',
      `dtype ${tensor.dtype} has no NumPy equivalent (expected one of ${Object.keys(DTYPE_TO_DESCR).join(', ')})`,
    );
  const count = numElements(tensor.shape);
  if (tensor.data.length !== count) {
    throw new FileFormatError(
      '<npy>',
      `the data has ${tensor.data.length} elements, shape [${tensor.shape.join(', ')}] needs ${count}`,
    );
  }
  const header = npyHeaderBytes(descr, tensor.shape);
  const data = new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  const out = new Uint8Array(header.byteLength + data.byteLength);
  out.set(header, 0);
  out.set(data, header.byteLength);
  return out;
}

/**
 * The header of an `.npy` file for `descr` and `shape` (C order): format 1.0, or 2.0 when the
 * header passes 64 KiB; padded with spaces so that the data starts on a multiple of 64 bytes, as
 * NumPy writes it.
 */
export function npyHeaderBytes(descr: string, shape: readonly number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const major = dict.length + 11 > 65535 ? 2 : 1;
  const prefix = major === 1 ? 10 : 12;
  const total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  const text = new TextEncoder().encode(dict.padEnd(total - prefix - 1, ' ') + '\n');
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = major;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, text.byteLength, true);
  else view.setUint32(8, text.byteLength, true);
  out.set(text, prefix);
  return out;
}

/** Reads a whole `.npy` file. For big files use {@link NpyArray.open} and read slabs. */
export async function readNpy(path: string): Promise<HostTensor> {
  const array = await NpyArray.open(path);
  try {
    return await array.readAll();
  } finally {
    await array.close();
  }
}

/** Writes a host tensor as an `.npy` file (atomically). */
export async function writeNpy(path: string, tensor: HostTensor): Promise<void> {
  await writeBytesAtomic(path, serializeNpy(tensor));
}

/** Positioned reads of a byte range (a file, or a stored member of a ZIP archive). */
export interface RangeReader {
  readonly name: string;
  /** Reads `length` bytes at `offset`, relative to the start of the `.npy` bytes. */
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** One slab to read: for each leading axis a `[start, stop)` range or a single index. */
export type SlabIndex = ReadonlyArray<number | readonly [number, number]>;

/**
 * An `.npy` array opened for positioned reads: the header is parsed once, then
 * {@link NpyArray.readSlab} reads only the bytes of the requested slab. Used for big files such
 * as `mnist_test_seq.npy` (`[20, 10000, 64, 64]`, 800 MB) and stored `.npz` members.
 */
export class NpyArray {
  private constructor(
    private readonly reader: RangeReader,
    readonly header: NpyHeader,
  ) {}

  /** Opens an `.npy` file. */
  static async open(path: string): Promise<NpyArray> {
    const file = await openFile(path);
    const reader = fileRangeReader(file.handle, path, file.size);
    try {
      return await NpyArray.fromReader(reader, file.size);
    } catch (error) {
      await reader.close();
      throw error;
    }
  }

  /** Opens `.npy` bytes behind any range reader of `size` bytes. */
  static async fromReader(reader: RangeReader, size: number): Promise<NpyArray> {
    const prefix = await reader.read(0, Math.min(size, 12));
    const major = prefix[6];
    const knownVersion = major === 1 || ((major === 2 || major === 3) && prefix.byteLength >= 12);
    if (prefix.byteLength < 10 || !MAGIC.every((b, i) => prefix[i] === b) || !knownVersion) {
      parseNpyHeader(prefix, reader.name, size); // throws the precise error (magic, version, truncation)
    }
    const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
    const headerEnd = major === 1 ? 10 + view.getUint16(8, true) : 12 + view.getUint32(8, true);
    const limit = getReadLimits().maxNpyHeaderBytes;
    if (headerEnd - (major === 1 ? 10 : 12) > limit) {
      throw new FileFormatError(
        reader.name,
        `the .npy header is ${headerEnd - (major === 1 ? 10 : 12)} bytes, more than maxNpyHeaderBytes = ${limit} (raise it with setReadLimits() from @vid/core)`,
      );
    }
    if (headerEnd > size) {
      throw new FileFormatError(
        reader.name,
        `truncated: the .npy header needs ${headerEnd} bytes, the file has ${size}`,
      );
    }
    const headerBytes = await reader.read(0, headerEnd);
    return new NpyArray(reader, parseNpyHeader(headerBytes, reader.name, size));
  }

  get shape(): readonly number[] {
    return this.header.shape;
  }

  get dtype(): DType {
    return this.header.dtype;
  }

  /** The whole array in C order. */
  async readAll(): Promise<HostTensor> {
    const count = numElements(this.header.shape);
    const raw = await this.reader.read(this.header.dataOffset, count * this.header.itemSize);
    let data = elementsFromBytes(raw, this.header);
    if (this.header.fortranOrder) data = fortranToC(data, this.header.shape);
    return { dtype: this.header.dtype, shape: [...this.header.shape], data };
  }

  /**
   * Reads a slab: `index[k]` selects axis `k` by a single index (the axis is dropped) or a
   * `[start, stop)` range; axes past `index.length` are read whole. Contiguous runs are read
   * with one positioned read each; e.g. sequence `i` of `mnist_test_seq.npy` is
   * `readSlab([[0, 20], i])` → `[20, 64, 64]`, 20 reads of 4 KiB.
   */
  async readSlab(index: SlabIndex): Promise<HostTensor> {
    const { shape, itemSize, dataOffset } = this.header;
    if (this.header.fortranOrder) {
      throw new FileFormatError(
        this.reader.name,
        'slab reads need a C-order array; this one is Fortran-order (read it whole with readAll())',
      );
    }
    if (index.length > shape.length) {
      throw new FileFormatError(
        this.reader.name,
        `slab index has ${index.length} axes, the array has ${shape.length} ([${shape.join(', ')}])`,
      );
    }
    const ranges: Array<[number, number]> = [];
    const outShape: number[] = [];
    shape.forEach((size, axis) => {
      const selector = index[axis];
      if (selector === undefined) {
        ranges.push([0, size]);
        outShape.push(size);
      } else if (typeof selector === 'number') {
        if (!Number.isInteger(selector) || selector < 0 || selector >= size) {
          throw new FileFormatError(this.reader.name, `index ${selector} on axis ${axis} is outside [0, ${size})`);
        }
        ranges.push([selector, selector + 1]);
      } else {
        const [start, stop] = selector;
        if (!Number.isInteger(start) || !Number.isInteger(stop) || start < 0 || stop > size || start > stop) {
          throw new FileFormatError(
            this.reader.name,
            `range [${start}, ${stop}) on axis ${axis} is outside [0, ${size}]`,
          );
        }
        ranges.push([start, stop]);
        outShape.push(stop - start);
      }
    });
    // Element strides of the C-order array.
    const strides = new Array<number>(shape.length).fill(1);
    for (let d = shape.length - 2; d >= 0; d--) strides[d] = (strides[d + 1] as number) * (shape[d + 1] as number);
    // The innermost axes read whole form one contiguous run (plus the partial axis before them).
    let inner = shape.length;
    while (
      inner > 0 &&
      (ranges[inner - 1] as [number, number])[0] === 0 &&
      (ranges[inner - 1] as [number, number])[1] === shape[inner - 1]
    )
      inner--;
    const runAxis = inner - 1; // axis whose range forms the run together with the whole axes after it
    const runElements =
      runAxis >= 0
        ? ((ranges[runAxis] as [number, number])[1] - (ranges[runAxis] as [number, number])[0]) *
          (strides[runAxis] as number)
        : numElements(shape);
    const total = numElements(ranges.map(([a, b]) => b - a));
    const out = new Uint8Array(total * itemSize);
    if (total > 0) {
      const outer = ranges.slice(0, Math.max(runAxis, 0));
      const position = outer.map(([a]) => a);
      let written = 0;
      for (;;) {
        let element = runAxis >= 0 ? (ranges[runAxis] as [number, number])[0] * (strides[runAxis] as number) : 0;
        position.forEach((p, d) => (element += p * (strides[d] as number)));
        const bytes = await this.reader.read(dataOffset + element * itemSize, runElements * itemSize);
        out.set(bytes, written);
        written += bytes.byteLength;
        let d = position.length - 1;
        for (; d >= 0; d--) {
          position[d] = (position[d] as number) + 1;
          if ((position[d] as number) < (outer[d] as [number, number])[1]) break;
          position[d] = (outer[d] as [number, number])[0];
        }
        if (d < 0) break;
      }
    }
    return { dtype: this.header.dtype, shape: outShape, data: elementsFromBytes(out, this.header, true) };
  }

  close(): Promise<void> {
    return this.reader.close();
  }
}

/** A {@link RangeReader} over an open file (from `base` on). */
export function fileRangeReader(handle: FileHandleLike, path: string, size: number, base = 0): RangeReader {
  return {
    name: path,
    read: (offset, length) => {
      if (offset + length > size) {
        return Promise.reject(
          new FileFormatError(
            path,
            `truncated: expected ${length} bytes at offset ${base + offset}, the file has ${base + size}`,
          ),
        );
      }
      return readAt(handle, path, base + offset, length);
    },
    close: () => handle.close(),
  };
}
