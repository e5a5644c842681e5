import * as tf from '@tensorflow/tfjs-core';
import { type SafetensorsContents, hostToTensor } from '@vid/core';
import { assertClose, expectNoLeakedTensors } from '@vid/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';

import {
  expectForward,
  expectGradients,
  get,
  loadLocalFixture,
  meanSquare,
  torchGradients,
  initTestBackend,
} from './__fixtures__/helpers.js';
import { ConvGRU, ConvLSTM } from './conv-stacks.js';
import { LSTM } from './lstm.js';
import { rnn } from './rnn.js';
import { type StackedResult, disposeStackedResult } from './stacked.js';
import { stateTensors } from './state.js';
import type { RecurrentState } from './types.js';

beforeAll(async () => {
  await initTestBackend();
});

const video = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);

function expectSameStates(actual: readonly RecurrentState[], expected: readonly RecurrentState[], label: string): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((state, layer) => {
    const a = stateTensors(state);
    const e = stateTensors(expected[layer]!);
    a.forEach((t, i) => assertClose(t, e[i]!, { atol: 1e-6, name: `${label} layer ${layer} state ${i}` }));
  });
}

describe('LSTM: bidirectional parity with torch.nn.LSTM(bidirectional=True, num_layers=2)', () => {
  let contents: SafetensorsContents;
  beforeAll(async () => {
    contents = await loadLocalFixture('lstm-bidirectional.safetensors');
  });
  it('outputs (forward ⧺ reverse), h_n and c_n of both directions, every gradient and d/dx', () => {
    const t = contents.tensors;
    const lstm = new LSTM({ inputSize: 5, hiddenSize: 4, numLayers: 2, direction: 'bidirectional' });
    lstm.loadTorchStateDict(new Map([...t].filter(([n]) => /^(weight|bias)_/.test(n))));
    const x = hostToTensor(get(t, 'input'));
    const result = lstm.apply(x);
    expectForward(result.output, get(t, 'output'), 'output');
    // torch: [l0, l0_reverse, l1, l1_reverse]
    const order = (key: 'h' | 'c') =>
      tf.stack(result.states.flatMap((s, l) => [s[key], result.reverseStates![l]![key]]));
    const hN = order('h');
    const cN = order('c');
    expectForward(hN, get(t, 'h_n'), 'h_n');
    expectForward(cN, get(t, 'c_n'), 'c_n');
    tf.dispose([hN, cN]);
    disposeStackedResult(result);
    const { value, grads } = torchGradients(lstm, () => tf.tidy(() => meanSquare(lstm.apply(x).output)));
    expectForward(value, get(t, 'loss'), 'loss');
    expectGradients(new Map([...grads].map(([n, g]) => [LSTM.toTorchName(n), g])), t);
    const dx = tf.grad((input: tf.Tensor) => meanSquare(lstm.apply(input).output))(x);
    assertClose(dx, get(t, 'grad.input'), { relativeToMax: 1e-4, name: 'grad.input' });
    tf.dispose([x, dx]);
    lstm.dispose();
  });
});

