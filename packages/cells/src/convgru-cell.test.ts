import * as tf from '@tensorflow/tfjs-core';
import { type HostTensor, type SafetensorsContents, Rng, setDebugChecks } from '@vid/core';
import {
  assertClose,
  expectNoLeakedTensors,
  fixtureMetadata,
  hasReferenceFixture,
  loadReferenceFixture,
  numericalGradient,
  numericalVariableGradient,
} from '@vid/core/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import {
  expectForward,
  expectGradients,
  frameFromTorch,
  frameToTorch,
  get,
  loadLocalFixture,
  meanSquare,
  torchGradients,
  videoFromTorch,
  videoToTorch,
  withPrefix,
  initTestBackend,
} from './__fixtures__/helpers.js';
import { ConvGRUCell } from './convgru-cell.js';
import { rnn } from './rnn.js';
import { disposeState } from './state.js';

beforeAll(async () => {
  await initTestBackend();
});

const isParameter = (name: string) => /^conv_[a-z_]+\.(weight|bias)$/.test(name);

function checkAgainst(cell: ConvGRUCell, t: ReadonlyMap<string, HostTensor>, initial?: HostTensor): void {
  cell.loadStateDict(new Map([...t].filter(([n]) => isParameter(n))), { layout: 'torch' });
  const x = videoFromTorch(get(t, 'input'));
  const h0 = initial ? frameFromTorch(initial) : null;
  const run = (input: tf.Tensor, h: tf.Tensor | null) => rnn(cell, input, h ? { initialState: { h } } : {});
  const result = run(x, h0);
  const torchOutput = videoToTorch(result.outputs);
  expectForward(torchOutput, get(t, 'output'), 'output');
  if (t.has('h_n')) {
    const hN = frameToTorch(result.state.h);
    expectForward(hN, get(t, 'h_n'), 'h_n');
    hN.dispose();
  }
  tf.dispose([torchOutput, result.outputs, result.state.h]);
  const { value, grads } = torchGradients(cell, () => tf.tidy(() => meanSquare(run(x, h0).outputs)));
  expectForward(value, get(t, 'loss'), 'loss');
  expectGradients(grads, t);
  if (t.has('grad.input')) {
    const [dx, dh] = h0
      ? tf.grads((a: tf.Tensor, b: tf.Tensor) => meanSquare(run(a, b).outputs))([x, h0])
      : [tf.grad((a: tf.Tensor) => meanSquare(run(a, null).outputs))(x)];
    const dxTorch = videoToTorch(dx!);
    assertClose(dxTorch, get(t, 'grad.input'), { relativeToMax: 1e-4, name: 'grad.input' });
    if (dh) {
      const dhTorch = frameToTorch(dh);
      assertClose(dhTorch, get(t, 'grad.h_0'), { relativeToMax: 1e-4, name: 'grad.h_0' });
      tf.dispose([dh, dhTorch]);
    }
    tf.dispose([dx!, dxTorch]);
  }
  tf.dispose([x, ...(h0 ? [h0] : [])]);
}

describe.runIf(await hasReferenceFixture('convgru-cell.safetensors'))(
  'ConvGRUCell: parity with Ballas et al. 2016 (shared fixture)',
  () => {
    let fixture: SafetensorsContents;
    beforeAll(async () => {
      fixture = (await loadReferenceFixture('convgru-cell.safetensors'))!;
    });
    it('loads the fixture parameters by name; outputs, loss and every gradient', () => {
      expect(fixtureMetadata(fixture, 'config')).toEqual({ input_channels: 3, hidden_channels: 6, kernel_size: 3 });
      const cell = new ConvGRUCell({ inputChannels: 3, hiddenChannels: 6, kernelSize: 3 });
      expect(cell.namedParameters().map(([n]) => n)).toEqual([
        'conv_x.weight',
        'conv_x.bias',
        'conv_h_zr.weight',
        'conv_h_n.weight',
      ]);
      checkAgainst(cell, fixture.tensors);
      cell.dispose();
    });
  },
);

describe('ConvGRUCell: reset-after variant and an even kernel with a given state', () => {
  let contents: SafetensorsContents;
  beforeAll(async () => {
    contents = await loadLocalFixture('convgru-variants.safetensors');
  });
  it('resetAfter (torch.nn.GRU-style reset), given h_0: outputs, h_n, every gradient, d/dx and d/dh_0', () => {
    const t = withPrefix(contents, 'reset_after.');
    const cell = new ConvGRUCell({ inputChannels: 2, hiddenChannels: 3, kernelSize: 3, resetAfter: true });
    expect(cell.namedParameters().map(([n]) => n)).toEqual([
      'conv_x.weight',
      'conv_x.bias',
      'conv_h.weight',
      'conv_h.bias',
    ]);
    checkAgainst(cell, t, get(t, 'h_0'));
    cell.dispose();
  });
  it("kernel 2 with PyTorch's padding='same', given h_0", () => {
    const t = withPrefix(contents, 'even.');
    const cell = new ConvGRUCell({ inputChannels: 2, hiddenChannels: 3, kernelSize: 2 });
    checkAgainst(cell, t, get(t, 'h_0'));
    cell.dispose();
  });
});

