import * as tf from '@tensorflow/tfjs-core';
import { assertClose, expectNoLeakedTensors } from '@vid/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';

import { initTestBackend } from '../__fixtures__/helpers.js';
import { aggregatePredictions, linearTimeWeights } from './aggregate.js';

beforeAll(async () => {
  await initTestBackend();
});

describe('prediction aggregation over time (Ng et al. 2015, sec. 3.2; LRCN)', () => {
  // One video, T = 4 steps, 2 classes.
  const steps = [
    [0.9, 0.1],
    [0.2, 0.8],
    [0.4, 0.6],
    [0.3, 0.7],
  ];

  it("the paper's linear weights g_t = t / T rise from 1/T to 1", () => {
    expect(Array.from(linearTimeWeights(4))).toEqual([0.25, 0.5, 0.75, 1]);
    expect(Array.from(linearTimeWeights(1))).toEqual([1]);
    const g5 = Array.from(linearTimeWeights(5));
    g5.slice(1).forEach((g, i) => expect(g - g5[i]!).toBeCloseTo(0.2, 7)); // linear: constant steps
  });

  it('max, sum, last, mean and weighted match a hand computation', () => {
    const p = tf.tensor3d([steps]);
    const expected: Record<string, number[]> = {
      max: [0.9, 0.8],
      sum: [1.8, 2.2],
      last: [0.3, 0.7],
      mean: [0.45, 0.55],
      // (0.25·0.9 + 0.5·0.2 + 0.75·0.4 + 1·0.3) / 2.5 and likewise
      weighted: [(0.225 + 0.1 + 0.3 + 0.3) / 2.5, (0.025 + 0.4 + 0.45 + 0.7) / 2.5],
    };
    for (const [method, values] of Object.entries(expected)) {
      const out = aggregatePredictions(p, method as never);
      assertClose(out, values, { atol: 1e-6, name: method, checkShape: false });
      out.dispose();
    }
    // max picks class 0 here (0.9 at the first step), the others class 1: the choice matters.
    p.dispose();
  });

  it('batches are independent; no leaks; bad input is rejected', async () => {
    const p = tf.tensor3d([steps, steps.map(([a, b]) => [b!, a!])]);
    const out = aggregatePredictions(p, 'weighted');
    const rows = (await out.array()) as number[][];
    expect(rows[0]![0]).toBeCloseTo(rows[1]![1]!, 6);
    await expectNoLeakedTensors(() => aggregatePredictions(p, 'last'), 'aggregatePredictions');
    expect(() => aggregatePredictions(p, 'median' as never)).toThrow(
      /method: expected one of "mean", "max", "sum", "last", "weighted", received "median"/,
    );
    expect(() => aggregatePredictions(tf.zeros([2, 3]), 'max')).toThrow(
      /probabilities: expected \[batch, time ≥ 1, classes\], received \[2, 3\]/,
    );
    tf.dispose([p, out]);
  });
});
