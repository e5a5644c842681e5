/**
 * The IDX format of MNIST and Fashion-MNIST (LeCun et al., http://yann.lecun.com/exdb/mnist/):
 * a big-endian magic number `0x0000TTRR` — two zero bytes, a type code `TT`, the rank `RR` —
 * then `RR` big-endian u32 dimension sizes, then the elements in C order, big-endian. Files may be
 * gzip-compressed (`.gz`), as they are distributed; both are read.
 */
import { type DType, FileFormatError, type HostTensor, numElements } from '@vid/core';

import { readMaybeGzip } from './fs.js';

/** IDX type codes → element type and size. */
const IDX_TYPES: Readonly<Record<number, { dtype: DType; size: number; name: string }>> = {
  0x08: { dtype: 'U8', size: 1, name: 'unsigned byte' },
  0x09: { dtype: 'I8', size: 1, name: 'signed byte' },
  0x0b: { dtype: 'I16', size: 2, name: 'short' },
  0x0c: { dtype: 'I32', size: 4, name: 'int' },
  0x0d: { dtype: 'F32', size: 4, name: 'float' },
  0x0e: { dtype: 'F64', size: 8, name: 'double' },
};

/** The header of an IDX file. */
export interface IdxHeader {
  /** The magic number, e.g. `0x00000803` (2051) for images, `0x00000801` (2049) for labels. */
  readonly magic: number;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Offset of the first element. */
  readonly dataOffset: number;
}

/** Parses the header of IDX bytes. */
export function parseIdxHeader(bytes: Uint8Array, file = '<idx>'): IdxHeader {
  if (bytes.byteLength < 4)
    throw new FileFormatError(
      file,
      `truncated: an IDX file starts with a 4-byte magic number, the file has ${bytes.byteLength} bytes`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const type = IDX_TYPES[bytes[2] as number];
  const rank = bytes[3] as number;
  if (bytes[0] !== 0 || bytes[1] !== 0 || !type || rank === 0) {
    throw new FileFormatError(
      file,
      `not an IDX file: wrong magic number 0x${magic.toString(16).padStart(8, '0')} (expected 0x0000TTRR with type TT in 08, 09, 0B, 0C, 0D, 0E and rank RR ≥ 1, e.g. 0x00000803 for MNIST images, 0x00000801 for labels)`,
    );
  }
  const dataOffset = 4 + 4 * rank;
  if (bytes.byteLength < dataOffset)
    throw new FileFormatError(
      file,
      `truncated: the IDX header of rank ${rank} needs ${dataOffset} bytes, the file has ${bytes.byteLength}`,
    );
  const shape = Array.from({ length: rank }, (_, d) => view.getUint32(4 + 4 * d, false));
  return { magic, dtype: type.dtype, shape, dataOffset };
}

/** Parses IDX bytes (already un-gzipped) into a host tensor (elements converted to little-endian). */
export function parseIdx(bytes: Uint8Array, file = '<idx>'): HostTensor {
  const header = parseIdxHeader(bytes, file);
  const type = IDX_TYPES[bytes[2] as number] as { dtype: DType; size: number };
  const count = numElements(header.shape);
  const needed = header.dataOffset + count * type.size;
  if (bytes.byteLength < needed) {
    throw new FileFormatError(
      file,
      `truncated: shape [${header.shape.join(', ')}] needs ${needed} bytes, the file has ${bytes.byteLength}`,
    );
  }
  if (bytes.byteLength > needed) {
    throw new FileFormatError(
      file,
      `${bytes.byteLength - needed} unexpected bytes after the data of shape [${header.shape.join(', ')}]`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + header.dataOffset, count * type.size);
  let data: HostTensor['data'];
  switch (header.dtype) {
    case 'U8':
      data = bytes.slice(header.dataOffset, needed);
      break;
    case 'I8':
      data = new Int8Array(bytes.slice(header.dataOffset, needed).buffer);
      break;
    case 'I16':
      data = Int16Array.from({ length: count }, (_, i) => view.getInt16(2 * i, false));
      break;
    case 'I32':
      data = Int32Array.from({ length: count }, (_, i) => view.getInt32(4 * i, false));
      break;
    case 'F32':
      data = Float32Array.from({ length: count }, (_, i) => view.getFloat32(4 * i, false));
      break;
    default:
      data = Float64Array.from({ length: count }, (_, i) => view.getFloat64(8 * i, false));
  }
  return { dtype: header.dtype, shape: header.shape, data };
}

/** Reads an IDX file, gzip-compressed or not. */
export async function readIdx(path: string): Promise<HostTensor> {
  return parseIdx(await readMaybeGzip(path), path);
}

/** Serialises a host tensor as IDX bytes (U8, I8, I16, I32, F32 or F64). */
export function serializeIdx(tensor: HostTensor): Uint8Array {
  const code = Number(Object.entries(IDX_TYPES).find(([, t]) => t.dtype === tensor.dtype)?.[0]);
  if (!Number.isFinite(code)) throw new FileFormatError('<idx>', `dtype ${tensor.dtype} has no IDX type code`);
  const type = IDX_TYPES[code] as { size: number };
  const rank = tensor.shape.length;
  const count = numElements(tensor.shape);
  const out = new Uint8Array(4 + 4 * rank + count * type.size);
  const view = new DataView(out.buffer);
  view.setUint32(0, (code << 8) | rank, false);
  tensor.shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const at = 4 + 4 * rank;
  const data = tensor.data as ArrayLike<number>;
  for (let i = 0; i < count; i++) {
    const v = data[i] as number;
    const p = at + i * type.size;
    switch (tensor.dtype) {
      case 'U8':
        view.setUint8(p, v);
        break;
      case 'I8':
        view.setInt8(p, v);
        break;
      case 'I16':
        view.setInt16(p, v, false);
        break;
      case 'I32':
        view.setInt32(p, v, false);
        break;
      case 'F32':
        view.setFloat32(p, v, false);
        break;
      default:
        view.setFloat64(p, v, false);
    }
  }
  return out;
}