describe('StackedRNN: stateful streaming', () => {
  const stacks = {
    ConvLSTM: () =>
      new ConvLSTM({
        inputChannels: 2,
        hiddenChannels: [3, 4],
        kernelSize: [3, 5],
        peephole: 'channel',
        stateful: true,
        seed: 1,
      }),
    ConvGRU: () => new ConvGRU({ inputChannels: 2, hiddenChannels: [3, 2], kernelSize: 3, stateful: true, seed: 2 }),
  };
  for (const [name, make] of Object.entries(stacks)) {
    it(`${name}: two chunks (2 + 4 frames) equal one call on all 6 frames: outputs and final states of every layer`, async () => {
      const stack = make();
      const x = video([2, 6, 5, 5, 2], 3);
      const whole = stack.apply(x);
      stack.resetStates();
      const [first, second] = tf.split(x, [2, 4], 1);
      const a = stack.apply(first!);
      expect(stack.carriedStates).not.toBeNull();
      const b = stack.apply(second!);
      const joined = tf.concat([a.output, b.output], 1);
      assertClose(joined, whole.output, { atol: 1e-6, name: 'outputs' });
      expectSameStates(b.states, whole.states, 'final');
      expectSameStates(stack.carriedStates!, whole.states, 'carried');
      // The carried states belong to the module: disposing results does not touch them.
      [whole, a, b].forEach((r) => disposeStackedResult(r));
      tf.dispose([joined, first!, second!, x]);
      // What is left is the parameters and the carried states; resetStates() frees the latter.
      const carried = stack.carriedStates!.flatMap((s) => stateTensors(s)).length;
      const before = tf.memory().numTensors;
      stack.resetStates();
      expect(tf.memory().numTensors).toBe(before - carried);
      stack.dispose();
    });
  }

  it('LSTM: frame-by-frame step() streaming equals apply(); carried states are used until resetStates()', () => {
    const lstm = new LSTM({ inputSize: 3, hiddenSize: [4, 5], stateful: true, seed: 3 });
    const x = video([2, 5, 3], 4);
    const whole = lstm.apply(x);
    lstm.resetStates();
    const frames = tf.unstack(x, 1);
    const outputs = frames.map((frame) => {
      const result = lstm.step(frame);
      const out = result.output;
      result.layerOutputs.slice(0, -1).forEach((t) => t.dispose());
      result.states.forEach((s) =>
        stateTensors(s)
          .filter((t) => t !== out)
          .forEach((t) => t.dispose()),
      );
      return out;
    });
    const stepped = tf.stack(outputs, 1);
    assertClose(stepped, whole.output, { atol: 1e-6, name: 'stepped outputs' });
    expectSameStates(lstm.carriedStates!, whole.states, 'carried');
    // Carried states change the next call; after resetStates the first call is reproduced.
    const again = lstm.apply(x);
    expect(tf.max(tf.abs(tf.sub(again.output, whole.output))).dataSync()[0]).toBeGreaterThan(1e-4);
    lstm.resetStates();
    const fresh = lstm.apply(x);
    assertClose(fresh.output, whole.output, { atol: 0, name: 'after resetStates' });
    [whole, again, fresh].forEach((r) => disposeStackedResult(r));
    tf.dispose([x, stepped, ...frames, ...outputs]);
    lstm.dispose();
  });

  it('a new batch size without resetStates() is an error that says what to do', () => {
    const stack = new ConvGRU({ inputChannels: 1, hiddenChannels: 2, kernelSize: 3, stateful: true });
    const x = tf.zeros([2, 2, 4, 4, 1]);
    const y = tf.zeros([3, 2, 4, 4, 1]);
    disposeStackedResult(stack.apply(x));
    expect(() => stack.apply(y)).toThrow(
      /ConvGRU\.apply: x: expected batch 2 \(the batch of the carried states; call resetStates\(\) to start a new stream\), received batch 3/,
    );
    tf.dispose([x, y]);
    stack.dispose();
  });

  it('training through a stateful stack: gradients flow within the chunk only (truncated BPTT)', () => {
    const stack = new ConvLSTM({ inputChannels: 1, hiddenChannels: 2, kernelSize: 3, stateful: true, seed: 5 });
    const x = video([1, 3, 4, 4, 1], 6);
    for (let chunk = 0; chunk < 2; chunk++) {
      const { grads, value } = torchGradients(stack, () => tf.tidy(() => meanSquare(stack.apply(x).output)));
      expect(Number.isFinite(value)).toBe(true);
      grads.forEach((g) => g.dispose());
    }
    expect(stack.carriedStates).not.toBeNull();
    x.dispose();
    stack.dispose();
  });
});

