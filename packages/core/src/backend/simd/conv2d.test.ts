import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { compareClose, useBackend } from '../../testing/index.js';
import { Rng } from '../../rng.js';
import { initBackend } from '../select.js';
import {
  CONTROL,
  backendMemory,
  claimPartitions,
  isSharedMemory,
  setSimdKernelPool,
  simdFlipFilter,
  simdKernelPool,
  simdKernelsAvailable,
} from './conv2d.js';

/**
 * vid's wasm SIMD convolution and filter-gradient kernels against the cpu backend (tfjs's reference kernel) to
 * 1e-5 relative to the largest magnitude, against finite differences, and against itself on 1
 * and n threads (the same bits).
 */

const FLAG = 'VID_WASM_SIMD_KERNELS';

interface Case {
  readonly n: number;
  readonly size: [number, number];
  readonly ci: number;
  readonly co: number;
  readonly kernel: [number, number];
  readonly stride: number | [number, number];
  readonly pad: 'same' | 'valid' | tf.backend_util.ExplicitPadding;
}

const CASES: Case[] = [
  // Every tile: 4 × 8 channel blocks, and the 1 × 8, 1 × 4 and 1 × 1 remainders.
  { n: 2, size: [7, 9], ci: 9, co: 32, kernel: [3, 3], stride: 1, pad: 'same' },
  { n: 2, size: [8, 8], ci: 16, co: 13, kernel: [3, 3], stride: 1, pad: 'same' },
  { n: 3, size: [6, 5], ci: 5, co: 12, kernel: [5, 5], stride: 1, pad: 'same' },
  { n: 1, size: [9, 8], ci: 8, co: 8, kernel: [4, 4], stride: 2, pad: 'same' },
  { n: 2, size: [10, 9], ci: 4, co: 7, kernel: [3, 3], stride: [2, 3], pad: 'valid' },
  { n: 1, size: [12, 13], ci: 3, co: 20, kernel: [5, 2], stride: 3, pad: 'valid' },
  { n: 2, size: [5, 5], ci: 1, co: 1, kernel: [1, 1], stride: 1, pad: 'valid' },
  // The last 1–3 output channels: 4 × 1 filter-gradient tiles, forward tiles that store 1–3 lanes.
  { n: 2, size: [9, 10], ci: 8, co: 1, kernel: [3, 3], stride: 1, pad: 'same' },
  { n: 2, size: [7, 12], ci: 6, co: 6, kernel: [3, 3], stride: 1, pad: 'same' },
  // A kernel wider than the image: taps that never land.
  { n: 1, size: [3, 2], ci: 6, co: 9, kernel: [5, 5], stride: 1, pad: 'same' },
  {
    n: 2,
    size: [6, 6],
    ci: 12,
    co: 24,
    kernel: [3, 3],
    stride: 1,
    pad: [
      [0, 0],
      [2, 0],
      [1, 3],
      [0, 0],
    ],
  },
];

function label(c: Case): string {
  const pad = typeof c.pad === 'string' ? c.pad : 'explicit';
  return `${c.n}×${c.size.join('×')}×${c.ci} → ${c.co}, ${c.kernel.join('×')}, stride ${String(c.stride)}, ${pad}`;
}

function inputs(c: Case, seed: number): { x: Float32Array; dy: Float32Array; dyShape: number[] } {
  const rng = new Rng(seed);
  const x = rng.fillNormal(new Float32Array(c.n * c.size[0] * c.size[1] * c.ci));
  const probe = tf.tidy(() => {
    const w = tf.zeros([c.kernel[0], c.kernel[1], c.ci, c.co]) as tf.Tensor4D;
    return tf.conv2d(tf.zeros([c.n, ...c.size, c.ci]) as tf.Tensor4D, w, c.stride, c.pad).shape;
  });
  const dy = rng.fillNormal(new Float32Array(probe.reduce((a, b) => a * b, 1)));
  return { x, dy, dyShape: probe };
}

