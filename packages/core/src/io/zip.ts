/**
 * A small ZIP reader and writer (PKWARE APPNOTE 6.3): the container of PyTorch checkpoints
 * (`torch.save` since 1.6) and of NumPy `.npz` files. It reads the central directory, then
 * each entry on demand, from memory or from a file handle, so a multi-gigabyte archive is never
 * read whole. Stored and deflated entries are supported, with ZIP64 sizes and offsets.
 */
import { FileFormatError } from '../errors.js';
import { type ReadLimits, resolveReadLimits } from './limits.js';
import { fileError, nodeFs, readExactly, writeAll, writeFileAtomic } from './node-fs.js';

/** Random access to bytes: an in-memory buffer or an open file. */
export interface ByteSource {
  /** Display name for errors (usually the path). */
  readonly name: string;
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** A byte source over memory. */
export function bytesSource(bytes: Uint8Array, name = '<bytes>'): ByteSource {
  return {
    name,
    size: bytes.byteLength,
    read: async (offset, length) => {
      if (offset < 0 || length < 0 || offset + length > bytes.byteLength) {
        throw new FileFormatError(
          name,
          `truncated: expected ${length} bytes at offset ${offset}, the data has ${bytes.byteLength}`,
        );
      }
      return bytes.subarray(offset, offset + length);
    },
    close: async () => undefined,
  };
}

/** A byte source over a file, read with positioned reads. */
export async function fileSource(path: string): Promise<ByteSource> {
  const fs = await nodeFs();
  let handle: import('node:fs/promises').FileHandle;
  try {
    handle = await fs.open(path, 'r');
  } catch (error) {
    throw fileError(path, error);
  }
  const stat = await handle.stat();
  const size = stat.size;
  if (stat.isDirectory()) {
    await handle.close();
    throw new FileFormatError(path, 'is a directory (expected a file)');
  }
  return {
    name: path,
    size,
    read: async (offset, length) => {
      if (!(offset >= 0 && length >= 0 && offset + length <= size)) {
        throw new FileFormatError(
          path,
          `truncated: expected ${length} bytes at offset ${offset}, the file has ${size}`,
        );
      }
      return readExactly(handle, path, offset, length);
    },
    close: () => handle.close(),
  };
}

/** One entry of a ZIP archive's central directory. */
export interface ZipEntry {
  readonly name: string;
  /** 0 = stored, 8 = deflated. */
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly crc32: number;
  readonly localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_EOCD = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

function u16(view: DataView, at: number): number {
  return view.getUint16(at, true);
}
function u32(view: DataView, at: number): number {
  return view.getUint32(at, true);
}
function u64(view: DataView, at: number, source: string): number {
  const value = view.getBigUint64(at, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new FileFormatError(source, `ZIP64 value ${value} is too large`);
  return Number(value);
}
function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

type Zlib = typeof import('node:zlib');
let zlibPromise: Promise<Zlib | undefined> | undefined;
/** Node's zlib, or undefined in a browser (stored entries still read there). */
function loadZlib(): Promise<Zlib | undefined> {
  zlibPromise ??= import('node:zlib').catch(() => undefined);
  return zlibPromise;
}

/** The CRC-32 of `bytes`: zlib's native one when Node has it (≥ 20.15), else {@link crc32}. */
async function fastCrc32(bytes: Uint8Array): Promise<number> {
  const zlib = await loadZlib();
  const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number } | undefined)?.crc32;
  return native ? native(bytes, 0) >>> 0 : crc32(bytes);
}

/** Options of {@link inflateBounded}. */
export interface InflateOptions {
  /** `raw` deflate (ZIP members) or `gzip` (`.gz` files). */
  readonly format: 'raw' | 'gzip';
  /** Compressed bytes. */
  readonly compressedSize: number;
  /** Reads `length` compressed bytes at `offset` (relative to the start of the stream). */
  readonly read: (offset: number, length: number) => Promise<Uint8Array>;
  /** The size the container declares: the output must have exactly this many bytes. */
  readonly declaredSize?: number;
  /** The file, for errors. */
  readonly file: string;
  /** What is inflated, for errors (e.g. `entry "archive/data.pkl"`; empty for a whole file). */
  readonly what: string;
  readonly limits?: Partial<ReadLimits>;
}

const INFLATE_CHUNK = 64 * 1024;

/**
 * Inflates a deflate or gzip stream without ever holding more than the limits allow: the
 * compressed bytes are read and fed in 64 KiB chunks, the output goes into one buffer of the
 * declared size (or grows, for gzip), and inflating stops as soon as the output passes the
 * declared size, {@link ReadLimits.maxInflatedBytes}, or {@link ReadLimits.maxInflateRatio}
 * times the compressed bytes fed so far (past {@link ReadLimits.inflateRatioGrace}). A deflate
 * bomb is refused after a few megabytes, whatever its directory claims.
 */
export async function inflateBounded(options: InflateOptions): Promise<Uint8Array> {
  const { file, what, compressedSize, declaredSize } = options;
  const limits = resolveReadLimits(options.limits);
  const at = what ? `${what}: ` : '';
  const zlib = await loadZlib();
  if (!zlib) throw new FileFormatError(file, `${at}inflating needs Node's zlib (not available in this runtime)`);
  const raise = 'raise it with setReadLimits() or the limits option of the reader';
  const cap = Math.min(
    limits.maxInflatedBytes,
    Math.max(limits.inflateRatioGrace, limits.maxInflateRatio * compressedSize),
  );
  if (declaredSize !== undefined) {
    if (declaredSize > limits.maxInflatedBytes) {
      throw new FileFormatError(
        file,
        `${at}declares ${declaredSize} inflated bytes, more than the limit maxInflatedBytes = ${limits.maxInflatedBytes} (${raise})`,
      );
    }
    if (declaredSize > cap) {
      throw new FileFormatError(
        file,
        `${at}declares ${declaredSize} bytes from ${compressedSize} compressed, a ratio above maxInflateRatio = ${limits.maxInflateRatio} (a deflate bomb? ${raise})`,
      );
    }
  }
  const bound = declaredSize ?? cap;
  // 1 MiB output chunks: far fewer events than zlib's default 16 KiB, same bounds.
  const inflater =
    options.format === 'raw'
      ? zlib.createInflateRaw({ chunkSize: 1 << 20 })
      : zlib.createGunzip({ chunkSize: 1 << 20 });
  let out: Uint8Array = new Uint8Array(declaredSize ?? Math.min(bound, 1 << 20));
  let total = 0;
  let fed = 0;
  let failure: Error | undefined;
  const fail = (error: Error): void => {
    failure ??= error;
    inflater.destroy();
  };
  const done = new Promise<void>((resolve, reject) => {
    inflater.on('data', (chunk: Uint8Array) => {
      if (failure) return;
      const next = total + chunk.byteLength;
      if (next > bound) {
        fail(
          new FileFormatError(
            file,
            declaredSize !== undefined
              ? `${at}inflates to more than the ${declaredSize} bytes its directory declares`
              : `${at}inflates to more than ${bound} bytes (maxInflatedBytes = ${limits.maxInflatedBytes}, maxInflateRatio = ${limits.maxInflateRatio} × ${compressedSize} compressed bytes; ${raise})`,
          ),
        );
        reject(failure);
        return;
      }
      if (next > limits.inflateRatioGrace && next > limits.maxInflateRatio * Math.max(fed, 1)) {
        fail(
          new FileFormatError(
            file,
            `${at}${next} bytes inflated from the first ${fed} compressed bytes, a ratio above maxInflateRatio = ${limits.maxInflateRatio} (a deflate bomb? ${raise})`,
          ),
        );
        reject(failure);
        return;
      }
      if (next > out.byteLength) {
        const grown = new Uint8Array(Math.min(bound, Math.max(next, out.byteLength * 2)));
        grown.set(out.subarray(0, total));
        out = grown;
      }
      out.set(chunk, total);
      total = next;
    });
    inflater.on('end', () => resolve());
    inflater.on('error', (error) =>
      reject(
        failure ??
          new FileFormatError(
            file,
            `${at}corrupted or truncated ${options.format === 'raw' ? 'deflate' : 'gzip'} data (${error.message})`,
          ),
      ),
    );
    inflater.on('close', () => (failure ? reject(failure) : undefined));
  });
  done.catch(() => undefined); // observed below; avoids an unhandled rejection while feeding
  try {
    while (fed < compressedSize && !failure) {
      const piece = await options.read(fed, Math.min(INFLATE_CHUNK, compressedSize - fed));
      fed += piece.byteLength;
      if (!inflater.write(piece)) {
        await Promise.race([new Promise((resolve) => inflater.once('drain', resolve)), done]);
      }
    }
    if (!failure) inflater.end();
    await done;
  } catch (error) {
    inflater.destroy();
    throw failure ?? error;
  }
  if (failure) throw failure;
  if (declaredSize !== undefined && total !== declaredSize) {
    throw new FileFormatError(file, `${at}inflated to ${total} bytes, expected ${declaredSize}`);
  }
  return total === out.byteLength ? out : out.subarray(0, total);
}

/** Options of {@link ZipArchive.open}. */
export interface ZipOpenOptions {
  /** Overrides of the process's {@link ReadLimits} (inflate size and ratio). */
  readonly limits?: Partial<ReadLimits>;
}

/**
 * A ZIP archive opened for reading. Opening refuses a central directory whose fields point
 * outside it, duplicate names, and entries that overlap one another (a classic zip-bomb trick);
 * reading inflates within {@link ReadLimits} and verifies each member's CRC-32, as NumPy's
 * `zipfile` does ("Bad CRC-32").
 */
export class ZipArchive {
  readonly #dataOffsets = new Map<string, number>();
  readonly #verified = new Set<string>();
  /** Where each entry's bytes must end: the next entry's local header, or the directory. */
  readonly #ends: ReadonlyMap<string, number>;
  readonly #limits: Partial<ReadLimits> | undefined;

