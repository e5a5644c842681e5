/**
 * Lazy access to Node's file system, so that the rest of `@vid/core` stays importable in a
 * browser bundle. Only the functions that take a path load these modules.
 */
import type * as FsPromises from 'node:fs/promises';
import type * as Path from 'node:path';

import { FileFormatError } from '../errors.js';

let fsPromise: Promise<typeof FsPromises> | undefined;
let pathPromise: Promise<typeof Path> | undefined;

export function nodeFs(): Promise<typeof FsPromises> {
  fsPromise ??= import('node:fs/promises');
  return fsPromise;
}

export function nodePath(): Promise<typeof Path> {
  pathPromise ??= import('node:path');
  return pathPromise;
}

/** Reads a whole file, turning "not found" and "is a directory" into clear errors. */
export async function readFileBytes(path: string): Promise<Uint8Array> {
  const fs = await nodeFs();
  try {
    const buffer = await fs.readFile(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (error) {
    throw fileError(path, error);
  }
}

/** Maps Node's errno errors to {@link FileFormatError}s that name the file. */
export function fileError(path: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new FileFormatError(path, 'no such file (expected an existing file)');
  if (code === 'EISDIR') return new FileFormatError(path, 'is a directory (expected a file)');
  if (code === 'ENOTDIR') return new FileFormatError(path, 'a part of the path is not a directory');
  if (code === 'EACCES' || code === 'EPERM') return new FileFormatError(path, 'permission denied');
  if (code === 'ENOSPC') return new FileFormatError(path, 'no space left on the device');
  if (code === 'EROFS') return new FileFormatError(path, 'the file system is read-only');
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * The part of Node's `FileHandle` that vid's readers and writers use. Public signatures use it
 * instead of `FileHandle`, so that the published types need no Node types (browser users).
 */
export interface FileHandleLike {
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  write(buffer: Uint8Array, offset: number, length: number): Promise<{ bytesWritten: number }>;
  close(): Promise<void>;
}

/**
 * Writes a file atomically: the bytes go to a temporary file beside the target, which is flushed
 * to disk and then renamed over it. A crash or a full disk leaves the old file intact.
 *
 * `write` receives the open temporary file handle and writes everything through it.
 */
export async function writeFileAtomic(path: string, write: (handle: FileHandleLike) => Promise<void>): Promise<void> {
  const fs = await nodeFs();
  const p = await nodePath();
  const dir = p.dirname(path);
  const temp = p.join(dir, `.${p.basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  let handle: FsPromises.FileHandle | undefined;
  try {
    handle = await fs.open(temp, 'w');
    await write(handle);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(temp, path);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw await writeError(path, dir, error);
  }
}

/** Maps an error of writing `path` to one that says which folder is missing or not a folder. */
async function writeError(path: string, dir: string, error: unknown): Promise<Error> {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    const fs = await nodeFs();
    const info = await fs.stat(dir).catch((e: NodeJS.ErrnoException) => e);
    if (info instanceof Error) {
      return new FileFormatError(
        path,
        info.code === 'ENOTDIR'
          ? `cannot write here: a part of the folder ${dir} is a file, not a folder`
          : `cannot write here: the folder ${dir} does not exist (create it first)`,
      );
    }
    if (!info.isDirectory()) return new FileFormatError(path, `cannot write here: ${dir} is a file, not a folder`);
  }
  return fileError(path, error);
}

/** Writes all of `bytes` through a file handle (a single `write` may be partial). */
export async function writeAll(handle: FileHandleLike, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset);
    offset += bytesWritten;
  }
}

/** Reads exactly `length` bytes at `position`, or throws a truncation error naming the file. */
export async function readExactly(
  handle: FileHandleLike,
  path: string,
  position: number,
  length: number,
  into?: Uint8Array,
): Promise<Uint8Array> {
  if (!Number.isSafeInteger(position) || !Number.isSafeInteger(length) || position < 0 || length < 0) {
    throw new FileFormatError(path, `corrupted: cannot read ${length} bytes at offset ${position}`);
  }
  const out = into ?? new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(out, done, length - done, position + done);
    if (bytesRead === 0) {
      throw new FileFormatError(
        path,
        `truncated: expected ${length} bytes at offset ${position}, the file ends after ${done}`,
      );
    }
    done += bytesRead;
  }
  return out;
}
