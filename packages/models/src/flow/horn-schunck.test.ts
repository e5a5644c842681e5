import * as tf from '@tensorflow/tfjs-core';
import { setDebugChecks } from '@vid/core';
import { assertClose, expectNoLeakedTensors } from '@vid/core/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { initTestBackend, report } from '../__fixtures__/helpers.js';
import { hornSchunck, videoFlow, warpBilinear } from './horn-schunck.js';

beforeAll(async () => {
  await initTestBackend();
});

afterEach(() => setDebugChecks(false));

/** A smooth pattern translated by (dx, dy) pixels, sampled exactly: I₂(x, y) = I₁(x − dx, y − dy). */
function pattern(size: number, dx: number, dy: number, channels = 1): tf.Tensor4D {
  const data = new Float32Array(size * size * channels);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const X = x - dx;
      const Y = y - dy;
      const value =
        0.5 +
        0.2 * Math.sin(0.21 * X + 0.07 * Y) +
        0.2 * Math.cos(0.17 * Y - 0.13 * X) +
        0.1 * Math.sin(0.25 * X + 0.2 * Y + 1);
      for (let c = 0; c < channels; c++) data[(y * size + x) * channels + c] = value;
    }
  }
  return tf.tensor4d(data, [1, size, size, channels]);
}

/** Mean endpoint error against a constant flow, away from the border (where content enters and leaves). */
async function endpointError(flow: tf.Tensor, dx: number, dy: number, margin: number): Promise<number> {
  const [batch, height, width] = flow.shape as [number, number, number, number];
  const values = (await flow.array()) as number[][][][];
  let total = 0;
  let count = 0;
  for (let b = 0; b < batch; b++) {
    for (let y = margin; y < height - margin; y++) {
      for (let x = margin; x < width - margin; x++) {
        const [u, v] = values[b]![y]![x]!;
        total += Math.hypot(u! - dx, v! - dy);
        count++;
      }
    }
  }
  return total / count;
}

