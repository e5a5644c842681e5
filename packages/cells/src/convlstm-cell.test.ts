import * as tf from '@tensorflow/tfjs-core';
import { type HostTensor, Rng, type SafetensorsContents, hostToTensor, setDebugChecks } from '@vid/core';
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
import { ConvLSTMCell } from './convlstm-cell.js';
import { rnn } from './rnn.js';
import { disposeState } from './state.js';

beforeAll(async () => {
  await initTestBackend();
});

/** Runs the cell over a PyTorch-layout video and returns outputs/state in PyTorch layout. */
function runTorchLayout(cell: ConvLSTMCell, input: HostTensor, initial?: { h: HostTensor; c: HostTensor }) {
  return tf.tidy(() => {
    const x = videoFromTorch(input);
    const initialState = initial ? { h: frameFromTorch(initial.h), c: frameFromTorch(initial.c) } : undefined;
    const { outputs, state } = rnn(cell, x, initialState ? { initialState } : {});
    return { output: videoToTorch(outputs), h: frameToTorch(state.h), c: frameToTorch(state.c) };
  });
}

/** The shared fixture's unfused parameters under this package's names (`bias` belongs to `conv_x`). */
function unfusedFromPeepholeFixture(t: ReadonlyMap<string, HostTensor>): Map<string, HostTensor> {
  return new Map([
    ['conv_x.weight', get(t, 'conv_x.weight')],
    ['conv_x.bias', get(t, 'bias')],
    ['conv_h.weight', get(t, 'conv_h.weight')],
    ['w_ci', get(t, 'w_ci')],
    ['w_cf', get(t, 'w_cf')],
    ['w_co', get(t, 'w_co')],
  ]);
}

describe.runIf(await hasReferenceFixture('convlstm-peephole-cell.safetensors'))(
  'ConvLSTMCell: parity with Shi et al. 2015 eq. 3, spatial peepholes (shared fixture)',
  () => {
    let fixture: SafetensorsContents;
    beforeAll(async () => {
      fixture = (await loadReferenceFixture('convlstm-peephole-cell.safetensors'))!;
    });
    const options = (fused: boolean) =>
      ({
        inputChannels: 3,
        hiddenChannels: 6,
        kernelSize: 3,
        peephole: 'spatial',
        spatialSize: [8, 10],
        fused,
      }) as const;

    it('the fixture is the configuration we think it is', () => {
      expect(fixtureMetadata(fixture, 'config')).toEqual({
        input_channels: 3,
        hidden_channels: 6,
        kernel_size: 3,
        peephole: 'hadamard [ch, H, W]',
      });
    });

    for (const fused of [false, true]) {
      it(`${fused ? 'fused' : 'unfused'}: outputs, final cell state and every gradient`, async () => {
        const t = fixture.tensors;
        const cell = new ConvLSTMCell(options(fused));
        const unfused = unfusedFromPeepholeFixture(t);
        if (fused) {
          const fusedDict = tf.tidy(() => ({
            // torch [4h, in, kh, kw] ⧺ [4h, hidden, kh, kw] on the input axis → [4h, in + hidden, kh, kw]
            'conv.weight': tf.concat([hostToTensor(get(t, 'conv_x.weight')), hostToTensor(get(t, 'conv_h.weight'))], 1),
            'conv.bias': hostToTensor(get(t, 'bias')),
            w_ci: hostToTensor(get(t, 'w_ci')),
            w_cf: hostToTensor(get(t, 'w_cf')),
            w_co: hostToTensor(get(t, 'w_co')),
          }));
          cell.loadStateDict(fusedDict, { layout: 'torch' });
          Object.values(fusedDict).forEach((v) => v.dispose());
        } else {
          cell.loadStateDict(unfused, { layout: 'torch' });
        }
        const result = runTorchLayout(cell, get(t, 'input'));
        expectForward(result.output, get(t, 'output'), 'output');
        expectForward(result.c, get(t, 'c_n'), 'c_n');
        tf.dispose(result);

        const x = videoFromTorch(get(t, 'input'));
        const { value, grads } = torchGradients(cell, () => tf.tidy(() => meanSquare(rnn(cell, x).outputs)));
        x.dispose();
        expectForward(value, get(t, 'loss'), 'loss');
        if (fused) {
          // d/d conv.weight [4h, in + hidden, kh, kw] → the fixture's conv_x and conv_h halves.
          const whole = grads.get('conv.weight')!;
          const [gx, gh] = tf.split(whole, [3, 6], 1);
          whole.dispose();
          grads.delete('conv.weight');
          grads.set('conv_x.weight', gx!);
          grads.set('conv_h.weight', gh!);
          expectGradients(grads, t, { 'conv.bias': 'bias' });
        } else {
          expectGradients(grads, t, { 'conv_x.bias': 'bias' });
        }
        cell.dispose();
      });
    }
  },
);

