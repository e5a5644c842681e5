import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { initBackend } from './backend/select.js';
import { ConfigError } from './errors.js';
import { gradientCheckpoint } from './gradient-checkpoint.js';
import { assertClose, expectNoLeakedTensors } from './testing/index.js';

/** The loss and the gradients of `[x, y, w]` of `loss(outputs)` through `fn`, with or without checkpointing. */
function lossAndGrads(
  fn: (inputs: readonly tf.Tensor[]) => tf.Tensor[],
  loss: (outputs: tf.Tensor[]) => tf.Scalar,
  inputs: tf.Tensor[],
  w: tf.Variable,
  checkpointing: boolean,
): { value: number; grads: Float32Array[] } {
  return tf.tidy(() => {
    const f = (...xs: tf.Tensor[]): tf.Scalar =>
      loss(
        checkpointing ? gradientCheckpoint(fn, [...xs.slice(0, inputs.length)], [w]) : fn(xs.slice(0, inputs.length)),
      );
    const { value, grads } = tf.valueAndGrads((...xs: tf.Tensor[]) => f(...xs))(inputs);
    const wGrad = tf.variableGrads(() => f(...inputs), [w]).grads[w.name] as tf.Tensor;
    return {
      value: value.dataSync()[0] as number,
      grads: [...grads, wGrad].map((g) => g.dataSync() as Float32Array),
    };
  });
}

describe.each(['cpu', 'wasm'] as const)('gradientCheckpoint (%s)', (backend) => {
  it('gives the same value and gradients, for one new output, several, and outputs passed through', async () => {
    await initBackend({ backend, log: false });
    const x = tf.tensor2d([0.5, -1, 2, 0.25, 1.5, -0.75], [2, 3]);
    const y = tf.tensor2d([1, 2, -1, 0.5, 0.1, 3], [2, 3]);
    const w = tf.variable(tf.tensor2d([0.3, -0.2, 0.5, 0.1, 0.7, -0.4, 0.2, 0.9, -0.6], [3, 3]));
    const cases: Array<[string, (inputs: readonly tf.Tensor[]) => tf.Tensor[], (o: tf.Tensor[]) => tf.Scalar]> = [
      [
        'one new output',
        ([a, b]) => [tf.mul(tf.tanh(tf.matMul(a as tf.Tensor2D, w)), b as tf.Tensor)],
        (o) => tf.sum(tf.square(o[0]!)),
      ],
      [
        'several, one passed through',
        ([a, b]) => [
          b as tf.Tensor,
          tf.sigmoid(tf.matMul(a as tf.Tensor2D, w)),
          tf.mul(tf.sin(a as tf.Tensor), b as tf.Tensor),
        ],
        (o) => tf.addN([tf.sum(tf.mul(o[0]!, 3)), tf.sum(tf.square(o[1]!)), tf.sum(o[2]!)]) as tf.Scalar,
      ],
      [
        'an input used twice',
        ([a, b]) => [tf.add(tf.mul(tf.matMul(a as tf.Tensor2D, w), a as tf.Tensor), b as tf.Tensor)],
        (o) => tf.sum(tf.square(o[0]!)),
      ],
    ];
    for (const [name, fn, loss] of cases) {
      const plain = lossAndGrads(fn, loss, [x, y], w, false);
      const checkpointed = lossAndGrads(fn, loss, [x, y], w, true);
      expect(checkpointed.value, name).toBeCloseTo(plain.value, 6);
      checkpointed.grads.forEach((g, i) =>
        assertClose(g, plain.grads[i]!, { atol: 1e-6, name: `${name}: gradient ${i}` }),
      );
    }
    await expectNoLeakedTensors(() => void lossAndGrads(cases[1]![1], cases[1]![2], [x, y], w, true), 'checkpointed');
    tf.dispose([x, y, w]);
  });

  it('returns an input passed through as that very tensor, also when every output is one', async () => {
    await initBackend({ backend, log: false });
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.tensor1d([4, 5, 6]);
    const [first, second] = gradientCheckpoint(([p, q]) => [q as tf.Tensor, p as tf.Tensor], [a, b], []);
    expect(first).toBe(b);
    expect(second).toBe(a);
    const grad = tf.grad((t: tf.Tensor) =>
      tf.sum(tf.mul(gradientCheckpoint(([p]) => [p as tf.Tensor], [t], [])[0]!, 2)),
    )(a);
    expect(Array.from(grad.dataSync())).toEqual([2, 2, 2]);
    tf.dispose([a, b, grad]);
  });

  it('keeps the structure of what fn returns, and packs a tensor returned twice once', async () => {
    await initBackend({ backend, log: false });
    const x = tf.tensor2d([0.5, -1, 2, 0.25], [2, 2]);
    const c = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const w = tf.variable(tf.tensor2d([0.3, -0.2, 0.5, 0.1], [2, 2]));
    // An LSTM-like step: { output: h, state: { h, c } }, with output and state.h the same tensor.
    const step = ({ x: input, state }: { x: tf.Tensor; state: { c: tf.Tensor; n: number } }) => {
      const h = tf.tanh(tf.add(tf.matMul(input as tf.Tensor2D, w), state.c));
      return { output: h, state: { h, c: tf.mul(state.c, 0.5), n: state.n + 1 } };
    };
    const plain = tf.variableGrads(() => tf.sum(step({ x, state: { c, n: 0 } }).output), [w]);
    const checkpointed = tf.variableGrads(() => {
      const result = gradientCheckpoint(step, { x, state: { c, n: 0 } }, [w]);
      expect(result.output).toBe(result.state.h);
      expect(result.state.n).toBe(1);
      expect(result.state.c.shape).toEqual([2, 2]);
      return tf.sum(result.output);
    }, [w]);
    expect(checkpointed.value.dataSync()[0]).toBeCloseTo(plain.value.dataSync()[0] as number, 6);
    assertClose(checkpointed.grads[w.name]!, plain.grads[w.name]!, { atol: 1e-6, name: 'gradient of w' });
    tf.dispose([
      x,
      c,
      w,
      plain.value,
      checkpointed.value,
      ...Object.values(plain.grads),
      ...Object.values(checkpointed.grads),
    ]);
  });

  it('refuses new outputs that are not float32', async () => {
    await initBackend({ backend, log: false });
    const a = tf.tensor1d([1.5, 2.5]);
    expect(() => gradientCheckpoint(([p]) => [tf.cast(p as tf.Tensor, 'int32')], [a], [])).toThrow(ConfigError);
    expect(() => gradientCheckpoint(([p]) => [tf.cast(p as tf.Tensor, 'int32')], [a], [])).toThrow(
      /gradientCheckpoint: fn: expected new tensors of dtype float32, received "a tensor of dtype int32"/,
    );
    a.dispose();
  });
});
