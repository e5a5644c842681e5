import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { compareClose, useBackend } from '../../testing/index.js';
import { Rng } from '../../rng.js';
import { initBackend } from '../select.js';
import { backendMemory, isSharedMemory, simdKernelPool, simdKernelsAvailable } from './conv2d.js';

/**
 * The single-threaded wasm backend (a plain, unshared memory, as in a page that is not
 * cross-origin isolated): vid's kernels are the module variant that imports a plain memory, run
 * on the calling thread alone.
 */

beforeAll(async () => {
  await initBackend({ backend: 'wasm', threads: 1, log: false });
});

describe('wasm SIMD kernels on the single-threaded backend', () => {
  it('instantiate on the plain memory, with no worker pool', () => {
    const backend = tf.findBackend('wasm') as tf.KernelBackend;
    const memory = backendMemory(backend);
    expect(memory).toBeDefined();
    expect(isSharedMemory(memory as WebAssembly.Memory)).toBe(false);
    expect(simdKernelsAvailable(backend)).toBe(true);
    expect(simdKernelPool(backend)).toBeUndefined();
  });

  it('the forward convolution and its gradients match cpu to 1e-5', async () => {
    const rng = new Rng(11);
    const xData = rng.fillNormal(new Float32Array(2 * 10 * 9 * 12));
    const wData = rng.fillNormal(new Float32Array(3 * 3 * 12 * 16));
    const bData = rng.fillNormal(new Float32Array(16));
    const proj = rng.fillNormal(new Float32Array(2 * 10 * 9 * 16));
    const run = (): Float32Array[] =>
      tf.tidy(() => {
        const x = tf.tensor(xData, [2, 10, 9, 12]) as tf.Tensor4D;
        const w = tf.tensor(wData, [3, 3, 12, 16]) as tf.Tensor4D;
        const b = tf.tensor(bData, [16]);
        const p = tf.tensor(proj, [2, 10, 9, 16]);
        const f = (xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor): tf.Tensor =>
          tf.fused.conv2d({ x: xi as tf.Tensor4D, filter: wi as tf.Tensor4D, strides: 1, pad: 'same', bias: bi });
        const grads = tf.grads((xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) => tf.sum(tf.mul(f(xi, wi, bi), p)))([
          x,
          w,
          b,
        ]);
        return [f(x, w, b), ...grads].map((t) => t.dataSync() as Float32Array);
      });
    const wasm = run();
    await useBackend('cpu');
    const cpu = run();
    await useBackend('wasm');
    wasm.forEach((got, i) => {
      const report = compareClose(got, cpu[i] as Float32Array, { relativeToMax: 1e-5, name: `output ${i}` });
      expect(report.ok, report.message).toBe(true);
    });
  });
});

describe('the committed kernels', () => {
  it('are what scripts/build-wasm.mjs builds from wasm/conv2d.ts, byte for byte', () => {
    const script = fileURLToPath(new URL('../../../scripts/build-wasm.mjs', import.meta.url));
    const result = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
