import * as tf from '@tensorflow/tfjs-core';
import { type SafetensorsContents, Rng, hostToTensor, setDebugChecks } from '@vid/core';
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
  get,
  loadLocalFixture,
  meanSquare,
  torchGradients,
  withPrefix,
  initTestBackend,
} from './__fixtures__/helpers.js';
import { LSTM } from './lstm.js';
import { LSTMCell } from './lstm-cell.js';
import { rnn } from './rnn.js';
import { disposeState } from './state.js';

beforeAll(async () => {
  await initTestBackend();
});

describe.runIf(await hasReferenceFixture('fc-lstm.safetensors'))(
  'LSTM: parity with torch.nn.LSTM (2 layers, batch_first; shared fixture)',
  () => {
    let fixture: SafetensorsContents;
    beforeAll(async () => {
      fixture = (await loadReferenceFixture('fc-lstm.safetensors'))!;
    });

    it('loads the torch state dict by its names; outputs, h_n, c_n, loss and every gradient', async () => {
      expect(fixtureMetadata(fixture, 'config')).toEqual({ input_size: 12, hidden_size: 16, num_layers: 2 });
      const t = fixture.tensors;
      const lstm = new LSTM({ inputSize: 12, hiddenSize: 16, numLayers: 2 });
      const torchParams = new Map([...t].filter(([n]) => /^(weight|bias)_/.test(n)));
      lstm.loadTorchStateDict(torchParams, { source: 'fc-lstm.safetensors' });

      const x = hostToTensor(get(t, 'input'));
      const result = lstm.apply(x);
      expectForward(result.output, get(t, 'output'), 'output');
      const hN = tf.stack(result.states.map((s) => s.h));
      const cN = tf.stack(result.states.map((s) => s.c));
      expectForward(hN, get(t, 'h_n'), 'h_n');
      expectForward(cN, get(t, 'c_n'), 'c_n');
      tf.dispose([hN, cN, result.output, ...result.states.flatMap((s) => [s.h, s.c])]);

      const { value, grads } = torchGradients(lstm, () => tf.tidy(() => meanSquare(lstm.apply(x).output)));
      expectForward(value, get(t, 'loss'), 'loss');
      const byTorchName = new Map([...grads].map(([name, g]) => [LSTM.toTorchName(name), g]));
      expect([...byTorchName.keys()].sort()).toEqual([...torchParams.keys()].sort());
      expectGradients(byTorchName, t);

      // Export gives the torch names and layouts back, bit for bit.
      const exported = await lstm.exportTorchStateDict();
      for (const [name, value] of torchParams) assertClose(exported.get(name)!, value, { atol: 0, name });
      x.dispose();
      lstm.dispose();
    });
  },
);

describe('LSTMCell: peepholes (Graves 2013 / Shi et al. 2015 eq. 2) and forget bias', () => {
  let contents: SafetensorsContents;
  beforeAll(async () => {
    contents = await loadLocalFixture('lstm-peephole.safetensors');
  });
  for (const [kind, forgetBias] of [
    ['diagonal', 1],
    ['full', 0.5],
  ] as const) {
    it(`${kind} peepholes, forgetBias ${forgetBias}, given h_0, c_0: outputs, states and every gradient`, () => {
      const t = withPrefix(contents, `${kind}.`);
      const cell = new LSTMCell({ inputSize: 4, hiddenSize: 3, peephole: kind, forgetBias });
      const params = new Map([...t].filter(([n]) => /^(weight_|bias_|w_c|v_c)/.test(n)));
      cell.loadStateDict(params, { layout: 'torch' });
      expect(
        cell
          .namedParameters()
          .map(([n]) => n)
          .sort(),
      ).toEqual([...params.keys()].sort());
      const x = hostToTensor(get(t, 'input'));
      const h0 = hostToTensor(get(t, 'h_0'));
      const c0 = hostToTensor(get(t, 'c_0'));
      const run = (input: tf.Tensor, h: tf.Tensor, c: tf.Tensor) => rnn(cell, input, { initialState: { h, c } });
      const result = run(x, h0, c0);
      expectForward(result.outputs, get(t, 'output'), 'output');
      expectForward(result.state.h, get(t, 'h_n'), 'h_n');
      expectForward(result.state.c, get(t, 'c_n'), 'c_n');
      tf.dispose([result.outputs, result.state.h, result.state.c]);

      const { value, grads } = torchGradients(cell, () => tf.tidy(() => meanSquare(run(x, h0, c0).outputs)));
      expectForward(value, get(t, 'loss'), 'loss');
      expectGradients(grads, t);
      const [dx, dh, dc] = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => meanSquare(run(a, b, c).outputs))([
        x,
        h0,
        c0,
      ]);
      assertClose(dx!, get(t, 'grad.input'), { relativeToMax: 1e-4, name: 'grad.input' });
      assertClose(dh!, get(t, 'grad.h_0'), { relativeToMax: 1e-4, name: 'grad.h_0' });
      assertClose(dc!, get(t, 'grad.c_0'), { relativeToMax: 1e-4, name: 'grad.c_0' });
      tf.dispose([x, h0, c0, dx!, dh!, dc!]);
      cell.dispose();
    });
  }
});

