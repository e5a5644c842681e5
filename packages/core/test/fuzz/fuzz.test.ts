/**
 * The fuzz suite of @vid/core's readers (issue 13): hand-made hostile files (tooling/fuzz/hostile.js)
 * and seeded truncations and byte flips of the real fixtures, each read in a child process under a
 * watchdog (tooling/fuzz). Every case must end in a typed vid error that names the file, or in
 * correct data, within the time and memory budget: no hang, nothing over budget, nothing untyped.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { type FuzzCase, fuzzTable, hostileCases, mutate, runFuzz } from '@vid/fuzz';
import { describe, expect, it } from 'vitest';

const fixtures = join(import.meta.dirname, '..', 'fixtures');
const READERS = ['pickle', 'pt-zip', 'pt-legacy', 'safetensors'];
const MUTATIONS_PER_READER = 240;

async function mutated(): Promise<FuzzCase[]> {
  const out: FuzzCase[] = [];
  const add = (reader: string, fileName: string, bytes: Uint8Array, seed: number, count: number): void => {
    for (const m of mutate(bytes, seed, count))
      out.push({ reader, name: `${fileName} ${m.name}`, fileName, bytes: m.bytes, expect: { kind: 'either' } });
  };
  const file = async (name: string): Promise<Uint8Array> => new Uint8Array(await readFile(join(fixtures, name)));
  add('pt-zip', 'checkpoint-zip.pt', await file('checkpoint-zip.pt'), 1, MUTATIONS_PER_READER);
  add('pt-legacy', 'checkpoint-legacy.pt', await file('checkpoint-legacy.pt'), 2, MUTATIONS_PER_READER);
  add('safetensors', 'dtypes.safetensors', await file('dtypes.safetensors'), 3, MUTATIONS_PER_READER);
  const pickles = JSON.parse(await readFile(join(fixtures, 'pickles.json'), 'utf8')) as Record<string, string>;
  const protocols = Object.entries(pickles);
  for (const [protocol, b64] of protocols) {
    add(
      'pickle',
      `protocol-${protocol}.pkl`,
      new Uint8Array(Buffer.from(b64, 'base64')),
      10 + Number(protocol),
      Math.ceil(MUTATIONS_PER_READER / protocols.length),
    );
  }
  return out;
}

describe('fuzzing the readers of @vid/core', () => {
  it('ends every hostile and mutated file in a typed error or correct data, within budget', async () => {
    const cases = [...hostileCases().filter((c) => READERS.includes(c.reader)), ...(await mutated())];
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
    // The hand-made cases end exactly as hostile.js says (typed error or data, with its message).
    expect(results.length).toBe(cases.length);
  });
});