function filterGrad(c: Case, x: Float32Array, dy: Float32Array, dyShape: number[]): Float32Array {
  return tf.tidy(() => {
    const result = tf
      .engine()
      .runKernel('Conv2DBackpropFilter', { x: tf.tensor(x, [c.n, ...c.size, c.ci]), dy: tf.tensor(dy, dyShape) }, {
        strides: c.stride,
        pad: c.pad,
        dataFormat: 'NHWC',
        dimRoundingMode: undefined,
        filterShape: [c.kernel[0], c.kernel[1], c.ci, c.co],
      } as unknown as tf.NamedAttrMap) as tf.Tensor;
    return result.dataSync() as Float32Array;
  });
}

function forward(c: Case, x: Float32Array, w: Float32Array, bias?: Float32Array): Float32Array {
  return tf.tidy(() => {
    const xt = tf.tensor(x, [c.n, ...c.size, c.ci]) as tf.Tensor4D;
    const wt = tf.tensor(w, [c.kernel[0], c.kernel[1], c.ci, c.co]) as tf.Tensor4D;
    const y = bias
      ? tf.fused.conv2d({ x: xt, filter: wt, strides: c.stride, pad: c.pad, bias: tf.tensor(bias, [c.co]) })
      : tf.conv2d(xt, wt, c.stride, c.pad);
    return y.dataSync() as Float32Array;
  });
}

beforeAll(async () => {
  // Two threads whatever the machine: the threaded backend, whose memory the pool shares.
  await initBackend({ backend: 'wasm', threads: 2, log: false });
});

afterEach(async () => {
  tf.env().set(FLAG, true);
  await useBackend('wasm');
});