describe('LSTMCell: finite differences', () => {
  for (const peephole of ['none', 'diagonal', 'full'] as const) {
    it(`gradients of input, state and parameters match central differences (float32, ε = 1e-2; peephole ${peephole})`, () => {
      const cell = new LSTMCell({ inputSize: 3, hiddenSize: 2, peephole, forgetBias: 0.5, seed: 4 });
      for (const [name, v] of cell.namedParameters())
        if (/^[wv]_c/.test(name)) v.assign(tf.randomUniform(v.shape, -0.5, 0.5, 'float32', 3));
      const rng = new Rng(21);
      const random = (shape: number[]) =>
        tf.tensor(rng.fillUniform(new Float32Array(shape.reduce((a, b) => a * b, 1)), -1, 1), shape);
      const x = random([2, 3, 3]);
      const h0 = random([2, 2]);
      const c0 = random([2, 2]);
      const weights = random([2, 3, 2]);
      const loss = (input: tf.Tensor, h: tf.Tensor, c: tf.Tensor): tf.Scalar =>
        tf.tidy(() => {
          const { outputs, state } = rnn(cell, input, { initialState: { h, c } });
          return tf.add(tf.sum(tf.mul(outputs, weights)), tf.sum(tf.square(state.c))) as tf.Scalar;
        });
      const [dx, dh, dc] = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => loss(a, b, c))([x, h0, c0]);
      const eps = 1e-2;
      const tolerance = { atol: 2e-3, rtol: 1e-2 };
      assertClose(
        dx!,
        numericalGradient((v) => loss(v, h0, c0), x, eps),
        { ...tolerance, name: 'd/dx' },
      );
      assertClose(
        dh!,
        numericalGradient((v) => loss(x, v, c0), h0, eps),
        { ...tolerance, name: 'd/dh0' },
      );
      assertClose(
        dc!,
        numericalGradient((v) => loss(x, h0, v), c0, eps),
        { ...tolerance, name: 'd/dc0' },
      );
      for (const [name, variable] of cell.namedParameters()) {
        const analytic = tf.tidy(() => tf.variableGrads(() => loss(x, h0, c0), [variable]).grads[variable.name]!);
        const numeric = numericalVariableGradient(variable, () => loss(x, h0, c0), eps);
        assertClose(analytic, numeric, { ...tolerance, name: `d/d${name}` });
        analytic.dispose();
      }
      tf.dispose([x, h0, c0, weights, dx!, dh!, dc!]);
      cell.dispose();
    });
  }
});