describe('ConvLSTMCell: parity with the official NVlabs/conv-tt-lstm ConvLSTMCell', () => {
  let contents: Awaited<ReturnType<typeof loadLocalFixture>>;
  beforeAll(async () => {
    contents = await loadLocalFixture('convlstm-nvlabs.safetensors');
  });
  for (const [name, kernelSize, bias] of [
    ['k3', 3, true],
    ['k5', 5, false],
  ] as const) {
    it(`${name}: the official state dict loads unchanged (gateOrder 'ifog'); outputs, states, gradients`, () => {
      const t = withPrefix(contents, `${name}.`);
      const cell = new ConvLSTMCell({ inputChannels: 3, hiddenChannels: 4, kernelSize, bias, gateOrder: 'ifog' });
      expect(cell.namedParameters().map(([n]) => n)).toEqual(bias ? ['conv.weight', 'conv.bias'] : ['conv.weight']);
      const stateDict = new Map([...t].filter(([n]) => n.startsWith('conv.')));
      cell.loadStateDict(stateDict, { layout: 'torch', source: `convlstm-nvlabs.safetensors (${name})` });

      const result = runTorchLayout(cell, get(t, 'input'));
      expectForward(result.output, get(t, 'output'), 'output');
      expectForward(result.h, get(t, 'h_n'), 'h_n');
      expectForward(result.c, get(t, 'c_n'), 'c_n');
      tf.dispose(result);

      const x = tf.variable(videoFromTorch(get(t, 'input')));
      const { value, grads } = torchGradients(cell, () => tf.tidy(() => meanSquare(rnn(cell, x).outputs)));
      expectForward(value, get(t, 'loss'), 'loss');
      expectGradients(grads, t);
      const dx = tf.tidy(() => videoToTorch(tf.grad((input: tf.Tensor) => meanSquare(rnn(cell, input).outputs))(x)));
      assertClose(dx, get(t, 'grad.input'), { relativeToMax: 1e-4, name: 'grad.input' });
      tf.dispose([x, dx]);
      cell.dispose();
    });
  }
});