describe('ConvGRUCell: finite differences', () => {
  for (const resetAfter of [false, true]) {
    it(`gradients of input, state and parameters match central differences (float32, ε = 1e-2; resetAfter ${resetAfter})`, () => {
      const cell = new ConvGRUCell({ inputChannels: 2, hiddenChannels: 2, kernelSize: 3, resetAfter, seed: 8 });
      const rng = new Rng(31);
      const random = (shape: number[]) =>
        tf.tensor(rng.fillUniform(new Float32Array(shape.reduce((a, b) => a * b, 1)), -1, 1), shape);
      const x = random([1, 2, 3, 3, 2]);
      const h0 = random([1, 3, 3, 2]);
      const weights = random([1, 2, 3, 3, 2]);
      const loss = (input: tf.Tensor, h: tf.Tensor): tf.Scalar =>
        tf.tidy(() => {
          const { outputs, state } = rnn(cell, input, { initialState: { h } });
          return tf.add(tf.sum(tf.mul(outputs, weights)), tf.sum(tf.square(state.h))) as tf.Scalar;
        });
      const [dx, dh] = tf.grads((a: tf.Tensor, b: tf.Tensor) => loss(a, b))([x, h0]);
      const eps = 1e-2;
      const tolerance = { atol: 2e-3, rtol: 1e-2 };
      assertClose(
        dx!,
        numericalGradient((v) => loss(v, h0), x, eps),
        { ...tolerance, name: 'd/dx' },
      );
      assertClose(
        dh!,
        numericalGradient((v) => loss(x, v), h0, eps),
        { ...tolerance, name: 'd/dh0' },
      );
      for (const [name, variable] of cell.namedParameters()) {
        const analytic = tf.tidy(() => tf.variableGrads(() => loss(x, h0), [variable]).grads[variable.name]!);
        const numeric = numericalVariableGradient(variable, () => loss(x, h0), eps);
        assertClose(analytic, numeric, { ...tolerance, name: `d/d${name}` });
        analytic.dispose();
      }
      tf.dispose([x, h0, weights, dx!, dh!]);
      cell.dispose();
    });
  }
});

describe('ConvGRUCell: memory', () => {
  for (const resetAfter of [false, true]) {
    it(`50 steps leak no tensor (resetAfter ${resetAfter})`, async () => {
      const cell = new ConvGRUCell({ inputChannels: 2, hiddenChannels: 3, kernelSize: 3, resetAfter });
      const x = tf.ones([1, 4, 4, 2]);
      await expectNoLeakedTensors(() => {
        let state = cell.zeroState(x);
        for (let t = 0; t < 50; t++) {
          const next = cell.step(x, state);
          disposeState(state);
          state = next.state;
        }
        return state;
      }, 'ConvGRUCell × 50 steps');
      const video = tf.ones([1, 50, 4, 4, 2]);
      await expectNoLeakedTensors(() => rnn(cell, video), 'rnn(ConvGRUCell) over 50 steps');
      tf.dispose([x, video]);
      cell.dispose();
    });
  }
});

describe('ConvGRUCell: bad input', () => {
  afterEach(() => setDebugChecks(false));
  it('wrong rank, channel mismatch, state shape and NaN name the argument, expected and received', () => {
    const cell = new ConvGRUCell({ inputChannels: 3, hiddenChannels: 4, kernelSize: 3 });
    const video = tf.zeros([1, 2, 5, 5, 3]);
    const wrong = tf.zeros([1, 5, 5, 4]);
    const x = tf.zeros([1, 5, 5, 3]);
    const badH = tf.zeros([1, 5, 4, 4]);
    expect(() => cell.step(video)).toThrow(
      /ConvGRUCell\.step: x: expected rank 4 \(\[batch, height, width, channels\]\), received rank 5 \[1, 2, 5, 5, 3\]/,
    );
    expect(() => cell.step(wrong)).toThrow(
      /x: expected \[batch, height, width, 3\] \(inputChannels = 3\), received \[1, 5, 5, 4\]/,
    );
    expect(() => cell.step(x, { h: badH })).toThrow(
      /state\.h: expected \[1, 5, 5, 4\] \(batch, height, width from x; hiddenChannels\), received \[1, 5, 4, 4\]/,
    );
    const nan = tf.fill([1, 5, 5, 3], NaN);
    setDebugChecks(true);
    expect(() => cell.step(nan)).toThrow(/x: expected finite values, received NaN at flat index 0 of \[1, 5, 5, 3\]/);
    tf.dispose([video, wrong, x, badH, nan]);
    cell.dispose();
  });
});