describe('LSTMCell: memory', () => {
  for (const peephole of ['none', 'diagonal', 'full'] as const) {
    it(`50 steps leak no tensor (peephole ${peephole})`, async () => {
      const cell = new LSTMCell({ inputSize: 3, hiddenSize: 4, peephole, forgetBias: 1 });
      const x = tf.ones([2, 3]);
      await expectNoLeakedTensors(() => {
        let state = cell.zeroState(x);
        for (let t = 0; t < 50; t++) {
          const next = cell.step(x, state);
          disposeState(state);
          state = next.state;
        }
        return state;
      }, 'LSTMCell × 50 steps');
      const sequence = tf.ones([2, 50, 3]);
      await expectNoLeakedTensors(() => rnn(cell, sequence), 'rnn(LSTMCell) over 50 steps');
      tf.dispose([x, sequence]);
      cell.dispose();
    });
  }
});

describe('LSTMCell: bad input', () => {
  afterEach(() => setDebugChecks(false));

  it('wrong rank, feature mismatch, state shape and NaN name the argument, expected and received', () => {
    const cell = new LSTMCell({ inputSize: 3, hiddenSize: 4 });
    const rank3 = tf.zeros([2, 1, 3]);
    const wrong = tf.zeros([2, 5]);
    const x = tf.zeros([2, 3]);
    const h = tf.zeros([2, 4]);
    const badC = tf.zeros([3, 4]);
    expect(() => cell.step(rank3)).toThrow(
      /LSTMCell\.step: x: expected rank 2 \(\[batch, features\]\), received rank 3 \[2, 1, 3\]/,
    );
    expect(() => cell.step(wrong)).toThrow(/x: expected \[batch, 3\] \(inputSize = 3\), received \[2, 5\]/);
    expect(() => cell.step(x, { h, c: badC })).toThrow(
      /state\.c: expected \[2, 4\] \(batch from x; hiddenSize\), received \[3, 4\]/,
    );
    const nan = tf.tensor2d([
      [0, NaN, 0],
      [0, 0, 0],
    ]);
    setDebugChecks(true);
    expect(() => cell.step(nan)).toThrow(/x: expected finite values, received NaN at flat index 1 of \[2, 3\]/);
    tf.dispose([rank3, wrong, x, h, badC, nan]);
    cell.dispose();
  });

  it('options and torch state dicts are checked', () => {
    expect(() => new LSTMCell({ inputSize: 3, hiddenSize: 4, peephole: 'hadamard' as never })).toThrow(
      /peephole: expected one of "none", "diagonal", "full", received "hadamard"/,
    );
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2 });
    const w = tf.zeros([16, 3]);
    expect(() => lstm.loadTorchStateDict({ weight_ih_l0: w })).toThrow(/missing keys \(7\): cells\.0\.weight_hh/);
    w.dispose();
    lstm.dispose();
  });
});

describe('LSTM: torch names', () => {
  it('maps torch.nn.LSTM names both ways, reverse directions included', () => {
    expect(LSTM.fromTorchName('weight_ih_l0')).toBe('cells.0.weight_ih');
    expect(LSTM.fromTorchName('bias_hh_l3_reverse')).toBe('cells_reverse.3.bias_hh');
    expect(LSTM.toTorchName('cells_reverse.1.weight_hh')).toBe('weight_hh_l1_reverse');
    expect(LSTM.toTorchName('cells.0.w_ci')).toBe('cells.0.w_ci');
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, direction: 'bidirectional' });
    expect(lstm.namedParameters().map(([n]) => LSTM.toTorchName(n))).toEqual([
      'weight_ih_l0',
      'weight_hh_l0',
      'bias_ih_l0',
      'bias_hh_l0',
      'weight_ih_l1',
      'weight_hh_l1',
      'bias_ih_l1',
      'bias_hh_l1',
      'weight_ih_l0_reverse',
      'weight_hh_l0_reverse',
      'bias_ih_l0_reverse',
      'bias_hh_l0_reverse',
      'weight_ih_l1_reverse',
      'weight_hh_l1_reverse',
      'bias_ih_l1_reverse',
      'bias_hh_l1_reverse',
    ]);
    // Layer 1 reads both directions of layer 0, as torch.nn.LSTM(bidirectional=True).
    expect(lstm.cells.at(1).inputSize).toBe(8);
    expect(lstm.outputSize).toBe(8);
    lstm.dispose();
  });
});
