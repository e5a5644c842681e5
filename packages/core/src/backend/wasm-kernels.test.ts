import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { compareClose, expectNoLeakedTensors, useBackend } from '../testing/index.js';
import { Adam } from '../optim.js';
import { Rng } from '../rng.js';
import { initBackend } from './select.js';
import { simplifyTranspose } from './wasm-kernels.js';
import { simplifySlice } from './wasm-view-kernels.js';

/**
 * Gradients on wasm (with vid's kernels) against the cpu backend (tfjs's reference kernels),
 * to 1e-5 relative to the largest magnitude.
 */

const TOLERANCE = 1e-5;

function randomArray(rng: Rng, size: number): Float32Array {
  return rng.fillNormal(new Float32Array(size));
}

interface GradResult {
  readonly value: Float32Array;
  readonly grads: Float32Array[];
}

/** Runs `f` on a backend and returns its value and the gradients with respect to each input. */
async function onBackend(
  backend: 'wasm' | 'cpu',
  inputs: Array<{ data: Float32Array; shape: number[] }>,
  f: (...xs: tf.Tensor[]) => tf.Tensor,
): Promise<GradResult> {
  await useBackend(backend);
  return tf.tidy(() => {
    const xs = inputs.map((i) => tf.tensor(i.data, i.shape));
    // A random projection of the output makes every output element matter in the gradient.
    const g = tf.grads((...args: tf.Tensor[]) => {
      const y = f(...args);
      const weights = tf.tensor(randomArray(new Rng(99), y.size), y.shape);
      return tf.sum(tf.mul(y, weights));
    });
    const grads = g(xs);
    return { value: f(...xs).dataSync() as Float32Array, grads: grads.map((t) => t.dataSync() as Float32Array) };
  });
}

async function expectParity(
  name: string,
  inputs: Array<{ data: Float32Array; shape: number[] }>,
  f: (...xs: tf.Tensor[]) => tf.Tensor,
): Promise<void> {
  const cpu = await onBackend('cpu', inputs, f);
  const wasm = await onBackend('wasm', inputs, f);
  const forward = compareClose(wasm.value, cpu.value, { relativeToMax: TOLERANCE, name: `${name} forward` });
  expect(forward.ok, forward.message).toBe(true);
  wasm.grads.forEach((grad, i) => {
    const report = compareClose(grad, cpu.grads[i] as Float32Array, {
      relativeToMax: TOLERANCE,
      name: `${name} gradient ${i}`,
    });
    expect(report.ok, report.message).toBe(true);
  });
}

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

