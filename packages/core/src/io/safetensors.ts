/**
 * safetensors (https://github.com/huggingface/safetensors): an 8-byte little-endian header
 * length N, N bytes of JSON header, then the raw little-endian tensor bytes. The header maps each
 * tensor name to `{dtype, shape, data_offsets: [begin, end]}` (offsets relative to the byte
 * buffer) and may hold `__metadata__` (string → string).
 *
 * Reading validates the header the way the reference implementation does: known dtypes,
 * offsets that match shape × element size, no holes and no overlaps, and a buffer that ends
 * exactly where the last tensor does. A truncated or corrupted file is a {@link FileFormatError}
 * that names the file, never a crash or a hang. The header may hold at most
 * {@link ReadLimits.maxSafetensorsTensors} tensors (counted before the JSON is parsed) and
 * {@link ReadLimits.maxSafetensorsHeaderBytes} bytes; names such as `__proto__` stay plain keys.
 */
import { FileFormatError, formatValue } from '../errors.js';
import { DTYPE_SIZE, type DType, type HostTensor, hostBytes, isDType, numElements, viewAs } from './host-tensor.js';
import { type ReadLimits, resolveReadLimits } from './limits.js';
import { fileError, nodeFs, readExactly, writeAll, writeFileAtomic } from './node-fs.js';

const RAISE = 'raise it with setReadLimits() or the limits option';

/** Where one tensor lives in a safetensors file. */
export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Byte range relative to the start of the data section. */
  readonly begin: number;
  readonly end: number;
}

/** A parsed safetensors header. */
export interface SafetensorsHeader {
  readonly metadata: Readonly<Record<string, string>>;
  /** Entries in file order (by offset). */
  readonly entries: ReadonlyMap<string, SafetensorsEntry>;
  /** Absolute offset of the data section: 8 + header length. */
  readonly dataOffset: number;
  /** Length of the data section in bytes. */
  readonly dataLength: number;
}

/** A whole safetensors file in memory. */
export interface SafetensorsContents {
  readonly metadata: Readonly<Record<string, string>>;
  readonly tensors: Map<string, HostTensor>;
}

/** Tensors to write: a map or a plain object from name to host tensor. */
export type TensorDict = ReadonlyMap<string, HostTensor> | Readonly<Record<string, HostTensor>>;

function entriesOf(tensors: TensorDict): Array<[string, HostTensor]> {
  return tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors as Record<string, HostTensor>);
}

function readHeaderLength(prefix: Uint8Array, file: string, fileLength: number, limits: Readonly<ReadLimits>): number {
  if (fileLength < 8) {
    throw new FileFormatError(
      file,
      `truncated: a safetensors file starts with an 8-byte header length, the file has ${fileLength} bytes`,
    );
  }
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const length = view.getBigUint64(0, true);
  if (length > BigInt(limits.maxSafetensorsHeaderBytes)) {
    throw new FileFormatError(
      file,
      `not a safetensors file: header length ${length} exceeds maxSafetensorsHeaderBytes = ${limits.maxSafetensorsHeaderBytes} (${RAISE})`,
    );
  }
  const n = Number(length);
  if (8 + n > fileLength) {
    throw new FileFormatError(
      file,
      `truncated: header length is ${n} bytes but the file has only ${fileLength - 8} after the length`,
    );
  }
  return n;
}

/**
 * Counts the JSON objects of a header without parsing it (objects outside strings): one per
 * tensor, plus the header itself and `__metadata__`. Linear and allocation-free, so an 87 MB
 * header of 1.5 M tensors is refused in milliseconds instead of parsed for seconds.
 */
function countObjects(bytes: Uint8Array): number {
  let objects = 0;
  let inString = false;
  for (let i = 0; i < bytes.byteLength; i++) {
    const c = bytes[i] as number;
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b) objects++;
  }
  return objects;
}

