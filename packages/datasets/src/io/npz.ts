/**
 * NumPy's `.npz` archives (`np.savez`, stored; `np.savez_compressed`, deflated): a ZIP file
 * whose members are `<key>.npy`. Built on `@vid/core`'s {@link ZipArchive}: a stored member is
 * read by ranges straight from the file (no member is read whole unless asked for); a deflated
 * member must be inflated whole before any element can be read.
 *
 * Inflating is bounded by `@vid/core`'s {@link ReadLimits} (the declared size, `maxInflatedBytes`
 * and `maxInflateRatio`), so a deflate bomb is refused after a few megabytes whatever its
 * directory claims. Every member's CRC-32 is verified before its data is used: deflated members as
 * they are inflated, stored members by one streaming pass when opened for slab reads.
 */
import { FileFormatError, type HostTensor, type ReadLimits, ZipArchive, writeZip } from '@vid/core';

import { NpyArray, type RangeReader, serializeNpy } from './npy.js';

/** An `.npz` archive opened for reading. */
export class NpzFile {
  private readonly offsets = new Map<string, number>();

  private constructor(
    readonly path: string,
    private readonly archive: ZipArchive,
  ) {}

  /** Opens an `.npz` file and reads its directory. */
  static async open(path: string, options: { readonly limits?: Partial<ReadLimits> } = {}): Promise<NpzFile> {
    let archive: ZipArchive;
    try {
      archive = await ZipArchive.openFile(path, options);
    } catch (error) {
      if (error instanceof FileFormatError && /not a ZIP archive/.test(error.detail)) {
        throw new FileFormatError(path, `not an .npz file: ${error.detail}`);
      }
      throw error;
    }
    return new NpzFile(path, archive);
  }

  /** The array names (member names without `.npy`). */
  keys(): string[] {
    return this.archive.names().map((name) => name.replace(/\.npy$/, ''));
  }

  has(key: string): boolean {
    return this.archive.entries.has(`${key}.npy`) || this.archive.entries.has(key);
  }

  private member(key: string): string {
    if (this.archive.entries.has(`${key}.npy`)) return `${key}.npy`;
    if (this.archive.entries.has(key)) return key;
    throw new FileFormatError(
      this.path,
      `no array "${key}" in the .npz (it has: ${this.keys().join(', ') || 'nothing'})`,
    );
  }

  /** True when the member is stored (so that its slabs are read without inflating it). */
  isStored(key: string): boolean {
    return this.archive.entries.get(this.member(key))?.method === 0;
  }

  /**
   * The array `key`, opened for slab reads. Stored members read their slabs with positioned
   * reads (after one streaming pass that verifies their CRC-32); deflated members are inflated
   * into memory first. Closing it leaves the archive open.
   */
  async array(key: string): Promise<NpyArray> {
    const name = this.member(key);
    const entry = this.archive.entries.get(name);
    if (!entry) throw new FileFormatError(this.path, `no member ${name}`);
    const display = `${this.path}:${name}`;
    if (entry.method === 0) {
      // One streaming pass (4 MiB at a time) checks the CRC-32 before any slab is trusted.
      await this.archive.verify(name);
      let base = this.offsets.get(name);
      if (base === undefined) {
        base = await this.archive.dataOffset(entry);
        this.offsets.set(name, base);
      }
      const start = base;
      const size = entry.size;
      const reader: RangeReader = {
        name: display,
        read: (offset, length) => {
          if (offset + length > size) {
            return Promise.reject(
              new FileFormatError(
                display,
                `truncated: expected ${length} bytes at offset ${offset}, the member has ${size}`,
              ),
            );
          }
          return this.archive.source.read(start + offset, length);
        },
        close: async () => undefined,
      };
      if (start + size > this.archive.source.size) {
        throw new FileFormatError(
          this.path,
          `truncated: member ${name} ends at ${start + size}, the file has ${this.archive.source.size} bytes`,
        );
      }
      return NpyArray.fromReader(reader, size);
    }
    return this.inMemory(name, await this.archive.read(name));
  }

  private inMemory(name: string, bytes: Uint8Array): Promise<NpyArray> {
    const display = `${this.path}:${name}`;
    const reader: RangeReader = {
      name: display,
      read: async (offset, length) => {
        if (offset + length > bytes.byteLength)
          throw new FileFormatError(
            display,
            `truncated: expected ${length} bytes at offset ${offset}, the member has ${bytes.byteLength}`,
          );
        return bytes.subarray(offset, offset + length);
      },
      close: async () => undefined,
    };
    return NpyArray.fromReader(reader, bytes.byteLength);
  }

  /** Reads the whole array `key` (its CRC-32 verified). */
  async read(key: string): Promise<HostTensor> {
    const name = this.member(key);
    return (await this.inMemory(name, await this.archive.read(name))).readAll();
  }

  close(): Promise<void> {
    return this.archive.close();
  }
}

/** Reads every array of an `.npz` file. */
export async function readNpz(path: string): Promise<Map<string, HostTensor>> {
  const npz = await NpzFile.open(path);
  try {
    const out = new Map<string, HostTensor>();
    for (const key of npz.keys()) out.set(key, await npz.read(key));
    return out;
  } finally {
    await npz.close();
  }
}

/**
 * Writes arrays as an `.npz` file, stored (as `np.savez`) or deflated (as
 * `np.savez_compressed`), atomically.
 */
export async function writeNpz(
  path: string,
  arrays: ReadonlyMap<string, HostTensor> | Readonly<Record<string, HostTensor>>,
  options: { readonly compress?: boolean } = {},
): Promise<void> {
  const entries = arrays instanceof Map ? [...arrays.entries()] : Object.entries(arrays as Record<string, HostTensor>);
  await writeZip(
    path,
    entries.map(([key, tensor]) => ({ name: `${key}.npy`, data: serializeNpy(tensor) })),
    { compress: options.compress ?? false },
  );
}
