import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, Rng, ShapeError, initBackend } from '@vid/core';
import { assertClose, expectNoLeakedTensors, numericalGradient } from '@vid/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';

import { rnn } from '@vid/cells';

import { ConvTTLSTMCell, LagWindowConv, lagWindowLayout } from './conv-tt-lstm-cell.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

function random(shape: number[], seed: number): tf.Tensor {
  const rng = new Rng(seed);
  return tf.tensor(rng.fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1))), shape);
}

describe('lagWindowLayout: the official Conv3d over lags as a 2-D convolution on channels', () => {
  it('equals torch.nn.Conv3d(kernel (kh, kw, lags), padding (kh//2, kw//2, 0)) on the stacked window', () => {
    const [hidden, ranks, lags, kh, kw] = [3, 4, 3, 3, 5];
    const [batch, height, width] = [2, 6, 7];
    const torchWeight = random([ranks, hidden, kh, kw, lags], 1); // [out, in, kh, kw, lags]
    const states = [0, 1, 2].map((j) => random([batch, height, width, hidden], 10 + j) as tf.Tensor4D);

    // Reference: the official computation with tf.conv3d. PyTorch stacks the window on a last
    // axis, [B, C, H, W, lags]; as NDHWC that is [B, H, W, lags, C] with the kernel
    // [kh, kw, lags, C, out], padding only H and W.
    const stacked = tf.stack(states, 3) as tf.Tensor5D; // [B, H, W, lags, C]
    const padded = tf.pad(stacked, [
      [0, 0],
      [1, 1],
      [2, 2],
      [0, 0],
      [0, 0],
    ]);
    const filter = tf.transpose(torchWeight, [2, 3, 4, 1, 0]) as tf.Tensor5D;
    const reference = tf.squeeze(tf.conv3d(padded, filter, 1, 'valid'), [3]); // [B, H, W, out]

    const conv = new LagWindowConv({ hiddenChannels: hidden, ranks, lags, kernelSize: [kh, kw], bias: false });
    conv.loadStateDict({ weight: torchWeight }, { layout: 'torch' });
    const actual = conv.apply(tf.concat(states, 3) as tf.Tensor4D); // window on channels, oldest first
    assertClose(actual, reference, { atol: 1e-5, name: 'window conv' });
    expect(conv.weight.shape).toEqual([kh, kw, lags * hidden, ranks]);

    // vid → PyTorch → vid is the identity.
    const layout = lagWindowLayout(lags, hidden);
    const back = layout.toTorch(conv.weight);
    assertClose(back, torchWeight, { atol: 0, name: 'toTorch' });
    tf.dispose([torchWeight, ...states, stacked, padded, filter, reference, actual, back]);
    conv.dispose();
  });

  it('passes a tensor of another shape through, for loadStateDict to report it', () => {
    const conv = new LagWindowConv({ hiddenChannels: 3, ranks: 2, lags: 2, kernelSize: 3 });
    expect(() =>
      conv.loadStateDict(
        { weight: tf.zeros([2, 3, 3, 3, 4]), bias: tf.zeros([2]) },
        { layout: 'torch', source: 'x.pt' },
      ),
    ).toThrow(/x\.pt: shape mismatch.*weight: expected \[3, 3, 6, 2\].*received \[2, 3, 3, 3, 4\]/);
    conv.dispose();
  });
});

