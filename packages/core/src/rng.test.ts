import { describe, expect, it } from 'vitest';

import { ConfigError } from './errors.js';
import { Rng } from './rng.js';
import { resolveRng } from './validate.js';

describe('Rng (xoshiro128**)', () => {
  it('matches the reference xoshiro128** sequence for the state [1, 2, 3, 4]', () => {
    const rng = new Rng({ kind: 'xoshiro128**', s: [1, 2, 3, 4], spare: null });
    // Reference outputs of xoshiro128** (Blackman & Vigna) from state {1, 2, 3, 4}.
    expect([rng.nextUint32(), rng.nextUint32(), rng.nextUint32(), rng.nextUint32()]).toEqual([
      11520, 0, 5927040, 70819200,
    ]);
  });

  it('is deterministic per seed, and seeds differ', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 5 }, () => a.uniform());
    expect(Array.from({ length: 5 }, () => b.uniform())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.uniform())).not.toEqual(sa);
    expect(new Rng('run-a').nextUint32()).not.toBe(new Rng('run-b').nextUint32());
  });

  it('round-trips its whole state through JSON, including the cached normal deviate', () => {
    const rng = new Rng(7);
    rng.normal(); // leaves a spare deviate
    const state = JSON.parse(JSON.stringify(rng.getState()));
    const copy = new Rng(state);
    expect(Array.from({ length: 6 }, () => copy.normal())).toEqual(Array.from({ length: 6 }, () => rng.normal()));
  });

  it('draws with the right distributions', () => {
    const rng = new Rng(1);
    const n = 20000;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      sum += z;
      sumSq += z * z;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.03);
    expect(Math.abs(sumSq / n - 1)).toBeLessThan(0.04);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 6000; i++) counts[rng.int(6)]++;
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(120);
    const u = Array.from({ length: 1000 }, () => rng.uniform(-2, 3));
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...u)).toBeLessThan(3);
    expect(rng.permutation(10).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('forks independent, reproducible streams', () => {
    const a = new Rng(5).fork('data');
    const b = new Rng(5).fork('data');
    const c = new Rng(5).fork('init');
    expect(a.nextUint32()).toBe(b.nextUint32());
    expect(new Rng(5).fork('data').nextUint32()).not.toBe(c.nextUint32());
  });

  it('rejects bad seeds and states', () => {
    expect(() => new Rng(Number.NaN)).toThrow(ConfigError);
    expect(() => new Rng({ kind: 'xoshiro128**', s: [1, 2], spare: null })).toThrow(/expected an RngState/);
    expect(() => new Rng(1).int(0)).toThrow(/n: expected an integer in \[1, 2\^32\], received 0/);
  });
});

describe('resolveRng (the `seed` option of every module)', () => {
  it('keeps a given generator, seeds a new one from a number, and defaults to seed 0', () => {
    const shared = new Rng(5);
    expect(resolveRng(shared)).toBe(shared);
    expect(resolveRng(7).uniform()).toBe(new Rng(7).uniform());
    expect(resolveRng(undefined).uniform()).toBe(new Rng(0).uniform());
  });

  it('names the option and what it received', () => {
    expect(() => resolveRng(Number.NaN, 'seed', 'ConvLSTM')).toThrow(/ConvLSTM.*seed.*a finite number or an Rng.*NaN/s);
    expect(() => resolveRng('3', 'seed', 'LSTM')).toThrow(/seed/);
  });
});