describe('StackedRNN: directions', () => {
  it('bidirectional (concat) = forward ⧺ reverse run of the reversed input, layer by layer', () => {
    const stack = new ConvLSTM({
      inputChannels: 2,
      hiddenChannels: [3, 2],
      kernelSize: 3,
      direction: 'bidirectional',
      seed: 7,
    });
    expect(stack.layerOutputSizes).toEqual([6, 4]);
    expect(stack.cells.at(1).inputChannels).toBe(6);
    const x = video([2, 4, 5, 6, 2], 8);
    const result = stack.apply(x, { returnAllLayers: true });
    const expected = tf.tidy(() => {
      let input: tf.Tensor = x;
      const layers: tf.Tensor[] = [];
      for (let layer = 0; layer < 2; layer++) {
        const ahead = rnn(stack.cells.at(layer), input).outputs;
        const flipped = tf.reverse(input, 1);
        const behind = tf.reverse(rnn(stack.reverseCells!.at(layer), flipped).outputs, 1);
        input = tf.concat([ahead, behind], -1);
        layers.push(input);
      }
      return layers;
    });
    assertClose(result.layerOutputs![0]!, expected[0]!, { atol: 1e-6, name: 'layer 0' });
    assertClose(result.output, expected[1]!, { atol: 1e-6, name: 'layer 1' });
    expect(result.output).toBe(result.layerOutputs![1]);
    // The reverse direction's final state is its state after reading time step 0.
    const reversedRun = rnn(stack.reverseCells!.at(0), tf.reverse(x, 1));
    expectSameStates([result.reverseStates![0]!], [reversedRun.state], 'reverse final');
    tf.dispose([x, ...expected, reversedRun.outputs, ...stateTensors(reversedRun.state)]);
    disposeStackedResult(result);
    stack.dispose();
  });

  it('bidirectional (sum) adds the two directions; layer 1 reads hidden (not 2·hidden) channels', () => {
    const stack = new ConvGRU({
      inputChannels: 2,
      hiddenChannels: 3,
      numLayers: 2,
      kernelSize: 3,
      direction: 'bidirectional',
      merge: 'sum',
      seed: 9,
    });
    expect(stack.cells.at(1).inputChannels).toBe(3);
    const x = video([1, 3, 4, 4, 2], 10);
    const result = stack.apply(x);
    const expected = tf.tidy(() => {
      let input: tf.Tensor = x;
      for (let layer = 0; layer < 2; layer++) {
        const ahead = rnn(stack.cells.at(layer), input).outputs;
        const behind = tf.reverse(rnn(stack.reverseCells!.at(layer), tf.reverse(input, 1)).outputs, 1);
        input = tf.add(ahead, behind);
      }
      return input;
    });
    assertClose(result.output, expected, { atol: 1e-6, name: 'output' });
    tf.dispose([x, expected]);
    disposeStackedResult(result);
    stack.dispose();
  });

  it("direction 'reverse' = forward run of the reversed input, reversed back", () => {
    const stack = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, direction: 'reverse', seed: 11 });
    const forward = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, seed: 11 });
    const x = video([2, 5, 3], 12);
    const result = stack.apply(x);
    const flipped = tf.reverse(x, 1);
    const reference = forward.apply(flipped);
    const back = tf.reverse(reference.output, 1);
    assertClose(result.output, back, { atol: 1e-6, name: 'output' });
    expectSameStates(result.states, reference.states, 'final');
    tf.dispose([x, flipped, back]);
    [result, reference].forEach((r) => disposeStackedResult(r));
    stack.dispose();
    forward.dispose();
  });
});

