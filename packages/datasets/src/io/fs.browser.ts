/**
 * The browser build's `io/fs.ts`: the same exports, without Node. Paths are plain strings here;
 * every function that would touch a file throws a {@link FileFormatError} that says what to do
 * in a page instead (pass bytes, or a digit set).
 */
import { FileFormatError, type FileHandleLike } from '@vid/core';

const IN_A_BROWSER =
  'reading or writing files by path needs Node.js; in a browser, fetch the bytes and use the byte readers (parseNpy, parseIdx), or pass digits: digitSetFromArray(…) to MovingMnist';

function noFiles(path: string): never {
  throw new FileFormatError(path, IN_A_BROWSER);
}

export function createRequire(base: string): never {
  return noFiles(base);
}

/** POSIX `dirname` on strings. */
export function dirname(path: string): string {
  const cut = path.replace(/\/+$/, '').lastIndexOf('/');
  return cut < 0 ? '.' : cut === 0 ? '/' : path.slice(0, cut);
}

/** POSIX `join` on strings (no normalisation beyond single slashes). */
export function join(...parts: string[]): string {
  return parts
    .filter((p) => p.length > 0)
    .join('/')
    .replace(/\/{2,}/g, '/');
}

export async function openFile(path: string): Promise<{ handle: FileHandleLike; size: number }> {
  return noFiles(path);
}

export async function readAt(_handle: FileHandleLike, path: string): Promise<Uint8Array> {
  return noFiles(path);
}

export async function readMaybeGzip(path: string): Promise<Uint8Array> {
  return noFiles(path);
}

export async function listDirectory(path: string): Promise<never[]> {
  return noFiles(path);
}

export async function exists(path: string): Promise<boolean> {
  return noFiles(path);
}

export async function writeBytesAtomic(path: string): Promise<void> {
  return noFiles(path);
}
