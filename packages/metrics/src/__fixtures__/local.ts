/** Test helpers: the package's own fixtures under `test/fixtures/` (made by `tooling/fixtures/metrics/`). */
import { fileURLToPath } from 'node:url';

import { type SafetensorsContents, readSafetensors } from '@vid/core';

/** The absolute path of a file in `packages/metrics/test/fixtures/`. */
export function localFixturePath(name: string): string {
  return fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url));
}

/** Reads a safetensors file from `packages/metrics/test/fixtures/`. */
export function loadLocalFixture(name: string): Promise<SafetensorsContents> {
  return readSafetensors(localFixturePath(name));
}

/** A fixture tensor's values as float64 numbers. */
export function values(contents: SafetensorsContents, name: string): number[] {
  const tensor = contents.tensors.get(name);
  if (!tensor) throw new Error(`fixture has no tensor "${name}" (has: ${[...contents.tensors.keys()].join(', ')})`);
  return Array.from(tensor.data as ArrayLike<number>, Number);
}