describe('StackedRNN: layers, states and memory', () => {
  it('per-layer hidden channels and kernels (square and rectangular); returnAllLayers equals running each cell', () => {
    const stack = new ConvLSTM({
      inputChannels: 1,
      hiddenChannels: [3, 5, 2],
      kernelSize: [3, [1, 5], 2],
      fused: false,
      seed: 13,
    });
    expect(stack.namedParameters().map(([n, v]) => `${n} ${v.shape.join('x')}`)).toEqual([
      'cells.0.conv_x.weight 3x3x1x12',
      'cells.0.conv_x.bias 12',
      'cells.0.conv_h.weight 3x3x3x12',
      'cells.1.conv_x.weight 1x5x3x20',
      'cells.1.conv_x.bias 20',
      'cells.1.conv_h.weight 1x5x5x20',
      'cells.2.conv_x.weight 2x2x5x8',
      'cells.2.conv_x.bias 8',
      'cells.2.conv_h.weight 2x2x2x8',
    ]);
    const x = video([2, 3, 6, 5, 1], 14);
    const result = stack.apply(x, { returnAllLayers: true });
    let input: tf.Tensor = x;
    const owned: tf.Tensor[] = [];
    stack.cells.items.forEach((cell, layer) => {
      const run = rnn(cell, input);
      assertClose(result.layerOutputs![layer]!, run.outputs, { atol: 1e-6, name: `layer ${layer}` });
      expectSameStates([result.states[layer]!], [run.state], `layer ${layer}`);
      owned.push(run.outputs, ...stateTensors(run.state));
      input = run.outputs;
    });
    expect(result.output.shape).toEqual([2, 3, 6, 5, 2]);
    tf.dispose([x, ...owned]);
    disposeStackedResult(result);
    stack.dispose();
  });

  it('given initial states are used (and not disposed)', () => {
    const stack = new ConvLSTM({ inputChannels: 1, hiddenChannels: [2, 3], kernelSize: 3, seed: 15 });
    const x = video([1, 2, 4, 4, 1], 16);
    const initialStates = [
      { h: video([1, 4, 4, 2], 17), c: video([1, 4, 4, 2], 18) },
      { h: video([1, 4, 4, 3], 19), c: video([1, 4, 4, 3], 20) },
    ];
    const result = stack.apply(x, { initialStates });
    const layer0 = rnn(stack.cells.at(0), x, { initialState: initialStates[0]! });
    const layer1 = rnn(stack.cells.at(1), layer0.outputs, { initialState: initialStates[1]! });
    assertClose(result.output, layer1.outputs, { atol: 1e-6, name: 'output' });
    expect(initialStates.every((s) => !s.h.isDisposed && !s.c.isDisposed)).toBe(true);
    tf.dispose([
      x,
      layer0.outputs,
      layer1.outputs,
      layer0.state.c,
      layer1.state.c,
      ...initialStates.flatMap((s) => [s.h, s.c]),
    ]);
    disposeStackedResult(result);
    stack.dispose();
  });

  it('apply, bidirectional apply, stateful apply and step leak no tensor over 50 steps', async () => {
    const x = video([1, 50, 4, 4, 2], 21);
    for (const options of [{}, { direction: 'bidirectional' as const }, { stateful: true }]) {
      const stack = new ConvLSTM({ inputChannels: 2, hiddenChannels: [2, 3], kernelSize: 3, ...options });
      await expectNoLeakedTensors(
        () => {
          const result = stack.apply(x, { returnAllLayers: true });
          stack.resetStates();
          return result as unknown as StackedResult<never>;
        },
        `apply ${JSON.stringify(options)}`,
      );
      stack.dispose();
    }
    const stack = new ConvLSTM({ inputChannels: 2, hiddenChannels: [2, 3], kernelSize: 3 });
    const frame = tf.ones([1, 4, 4, 2]);
    await expectNoLeakedTensors(() => {
      let states = stack.step(frame);
      for (let t = 1; t < 50; t++) {
        const next = stack.step(frame, states.states);
        disposeStackedResult(states);
        states = next;
      }
      return states as unknown as StackedResult<never>;
    }, 'step × 50');
    tf.dispose([x, frame]);
    stack.dispose();
  });
});

describe('StackedRNN: bad input and options', () => {
  it('names the argument, the expected and the received value', () => {
    const stack = new ConvLSTM({ inputChannels: 2, hiddenChannels: [3, 4], kernelSize: 3 });
    const frames = tf.zeros([2, 5, 5, 2]);
    const wrong = tf.zeros([2, 3, 5, 5, 1]);
    const x = tf.zeros([2, 3, 5, 5, 2]);
    expect(() => stack.apply(frames)).toThrow(
      /ConvLSTM\.apply: x: expected rank 5 \(\[batch, time\] and a step of rank 4\), received rank 4 \[2, 5, 5, 2\]/,
    );
    expect(() => stack.apply(wrong)).toThrow(
      /ConvLSTM\.apply: x: expected \[batch, time, \.\.\.spatial, 2\] \(inputSize of layer 0 = 2\), received \[2, 3, 5, 5, 1\]/,
    );
    const h = tf.zeros([2, 5, 5, 3]);
    expect(() => stack.apply(x, { initialStates: [{ h, c: h }] })).toThrow(
      /initialStates: expected one state per layer \(2\), received "1 states"/,
    );
    expect(() =>
      stack.apply(x, {
        initialStates: [
          { h, c: h },
          { h, c: h },
        ],
      }),
    ).toThrow(/state\.h: expected \[2, 5, 5, 4\]/);
    tf.dispose([frames, wrong, x, h]);
    stack.dispose();
    expect(() => new ConvLSTM({ inputChannels: 2, hiddenChannels: [3, 4], kernelSize: [3, 3, 3] })).toThrow(
      /kernelSize: expected a number, or one entry per layer \(2\), each a number or \[kh, kw\].*received \[3, 3, 3\]/,
    );
    expect(() => new ConvLSTM({ inputChannels: 2, hiddenChannels: [3, 4], numLayers: 3, kernelSize: 3 })).toThrow(
      /numLayers: expected 2 \(the length of hiddenChannels\) or nothing, received 3/,
    );
    expect(
      () =>
        new ConvGRU({ inputChannels: 2, hiddenChannels: 3, kernelSize: 3, direction: 'bidirectional', stateful: true }),
    ).toThrow(/stateful: expected false unless direction is 'forward'/);
    const bidirectional = new LSTM({ inputSize: 2, hiddenSize: 3, direction: 'bidirectional' });
    const frame = tf.zeros([1, 2]);
    expect(() => bidirectional.step(frame)).toThrow(
      /direction: expected 'forward' to step one time step at a time, received "bidirectional"/,
    );
    frame.dispose();
    bidirectional.dispose();
  });
});