describe('ConvLSTMCell: channel peepholes with a given state, and an even rectangular kernel', () => {
  let contents: Awaited<ReturnType<typeof loadLocalFixture>>;
  beforeAll(async () => {
    contents = await loadLocalFixture('convlstm-variants.safetensors');
  });

  it('channel peepholes, initial state h_0, c_0: outputs, states and gradients (parameters, input, state)', () => {
    const t = withPrefix(contents, 'channel.');
    const cell = new ConvLSTMCell({
      inputChannels: 2,
      hiddenChannels: 3,
      kernelSize: 3,
      peephole: 'channel',
      fused: false,
    });
    cell.loadStateDict(new Map([...t].filter(([n]) => /^(conv_|w_c)/.test(n) && !n.includes('grad'))), {
      layout: 'torch',
    });
    const initial = { h: get(t, 'h_0'), c: get(t, 'c_0') };
    const result = runTorchLayout(cell, get(t, 'input'), initial);
    expectForward(result.output, get(t, 'output'), 'output');
    expectForward(result.h, get(t, 'h_n'), 'h_n');
    expectForward(result.c, get(t, 'c_n'), 'c_n');
    tf.dispose(result);

    const x = videoFromTorch(get(t, 'input'));
    const h0 = frameFromTorch(initial.h);
    const c0 = frameFromTorch(initial.c);
    const loss = (input: tf.Tensor, h: tf.Tensor, c: tf.Tensor) =>
      meanSquare(rnn(cell, input, { initialState: { h, c } }).outputs);
    const { value, grads } = torchGradients(cell, () => tf.tidy(() => loss(x, h0, c0)));
    expectForward(value, get(t, 'loss'), 'loss');
    expectGradients(grads, t);
    const [dx, dh, dc] = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => loss(a, b, c))([x, h0, c0]);
    const torchLayout = tf.tidy(() => [videoToTorch(dx!), frameToTorch(dh!), frameToTorch(dc!)]);
    assertClose(torchLayout[0]!, get(t, 'grad.input'), { relativeToMax: 1e-4, name: 'grad.input' });
    assertClose(torchLayout[1]!, get(t, 'grad.h_0'), { relativeToMax: 1e-4, name: 'grad.h_0' });
    assertClose(torchLayout[2]!, get(t, 'grad.c_0'), { relativeToMax: 1e-4, name: 'grad.c_0' });
    tf.dispose([x, h0, c0, dx!, dh!, dc!, ...torchLayout]);
    cell.dispose();
  });

  for (const fused of [false, true]) {
    it(`kernel [4, 2] with PyTorch's padding='same' (extra row/column bottom/right), ${fused ? 'fused' : 'unfused'}`, () => {
      const t = withPrefix(contents, 'even.');
      const cell = new ConvLSTMCell({ inputChannels: 2, hiddenChannels: 3, kernelSize: [4, 2], fused });
      const dict = tf.tidy(() => {
        const wx = hostToTensor(get(t, 'conv_x.weight'));
        const wh = hostToTensor(get(t, 'conv_h.weight'));
        const b = hostToTensor(get(t, 'conv_x.bias'));
        const out: Record<string, tf.Tensor> = fused
          ? { 'conv.weight': tf.concat([wx, wh], 1), 'conv.bias': b }
          : { 'conv_x.weight': wx, 'conv_h.weight': wh, 'conv_x.bias': b };
        return out;
      });
      cell.loadStateDict(dict, { layout: 'torch' });
      tf.dispose(dict);
      const result = runTorchLayout(cell, get(t, 'input'));
      expectForward(result.output, get(t, 'output'), 'output');
      expectForward(result.c, get(t, 'c_n'), 'c_n');
      tf.dispose(result);
      const x = videoFromTorch(get(t, 'input'));
      const { grads } = torchGradients(cell, () => tf.tidy(() => meanSquare(rnn(cell, x).outputs)));
      if (fused) {
        const whole = grads.get('conv.weight')!;
        const [gx, gh] = tf.split(whole, [2, 3], 1);
        whole.dispose();
        grads.delete('conv.weight');
        grads.set('conv_x.weight', gx!);
        grads.set('conv_h.weight', gh!);
      }
      expectGradients(grads, t, { 'conv.bias': 'conv_x.bias' });
      x.dispose();
      cell.dispose();
    });
  }
});

describe('ConvLSTMCell: fused and unfused are the same model', () => {
  for (const peephole of ['none', 'channel', 'spatial'] as const) {
    it(`same seed, same function and gradients (peephole ${peephole}, kernel [3, 4])`, () => {
      const base = {
        inputChannels: 2,
        hiddenChannels: 3,
        kernelSize: [3, 4] as const,
        peephole,
        spatialSize: [5, 6] as const,
        seed: 7,
        forgetBias: 1,
      };
      const fused = new ConvLSTMCell({ ...base, fused: true });
      const unfused = new ConvLSTMCell({ ...base, fused: false });
      // Non-zero peepholes so that they matter.
      for (const cell of [fused, unfused]) {
        for (const [name, v] of cell.namedParameters()) if (name.startsWith('w_c')) v.assign(tf.fill(v.shape, 0.3));
      }
      const x = tf.randomUniform([2, 3, 5, 6, 2], -1, 1, 'float32', 1);
      const a = rnn(fused, x);
      const b = rnn(unfused, x);
      assertClose(a.outputs, b.outputs, { atol: 1e-6, name: 'outputs' });
      assertClose(a.state.c, b.state.c, { atol: 1e-6, name: 'c' });
      tf.dispose([a.outputs, a.state.h, a.state.c, b.outputs, b.state.h, b.state.c]);
      const ga = torchGradients(fused, () => tf.tidy(() => meanSquare(rnn(fused, x).outputs))).grads;
      const gb = torchGradients(unfused, () => tf.tidy(() => meanSquare(rnn(unfused, x).outputs))).grads;
      const [gx, gh] = tf.split(ga.get('conv.weight')!, [2, 3], 1);
      assertClose(gx!, gb.get('conv_x.weight')!, { relativeToMax: 1e-5, name: 'grad conv_x.weight' });
      assertClose(gh!, gb.get('conv_h.weight')!, { relativeToMax: 1e-5, name: 'grad conv_h.weight' });
      assertClose(ga.get('conv.bias')!, gb.get('conv_x.bias')!, { relativeToMax: 1e-5, name: 'grad bias' });
      tf.dispose([gx!, gh!, ...ga.values(), ...gb.values(), x]);
      fused.dispose();
      unfused.dispose();
    });
  }
});