describe('wasm training kernels', () => {
  const rng = new Rng(7);
  const cases: Array<{
    kernel: [number, number];
    stride: number;
    pad: 'same' | 'valid' | tf.backend_util.ExplicitPadding;
    dilation: number;
    size: [number, number];
  }> = [
    { kernel: [3, 3], stride: 1, pad: 'same', dilation: 1, size: [7, 6] },
    { kernel: [5, 5], stride: 1, pad: 'same', dilation: 1, size: [8, 8] },
    { kernel: [4, 4], stride: 1, pad: 'same', dilation: 1, size: [7, 9] },
    { kernel: [2, 3], stride: 1, pad: 'valid', dilation: 1, size: [6, 7] },
    { kernel: [3, 3], stride: 2, pad: 'same', dilation: 1, size: [9, 8] },
    { kernel: [4, 4], stride: 2, pad: 'same', dilation: 1, size: [8, 11] },
    { kernel: [3, 3], stride: 2, pad: 'valid', dilation: 1, size: [10, 9] },
    { kernel: [5, 5], stride: 3, pad: 'valid', dilation: 1, size: [12, 13] },
    {
      kernel: [3, 3],
      stride: 1,
      pad: [
        [0, 0],
        [2, 0],
        [1, 3],
        [0, 0],
      ],
      dilation: 1,
      size: [6, 6],
    },
    { kernel: [3, 3], stride: 1, pad: 'same', dilation: 2, size: [9, 9] },
    { kernel: [2, 2], stride: 1, pad: 'valid', dilation: 3, size: [8, 7] },
  ];
  for (const c of cases) {
    const label = `conv2d k${c.kernel.join('x')} s${c.stride} d${c.dilation} ${typeof c.pad === 'string' ? c.pad : 'explicit'} on ${c.size.join('x')}`;
    it(`${label}: forward and gradients match cpu`, async () => {
      const [ci, co, n] = [3, 4, 2];
      const x = { data: randomArray(rng, n * c.size[0] * c.size[1] * ci), shape: [n, c.size[0], c.size[1], ci] };
      const w = {
        data: randomArray(rng, c.kernel[0] * c.kernel[1] * ci * co),
        shape: [c.kernel[0], c.kernel[1], ci, co],
      };
      await expectParity(label, [x, w], (xt, wt) =>
        tf.conv2d(xt as tf.Tensor4D, wt as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation),
      );
    });
  }

  for (const [kernel, stride, multiplier] of [
    [3, 1, 1],
    [4, 1, 2],
    [3, 2, 1],
    [5, 2, 2],
  ] as const) {
    it(`depthwise k${kernel} s${stride} m${multiplier}: forward and gradients match cpu`, async () => {
      const [ci, n, h, w] = [3, 2, 9, 8];
      const x = { data: randomArray(rng, n * h * w * ci), shape: [n, h, w, ci] };
      const f = { data: randomArray(rng, kernel * kernel * ci * multiplier), shape: [kernel, kernel, ci, multiplier] };
      await expectParity(`depthwise k${kernel}`, [x, f], (xt, ft) =>
        tf.depthwiseConv2d(xt as tf.Tensor4D, ft as tf.Tensor4D, stride, 'same'),
      );
    });
  }

  it('simplifies transposes by dropping unit axes and merging adjacent ones', () => {
    expect(simplifyTranspose([8, 10, 16, 16, 3], [1, 0, 2, 3, 4])).toEqual({ shape: [8, 10, 768], perm: [1, 0, 2] });
    expect(simplifyTranspose([2, 3, 4, 5], [0, 3, 1, 2])).toEqual({ shape: [2, 12, 5], perm: [0, 2, 1] });
    expect(simplifyTranspose([2, 1, 4], [1, 0, 2])).toEqual({ shape: [8], perm: [0] });
    expect(simplifyTranspose([2, 3, 4], [2, 1, 0])).toEqual({ shape: [2, 3, 4], perm: [2, 1, 0] });
  });

  for (const [shape, perm] of [
    [
      [2, 3, 4, 5, 2],
      [1, 0, 2, 3, 4],
    ],
    [
      [2, 3, 4, 5, 2],
      [0, 1, 4, 2, 3],
    ],
    [
      [3, 1, 4, 2],
      [1, 3, 0, 2],
    ],
    [
      [2, 1, 3],
      [1, 0, 2],
    ],
    [
      [4, 5],
      [1, 0],
    ],
  ] as Array<[number[], number[]]>) {
    it(`transpose ${JSON.stringify(perm)} of ${JSON.stringify(shape)}: forward and gradient match cpu`, async () => {
      const x = {
        data: randomArray(
          rng,
          shape.reduce((a, b) => a * b, 1),
        ),
        shape,
      };
      await expectParity('transpose', [x], (xt) => tf.transpose(xt, perm));
    });
  }

  for (const [kernel, stride, pad, size] of [
    [[3, 3, 3], 1, 'same', [5, 6, 5]],
    [[2, 3, 2], 1, 'valid', [4, 5, 6]],
    [[3, 3, 3], 2, 'same', [7, 6, 6]],
    [[3, 2, 2], [2, 1, 2], 'valid', [7, 5, 6]],
  ] as Array<
    [[number, number, number], number | [number, number, number], 'same' | 'valid', [number, number, number]]
  >) {
    it(`conv3d k${kernel.join('x')} s${stride} ${pad} on ${size.join('x')}: forward and gradients match cpu`, async () => {
      const [ci, co, n] = [2, 3, 2];
      const x = { data: randomArray(rng, n * size[0] * size[1] * size[2] * ci), shape: [n, ...size, ci] };
      const w = { data: randomArray(rng, kernel[0] * kernel[1] * kernel[2] * ci * co), shape: [...kernel, ci, co] };
      await expectParity('conv3d', [x, w], (xt, wt) => tf.conv3d(xt as tf.Tensor5D, wt as tf.Tensor5D, stride, pad));
    });
  }

  it('gather (UnsortedSegmentSum) gradients match cpu', async () => {
    const x = { data: randomArray(rng, 6 * 5), shape: [6, 5] };
    await expectParity('gather', [x], (xt) => tf.gather(xt, tf.tensor1d([0, 2, 2, 5, 1, 0, 0], 'int32')));
  });

  it('max and average pooling gradients match cpu', async () => {
    const x = { data: randomArray(rng, 2 * 8 * 8 * 3), shape: [2, 8, 8, 3] };
    await expectParity('pool', [x], (xt) =>
      tf.add(tf.maxPool(xt as tf.Tensor4D, 2, 2, 'valid'), tf.avgPool(xt as tf.Tensor4D, 2, 2, 'valid')),
    );
  });

  it('a ConvLSTM training step (conv on concat, gates, Adam) matches cpu and leaks nothing', async () => {
    const [b, h, w, c, hidden, k, steps] = [2, 6, 6, 3, 4, 3, 3];
    const inputs = randomArray(new Rng(1), steps * b * h * w * c);
    const weights = randomArray(new Rng(2), k * k * (c + hidden) * 4 * hidden).map((v) => v * 0.1);
    const run = async (backend: 'cpu' | 'wasm'): Promise<{ losses: number[]; weight: Float32Array }> => {
      await useBackend(backend);
      const x = tf.tensor(inputs, [steps, b, h, w, c]);
      const kernel = tf.tidy(() => tf.variable(tf.tensor(weights, [k, k, c + hidden, 4 * hidden])));
      const bias = tf.tidy(() => tf.variable(tf.zeros([4 * hidden])));
      const optimizer = new Adam(
        [
          ['kernel', kernel],
          ['bias', bias],
        ],
        { lr: 1e-2 },
      );
      const losses: number[] = [];
      for (let iteration = 0; iteration < 3; iteration++) {
        const { value: loss, grads } = optimizer.computeGradients(() => {
          const frames = tf.unstack(x);
          let hState = tf.zeros([b, h, w, hidden]);
          let cState = tf.zeros([b, h, w, hidden]);
          let total = tf.scalar(0);
          for (const frame of frames) {
            const z = tf.add(
              tf.conv2d(tf.concat([frame, hState], -1) as tf.Tensor4D, kernel as tf.Tensor4D, 1, 'same'),
              bias,
            );
            const [i, f, o, g] = tf.split(z, 4, -1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
            cState = tf.add(tf.mul(tf.sigmoid(f), cState), tf.mul(tf.sigmoid(i), tf.tanh(g)));
            hState = tf.mul(tf.sigmoid(o), tf.tanh(cState));
            total = tf.add(total, tf.mean(tf.square(hState)));
          }
          return total as tf.Scalar;
        });
        optimizer.applyGradients(grads);
        grads.forEach((g) => g.dispose());
        losses.push((await loss.data())[0] as number);
        loss.dispose();
      }
      const weight = (await kernel.data()) as Float32Array;
      x.dispose();
      kernel.dispose();
      bias.dispose();
      optimizer.dispose();
      return { losses, weight };
    };
    const cpu = await run('cpu');
    let wasm: { losses: number[]; weight: Float32Array } | undefined;
    await expectNoLeakedTensors(async () => {
      wasm = await run('wasm');
    }, 'wasm training step');
    expect(compareClose(wasm!.losses, cpu.losses, { relativeToMax: TOLERANCE, name: 'losses' }).ok).toBe(true);
    const report = compareClose(wasm!.weight, cpu.weight, {
      relativeToMax: TOLERANCE,
      name: 'weights after 3 Adam steps',
    });
    expect(report.ok, report.message).toBe(true);
  });
});

/** Reads a tensor on one backend (inputs built there from the same host data). */
async function valuesOn(
  backend: 'wasm' | 'cpu',
  f: () => tf.Tensor | tf.Tensor[],
): Promise<Array<{ shape: number[]; dtype: string; values: number[] }>> {
  await useBackend(backend);
  const out = tf.tidy(f);
  const list = Array.isArray(out) ? out : [out];
  const result = await Promise.all(
    list.map(async (t) => ({ shape: t.shape, dtype: t.dtype, values: Array.from(await t.data()) })),
  );
  tf.dispose(list);
  return result;
}

describe('wasm heap-view copy kernels (Slice, StridedSlice, SplitV, Unpack, Concat, Identity) and Tanh', () => {
  const rng = new Rng(11);
  const x5 = { data: randomArray(rng, 2 * 3 * 4 * 5 * 6), shape: [2, 3, 4, 5, 6] };

  it('simplifies slices by dropping unit axes and merging axes taken whole', () => {
    expect(simplifySlice([8, 64, 64, 128], [0, 0, 0, 32], [8, 64, 64, 32])).toEqual([
      { extent: 8 * 64 * 64, begin: 0, size: 8 * 64 * 64 },
      { extent: 128, begin: 32, size: 32 },
    ]);
    expect(simplifySlice([4, 1, 5, 6], [1, 0, 0, 0], [2, 1, 5, 6])).toEqual([{ extent: 120, begin: 30, size: 60 }]);
    expect(simplifySlice([3, 4, 5], [0, 1, 0], [3, 2, 5])).toEqual([
      { extent: 3, begin: 0, size: 3 },
      { extent: 20, begin: 5, size: 10 },
    ]);
  });

  const slices: Array<[number[], number[]]> = [
    [
      [0, 0, 0, 0, 2],
      [2, 3, 4, 5, 3],
    ],
    [
      [1, 0, 0, 0, 0],
      [1, 3, 4, 5, 6],
    ],
    [
      [0, 1, 1, 2, 0],
      [2, 2, 2, 3, 6],
    ],
    [
      [1, 2, 3, 4, 5],
      [1, 1, 1, 1, 1],
    ],
    [
      [0, 0, 0, 0, 0],
      [2, 3, 4, 5, 6],
    ],
    [
      [0, 1, 0, 0, 1],
      [2, 0, 4, 5, 2],
    ],
  ];
  for (const [begin, size] of slices) {
    it(`slice ${JSON.stringify(begin)} + ${JSON.stringify(size)}: forward and gradient match cpu`, async () => {
      await expectParity('slice', [x5], (xt) => tf.slice(xt, begin, size));
    });
  }

  it('strided slices (unit strides, masks, shrink axes) match cpu, and other strides fall back', async () => {
    // tfjs has no StridedSlice gradient: forward values only.
    const f = (): tf.Tensor[] => {
      const x = tf.tensor(x5.data, x5.shape);
      return [
        tf.stridedSlice(x, [0, 1, 0, 0, 2], [2, 3, 4, 5, 5], [1, 1, 1, 1, 1]),
        tf.stridedSlice(x, [1, 0, 2, 0, 0], [2, 3, 3, 5, 6], [1, 1, 1, 1, 1], 0, 0, 0, 0, 0b101),
        tf.stridedSlice(x, [0, 0, 0, 0, 0], [2, 3, 4, 5, 6], [1, 1, 1, 1, 1]),
        tf.stridedSlice(x, [0, 0, 0, 0, 0], [2, 3, 4, 5, 6], [1, 2, 1, 2, 1]),
      ];
    };
    expect(await valuesOn('wasm', f)).toEqual(await valuesOn('cpu', f));
  });

  for (const axis of [0, 2, 4, -1]) {
    it(`split and unstack on axis ${axis}: forward and gradients match cpu`, async () => {
      const extent = x5.shape[axis < 0 ? x5.shape.length + axis : axis] as number;
      const sizes = extent === 2 ? [1, 1] : [1, extent - 3, 2];
      await expectParity('split', [x5], (xt) =>
        tf.concat(
          tf.split(xt, sizes, axis).map((part, i) => tf.mul(part, i + 1)),
          axis,
        ),
      );
      await expectParity('unstack', [x5], (xt) =>
        tf.stack(
          tf.unstack(xt, axis).map((part, i) => tf.mul(part, i + 1)),
          0,
        ),
      );
    });
  }

  for (const axis of [0, 1, 3, 4]) {
    it(`concat of three on axis ${axis} (one of them empty on that axis): forward and gradients match cpu`, async () => {
      const shapeB = [...x5.shape];
      shapeB[axis] = 3;
      const shapeC = [...x5.shape];
      shapeC[axis] = 0;
      const b = {
        data: randomArray(
          rng,
          shapeB.reduce((p, q) => p * q, 1),
        ),
        shape: shapeB,
      };
      await expectParity('concat', [x5, b], (xt, bt) =>
        tf.concat([xt, tf.zeros(shapeC), bt as tf.Tensor, tf.neg(xt)], axis),
      );
    });
  }

  it('int32 and bool slices, splits, unstacks and concats match cpu bit for bit', async () => {
    const ints = Int32Array.from({ length: 2 * 3 * 4 }, (_, i) => i * 7 - 30);
    const f = (): tf.Tensor[] => {
      const i = tf.tensor(ints, [2, 3, 4], 'int32');
      const b = tf.greater(i, 0);
      return [
        tf.slice(i, [0, 1, 1], [2, 2, 2]),
        tf.slice(b, [1, 0, 0], [1, 3, 3]),
        ...tf.split(i, [1, 3], 2),
        ...tf.unstack(b, 1),
        tf.concat([i, i], 2),
        tf.concat([b, b], 0),
        tf.stridedSlice(i, [0, 0, 1], [2, 3, 3], [1, 1, 1]),
      ];
    };
    expect(await valuesOn('wasm', f)).toEqual(await valuesOn('cpu', f));
  });

  it('splits and concatenations of many short runs (the native transpose path) match cpu, values and gradients', async () => {
    // [8, 4, 4, 12]: 128 rows of 12 (4-way: runs of 3; 2-way on axis 2: runs of 24 over 32 rows, the loop path).
    const x = { data: randomArray(rng, 8 * 4 * 4 * 12), shape: [8, 4, 4, 12] };
    await expectParity('split into 4 equal parts, weighted', [x], (xt) =>
      tf.concat(
        tf.split(xt, 4, 3).map((part, i) => tf.mul(part, i + 1)),
        3,
      ),
    );
    await expectParity('split into unequal parts (loop path)', [x], (xt) => {
      const [a, b] = tf.split(xt, [5, 7], 3);
      return tf.concat([tf.mul(a as tf.Tensor, 2), b as tf.Tensor], 3);
    });
    await expectParity('split on a middle axis', [x], (xt) => tf.concat(tf.split(xt, 2, 2).reverse(), 2));
    const ints = (): tf.Tensor[] => {
      const t = tf.tensor(
        Int32Array.from({ length: 100 * 6 }, (_, i) => i * 7 - 300),
        [100, 6],
        'int32',
      );
      const parts = tf.split(t, 3, 1);
      return [...parts, tf.concat([parts[2] as tf.Tensor, parts[0] as tf.Tensor, parts[1] as tf.Tensor], 1)];
    };
    expect(await valuesOn('wasm', ints)).toEqual(await valuesOn('cpu', ints));
    // Mixed dtypes are not bit-copied: the stock kernel converts them, as on cpu.
    const mixed = (): tf.Tensor => tf.concat([tf.tensor([1, 2], [2, 1], 'int32'), tf.tensor([0.5, 1.5], [2, 1])], 1);
    expect(await valuesOn('wasm', mixed)).toEqual(await valuesOn('cpu', mixed));
  });

  it('tanh (2·σ(2x) − 1 through XNNPACK) matches cpu in value and gradient, also for large and tiny inputs', async () => {
    const data = randomArray(rng, 4 * 5 * 6).map((v, i) => (i % 3 === 0 ? v * 10 : i % 3 === 1 ? v * 1e-4 : v));
    await expectParity('tanh', [{ data, shape: [4, 5, 6] }], (xt) => tf.tanh(xt));
    const reference = Array.from(data, Math.tanh);
    await useBackend('wasm');
    const values = tf.tidy(() => tf.tanh(tf.tensor(data)).dataSync() as Float32Array);
    const report = compareClose(values, reference, { atol: 1e-6, name: 'tanh against Math.tanh' });
    expect(report.ok, report.message).toBe(true);
  });

  it('tanh gives the same bits as 2·σ(2x) − 1 through the wasm Multiply, Sigmoid and Sub kernels', async () => {
    const data = randomArray(rng, 3 * 7 * 11).map((v, i) => (i % 2 ? v * 6 : v));
    await useBackend('wasm');
    const ours = tf.tidy(() => Array.from(tf.tanh(tf.tensor(data)).dataSync()));
    const composed = tf.tidy(() => Array.from(tf.sub(tf.mul(tf.sigmoid(tf.mul(tf.tensor(data), 2)), 2), 1).dataSync()));
    expect(ours).toEqual(composed);
  });

  it('identity shares the buffer: a clone survives its source, and nothing leaks', async () => {
    await useBackend('wasm');
    const backend = tf.backend();
    const before = backend.numDataIds();
    await expectNoLeakedTensors(async () => {
      const source = tf.tensor([1, 2, 3, 4], [2, 2]);
      const copy = tf.clone(source);
      expect(backend.numDataIds()).toBe(before + 1);
      source.dispose();
      expect(Array.from(await copy.data())).toEqual([1, 2, 3, 4]);
      copy.dispose();
    }, 'identity');
    expect(backend.numDataIds()).toBe(before);
  });

  it('a gradient of split, concat and unstack leaks no tensors and no heap buffers', async () => {
    await useBackend('wasm');
    const before = tf.backend().numDataIds();
    await expectNoLeakedTensors(async () => {
      const x = tf.tensor(x5.data, x5.shape);
      const g = tf.grad((t: tf.Tensor) =>
        tf.add(tf.sum(tf.concat(tf.split(t, 3, 1), 1)), tf.sum(tf.stack(tf.unstack(t, 4), 0))),
      )(x);
      await g.data();
      tf.dispose([x, g]);
    }, 'split/concat/unstack gradient');
    expect(tf.backend().numDataIds()).toBe(before);
  });
});
