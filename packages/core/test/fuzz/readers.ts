/** The readers of @vid/core under fuzzing (see fuzz.test.ts): each takes a path and reads it whole. */
import { readFile } from 'node:fs/promises';

import { unpickle } from '../../src/io/pickle.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { readTorchCheckpoint } from '../../src/io/torch.js';

export const readers: Record<string, (path: string) => Promise<unknown>> = {
  pickle: async (path) => unpickle(new Uint8Array(await readFile(path)), { file: path }).value,
  'pt-zip': (path) => readTorchCheckpoint(path),
  'pt-legacy': (path) => readTorchCheckpoint(path),
  safetensors: (path) => readSafetensors(path),
};