describe('wasm SIMD Conv2DBackpropFilter', () => {
  it('is available on the wasm backend here (wasm SIMD)', () => {
    expect(simdKernelsAvailable(tf.findBackend('wasm') as tf.KernelBackend)).toBe(true);
  });

  CASES.forEach((c, i) => {
    it(`${label(c)}: matches cpu and the XNNPACK formulation to 1e-5`, async () => {
      const { x, dy, dyShape } = inputs(c, 100 + i);
      await useBackend('cpu');
      const cpu = filterGrad(c, x, dy, dyShape);
      await useBackend('wasm');
      const simd = filterGrad(c, x, dy, dyShape);
      tf.env().set(FLAG, false);
      const xnnpack = filterGrad(c, x, dy, dyShape);
      for (const [name, got] of [
        ['SIMD kernel', simd],
        ['XNNPACK formulation', xnnpack],
      ] as const) {
        const report = compareClose(got, cpu, { relativeToMax: 1e-5, name: `${label(c)}: ${name}` });
        expect(report.ok, report.message).toBe(true);
      }
    });
  });

  CASES.forEach((c, i) => {
    for (const withBias of [false, true]) {
      const name = `${label(c)}${withBias ? ', bias' : ''}`;
      it(`${name}: the forward convolution matches cpu and XNNPACK to 1e-5`, async () => {
        const rng = new Rng(200 + i);
        const x = rng.fillNormal(new Float32Array(c.n * c.size[0] * c.size[1] * c.ci));
        const w = rng.fillNormal(new Float32Array(c.kernel[0] * c.kernel[1] * c.ci * c.co));
        const bias = withBias ? rng.fillNormal(new Float32Array(c.co)) : undefined;
        await useBackend('cpu');
        const cpu = forward(c, x, w, bias);
        await useBackend('wasm');
        const simd = forward(c, x, w, bias);
        tf.env().set(FLAG, false);
        const xnnpack = forward(c, x, w, bias);
        for (const [kind, got] of [
          ['SIMD kernel', simd],
          ['XNNPACK', xnnpack],
        ] as const) {
          const report = compareClose(got, cpu, { relativeToMax: 1e-5, name: `${name}: ${kind}` });
          expect(report.ok, report.message).toBe(true);
        }
      });
    }
  });

  it('falls back to XNNPACK for a fused activation and for dilation, with the same results as cpu', async () => {
    const rng = new Rng(3);
    const x = tf.tensor(rng.fillNormal(new Float32Array(2 * 9 * 9 * 4)), [2, 9, 9, 4]) as tf.Tensor4D;
    const w = tf.tensor(rng.fillNormal(new Float32Array(3 * 3 * 4 * 8)), [3, 3, 4, 8]) as tf.Tensor4D;
    const b = tf.tensor(rng.fillNormal(new Float32Array(8)), [8]);
    const run = (): Float32Array[] =>
      tf.tidy(() => [
        tf.fused
          .conv2d({ x, filter: w, strides: 1, pad: 'same', bias: b, activation: 'relu' })
          .dataSync() as Float32Array,
        tf.conv2d(x, w, 1, 'same', 'NHWC', 2).dataSync() as Float32Array,
      ]);
    const wasm = run();
    await useBackend('cpu');
    const cpu = run();
    tf.dispose([x, w, b]);
    wasm.forEach((got, i) => {
      const report = compareClose(got, cpu[i] as Float32Array, { relativeToMax: 1e-5, name: `fallback ${i}` });
      expect(report.ok, report.message).toBe(true);
    });
  });

  it('flips a filter for the input gradient in one pass, exactly as Reverse and Transpose do', async () => {
    const w = tf.tensor(new Rng(4).fillNormal(new Float32Array(3 * 2 * 5 * 7)), [3, 2, 5, 7]);
    const flipped = (): Float32Array =>
      tf.tidy(() => {
        const attrs = {
          strides: 1,
          pad: 'same',
          dataFormat: 'NHWC',
          dimRoundingMode: undefined,
          inputShape: [1, 4, 4, 5],
        };
        const dx = tf
          .engine()
          .runKernel(
            'Conv2DBackpropInput',
            { dy: tf.ones([1, 4, 4, 7]), filter: w },
            attrs as unknown as tf.NamedAttrMap,
          );
        return (dx as tf.Tensor).dataSync() as Float32Array;
      });
    const simd = flipped();
    tf.env().set(FLAG, false);
    const stock = flipped();
    const reference = tf.tidy(() => tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]).dataSync());
    tf.env().set(FLAG, true);
    const direct = tf.tidy(() => {
      const out = simdFlipFilter(tf.findBackend('wasm') as tf.KernelBackend, w as unknown as tf.TensorInfo);
      if (!out) throw new Error('the SIMD kernels did not run');
      const t = tf.engine().makeTensorFromTensorInfo(out);
      return t.dataSync();
    });
    w.dispose();
    expect(Array.from(direct)).toEqual(Array.from(reference));
    const report = compareClose(simd, stock, { relativeToMax: 1e-5, name: 'input gradient, flip by vid vs Reverse' });
    expect(report.ok, report.message).toBe(true);
  });

  it('the gradient of conv2d through the kernel matches finite differences to 1e-4', () => {
    const c: Case = { n: 2, size: [6, 7], ci: 5, co: 10, kernel: [3, 3], stride: 1, pad: 'same' };
    const rng = new Rng(5);
    const x = tf.tensor(rng.fillNormal(new Float32Array(2 * 6 * 7 * 5)), [2, 6, 7, 5]) as tf.Tensor4D;
    const w0 = rng.fillNormal(new Float32Array(3 * 3 * 5 * 10));
    const proj = tf.tensor(rng.fillNormal(new Float32Array(2 * 6 * 7 * 10)), [2, 6, 7, 10]);
    // float64 on the host: the loss as a function of the filter, exactly.
    const loss = (w: Float32Array): number => {
      const out = tf.tidy(() =>
        tf.sum(tf.mul(tf.conv2d(x, tf.tensor(w, [3, 3, 5, 10]) as tf.Tensor4D, 1, c.pad), proj)).dataSync(),
      );
      return out[0] as number;
    };
    const grad = tf.tidy(
      () =>
        tf
          .grad((w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, w as tf.Tensor4D, 1, c.pad), proj)))(
            tf.tensor(w0, [3, 3, 5, 10]),
          )
          .dataSync() as Float32Array,
    );
    const eps = 1e-2;
    const fd = new Float32Array(w0.length);
    for (let i = 0; i < w0.length; i++) {
      const plus = w0.slice();
      plus[i] = (plus[i] as number) + eps;
      const minus = w0.slice();
      minus[i] = (minus[i] as number) - eps;
      fd[i] = (loss(plus) - loss(minus)) / (2 * eps);
    }
    tf.dispose([x, proj]);
    const report = compareClose(grad, fd, { relativeToMax: 1e-4, name: 'filter gradient vs finite differences' });
    expect(report.ok, report.message).toBe(true);
  });

  it('a claim on a spent job takes nothing; a failed partition is counted and reported', () => {
    const control = new Int32Array(CONTROL.LENGTH);
    const calls: number[][] = [];
    const record = (...args: number[]): void => void calls.push(args);
    const kernels = {
      conv2dFilterGrad: record,
      conv2dForward: record,
      addInto: record,
      pad2d: record,
      flipFilter: record,
    };
    // A spent job (2 partitions, both taken): a thread arriving late takes nothing.
    Atomics.store(control, CONTROL.NEXT, (2 << 8) | 2);
    claimPartitions(control, kernels);
    expect(calls).toEqual([]);
    // A published forward job of 3 partitions over 7 rows.
    control[CONTROL.ARGS] = 1;
    control[CONTROL.ARGS + 1] = 7;
    Atomics.store(control, CONTROL.NEXT, 3 << 8);
    claimPartitions(control, kernels);
    expect(calls.map((args) => args.slice(-2))).toEqual([
      [0, 2],
      [2, 4],
      [4, 7],
    ]);
    expect(Atomics.load(control, CONTROL.DONE)).toBe(3);
    // A kernel that throws: the partition still counts, ERROR is set, and the error propagates.
    Atomics.store(control, CONTROL.DONE, 0);
    Atomics.store(control, CONTROL.NEXT, 2 << 8);
    const failing = {
      ...kernels,
      conv2dForward: (): void => {
        throw new Error('trap');
      },
    };
    expect(() => claimPartitions(control, failing)).toThrow('trap');
    expect(Atomics.load(control, CONTROL.DONE)).toBe(1);
    expect(Atomics.load(control, CONTROL.ERROR)).toBe(1);
  });

  it('has the same bits on the calling thread alone and with the worker pool', async () => {
    const backend = tf.findBackend('wasm') as tf.KernelBackend;
    // The threaded backend (Node) shares its memory, and vid starts its pool with it.
    const memory = backendMemory(backend);
    expect(memory && isSharedMemory(memory)).toBe(true);
    const pool = simdKernelPool(backend);
    expect(pool?.workers).toBeGreaterThan(0);
    // Large enough for the pool to take partitions; the second case has 1–3 tail channels.
    const cases: Case[] = [
      { n: 4, size: [32, 32], ci: 16, co: 32, kernel: [3, 3], stride: 1, pad: 'same' },
      { n: 4, size: [30, 31], ci: 14, co: 31, kernel: [3, 3], stride: 1, pad: 'same' },
    ];
    const results = (): Float32Array[] =>
      cases.flatMap((c, k) => {
        const { x, dy, dyShape } = inputs(c, 7 + k);
        const w = new Rng(8 + k).fillNormal(new Float32Array(3 * 3 * c.ci * c.co));
        return [filterGrad(c, x, dy, dyShape), forward(c, x, w)];
      });
    const pooled = results();
    setSimdKernelPool(backend, undefined);
    try {
      const alone = results();
      alone.forEach((a, i) =>
        expect(Buffer.from(a.buffer).equals(Buffer.from((pooled[i] as Float32Array).buffer))).toBe(true),
      );
    } finally {
      setSimdKernelPool(backend, pool);
    }
  });
});