describe('ConvTTLSTMCell', () => {
  it('has the official parameter names and shapes', () => {
    const cell = new ConvTTLSTMCell({
      inputChannels: 2,
      hiddenChannels: 5,
      order: 3,
      steps: 4,
      ranks: 3,
      kernelSize: 3,
    });
    const names = cell.namedParameters().map(([n, v]) => `${n} ${JSON.stringify(v.shape)}`);
    expect(names).toEqual([
      'layers.0.weight [3,3,3,3]',
      'layers.0.bias [3]',
      'layers.1.weight [3,3,3,3]',
      'layers.1.bias [3]',
      'layers.2.weight [3,3,5,20]',
      'layers.2.bias [20]',
      'layers_.0.weight [3,3,10,3]',
      'layers_.0.bias [3]',
      'layers_.1.weight [3,3,10,3]',
      'layers_.1.bias [3]',
      'layers_.2.weight [3,3,10,3]',
      'layers_.2.bias [3]',
    ]);
    expect(cell.lags).toBe(2);
    cell.dispose();
  });

  it('keeps the last `steps` hidden states, oldest first, and reads order windows of lags states', async () => {
    const cell = new ConvTTLSTMCell({
      inputChannels: 1,
      hiddenChannels: 2,
      order: 2,
      steps: 4,
      ranks: 2,
      kernelSize: 3,
      seed: 3,
    });
    const x = random([1, 4, 4, 1], 5) as tf.Tensor4D;
    let state = cell.initialState(1, 4, 4);
    const outputs: tf.Tensor[] = [];
    for (let t = 0; t < 5; t++) {
      const next = cell.step(x, state);
      outputs.push(next.output);
      state = next.state;
    }
    // After 5 steps: h1 … h4 (h0 dropped), in order.
    expect(state.h).toHaveLength(4);
    state.h.forEach((h, j) => expect(h).toBe(outputs[j + 1]));
    tf.dispose([x, ...outputs, state.c]);
    cell.dispose();
  });

  it("runs in @vid/cells' rnn (the RecurrentCell contract) with the same outputs as stepping by hand", () => {
    const cell = new ConvTTLSTMCell({
      inputChannels: 2,
      hiddenChannels: 3,
      order: 2,
      steps: 3,
      ranks: 2,
      kernelSize: 3,
      seed: 2,
    });
    const video = random([2, 4, 5, 5, 2], 8) as tf.Tensor5D;
    const result = rnn(cell, video);
    const frames = tf.unstack(video, 1) as tf.Tensor4D[];
    let state = cell.zeroState(frames[0]!);
    const outputs: tf.Tensor[] = [];
    for (const frame of frames) {
      const next = cell.step(frame, state);
      outputs.push(next.output);
      state = next.state;
    }
    assertClose(result.outputs, tf.stack(outputs, 1), { atol: 0, name: 'rnn outputs' });
    tf.dispose([video, result.outputs, ...frames, ...outputs, state.c]);
    cell.disposeState(result.state);
    cell.dispose();
  });

  it('matches finite differences (gradient with respect to the input and a window weight)', () => {
    const cell = new ConvTTLSTMCell({
      inputChannels: 2,
      hiddenChannels: 2,
      order: 2,
      steps: 3,
      ranks: 2,
      kernelSize: 3,
      seed: 9,
    });
    const x0 = random([1, 3, 3, 2], 21) as tf.Tensor4D;
    const x1 = random([1, 3, 3, 2], 22) as tf.Tensor4D;
    const projection = random([1, 3, 3, 2], 23);
    // Two steps, so that the second one reads the first hidden state through the windows.
    const loss = (first: tf.Tensor): tf.Scalar =>
      tf.tidy(() => {
        const state0 = cell.initialState(1, 3, 3);
        const a = cell.step(first as tf.Tensor4D, state0);
        const b = cell.step(x1, a.state);
        return tf.sum(tf.mul(b.output, projection));
      });
    const analytic = tf.grad(loss)(x0);
    const numeric = numericalGradient(loss, x0, 1e-2);
    assertClose(analytic, numeric, { relativeToMax: 2e-2, atol: 1e-3, name: 'd loss / d x' });
    tf.dispose([x0, x1, projection, analytic]);
    cell.dispose();
  });

  it('does not leak tensors and never disposes its inputs', async () => {
    const cell = new ConvTTLSTMCell({
      inputChannels: 1,
      hiddenChannels: 2,
      order: 2,
      steps: 3,
      ranks: 2,
      kernelSize: 3,
    });
    const x = random([2, 5, 5, 1], 1) as tf.Tensor4D;
    await expectNoLeakedTensors(() => {
      const state = cell.zeroState(x);
      const { output, state: next } = cell.step(x, state);
      expect(x.isDisposed).toBe(false);
      state.h.forEach((h) => expect(h.isDisposed).toBe(false));
      cell.disposeState(state);
      return [output, next.c];
    }, 'ConvTTLSTMCell.step');
    x.dispose();
    cell.dispose();
  });

  it('rejects bad configurations and inputs with the expected and received values', () => {
    expect(() => new ConvTTLSTMCell({ inputChannels: 1, hiddenChannels: 2, order: 4, steps: 3 })).toThrow(ConfigError);
    expect(() => new ConvTTLSTMCell({ inputChannels: 1, hiddenChannels: 2, order: 4, steps: 3 })).toThrow(
      /order: expected an order ≤ steps \(3\).*received 4/,
    );
    expect(() => new ConvTTLSTMCell({ inputChannels: 1, hiddenChannels: 2, ranks: 0 })).toThrow(
      /ranks: expected a positive integer, received 0/,
    );
    expect(() => new ConvTTLSTMCell({ inputChannels: 1, hiddenChannels: 2, kernelSize: 4 })).toThrow(
      /kernelSize: expected odd kernel sizes/,
    );
    expect(() => new ConvTTLSTMCell({ inputChannels: 1, hiddenChannels: 2, rank: 3 } as never)).toThrow(
      /rank.*unknown option/,
    );
    const cell = new ConvTTLSTMCell({
      inputChannels: 2,
      hiddenChannels: 3,
      order: 1,
      steps: 2,
      ranks: 2,
      kernelSize: 3,
    });
    const state = cell.initialState(1, 4, 4);
    const x = tf.zeros([1, 4, 4, 3]) as tf.Tensor4D;
    expect(() => cell.step(x, state)).toThrow(ShapeError);
    expect(() => cell.step(x, state)).toThrow(/x: expected \[batch, height, width, 2\], received \[1, 4, 4, 3\]/);
    const good = tf.zeros([1, 4, 4, 2]) as tf.Tensor4D;
    expect(() => cell.step(good, { h: state.h.slice(1), c: state.c })).toThrow(
      /state\.h: expected 2 hidden states \(steps\), received 1/,
    );
    const other = tf.zeros([1, 5, 4, 2]) as tf.Tensor4D;
    expect(() => cell.step(other, state)).toThrow(/state\.c: expected \[1, 5, 4, 3\], received \[1, 4, 4, 3\]/);
    tf.dispose([x, good, other]);
    cell.disposeState(state);
    cell.dispose();
  });
});