/** Parses and validates the JSON header. `dataLength` is the size of everything after it. */
export function parseSafetensorsHeader(
  headerBytes: Uint8Array,
  file: string,
  dataLength: number,
  options: { readonly limits?: Partial<ReadLimits> } = {},
): SafetensorsHeader {
  const limits = resolveReadLimits(options.limits);
  const objects = countObjects(headerBytes);
  if (objects > limits.maxSafetensorsTensors + 2) {
    throw new FileFormatError(
      file,
      `the header describes about ${objects - 1} tensors, more than maxSafetensorsTensors = ${limits.maxSafetensorsTensors} (${RAISE})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (error) {
    throw new FileFormatError(file, `corrupted header: not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new FileFormatError(file, 'corrupted header: expected a JSON object');
  }
  let metadata: Record<string, string> = Object.create(null) as Record<string, string>;
  const entries: SafetensorsEntry[] = [];
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new FileFormatError(file, '__metadata__ must be an object of strings');
      }
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') {
          throw new FileFormatError(file, `__metadata__.${k} must be a string, received ${typeof v}`);
        }
      }
      metadata = Object.assign(Object.create(null) as Record<string, string>, value as Record<string, string>);
      continue;
    }
    const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (info === null || typeof info !== 'object') {
      throw new FileFormatError(file, `tensor "${name}": expected {dtype, shape, data_offsets}`);
    }
    if (!isDType(info.dtype)) {
      throw new FileFormatError(
        file,
        `tensor "${name}": unknown dtype ${formatValue(info.dtype)} (expected one of ${Object.keys(DTYPE_SIZE).join(', ')})`,
      );
    }
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new FileFormatError(
        file,
        `tensor "${name}": shape must be an array of non-negative integers, received ${formatValue(shape)}`,
      );
    }
    const offsets = info.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new FileFormatError(
        file,
        `tensor "${name}": data_offsets must be [begin, end], received ${formatValue(offsets)}`,
      );
    }
    const [begin, end] = offsets as [number, number];
    const expectedBytes = numElements(shape as number[]) * DTYPE_SIZE[info.dtype];
    if (end < begin || end - begin !== expectedBytes) {
      throw new FileFormatError(
        file,
        `tensor "${name}": data_offsets [${begin}, ${end}] span ${end - begin} bytes, expected ${expectedBytes} for ${info.dtype} ${formatValue(shape)}`,
      );
    }
    entries.push({ name, dtype: info.dtype, shape: shape as number[], begin, end });
  }
  if (entries.length > limits.maxSafetensorsTensors) {
    throw new FileFormatError(
      file,
      `the header describes ${entries.length} tensors, more than maxSafetensorsTensors = ${limits.maxSafetensorsTensors} (${RAISE})`,
    );
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const entry of entries) {
    if (entry.begin !== cursor) {
      throw new FileFormatError(
        file,
        `tensor "${entry.name}": data starts at ${entry.begin}, expected ${cursor} (the header has a hole or an overlap)`,
      );
    }
    cursor = entry.end;
  }
  if (cursor !== dataLength) {
    throw new FileFormatError(
      file,
      cursor > dataLength
        ? `truncated: the header describes ${cursor} bytes of tensor data, the file has ${dataLength}`
        : `corrupted: the header describes ${cursor} bytes of tensor data, the file has ${dataLength}`,
    );
  }
  return {
    metadata,
    entries: new Map(entries.map((e) => [e.name, e])),
    dataOffset: 8 + headerBytes.byteLength,
    dataLength,
  };
}

/** Parses a safetensors file held in memory. Tensors are views into `bytes` where aligned. */
export function parseSafetensors(
  bytes: Uint8Array,
  file = '<safetensors bytes>',
  options: { readonly limits?: Partial<ReadLimits> } = {},
): SafetensorsContents {
  const limits = resolveReadLimits(options.limits);
  const headerLength = readHeaderLength(bytes, file, bytes.byteLength, limits);
  const header = parseSafetensorsHeader(
    bytes.subarray(8, 8 + headerLength),
    file,
    bytes.byteLength - 8 - headerLength,
    { limits },
  );
  const tensors = new Map<string, HostTensor>();
  for (const entry of header.entries.values()) {
    const raw = bytes.subarray(header.dataOffset + entry.begin, header.dataOffset + entry.end);
    tensors.set(entry.name, { dtype: entry.dtype, shape: entry.shape, data: viewAs(entry.dtype, raw) });
  }
  return { metadata: header.metadata, tensors };
}

