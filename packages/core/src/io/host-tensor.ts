import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, FileFormatError, formatShape } from '../errors.js';

/**
 * The element types of safetensors (and of PyTorch storages, mapped onto them). Names follow the
 * safetensors specification.
 */
export type DType =
  | 'BOOL'
  | 'U8'
  | 'I8'
  | 'U16'
  | 'I16'
  | 'F16'
  | 'BF16'
  | 'U32'
  | 'I32'
  | 'F32'
  | 'U64'
  | 'I64'
  | 'F64'
  | 'F8_E4M3'
  | 'F8_E5M2';

/** Bytes per element of each dtype. */
export const DTYPE_SIZE: Readonly<Record<DType, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  U16: 2,
  I16: 2,
  F16: 2,
  BF16: 2,
  U32: 4,
  I32: 4,
  F32: 4,
  U64: 8,
  I64: 8,
  F64: 8,
  F8_E4M3: 1,
  F8_E5M2: 1,
};

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_SIZE, value);
}

/** The typed array that holds each dtype's raw elements (F16/BF16/F8 keep their bit patterns). */
export type HostArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

/**
 * A tensor held in host memory, as read from or written to a file: row-major (C order),
 * little-endian, with its file dtype. Nothing here touches a TensorFlow.js backend.
 */
export interface HostTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Raw elements; F16, BF16 and F8 hold their bit patterns. */
  readonly data: HostArray;
}

export function numElements(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Views little-endian bytes as the typed array of `dtype`. Copies when `bytes` is not aligned for
 * the element size (so the result never aliases a misaligned buffer).
 */
export function viewAs(dtype: DType, bytes: Uint8Array): HostArray {
  const size = DTYPE_SIZE[dtype];
  let buffer = bytes.buffer;
  let offset = bytes.byteOffset;
  if (offset % size !== 0) {
    const copy = bytes.slice();
    buffer = copy.buffer;
    offset = 0;
  }
  const length = bytes.byteLength / size;
  switch (dtype) {
    case 'BOOL':
    case 'U8':
    case 'F8_E4M3':
    case 'F8_E5M2':
      return new Uint8Array(buffer, offset, length);
    case 'I8':
      return new Int8Array(buffer, offset, length);
    case 'U16':
    case 'F16':
    case 'BF16':
      return new Uint16Array(buffer, offset, length);
    case 'I16':
      return new Int16Array(buffer, offset, length);
    case 'U32':
      return new Uint32Array(buffer, offset, length);
    case 'I32':
      return new Int32Array(buffer, offset, length);
    case 'F32':
      return new Float32Array(buffer, offset, length);
    case 'F64':
      return new Float64Array(buffer, offset, length);
    case 'I64':
      return new BigInt64Array(buffer, offset, length);
    case 'U64':
      return new BigUint64Array(buffer, offset, length);
  }
}

/** The raw bytes of a host tensor's elements. */
export function hostBytes(tensor: HostTensor): Uint8Array {
  return new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** IEEE 754 half precision bits → number (handles subnormals, infinities and NaN). */
export function float16ToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** number → IEEE 754 half precision bits, rounding to nearest even. */
export function numberToFloat16(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  let e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    const halfBit = 1 << (shift - 1);
    let m = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    if (rest > halfBit || (rest === halfBit && (m & 1) === 1)) m++;
    return sign | m;
  }
  let m = mantissa >>> 13;
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (m & 1) === 1)) {
    m++;
    if (m === 0x400) {
      m = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

/** bfloat16 bits → number: the top 16 bits of a float32. */
export function bfloat16ToNumber(bits: number): number {
  u32Scratch[0] = (bits & 0xffff) << 16;
  return f32Scratch[0] as number;
}

/** number → bfloat16 bits, rounding to nearest even (NaN stays NaN). */
export function numberToBfloat16(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0] as number;
  if (Number.isNaN(value)) return ((x >>> 16) | 0x40) & 0xffff;
  const rounding = 0x7fff + ((x >>> 16) & 1);
  return ((x + rounding) >>> 16) & 0xffff;
}

function float8ToNumber(bits: number, format: 'F8_E4M3' | 'F8_E5M2'): number {
  const sign = bits & 0x80 ? -1 : 1;
  if (format === 'F8_E5M2') return float16ToNumber(bits << 8);
  // E4M3FN: bias 7, no infinities, 0x7f/0xff are NaN.
  const exponent = (bits >> 3) & 0xf;
  const fraction = bits & 0x7;
  if (exponent === 0xf && fraction === 0x7) return NaN;
  if (exponent === 0) return sign * fraction * 2 ** -9;
  return sign * (1 + fraction / 8) * 2 ** (exponent - 7);
}

/**
 * Converts any host tensor's elements to float32. 64-bit integers are converted exactly where
 * they fit in a float32's 24-bit mantissa; larger ones round, as `torch.float()` does.
 */
export function toFloat32Array(tensor: HostTensor): Float32Array {
  const { dtype, data } = tensor;
  if (dtype === 'F32') return data as Float32Array;
  const out = new Float32Array(data.length);
  switch (dtype) {
    case 'F16':
      for (let i = 0; i < out.length; i++) out[i] = float16ToNumber((data as Uint16Array)[i] as number);
      return out;
    case 'BF16':
      for (let i = 0; i < out.length; i++) out[i] = bfloat16ToNumber((data as Uint16Array)[i] as number);
      return out;
    case 'F8_E4M3':
    case 'F8_E5M2':
      for (let i = 0; i < out.length; i++) out[i] = float8ToNumber((data as Uint8Array)[i] as number, dtype);
      return out;
    case 'I64':
    case 'U64':
      for (let i = 0; i < out.length; i++) out[i] = Number((data as BigInt64Array)[i]);
      return out;
    default:
      for (let i = 0; i < out.length; i++) out[i] = Number(data[i]);
      return out;
  }
}

/**
 * Converts integer host tensors to int32, failing with a clear error when a value does not fit
 * (64-bit integers outside ±2^31).
 */
export function toInt32Array(tensor: HostTensor, name = 'tensor'): Int32Array {
  const { dtype, data } = tensor;
  if (dtype === 'I32') return data as Int32Array;
  const out = new Int32Array(data.length);
  for (let i = 0; i < out.length; i++) {
    const v = Number(data[i] as number | bigint);
    if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
      throw new ConfigError(name, `integers that fit in int32 (dtype ${dtype})`, `${data[i]} at index ${i}`);
    }
    out[i] = v;
  }
  return out;
}