describe('hornSchunck (Horn and Schunck 1981)', () => {
  it('recovers a sub-pixel translation to well within 0.1 px on average (single scale, as the paper)', async () => {
    const frame1 = pattern(64, 0, 0);
    const frame2 = pattern(64, 0.7, -0.4);
    const flow = hornSchunck(frame1, frame2, { iterations: 200 });
    expect(flow.shape).toEqual([1, 64, 64, 2]);
    const error = await endpointError(flow, 0.7, -0.4, 8);
    report('Horn–Schunck EPE, shift (0.7, −0.4), single scale', error);
    expect(error).toBeLessThan(0.1);
    tf.dispose([frame1, frame2, flow]);
  });

  it('recovers shifts of several pixels coarse to fine with warping (3 levels)', async () => {
    for (const [dx, dy] of [
      [2.5, 1.5],
      [-3.2, 1.1],
    ] as const) {
      const frame1 = pattern(64, 0, 0, 3); // colour frames go through luma
      const frame2 = pattern(64, dx, dy, 3);
      const flow = hornSchunck(frame1, frame2, { levels: 3, warps: 2, iterations: 60 });
      const error = await endpointError(flow, dx, dy, 8);
      report(`Horn–Schunck EPE, shift (${dx}, ${dy}), 3 levels`, error);
      expect(error).toBeLessThan(0.1);
      // A single scale cannot: the linearisation only holds within about a pixel.
      if (dx === 2.5) {
        const single = hornSchunck(frame1, frame2, { iterations: 60 });
        expect(await endpointError(single, dx, dy, 8)).toBeGreaterThan(0.3);
        single.dispose();
      }
      tf.dispose([frame1, frame2, flow]);
    }
  });

  it('identical frames give zero flow; the flow of the reversed pair is the negated flow', async () => {
    const frame1 = pattern(32, 0, 0);
    const frame2 = pattern(32, 0.5, 0.25);
    const still = hornSchunck(frame1, frame1, { iterations: 20 });
    expect(Math.max(...Array.from(await tf.abs(still).data()))).toBe(0);
    const forward = hornSchunck(frame1, frame2, { iterations: 150 });
    const backward = hornSchunck(frame2, frame1, { iterations: 150 });
    const inner = (f: tf.Tensor) => tf.slice(f, [0, 6, 6, 0], [1, 20, 20, 2]);
    assertClose(inner(backward), tf.neg(inner(forward)), { atol: 0.05, name: 'backward = −forward' });
    tf.dispose([frame1, frame2, still, forward, backward]);
  });

  it('videoFlow: every consecutive pair of every video', async () => {
    // Video 0 moves (+0.5, 0) per frame, video 1 (0, −0.5).
    const frames = (dx: number, dy: number) =>
      tf.concat(
        [0, 1, 2].map((t) => pattern(48, t * dx, t * dy)),
        0,
      );
    const video = tf.stack([frames(0.5, 0), frames(0, -0.5)]); // [2, 3, 48, 48, 1]
    const flow = videoFlow(video, { iterations: 150 });
    expect(flow.shape).toEqual([2, 2, 48, 48, 2]);
    for (const [b, dx, dy] of [
      [0, 0.5, 0],
      [1, 0, -0.5],
    ] as const) {
      for (const t of [0, 1]) {
        const pair = tf.reshape(tf.slice(flow, [b, t, 0, 0, 0], [1, 1, 48, 48, 2]), [1, 48, 48, 2]);
        expect(await endpointError(pair, dx, dy, 6)).toBeLessThan(0.1);
        pair.dispose();
      }
    }
    tf.dispose([video, flow]);
  });

  it('warpBilinear samples I(x + u, y + v) bilinearly, clamped at the border', async () => {
    const image = tf.tensor4d([0, 1, 2, 3, 4, 5, 6, 7, 8], [1, 3, 3, 1]);
    const shift = (u: number, v: number) => tf.tile(tf.tensor4d([u, v], [1, 1, 1, 2]), [1, 3, 3, 1]) as tf.Tensor4D;
    const right = warpBilinear(image, shift(1, 0));
    expect(Array.from(await right.data())).toEqual([1, 2, 2, 4, 5, 5, 7, 8, 8]);
    const half = warpBilinear(image, shift(0.5, 0.5));
    assertClose(half, [2, 3, 3.5, 5, 6, 6.5, 6.5, 7.5, 8], { atol: 1e-6, name: 'half pixel', checkShape: false });
    tf.dispose([image, right, half]);
  });

  it('does not leak tensors', async () => {
    const frame1 = pattern(16, 0, 0);
    const frame2 = pattern(16, 0.3, 0.2);
    await expectNoLeakedTensors(
      () => hornSchunck(frame1, frame2, { iterations: 5, levels: 2, warps: 2 }),
      'hornSchunck',
    );
    const video = tf.stack([tf.concat([frame1, frame2], 0)]);
    await expectNoLeakedTensors(() => videoFlow(video, { iterations: 3 }), 'videoFlow');
    tf.dispose([frame1, frame2, video]);
  });

  it('rejects bad input with the argument, the expected and the received value', () => {
    const frame = tf.zeros([1, 16, 16, 1]);
    expect(() => hornSchunck(frame, tf.zeros([1, 16, 15, 1]))).toThrow(
      /frame2: expected \[1, 16, 16, 1\] \(the shape of frame1\), received \[1, 16, 15, 1\]/,
    );
    expect(() => hornSchunck(tf.zeros([1, 16, 16, 2]), tf.zeros([1, 16, 16, 2]))).toThrow(
      /frame1: expected \[batch, height, width, 1 or 3\], received \[1, 16, 16, 2\]/,
    );
    expect(() => hornSchunck(frame, frame, { levels: 4 })).toThrow(/levels: expected at most 3 for 16×16 frames/);
    expect(() => hornSchunck(frame, frame, { alpha: -1 })).toThrow(/alpha: expected a number ≥ 0, received -1/);
    expect(() => hornSchunck(frame, frame, { iterations: 0 })).toThrow(
      /iterations: expected a positive integer, received 0/,
    );
    expect(() => hornSchunck(frame, frame, { smoothness: 1 } as never)).toThrow(/smoothness/);
    expect(() => videoFlow(tf.zeros([1, 1, 8, 8, 1]))).toThrow(
      /video: expected \[batch, time ≥ 2, height, width, channels\], received \[1, 1, 8, 8, 1\]/,
    );
    setDebugChecks(true);
    expect(() => hornSchunck(tf.fill([1, 8, 8, 1], Number.NaN), tf.zeros([1, 8, 8, 1]))).toThrow(
      /frame1: expected finite values, received NaN/,
    );
    frame.dispose();
  });
});