describe('ConvLSTMCell: states, shapes, no-input cells', () => {
  it('derives the zero state from x and keeps the frame size for even kernels', () => {
    const cell = new ConvLSTMCell({ inputChannels: 1, hiddenChannels: 4, kernelSize: 2 });
    const x = tf.ones([3, 5, 7, 1]);
    const state = cell.zeroState(x);
    expect(state.h.shape).toEqual([3, 5, 7, 4]);
    expect(state.c.shape).toEqual([3, 5, 7, 4]);
    const { output, state: next } = cell.step(x, state);
    expect(output.shape).toEqual([3, 5, 7, 4]);
    expect(output).toBe(next.h);
    tf.dispose([x, state.h, state.c, next.h, next.c]);
    cell.dispose();
  });

  it('a step without a state starts from zeros', () => {
    const cell = new ConvLSTMCell({ inputChannels: 2, hiddenChannels: 3, kernelSize: 3, seed: 3 });
    const x = tf.randomNormal([2, 4, 4, 2], 0, 1, 'float32', 2);
    const zero = cell.zeroState(x);
    const a = cell.step(x);
    const b = cell.step(x, zero);
    assertClose(a.output, b.output, { atol: 0, name: 'output' });
    tf.dispose([x, zero.h, zero.c, a.state.h, a.state.c, b.state.h, b.state.c]);
    cell.dispose();
  });

  it('inputChannels 0: the gates read only h (Shi et al. forecaster); x gives batch and size', () => {
    const cell = new ConvLSTMCell({ inputChannels: 0, hiddenChannels: 3, kernelSize: 3, seed: 1 });
    expect(cell.conv!.weight.shape).toEqual([3, 3, 3, 12]);
    const x = tf.zeros([2, 4, 5, 0]);
    const h = tf.randomNormal([2, 4, 5, 3], 0, 1, 'float32', 1);
    const c = tf.randomNormal([2, 4, 5, 3], 0, 1, 'float32', 2);
    const { state } = cell.step(x, { h, c });
    // Same as a cell whose input is a zero-channel-free conv on h alone.
    const expected = tf.tidy(() => {
      const z = tf.add(tf.conv2d(h as tf.Tensor4D, cell.conv!.weight as tf.Tensor4D, 1, 'same'), cell.conv!.bias!);
      const [i, f, g, o] = tf.split(z, 4, 3);
      const cNext = tf.add(tf.mul(tf.sigmoid(f!), c), tf.mul(tf.sigmoid(i!), tf.tanh(g!)));
      return tf.mul(tf.sigmoid(o!), tf.tanh(cNext));
    });
    assertClose(state.h, expected, { atol: 1e-6, name: 'h' });
    // Unfused without input: conv_h alone, carrying the bias; the same function for the same seed.
    const unfused = new ConvLSTMCell({ inputChannels: 0, hiddenChannels: 3, kernelSize: 3, seed: 1, fused: false });
    expect(unfused.namedParameters().map(([n]) => n)).toEqual(['conv_h.weight', 'conv_h.bias']);
    const other = unfused.step(x, { h, c });
    assertClose(other.state.h, expected, { atol: 1e-6, name: 'h (unfused)' });
    tf.dispose([x, h, c, state.h, state.c, expected, other.state.h, other.state.c]);
    unfused.dispose();
    cell.dispose();
  });
});

