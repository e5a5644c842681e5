/**
 * File helpers of the package: every failure becomes a {@link FileFormatError} that names the
 * path (a missing directory, a directory where a file was expected, a truncated read).
 */
import { FileFormatError, type FileHandleLike, fileError, inflateBounded, writeAll, writeFileAtomic } from '@vid/core';
import type { Dirent } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

// This module is the package's one seam to Node: the browser build replaces it with
// `fs.browser.ts` (same exports), so the modules that import it run in a page.
export { createRequire } from 'node:module';
export { dirname, join } from 'node:path';

/** Opens a file for positioned reads. */
export async function openFile(path: string): Promise<{ handle: FileHandle; size: number }> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw fileError(path, error);
  }
  const info = await handle.stat();
  if (info.isDirectory()) {
    await handle.close();
    throw new FileFormatError(path, 'is a directory (expected a file)');
  }
  return { handle, size: info.size };
}

/** Reads exactly `length` bytes at `position`, or throws a truncation error naming the file. */
export async function readAt(
  handle: FileHandleLike,
  path: string,
  position: number,
  length: number,
): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(out, done, length - done, position + done);
    if (bytesRead === 0) {
      throw new FileFormatError(
        path,
        `truncated: expected ${length} bytes at offset ${position}, the file ends after ${position + done}`,
      );
    }
    done += bytesRead;
  }
  return out;
}

/** Reads a whole file; gzip files (magic `1f 8b`) are inflated within `@vid/core`'s read limits. */
export async function readMaybeGzip(path: string): Promise<Uint8Array> {
  const { handle, size } = await openFile(path);
  let bytes: Uint8Array;
  try {
    bytes = await readAt(handle, path, 0, size);
  } finally {
    await handle.close();
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    // Bounded: a gzip bomb is refused after a few megabytes (see @vid/core's ReadLimits).
    return inflateBounded({
      format: 'gzip',
      compressedSize: bytes.byteLength,
      read: async (at, length) => bytes.subarray(at, at + length),
      file: path,
      what: '',
    });
  }
  return bytes;
}

/** Lists a directory, or throws an error naming it (missing, or not a directory). */
export async function listDirectory(path: string, what = 'directory'): Promise<Dirent[]> {
  try {
    return await readdir(path, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FileFormatError(path, `no such ${what} (expected an existing directory)`);
    if (code === 'ENOTDIR') throw new FileFormatError(path, `is a file (expected a ${what})`);
    throw fileError(path, error);
  }
}

/** True when `path` exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Writes bytes atomically, through `@vid/core`'s one atomic writer (temporary file, flush, rename). */
export async function writeBytesAtomic(path: string, bytes: Uint8Array): Promise<void> {
  await writeFileAtomic(path, (handle) => writeAll(handle, bytes));
}