  private constructor(
    readonly source: ByteSource,
    readonly entries: ReadonlyMap<string, ZipEntry>,
    ends: ReadonlyMap<string, number>,
    limits: Partial<ReadLimits> | undefined,
  ) {
    this.#ends = ends;
    this.#limits = limits;
  }

  /** Reads the central directory of `source`. */
  static async open(source: ByteSource, options: ZipOpenOptions = {}): Promise<ZipArchive> {
    const name = source.name;
    if (source.size < 22)
      throw new FileFormatError(
        name,
        `not a ZIP archive: ${source.size} bytes is shorter than an end-of-directory record`,
      );
    const tailLength = Math.min(source.size, 22 + 0xffff + 20);
    const tail = await source.read(source.size - tailLength, tailLength);
    const view = dataView(tail);
    let eocd = -1;
    for (let i = tail.byteLength - 22; i >= 0; i--) {
      if (u32(view, i) === EOCD) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0)
      throw new FileFormatError(name, 'not a ZIP archive, or truncated: no end-of-central-directory record');
    let count = u16(view, eocd + 10);
    let directorySize = u32(view, eocd + 12);
    let directoryOffset = u32(view, eocd + 16);
    if (eocd >= 20 && u32(view, eocd - 20) === ZIP64_LOCATOR) {
      const zip64Offset = u64(view, eocd - 20 + 8, name);
      if (zip64Offset + 56 > source.size)
        throw new FileFormatError(
          name,
          `corrupted ZIP64 locator: record offset ${zip64Offset} is past the end of the ${source.size}-byte file`,
        );
      const record = dataView(await source.read(zip64Offset, 56));
      if (u32(record, 0) !== ZIP64_EOCD) throw new FileFormatError(name, 'corrupted ZIP64 end-of-directory record');
      count = u64(record, 32, name);
      directorySize = u64(record, 40, name);
      directoryOffset = u64(record, 48, name);
    }
    if (directoryOffset + directorySize > source.size) {
      throw new FileFormatError(
        name,
        `truncated: the central directory ends at ${directoryOffset + directorySize}, the file has ${source.size} bytes`,
      );
    }
    if (count * 46 > directorySize) {
      throw new FileFormatError(
        name,
        `corrupted central directory: ${count} entries cannot fit in ${directorySize} bytes`,
      );
    }
    const directory = await source.read(directoryOffset, directorySize);
    const dir = dataView(directory);
    const entries = new Map<string, ZipEntry>();
    const headerEnds: Array<{ name: string; start: number; minEnd: number }> = [];
    let at = 0;
    const decoder = new TextDecoder();
    for (let i = 0; i < count; i++) {
      if (at + 46 > directory.byteLength || u32(dir, at) !== CENTRAL) {
        throw new FileFormatError(name, `corrupted central directory at entry ${i}`);
      }
      const method = u16(dir, at + 10);
      const crc32 = u32(dir, at + 16);
      let compressedSize = u32(dir, at + 20);
      let size = u32(dir, at + 24);
      const nameLength = u16(dir, at + 28);
      const extraLength = u16(dir, at + 30);
      const commentLength = u16(dir, at + 32);
      let localHeaderOffset = u32(dir, at + 42);
      const recordEnd = at + 46 + nameLength + extraLength + commentLength;
      if (recordEnd > directory.byteLength) {
        throw new FileFormatError(
          name,
          `corrupted central directory at entry ${i}: its name, extra field and comment end at byte ${recordEnd} of a ${directory.byteLength}-byte directory`,
        );
      }
      const entryName = decoder.decode(directory.subarray(at + 46, at + 46 + nameLength));
      // ZIP64 extended information: the 0xFFFFFFFF fields follow in this order.
      let extra = at + 46 + nameLength;
      const extraEnd = extra + extraLength;
      while (extra + 4 <= extraEnd) {
        const id = u16(dir, extra);
        const length = u16(dir, extra + 2);
        const fieldEnd = extra + 4 + length;
        if (fieldEnd > extraEnd)
          throw new FileFormatError(
            name,
            `entry "${entryName}": extra field 0x${id.toString(16)} of ${length} bytes runs past its ${extraLength}-byte extra area`,
          );
        if (id === 0x0001) {
          let p = extra + 4;
          const next = (): number => {
            if (p + 8 > fieldEnd)
              throw new FileFormatError(name, `entry "${entryName}": ZIP64 extra field too short (${length} bytes)`);
            const value = u64(dir, p, name);
            p += 8;
            return value;
          };
          if (size === 0xffffffff) size = next();
          if (compressedSize === 0xffffffff) compressedSize = next();
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = next();
        }
        extra = fieldEnd;
      }
      if (entries.has(entryName))
        throw new FileFormatError(name, `entry "${entryName}" appears twice in the central directory`);
      if (method === 0 && size !== compressedSize) {
        throw new FileFormatError(
          name,
          `entry "${entryName}": stored (uncompressed) but its sizes differ (${compressedSize} stored, ${size} declared)`,
        );
      }
      entries.set(entryName, { name: entryName, method, compressedSize, size, crc32, localHeaderOffset });
      headerEnds.push({
        name: entryName,
        start: localHeaderOffset,
        minEnd: localHeaderOffset + 30 + nameLength + compressedSize,
      });
      at = recordEnd;
    }
    // Refuse overlapping entries: each member's local header, name and data must end before the
    // next member begins (Python's zipfile refuses the same, "Overlapped entries").
    headerEnds.sort((x, y) => x.start - y.start);
    const ends = new Map<string, number>();
    for (let i = 0; i < headerEnds.length; i++) {
      const entry = headerEnds[i] as (typeof headerEnds)[number];
      const limit =
        i + 1 < headerEnds.length ? (headerEnds[i + 1] as (typeof headerEnds)[number]).start : directoryOffset;
      if (entry.minEnd > limit) {
        throw new FileFormatError(
          name,
          `entry "${entry.name}" (bytes ${entry.start}–${entry.minEnd}) overlaps ${i + 1 < headerEnds.length ? `entry "${(headerEnds[i + 1] as (typeof headerEnds)[number]).name}" at ${limit}` : `the central directory at ${limit}`}: overlapping entries are refused`,
        );
      }
      ends.set(entry.name, limit);
    }
    return new ZipArchive(source, entries, ends, options.limits);
  }