describe('ConvLSTMCell: finite differences', () => {
  for (const fused of [true, false]) {
    it(`gradients of input, state and parameters match central differences (float32, ε = 1e-2; ${fused ? 'fused' : 'unfused'}, spatial peepholes)`, () => {
      const cell = new ConvLSTMCell({
        inputChannels: 2,
        hiddenChannels: 2,
        kernelSize: 3,
        peephole: 'spatial',
        spatialSize: [3, 3],
        fused,
        seed: 5,
        forgetBias: 0.5,
      });
      for (const [name, v] of cell.namedParameters())
        if (name.startsWith('w_c')) v.assign(tf.randomUniform(v.shape, -0.5, 0.5, 'float32', 9));
      const rng = new Rng(11);
      const random = (shape: number[]) =>
        tf.tensor(rng.fillUniform(new Float32Array(shape.reduce((a, b) => a * b, 1)), -1, 1), shape);
      const x = random([1, 2, 3, 3, 2]);
      const h0 = random([1, 3, 3, 2]);
      const c0 = random([1, 3, 3, 2]);
      const weights = random([1, 2, 3, 3, 2]);
      // A loss that weighs every output differently, so that no gradient cancels out.
      const loss = (input: tf.Tensor, h: tf.Tensor, c: tf.Tensor): tf.Scalar =>
        tf.tidy(() => {
          const { outputs, state } = rnn(cell, input, { initialState: { h, c } });
          return tf.add(tf.sum(tf.mul(outputs, weights)), tf.sum(tf.square(state.c))) as tf.Scalar;
        });
      const [dx, dh, dc] = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => loss(a, b, c))([x, h0, c0]);
      const eps = 1e-2;
      assertClose(
        dx!,
        numericalGradient((v) => loss(v, h0, c0), x, eps),
        { atol: 2e-3, rtol: 1e-2, name: 'd/dx' },
      );
      assertClose(
        dh!,
        numericalGradient((v) => loss(x, v, c0), h0, eps),
        { atol: 2e-3, rtol: 1e-2, name: 'd/dh0' },
      );
      assertClose(
        dc!,
        numericalGradient((v) => loss(x, h0, v), c0, eps),
        { atol: 2e-3, rtol: 1e-2, name: 'd/dc0' },
      );
      // Parameters: perturb each variable through a stand-in tensor.
      for (const [name, variable] of cell.namedParameters()) {
        const analytic = tf.tidy(() => {
          const { grads } = tf.variableGrads(() => loss(x, h0, c0), [variable]);
          return grads[variable.name]!;
        });
        const numeric = numericalVariableGradient(variable, () => loss(x, h0, c0), eps);
        assertClose(analytic, numeric, { atol: 2e-3, rtol: 1e-2, name: `d/d${name}` });
        analytic.dispose();
      }
      tf.dispose([x, h0, c0, weights, dx!, dh!, dc!]);
      cell.dispose();
    });
  }
});

describe('ConvLSTMCell: memory', () => {
  for (const peephole of ['none', 'channel', 'spatial'] as const) {
    for (const fused of [true, false]) {
      it(`50 steps leak no tensor (peephole ${peephole}, ${fused ? 'fused' : 'unfused'})`, async () => {
        const cell = new ConvLSTMCell({
          inputChannels: 2,
          hiddenChannels: 3,
          kernelSize: 3,
          peephole,
          spatialSize: [4, 4],
          fused,
        });
        const x = tf.ones([1, 4, 4, 2]);
        await expectNoLeakedTensors(() => {
          let state = cell.zeroState(x);
          for (let t = 0; t < 50; t++) {
            const next = cell.step(x, state);
            tf.dispose([state.h, state.c]);
            state = next.state;
          }
          return state;
        }, 'ConvLSTMCell × 50 steps');
        const video = tf.tidy(() =>
          tf.stack(
            Array.from({ length: 50 }, () => x),
            1,
          ),
        );
        await expectNoLeakedTensors(() => rnn(cell, video), 'rnn(ConvLSTMCell) over 50 steps');
        tf.dispose([x, video]);
        cell.dispose();
      });
    }
  }
});

