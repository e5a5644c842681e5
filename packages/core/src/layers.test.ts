/**
 * `Conv2d.apply`, the one convolution path of the cells and networks: the fused "same" kernel
 * equals the explicitly padded convolution plus bias (even kernels and dilation included), and a
 * convolution by output blocks equals the whole one.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { initBackend } from './backend/select.js';
import { Conv2d, convSame, samePadding } from './layers.js';
import { Rng } from './rng.js';
import { assertClose, expectNoLeakedTensors } from './testing/index.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

function random(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(new Rng(seed).fillUniform(new Float32Array(shape.reduce((a, b) => a * b, 1))), shape);
}

describe('Conv2d.apply', () => {
  for (const [kernelSize, dilation] of [
    [3, 1],
    [4, 1],
    [[3, 5], 2],
  ] as const) {
    it(`'same' (kernel ${JSON.stringify(kernelSize)}, dilation ${dilation}) is the explicitly padded convolution plus the bias`, async () => {
      const conv = new Conv2d({ inChannels: 3, outChannels: 5, kernelSize, dilation, seed: 1 });
      const x = random([2, 7, 6, 3], 2) as tf.Tensor4D;
      const [top, bottom, left, right] = samePadding(conv.kernelSize, conv.dilation);
      const expected = tf.tidy(() =>
        tf.add(
          tf.conv2d(
            x,
            conv.weight as tf.Tensor4D,
            1,
            [
              [0, 0],
              [top, bottom],
              [left, right],
              [0, 0],
            ],
            'NHWC',
            conv.dilation as [number, number],
          ),
          conv.bias as tf.Tensor,
        ),
      );
      const actual = conv.apply(x);
      expect(actual.shape).toEqual([2, 7, 6, 5]);
      assertClose(actual, expected, { atol: 1e-6, name: 'fused same' });
      await expectNoLeakedTensors(() => conv.apply(x), 'apply');
      tf.dispose([x, expected, actual]);
      conv.dispose();
    });
  }

  it('by output blocks (splitOutputBlocks, apply(x, block)) equals the whole convolution; convSame is the same kernel', () => {
    const conv = new Conv2d({ inChannels: 3, outChannels: 8, kernelSize: 3, seed: 3 });
    const x = random([1, 5, 5, 3], 4) as tf.Tensor4D;
    const whole = conv.apply(x);
    const blocks = conv.splitOutputBlocks(4);
    const parts = blocks.map((block) => conv.apply(x, block));
    const joined = tf.concat(parts, 3);
    assertClose(joined, whole, { atol: 1e-6, name: 'blocks' });
    const functional = convSame(x, conv.weight, conv.bias);
    assertClose(functional, whole, { atol: 0, name: 'convSame' });
    expect(() => conv.splitOutputBlocks(3)).toThrow(/parts: expected a divisor of outChannels 8, received 3/);
    tf.dispose([x, whole, joined, functional, ...parts, ...blocks.flatMap((b) => [b.weight, b.bias as tf.Tensor])]);
    conv.dispose();
  });
});