/** Makes a TensorFlow.js tensor from a host tensor: floats become float32, integers int32. */
export function hostToTensor(tensor: HostTensor, name = 'tensor'): tf.Tensor {
  const shape = [...tensor.shape];
  switch (tensor.dtype) {
    case 'BOOL':
      return tf.tensor(Uint8Array.from(tensor.data as Uint8Array), shape, 'bool');
    case 'U8':
    case 'I8':
    case 'U16':
    case 'I16':
    case 'I32':
    case 'U32':
    case 'I64':
    case 'U64':
      return tf.tensor(toInt32Array(tensor, name), shape, 'int32');
    default:
      return tf.tensor(toFloat32Array(tensor), shape, 'float32');
  }
}

/** Makes a host tensor from float32 or int32 values. */
export function hostTensor(
  data: Float32Array | Int32Array | Uint8Array | number[],
  shape: readonly number[],
  dtype?: DType,
): HostTensor {
  const array = Array.isArray(data) ? Float32Array.from(data) : data;
  const resolved: DType = dtype ?? (array instanceof Int32Array ? 'I32' : array instanceof Uint8Array ? 'U8' : 'F32');
  if (numElements(shape) !== array.length) {
    throw new ConfigError('shape', `a shape with ${array.length} elements`, formatShape(shape), 'hostTensor');
  }
  return { dtype: resolved, shape: [...shape], data: array };
}

/** Reads a tensor's values back to host memory (float32 → F32, int32 → I32, bool → BOOL). */
export async function tensorToHost(tensor: tf.Tensor): Promise<HostTensor> {
  const data = await tensor.data();
  const dtype: DType = tensor.dtype === 'int32' ? 'I32' : tensor.dtype === 'bool' ? 'BOOL' : 'F32';
  if (tensor.dtype === 'complex64' || tensor.dtype === 'string') {
    throw new ConfigError('tensor', 'a float32, int32 or bool tensor', tensor.dtype, 'tensorToHost');
  }
  return { dtype, shape: [...tensor.shape], data: data as Float32Array | Int32Array | Uint8Array };
}

/** Converts host elements to another dtype (used when writing F16/BF16 files). */
export function castHost(tensor: HostTensor, dtype: DType): HostTensor {
  if (tensor.dtype === dtype) return tensor;
  const values = toFloat32Array(tensor);
  const n = values.length;
  switch (dtype) {
    case 'F32':
      return { dtype, shape: tensor.shape, data: values };
    case 'F64':
      return { dtype, shape: tensor.shape, data: Float64Array.from(values) };
    case 'F16': {
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) out[i] = numberToFloat16(values[i] as number);
      return { dtype, shape: tensor.shape, data: out };
    }
    case 'BF16': {
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) out[i] = numberToBfloat16(values[i] as number);
      return { dtype, shape: tensor.shape, data: out };
    }
    case 'I32':
      return { dtype, shape: tensor.shape, data: Int32Array.from(values) };
    case 'I64':
      return { dtype, shape: tensor.shape, data: BigInt64Array.from(values, (v) => BigInt(Math.trunc(v))) };
    case 'U8':
      return { dtype, shape: tensor.shape, data: Uint8Array.from(values) };
    default:
      throw new FileFormatError('castHost', `casting ${tensor.dtype} to ${dtype} is not supported`);
  }
}