describe('ConvLSTMCell: bad input', () => {
  afterEach(() => setDebugChecks(false));
  const cell = () =>
    new ConvLSTMCell({ inputChannels: 3, hiddenChannels: 4, kernelSize: 3, peephole: 'spatial', spatialSize: [5, 5] });

  it('wrong rank names x, the expected rank and the received shape', () => {
    const c = cell();
    const x = tf.zeros([2, 5, 5]);
    expect(() => c.step(x)).toThrow(
      /ConvLSTMCell\.step: x: expected rank 4 \(\[batch, height, width, channels\]\), received rank 3 \[2, 5, 5\]/,
    );
    x.dispose();
    c.dispose();
  });

  it('channel mismatch with the weights names x, inputChannels and the received shape', () => {
    const c = cell();
    const x = tf.zeros([2, 5, 5, 2]);
    expect(() => c.step(x)).toThrow(
      /x: expected \[batch, height, width, 3\] \(inputChannels = 3\), received \[2, 5, 5, 2\]/,
    );
    x.dispose();
    c.dispose();
  });

  it('a frame size other than the spatial peepholes is named', () => {
    const c = cell();
    const x = tf.zeros([2, 6, 5, 3]);
    expect(() => c.step(x)).toThrow(
      /x: expected \[batch, 5, 5, 3\] \(spatialSize of the 'spatial' peepholes\), received \[2, 6, 5, 3\]/,
    );
    x.dispose();
    c.dispose();
  });

  it('a state of the wrong shape names state.h / state.c with expected and received shapes', () => {
    const c = cell();
    const x = tf.zeros([2, 5, 5, 3]);
    const good = tf.zeros([2, 5, 5, 4]);
    const bad = tf.zeros([2, 5, 5, 3]);
    expect(() => c.step(x, { h: bad, c: good })).toThrow(
      /state\.h: expected \[2, 5, 5, 4\] \(batch, height, width from x; hiddenChannels\), received \[2, 5, 5, 3\]/,
    );
    expect(() => c.step(x, { h: good, c: bad })).toThrow(/state\.c: expected \[2, 5, 5, 4\]/);
    tf.dispose([x, good, bad]);
    c.dispose();
  });

  it('NaN in x is reported (with the index) only when debug checks are on', () => {
    const c = cell();
    const x = tf.tensor4d(
      Array.from({ length: 75 }, (_, i) => (i === 7 ? NaN : 0)),
      [1, 5, 5, 3],
    );
    const quiet = c.step(x);
    disposeState(quiet.state);
    setDebugChecks(true);
    expect(() => c.step(x)).toThrow(
      /ConvLSTMCell\.step: x: expected finite values, received NaN at flat index 7 of \[1, 5, 5, 3\]/,
    );
    x.dispose();
    c.dispose();
  });

  it('bad options name the field, the expectation and the value', () => {
    expect(() => new ConvLSTMCell({ inputChannels: 3, hiddenChannels: 0, kernelSize: 3 })).toThrow(
      /hiddenChannels: expected a positive integer, received 0/,
    );
    expect(() => new ConvLSTMCell({ inputChannels: 3, hiddenChannels: 4, kernelSize: 0 })).toThrow(
      /kernelSize: expected a positive integer or a pair/,
    );
    expect(() => new ConvLSTMCell({ inputChannels: 3, hiddenChannels: 4, kernelSize: 3, peephole: 'spatial' })).toThrow(
      /spatialSize: expected \[height, width\]/,
    );
    // @ts-expect-error an unknown gate order
    expect(() => new ConvLSTMCell({ inputChannels: 3, hiddenChannels: 4, kernelSize: 3, gateOrder: 'iofg' })).toThrow(
      /gateOrder: expected one of "ifgo", "ifog", received "iofg"/,
    );
    // @ts-expect-error a typo in an option name
    expect(() => new ConvLSTMCell({ inputChannels: 3, hiddenSize: 4, kernelSize: 3 })).toThrow(/hiddenSize/);
  });

  it('a state dict of the wrong layout names the parameter and both shapes', () => {
    const c = new ConvLSTMCell({ inputChannels: 3, hiddenChannels: 4, kernelSize: 3 });
    const weight = tf.zeros([16, 6, 3, 3]);
    const bias = tf.zeros([16]);
    expect(() => c.loadStateDict({ 'conv.weight': weight, 'conv.bias': bias }, { layout: 'torch' })).toThrow(
      /conv\.weight: expected \[3, 3, 7, 16\]/,
    );
    tf.dispose([weight, bias]);
    c.dispose();
  });
});
