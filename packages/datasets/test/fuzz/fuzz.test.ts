/**
 * The fuzz suite of @vid/datasets' readers (issue 13): hand-made hostile files (tooling/fuzz/hostile.js)
 * and seeded truncations and byte flips of the real fixtures (`.npy`, stored and deflated `.npz`,
 * IDX and `.gz`), each read in a child process under a watchdog (tooling/fuzz). Every case must end
 * in a typed vid error that names the file, or in correct data, within the time and memory budget.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { type FuzzCase, fuzzTable, hostileCases, mutate, runFuzz } from '@vid/fuzz';
import { describe, expect, it } from 'vitest';

const arrays = join(import.meta.dirname, '..', 'fixtures', 'arrays');
const READERS = ['npy', 'npz', 'idx'];
/** `.npz` files are read twice: whole (`readNpz`) and by slabs (`NpzFile.array`, as the Moving MNIST loaders do). */
const bySlabs = (cases: FuzzCase[]): FuzzCase[] =>
  cases.filter((c) => c.reader === 'npz').map((c) => ({ ...c, reader: 'npz-slab' }));

async function mutated(): Promise<FuzzCase[]> {
  const out: FuzzCase[] = [];
  const add = async (reader: string, fileName: string, seed: number, count: number): Promise<void> => {
    const bytes = new Uint8Array(await readFile(join(arrays, fileName)));
    for (const m of mutate(bytes, seed, count))
      out.push({ reader, name: `${fileName} ${m.name}`, fileName, bytes: m.bytes, expect: { kind: 'either' } });
  };
  for (const [i, name] of [
    'f4_3x4.npy',
    'f8_big_endian.npy',
    'i4_fortran.npy',
    'i4_v2.npy',
    'b1.npy',
    'u2_empty.npy',
  ].entries())
    await add('npy', name, 100 + i, 40);
  for (const [i, name] of [
    'stored.npz',
    'deflated.npz',
    'convttlstm_small_deflated.npz',
    'predrnn_small.npz',
  ].entries())
    await add('npz', name, 200 + i, 60);
  out.push(...bySlabs(out));
  for (const [i, name] of [
    'tiny-images-idx3-ubyte',
    'tiny-images-idx3-ubyte.gz',
    'tiny-idx2-float',
    'tiny-idx1-short',
  ].entries())
    await add('idx', name, 300 + i, 60);
  return out;
}

describe('fuzzing the readers of @vid/datasets', () => {
  it('ends every hostile and mutated file in a typed error or correct data, within budget', async () => {
    const hostile = hostileCases().filter((c) => READERS.includes(c.reader));
    const cases = [...hostile, ...bySlabs(hostile), ...(await mutated())];
    const results = await runFuzz({ module: join(import.meta.dirname, 'readers.ts'), cases });
    console.log(
      `${fuzzTable(results)}\n\nIsolated cases (a fresh process each):\n${results
        .filter((_, i) => cases[i]?.isolated)
        .map(
          (r) =>
            `- ${r.reader} ${r.name}: ${r.outcome}, ${r.ms?.toFixed(1)} ms, peak RSS ${r.peakRssMiB?.toFixed(0)} MiB`,
        )
        .join('\n')}`,
    );
    expect(results.filter((r) => r.outcome !== 'typed' && r.outcome !== 'data')).toEqual([]);
    expect(results.length).toBe(cases.length);
  });
});