  /** Opens a ZIP file from a path. */
  static async openFile(path: string, options: ZipOpenOptions = {}): Promise<ZipArchive> {
    const source = await fileSource(path);
    try {
      return await ZipArchive.open(source, options);
    } catch (error) {
      await source.close();
      throw error;
    }
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  /** The absolute offset of an entry's data (after its local header); read once, then cached. */
  async dataOffset(entry: ZipEntry): Promise<number> {
    const cached = this.#dataOffsets.get(entry.name);
    if (cached !== undefined) return cached;
    if (entry.localHeaderOffset + 30 > this.source.size) {
      throw new FileFormatError(
        this.source.name,
        `entry "${entry.name}": local header offset ${entry.localHeaderOffset} is past the end of the ${this.source.size}-byte file`,
      );
    }
    const header = dataView(await this.source.read(entry.localHeaderOffset, 30));
    if (u32(header, 0) !== LOCAL) {
      throw new FileFormatError(
        this.source.name,
        `entry "${entry.name}": corrupted local header at offset ${entry.localHeaderOffset}`,
      );
    }
    const offset = entry.localHeaderOffset + 30 + u16(header, 26) + u16(header, 28);
    const end = this.#ends.get(entry.name) ?? this.source.size;
    if (offset + entry.compressedSize > end) {
      throw new FileFormatError(
        this.source.name,
        `entry "${entry.name}": its data (${entry.compressedSize} bytes at ${offset}) runs past ${end === this.source.size ? `the end of the ${this.source.size}-byte file` : `the next entry at ${end}`}`,
      );
    }
    this.#dataOffsets.set(entry.name, offset);
    return offset;
  }

  private entry(name: string): ZipEntry {
    const entry = this.entries.get(name);
    if (!entry) {
      throw new FileFormatError(
        this.source.name,
        `no entry "${name}" in the archive (it has: ${this.names().slice(0, 12).join(', ')}${this.entries.size > 12 ? ', …' : ''})`,
      );
    }
    return entry;
  }

  /**
   * Reads one entry whole, inflating it if needed (within {@link ReadLimits}, streamed into one
   * buffer of the declared size), and verifies its CRC-32.
   */
  async read(name: string): Promise<Uint8Array> {
    const entry = this.entry(name);
    const offset = await this.dataOffset(entry);
    let out: Uint8Array;
    if (entry.method === 0) {
      out = await this.source.read(offset, entry.compressedSize);
    } else if (entry.method === 8) {
      out = await inflateBounded({
        format: 'raw',
        compressedSize: entry.compressedSize,
        declaredSize: entry.size,
        read: (at, length) => this.source.read(offset + at, length),
        file: this.source.name,
        what: `entry "${name}"`,
        ...(this.#limits ? { limits: this.#limits } : {}),
      });
    } else {
      throw new FileFormatError(
        this.source.name,
        `entry "${name}": compression method ${entry.method} is not supported (expected 0 = stored or 8 = deflated)`,
      );
    }
    const crc = await fastCrc32(out);
    if (crc !== entry.crc32) {
      throw new FileFormatError(
        this.source.name,
        `entry "${name}": bad CRC-32 (computed ${hex32(crc)}, the directory says ${hex32(entry.crc32)}); the file is corrupted`,
      );
    }
    this.#verified.add(name);
    return out;
  }

  /**
   * Verifies a stored entry's CRC-32 by streaming through it in 4 MiB reads (no more memory than
   * that), for callers that then read it by ranges. Verified once; later calls return at once.
   */
  async verify(name: string): Promise<void> {
    const entry = this.entry(name);
    if (this.#verified.has(name)) return;
    if (entry.method !== 0) {
      await this.read(name);
    } else {
      const offset = await this.dataOffset(entry);
      const zlib = await loadZlib();
      const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number } | undefined)?.crc32;
      let crc = 0;
      for (let at = 0; at < entry.size; at += 4 * 2 ** 20) {
        const piece = await this.source.read(offset + at, Math.min(4 * 2 ** 20, entry.size - at));
        crc = native ? native(piece, crc) >>> 0 : crc32(piece, crc);
      }
      if (crc !== entry.crc32) {
        throw new FileFormatError(
          this.source.name,
          `entry "${name}": bad CRC-32 (computed ${hex32(crc)}, the directory says ${hex32(entry.crc32)}); the file is corrupted`,
        );
      }
    }
    this.#verified.add(name);
  }

  /**
   * Reads a byte range of a stored (uncompressed) entry without reading the rest, for
   * memory-mapped style access to big `.npy` members. Ranges alone are not CRC-checked (the CRC
   * covers the whole member): call {@link ZipArchive.verify} first, as `NpzFile.array` does.
   */
  async readRange(name: string, offset: number, length: number): Promise<Uint8Array> {
    const entry = this.entry(name);
    if (entry.method !== 0) {
      throw new FileFormatError(
        this.source.name,
        `entry "${name}" is compressed; ranges can only be read from stored entries`,
      );
    }
    if (offset < 0 || length < 0 || offset + length > entry.size) {
      throw new FileFormatError(
        this.source.name,
        `entry "${name}": range [${offset}, ${offset + length}) is outside its ${entry.size} bytes`,
      );
    }
    return this.source.read((await this.dataOffset(entry)) + offset, length);
  }

  close(): Promise<void> {
    return this.source.close();
  }
}

function hex32(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO-HDLC), as ZIP uses. `previous` continues a running checksum. */
export function crc32(bytes: Uint8Array, previous = 0): number {
  let c = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.byteLength; i++) c = (CRC_TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** An entry to write. */
export interface ZipInput {
  readonly name: string;
  /** The entry's bytes, or its parts in order (written without concatenating them). */
  readonly data: Uint8Array | readonly Uint8Array[];
}

/**
 * Writes a ZIP archive atomically, each entry stored or deflated. Uses ZIP64 records when an
 * entry or the archive passes 4 GiB, as NumPy's `savez` does.
 */
export async function writeZip(
  path: string,
  inputs: readonly ZipInput[],
  options: { readonly compress?: boolean } = {},
): Promise<void> {
  const zlib = options.compress ? await import('node:zlib') : undefined;
  await writeFileAtomic(path, async (handle) => {
    let offset = 0;
    const central: Uint8Array[] = [];
    const encoder = new TextEncoder();
    for (const input of inputs) {
      const parts = input.data instanceof Uint8Array ? [input.data] : [...input.data];
      let crc = 0;
      let size = 0;
      for (const part of parts) {
        crc = crc32(part, crc);
        size += part.byteLength;
      }
      let payload = parts;
      let method = 0;
      if (zlib) {
        const joined = parts.length === 1 ? (parts[0] as Uint8Array) : concatBytes(parts);
        const deflated = zlib.deflateRawSync(joined);
        payload = [new Uint8Array(deflated.buffer, deflated.byteOffset, deflated.byteLength)];
        method = 8;
      }
      const compressedSize = payload.reduce((n, p) => n + p.byteLength, 0);
      const name = encoder.encode(input.name);
      const zip64 = size >= 0xffffffff || compressedSize >= 0xffffffff || offset >= 0xffffffff;
      const localExtra = zip64 ? 20 : 0;
      const local = new Uint8Array(30 + name.byteLength + localExtra);
      const lv = dataView(local);
      lv.setUint32(0, LOCAL, true);
      lv.setUint16(4, zip64 ? 45 : 20, true);
      lv.setUint16(8, method, true);
      lv.setUint32(14, crc, true);
      lv.setUint32(18, zip64 ? 0xffffffff : compressedSize, true);
      lv.setUint32(22, zip64 ? 0xffffffff : size, true);
      lv.setUint16(26, name.byteLength, true);
      lv.setUint16(28, localExtra, true);
      local.set(name, 30);
      if (zip64) {
        lv.setUint16(30 + name.byteLength, 0x0001, true);
        lv.setUint16(32 + name.byteLength, 16, true);
        lv.setBigUint64(34 + name.byteLength, BigInt(size), true);
        lv.setBigUint64(42 + name.byteLength, BigInt(compressedSize), true);
      }
      await writeAll(handle, local);
      for (const part of payload) await writeAll(handle, part);
      const centralExtra = zip64 ? 28 : 0;
      const record = new Uint8Array(46 + name.byteLength + centralExtra);
      const cv = dataView(record);
      cv.setUint32(0, CENTRAL, true);
      cv.setUint16(4, zip64 ? 45 : 20, true);
      cv.setUint16(6, zip64 ? 45 : 20, true);
      cv.setUint16(10, method, true);
      cv.setUint32(16, crc, true);
      cv.setUint32(20, zip64 ? 0xffffffff : compressedSize, true);
      cv.setUint32(24, zip64 ? 0xffffffff : size, true);
      cv.setUint16(28, name.byteLength, true);
      cv.setUint16(30, centralExtra, true);
      cv.setUint32(42, zip64 ? 0xffffffff : offset, true);
      record.set(name, 46);
      if (zip64) {
        const e = 46 + name.byteLength;
        cv.setUint16(e, 0x0001, true);
        cv.setUint16(e + 2, 24, true);
        cv.setBigUint64(e + 4, BigInt(size), true);
        cv.setBigUint64(e + 12, BigInt(compressedSize), true);
        cv.setBigUint64(e + 20, BigInt(offset), true);
      }
      central.push(record);
      offset += local.byteLength + compressedSize;
    }
    const directoryOffset = offset;
    let directorySize = 0;
    for (const record of central) {
      await writeAll(handle, record);
      directorySize += record.byteLength;
    }
    const needZip64 = directoryOffset >= 0xffffffff || inputs.length >= 0xffff;
    if (needZip64) {
      const record = new Uint8Array(56 + 20);
      const v = dataView(record);
      v.setUint32(0, ZIP64_EOCD, true);
      v.setBigUint64(4, 44n, true);
      v.setUint16(12, 45, true);
      v.setUint16(14, 45, true);
      v.setBigUint64(24, BigInt(inputs.length), true);
      v.setBigUint64(32, BigInt(inputs.length), true);
      v.setBigUint64(40, BigInt(directorySize), true);
      v.setBigUint64(48, BigInt(directoryOffset), true);
      v.setUint32(56, ZIP64_LOCATOR, true);
      v.setBigUint64(64, BigInt(directoryOffset + directorySize), true);
      v.setUint32(72, 1, true);
      await writeAll(handle, record);
    }
    const end = new Uint8Array(22);
    const ev = dataView(end);
    ev.setUint32(0, EOCD, true);
    ev.setUint16(8, Math.min(inputs.length, 0xffff), true);
    ev.setUint16(10, Math.min(inputs.length, 0xffff), true);
    ev.setUint32(12, directorySize, true);
    ev.setUint32(16, needZip64 ? 0xffffffff : directoryOffset, true);
    await writeAll(handle, end);
  });
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
