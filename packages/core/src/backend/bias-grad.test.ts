import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { Rng } from '../rng.js';
import { pairwiseSum, stockSumKernel } from './bias-grad.js';
import { initBackend } from './select.js';

/** dy `[16, 64, 64, 32]` like a training loss's: a per-channel offset with noise (as tooling/fixtures/core/bias_grad_reference.py). */
function outputGradient(): Float32Array {
  const rng = new Rng(7);
  const channels = 32;
  const offsets = Array.from({ length: channels }, () => rng.uniform() * 2e-3);
  const dy = new Float32Array(16 * 64 * 64 * channels);
  for (let i = 0; i < dy.length; i++) dy[i] = rng.normal() * 1e-3 + (offsets[i % channels] as number);
  return dy;
}

/** The exact per-channel sums (float64, with error ~1e-16 relative). */
function exactSums(dy: Float32Array, channels: number): Float64Array {
  const out = new Float64Array(channels);
  for (let c = 0; c < channels; c++) out[c] = pairwiseSum(dy, c, dy.length / channels, channels);
  return out;
}

/** The bias gradient of tf.fused.conv2d with output gradient dy. */
function fusedBiasGradient(dy: Float32Array): Float32Array {
  return tf.tidy(() => {
    const x = tf.zeros([16, 64, 64, 1]) as tf.Tensor4D;
    const filter = tf.zeros([1, 1, 1, 32]) as tf.Tensor4D;
    const dyTensor = tf.tensor4d(dy, [16, 64, 64, 32]);
    const grad = tf.grad((bias: tf.Tensor) =>
      tf.sum(tf.mul(tf.fused.conv2d({ x, filter, bias: bias as tf.Tensor1D, strides: 1, pad: 'same' }), dyTensor)),
    );
    return grad(tf.zeros([32])).dataSync() as Float32Array;
  });
}

const maxRelative = (a: ArrayLike<number>, exact: Float64Array): number =>
  Math.max(...Array.from(exact, (e, i) => Math.abs((a[i] as number) - e) / Math.abs(e)));

describe.each(['cpu', 'wasm'] as const)('bias gradient of tf.fused.conv2d (%s)', (backend) => {
  it('is accurate to float32 rounding (PyTorch level) with the pairwise Sum, and was not with the stock one', async () => {
    await initBackend({ backend, log: false });
    const dy = outputGradient();
    const exact = exactSums(dy, 32);
    const after = maxRelative(fusedBiasGradient(dy), exact);
    // The stock kernel, as before this change.
    const accurate = tf.getKernel('Sum', backend) as tf.KernelConfig;
    const stock = stockSumKernel(backend) as tf.KernelConfig;
    tf.unregisterKernel('Sum', backend);
    tf.registerKernel(stock);
    let before: number;
    try {
      before = maxRelative(fusedBiasGradient(dy), exact);
    } finally {
      tf.unregisterKernel('Sum', backend);
      tf.registerKernel(accurate);
    }
    console.log(
      `${backend}: bias gradient max relative error vs float64: stock Sum ${before.toExponential(3)}, pairwise ${after.toExponential(3)}`,
    );
    expect(after).toBeLessThan(1.2e-7); // float32 rounding of the exact sum: ≤ 2^-24 ≈ 6e-8 relative, plus the product's rounding
    // The cpu backend's stock Sum already accumulates in JavaScript numbers (float64); wasm's does not.
    if (backend === 'wasm') expect(before).toBeGreaterThan(1e-6);
  });

  it('sums leading axes with the bits of the column-by-column pairwise sum, for short and long columns', async () => {
    await initBackend({ backend, log: false });
    const rng = new Rng(3);
    for (const [rows, width] of [
      [5, 3],
      [128, 7],
      [129, 7],
      [1000, 1],
      [4099, 33],
    ] as const) {
      const values = Float32Array.from({ length: rows * width }, () => rng.normal() + 0.25);
      const want = Array.from({ length: width }, (_, o) => Math.fround(pairwiseSum(values, o, rows, width)));
      const got = tf.tidy(() => Array.from(tf.sum(tf.tensor2d(values, [rows, width]), 0).dataSync()));
      expect(got, `${rows} × ${width}`).toEqual(want);
    }
  });

  it('gives the stock results for other reductions (middle axes, integers, keepDims)', async () => {
    await initBackend({ backend, log: false });
    const x = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]);
    expect(Array.from(tf.sum(x, 1).dataSync())).toEqual([4, 6, 12, 14]);
    expect(Array.from(tf.sum(x, [1, 2], true).dataSync())).toEqual([10, 26]);
    expect(tf.sum(x, [1, 2], true).shape).toEqual([2, 1, 1]);
    expect(Array.from(tf.sum(x, 0).dataSync())).toEqual([6, 8, 10, 12]);
    expect(Array.from(tf.sum(tf.tensor1d([1, 2, 3], 'int32')).dataSync())).toEqual([6]);
    expect(tf.sum(x).dataSync()[0]).toBe(36);
    tf.dispose(x);
  });
});
