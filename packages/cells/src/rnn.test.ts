import * as tf from '@tensorflow/tfjs-core';
import { assertClose, expectNoLeakedTensors, numericalGradient } from '@vid/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';

import { initTestBackend } from './__fixtures__/helpers.js';
import { ConvGRUCell } from './convgru-cell.js';
import { LSTMCell } from './lstm-cell.js';
import { rnn } from './rnn.js';
import { stateTensors } from './state.js';

beforeAll(async () => {
  await initTestBackend();
});

describe('rnn', () => {
  it('reverse: outputs and gradients equal the forward run of the time-flipped input, flipped back', () => {
    // Regression: tf.unstack returns the array that its tape node records as outputs; reversing
    // it in place gave each step's gradient to the mirrored time step (forward values unchanged).
    const cell = new LSTMCell({ inputSize: 3, hiddenSize: 2, seed: 1 });
    const x = tf.randomUniform([2, 4, 3], -1, 1, 'float32', 2);
    const weights = tf.randomUniform([2, 4, 2], -1, 1, 'float32', 3);
    const reversed = (input: tf.Tensor) => tf.sum(tf.mul(rnn(cell, input, { reverse: true }).outputs, weights));
    const flipped = (input: tf.Tensor) =>
      tf.sum(tf.mul(tf.reverse(rnn(cell, tf.reverse(input, 1)).outputs, 1), weights));
    const a = tf.tidy(() => reversed(x));
    const b = tf.tidy(() => flipped(x));
    assertClose(a, b, { atol: 1e-6, name: 'loss' });
    const ga = tf.grad(reversed)(x);
    const gb = tf.grad(flipped)(x);
    assertClose(ga, gb, { atol: 1e-6, name: 'd/dx' });
    assertClose(
      ga,
      numericalGradient((v) => tf.tidy(() => reversed(v) as tf.Scalar), x, 1e-2),
      { atol: 1e-3, rtol: 1e-2, name: 'd/dx vs finite differences' },
    );
    const gw = tf.tidy(() => tf.variableGrads(() => reversed(x) as tf.Scalar).grads);
    const gwFlipped = tf.tidy(() => tf.variableGrads(() => flipped(x) as tf.Scalar).grads);
    for (const name of Object.keys(gw)) assertClose(gw[name]!, gwFlipped[name]!, { atol: 1e-6, name });
    tf.dispose([x, weights, a, b, ga, gb, ...Object.values(gw), ...Object.values(gwFlipped)]);
    cell.dispose();
  });

  it('returns the final state after the last step it takes; leaks nothing', async () => {
    const cell = new ConvGRUCell({ inputChannels: 1, hiddenChannels: 2, kernelSize: 3 });
    const x = tf.randomUniform([1, 3, 4, 4, 1], -1, 1, 'float32', 4);
    const result = rnn(cell, x);
    const last = tf.squeeze(tf.slice(result.outputs, [0, 2, 0, 0, 0], [1, 1, 4, 4, 2]), [1]);
    assertClose(result.state.h, last, { atol: 0, name: 'state.h = last output' });
    const back = rnn(cell, x, { reverse: true });
    const first = tf.squeeze(tf.slice(back.outputs, [0, 0, 0, 0, 0], [1, 1, 4, 4, 2]), [1]);
    assertClose(back.state.h, first, { atol: 0, name: 'reverse: state.h = output at t = 0' });
    tf.dispose([last, first, result.outputs, back.outputs, ...stateTensors(result.state), ...stateTensors(back.state)]);
    await expectNoLeakedTensors(() => rnn(cell, x, { reverse: true }), 'rnn');
    x.dispose();
    cell.dispose();
  });

  it('bad sequences name x, the expected and the received shape', () => {
    const cell = new ConvGRUCell({ inputChannels: 1, hiddenChannels: 2, kernelSize: 3 });
    const frames = tf.zeros([2, 4, 4, 1]);
    const empty = tf.zeros([2, 0, 4, 4, 1]);
    const vector = tf.zeros([3]);
    expect(() => rnn(cell, frames)).toThrow(
      /rnn: x: expected rank 5 \(\[batch, time\] and a step of rank 4\), received rank 4 \[2, 4, 4, 1\]/,
    );
    expect(() => rnn(cell, empty)).toThrow(
      /rnn: x: expected at least one time step on axis 1 \(\[batch, time, \.\.\.\]\), received \[2, 0, 4, 4, 1\]/,
    );
    expect(() => rnn(cell, vector)).toThrow(/rnn: x: expected rank ≥ 3/);
    tf.dispose([frames, empty, vector]);
    cell.dispose();
  });
});
