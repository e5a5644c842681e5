/** The fuzz watchdog itself: a hang, a memory bomb and an untyped error are caught, and the run carries on. */
import { join } from 'node:path';

import { runFuzz } from '@vid/fuzz';
import { describe, expect, it } from 'vitest';

describe('the fuzz watchdog', () => {
  it('reports a hang, a case over budget and an untyped error, then carries on', async () => {
    const bytes = new Uint8Array(4);
    const cases = ['hang', 'fine', 'bomb', 'untyped', 'fine'].map((reader, i) => ({
      reader,
      name: `${reader}-${i}`,
      fileName: 'x.bin',
      bytes,
      expect: { kind: 'either' as const },
    }));
    const results = await runFuzz({
      module: join(import.meta.dirname, 'misbehaving.ts'),
      cases,
      timeoutMs: 1500,
      rssBudgetMiB: 400,
    });
    expect(results.map((r) => r.outcome)).toEqual(['hang', 'typed', 'over-budget', 'untyped', 'typed']);
  });
});