describe('gradient checkpointing (each step recomputed in the backward pass)', () => {
  /** The loss and the gradient of every parameter, with and without checkpointing. */
  function lossAndGrads(
    model: ConvLSTM | ConvGRU | LSTM,
    x: tf.Tensor,
    checkpointing: boolean,
  ): { loss: number; grads: Map<string, Float32Array> } {
    const named = model.namedParameters();
    const { value, grads } = tf.variableGrads(() => {
      const result = model.apply(x, { checkpointing });
      const loss = tf.add(meanSquare(result.output), tf.mean(stateTensors(result.states[0]!)[0]!)) as tf.Scalar;
      disposeStackedResult(result);
      return loss;
    });
    const out = new Map(named.map(([name, v]) => [name, grads[v.name]!.dataSync() as Float32Array]));
    const loss = value.dataSync()[0]!;
    tf.dispose([value, ...Object.values(grads)]);
    return { loss, grads: out };
  }

  it.each([
    [
      'ConvLSTM',
      () => new ConvLSTM({ inputChannels: 2, hiddenChannels: [4, 3], kernelSize: 3, seed: 3 }),
      [2, 4, 5, 5, 2],
    ],
    [
      'ConvGRU',
      () => new ConvGRU({ inputChannels: 2, hiddenChannels: [4, 3], kernelSize: 3, seed: 4 }),
      [2, 4, 5, 5, 2],
    ],
    [
      'LSTM (bidirectional)',
      () => new LSTM({ inputSize: 3, hiddenSize: 5, numLayers: 2, direction: 'bidirectional', seed: 5 }),
      [2, 6, 3],
    ],
  ] as const)('%s: the same loss and gradients, and no leaked tensors', async (_, make, shape) => {
    const model = make();
    const x = video([...shape], 11);
    const plain = lossAndGrads(model, x, false);
    const checkpointed = lossAndGrads(model, x, true);
    expect(checkpointed.loss).toBeCloseTo(plain.loss, 6);
    for (const [name, g] of plain.grads) assertClose(checkpointed.grads.get(name)!, g, { atol: 1e-6, name });
    await expectNoLeakedTensors(() => void lossAndGrads(model, x, true), 'checkpointed training step');
    tf.dispose(x);
  });

  it('runs a forward pass with the same outputs outside a gradient', () => {
    const model = new ConvLSTM({ inputChannels: 1, hiddenChannels: [3], kernelSize: 3, seed: 8 });
    const x = video([1, 3, 4, 4, 1], 2);
    const a = model.apply(x);
    const b = model.apply(x, { checkpointing: true });
    assertClose(b.output, a.output, { atol: 0, name: 'output' });
    expectSameStates(b.states, a.states, 'states');
    disposeStackedResult(a);
    disposeStackedResult(b);
    tf.dispose(x);
  });

  it('needs a Module cell', () => {
    const cell = { inputRank: 2, step: () => ({ output: tf.zeros([1]), state: {} }), zeroState: () => ({}) };
    const x = tf.zeros([1, 2, 3]);
    expect(() => rnn(cell as never, x, { checkpointing: true })).toThrow(
      /checkpointing: expected a cell that is a Module .*received "Object"/,
    );
    x.dispose();
  });
});
