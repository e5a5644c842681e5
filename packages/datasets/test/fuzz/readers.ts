/** The readers of @vid/datasets under fuzzing (see fuzz.test.ts): each takes a path and reads it whole. */
import { readIdx } from '../../src/io/idx.js';
import { readNpy } from '../../src/io/npy.js';
import { readNpz } from '../../src/io/npz.js';

export const readers: Record<string, (path: string) => Promise<unknown>> = {
  npy: (path) => readNpy(path),
  npz: (path) => readNpz(path),
  idx: (path) => readIdx(path),
};