function buildHeader(tensors: Array<[string, HostTensor]>, metadata: Record<string, string> | undefined): Uint8Array {
  // Null prototype: a tensor named "__proto__" is written as a key, not as the object's prototype.
  const header = Object.create(null) as Record<string, unknown>;
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, tensor] of tensors) {
    if (name === '__metadata__') throw new FileFormatError(name, 'a tensor may not be named __metadata__');
    const bytes = numElements(tensor.shape) * DTYPE_SIZE[tensor.dtype];
    if (bytes !== tensor.data.byteLength) {
      throw new FileFormatError(
        name,
        `tensor data has ${tensor.data.byteLength} bytes, expected ${bytes} for ${tensor.dtype} [${tensor.shape.join(', ')}]`,
      );
    }
    header[name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const encoded = new TextEncoder().encode(JSON.stringify(header));
  // Pad with spaces so that the data section starts 8-byte aligned, as the reference writer does.
  const padded = Math.ceil((encoded.byteLength + 8) / 8) * 8 - 8;
  const out = new Uint8Array(8 + padded).fill(0x20, 8);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(encoded, 8);
  return out;
}

/** Serialises tensors (and optional string metadata) to safetensors bytes. */
export function serializeSafetensors(tensors: TensorDict, metadata?: Record<string, string>): Uint8Array {
  const list = entriesOf(tensors);
  const header = buildHeader(list, metadata);
  const total = header.byteLength + list.reduce((n, [, t]) => n + t.data.byteLength, 0);
  const out = new Uint8Array(total);
  out.set(header, 0);
  let offset = header.byteLength;
  for (const [, tensor] of list) {
    out.set(hostBytes(tensor), offset);
    offset += tensor.data.byteLength;
  }
  return out;
}

/**
 * An open safetensors file: the header is read and validated once; each tensor is then read
 * with one positioned read straight into its own buffer, so the file is never loaded twice and
 * never held whole in memory.
 */
export class SafetensorsFile {
  private constructor(
    readonly path: string,
    readonly header: SafetensorsHeader,
    private handle: import('node:fs/promises').FileHandle | undefined,
  ) {}

  /** Opens `path` and validates its header. */
  static async open(path: string, options: { readonly limits?: Partial<ReadLimits> } = {}): Promise<SafetensorsFile> {
    const limits = resolveReadLimits(options.limits);
    const fs = await nodeFs();
    let handle: import('node:fs/promises').FileHandle;
    try {
      handle = await fs.open(path, 'r');
    } catch (error) {
      throw fileError(path, error);
    }
    try {
      const { size } = await handle.stat();
      const prefix = await readExactly(handle, path, 0, Math.min(8, size));
      const headerLength = readHeaderLength(prefix, path, size, limits);
      const headerBytes = await readExactly(handle, path, 8, headerLength);
      const header = parseSafetensorsHeader(headerBytes, path, size - 8 - headerLength, { limits });
      return new SafetensorsFile(path, header, handle);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  get metadata(): Readonly<Record<string, string>> {
    return this.header.metadata;
  }

  /** Tensor names, in file order. */
  keys(): string[] {
    return [...this.header.entries.keys()];
  }

  has(name: string): boolean {
    return this.header.entries.has(name);
  }

  /** Reads one tensor. */
  async read(name: string): Promise<HostTensor> {
    const entry = this.header.entries.get(name);
    if (!entry) {
      throw new FileFormatError(
        this.path,
        `no tensor named "${name}" (the file has ${this.keys().length} tensors: ${this.keys().slice(0, 10).join(', ')}${this.keys().length > 10 ? ', …' : ''})`,
      );
    }
    if (!this.handle) throw new FileFormatError(this.path, 'the file is closed');
    const length = entry.end - entry.begin;
    // Allocate with 8-byte alignment so the typed-array view never needs a copy.
    const bytes = new Uint8Array(new ArrayBuffer(Math.ceil(length / 8) * 8), 0, length);
    await readExactly(this.handle, this.path, this.header.dataOffset + entry.begin, length, bytes);
    return { dtype: entry.dtype, shape: entry.shape, data: viewAs(entry.dtype, bytes) };
  }

  /** Reads every tensor (or those for which `filter` returns true). */
  async readAll(filter?: (name: string) => boolean): Promise<Map<string, HostTensor>> {
    const out = new Map<string, HostTensor>();
    for (const name of this.header.entries.keys()) {
      if (!filter || filter(name)) out.set(name, await this.read(name));
    }
    return out;
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }
}

/** Reads a whole safetensors file. */
export async function readSafetensors(
  path: string,
  options: { readonly limits?: Partial<ReadLimits> } = {},
): Promise<SafetensorsContents> {
  const file = await SafetensorsFile.open(path, options);
  try {
    return { metadata: file.metadata, tensors: await file.readAll() };
  } finally {
    await file.close();
  }
}

/**
 * Writes tensors to a safetensors file atomically (temporary file, flush, rename): the header
 * first, then each tensor's bytes straight from its typed array.
 */
export async function writeSafetensors(
  path: string,
  tensors: TensorDict,
  metadata?: Record<string, string>,
): Promise<void> {
  const list = entriesOf(tensors);
  const header = buildHeader(list, metadata);
  await writeFileAtomic(path, async (handle) => {
    await writeAll(handle, header);
    for (const [, tensor] of list) await writeAll(handle, hostBytes(tensor));
  });
}
