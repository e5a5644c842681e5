import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { initBackend } from './backend/select.js';
import { accurateMean, sliceFrames, stackFrames } from './ops.js';
import { expectNoLeakedTensors } from './testing/index.js';

let video: tf.Tensor5D;
beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
  video = tf.tidy(() => tf.reshape(tf.range(0, 2 * 5 * 2 * 3 * 1, 1, 'float32'), [2, 5, 2, 3, 1]) as tf.Tensor5D);
});

describe('video time-axis helpers', () => {
  it('sliceFrames equals tf.slice on axis 1, and names the frames it lacks', async () => {
    const ours = sliceFrames(video, 1, 3);
    const stock = tf.slice(video, [0, 1, 0, 0, 0], [2, 3, 2, 3, 1]);
    expect(Array.from(ours.dataSync())).toEqual(Array.from(stock.dataSync()));
    expect(ours.shape).toEqual([2, 3, 2, 3, 1]);
    tf.dispose([ours, stock]);
    expect(() => sliceFrames(video, 3, 3)).toThrow(/at least 6 frames on axis 1 \(frames 3 … 5\)/);
    await expectNoLeakedTensors(() => sliceFrames(video, 0, 2), 'sliceFrames');
  });

  it('stackFrames equals tf.stack on axis 1, forward and backward', () => {
    const steps = tf.unstack(tf.transpose(video, [1, 0, 2, 3, 4]));
    const weights = tf.randomUniform(video.shape, 0, 1, 'float32', 3);
    const loss =
      (stack: (xs: tf.Tensor[]) => tf.Tensor) =>
      (...xs: tf.Tensor[]) =>
        tf.sum(tf.mul(stack(xs), weights));
    const ours = tf.grads(loss((xs) => stackFrames(xs)))(steps);
    const stock = tf.grads(loss((xs) => tf.stack(xs, 1)))(steps);
    expect(Array.from(stackFrames(steps).dataSync())).toEqual(Array.from(video.dataSync()));
    ours.forEach((g, i) => expect(Array.from(g.dataSync())).toEqual(Array.from((stock[i] as tf.Tensor).dataSync())));
    tf.dispose([...steps, weights, ...ours, ...stock]);
  });

  it('accurateMean is the mean, without the float32 drift of a flat sum over many elements', () => {
    const x = tf.fill([1000, 1000], 0.1);
    const exact = Math.fround(0.1);
    const ours = Math.abs((tf.tidy(() => accurateMean(x).dataSync()[0]) as number) - exact);
    const flat = Math.abs((tf.tidy(() => tf.mean(x).dataSync()[0]) as number) - exact);
    // Measured: 1.6e-7 against tf.mean's 9.6e-4.
    expect(ours).toBeLessThan(1e-6);
    expect(ours * 100).toBeLessThan(flat);
    x.dispose();
  });
});
