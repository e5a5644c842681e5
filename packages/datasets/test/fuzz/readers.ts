/** The readers of @vid/datasets under fuzzing (see fuzz.test.ts): each takes a path and reads it whole. */
import { readIdx } from '../../src/io/idx.js';
import { readNpy } from '../../src/io/npy.js';
import { NpzFile, readNpz } from '../../src/io/npz.js';

export const readers: Record<string, (path: string) => Promise<unknown>> = {
  npy: (path) => readNpy(path),
  npz: (path) => readNpz(path),
  /** The path of the Moving MNIST loaders: each member opened for slab reads, then read by slabs. */
  'npz-slab': async (path) => {
    const npz = await NpzFile.open(path);
    try {
      const out = new Map<string, unknown>();
      for (const key of npz.keys()) out.set(key, await (await npz.array(key)).readSlab([]));
      return out;
    } finally {
      await npz.close();
    }
  },
  idx: (path) => readIdx(path),
};
