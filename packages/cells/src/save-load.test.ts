import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';
import { type Module, inspectModel, loadModel, saveModel } from '@vid/core';
import { runFreshNode } from '@vid/vitest-config/fresh-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { initTestBackend } from './__fixtures__/helpers.js';
import { ConvGRU, ConvLSTM } from './conv-stacks.js';
import { ConvGRUCell } from './convgru-cell.js';
import { ConvLSTMCell } from './convlstm-cell.js';
import { LSTM } from './lstm.js';
import { LSTMCell } from './lstm-cell.js';
import { rnn } from './rnn.js';
import { StackedRNN, disposeStackedResult } from './stacked.js';
import { disposeState } from './state.js';
import type { AnyRecurrentCell } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));

beforeAll(async () => {
  await initTestBackend();
});

/** The outputs of a cell run over `x` (through the one time loop) or of a stack's `apply`. */
async function run(model: Module, x: tf.Tensor): Promise<Float32Array> {
  if (model instanceof StackedRNN) {
    const result = model.apply(x);
    const data = (await result.output.data()) as Float32Array;
    disposeStackedResult(result);
    return data;
  }
  const result = rnn(model as unknown as AnyRecurrentCell, x);
  const data = (await result.outputs.data()) as Float32Array;
  result.outputs.dispose();
  disposeState(result.state);
  return data;
}

const videoShape = [2, 3, 6, 5, 2];
const sequenceShape = [2, 4, 3];

const cases: Array<[string, () => Module, number[]]> = [
  [
    'LSTMCell (peephole)',
    () => new LSTMCell({ inputSize: 3, hiddenSize: 4, peephole: 'diagonal', forgetBias: 1, seed: 3 }),
    sequenceShape,
  ],
  [
    'ConvLSTMCell (unfused, spatial peepholes, ifog)',
    () =>
      new ConvLSTMCell({
        inputChannels: 2,
        hiddenChannels: 3,
        kernelSize: [3, 2],
        fused: false,
        peephole: 'spatial',
        spatialSize: [6, 5],
        gateOrder: 'ifog',
        seed: 4,
      }),
    videoShape,
  ],
  [
    'ConvGRUCell (resetAfter)',
    () => new ConvGRUCell({ inputChannels: 2, hiddenChannels: 3, kernelSize: 3, resetAfter: true, seed: 5 }),
    videoShape,
  ],
  [
    'ConvLSTM (2 layers, bidirectional)',
    () =>
      new ConvLSTM({
        inputChannels: 2,
        hiddenChannels: [3, 2],
        kernelSize: [3, 1],
        direction: 'bidirectional',
        merge: 'sum',
        seed: 6,
      }),
    videoShape,
  ],
  [
    'ConvGRU',
    () => new ConvGRU({ inputChannels: 2, hiddenChannels: 3, kernelSize: 3, numLayers: 2, seed: 7 }),
    videoShape,
  ],
  [
    'LSTM (bidirectional)',
    () => new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, direction: 'bidirectional' }),
    sequenceShape,
  ],
  [
    'StackedRNN of mixed cells',
    () =>
      new StackedRNN({
        cells: [
          new ConvLSTMCell({ inputChannels: 2, hiddenChannels: 3, kernelSize: 3, seed: 1 }),
          new ConvGRUCell({ inputChannels: 3, hiddenChannels: 2, kernelSize: 1, seed: 2 }),
        ],
      }),
    videoShape,
  ],
];

describe('saveModel / loadModel: every @vid/cells module', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vid-cells-save-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each(cases)('%s: build → save → load → identical outputs, same config, no leaks', async (_label, build, shape) => {
    const before = tf.memory().numTensors;
    const model = build();
    const x = tf.randomUniform(shape, -1, 1, 'float32', 11);
    const expected = await run(model, x);
    const path = join(dir, `${model.constructor.name}.safetensors`);
    const saved = await saveModel(model, path);
    for (const source of [path, saved.bytes]) {
      const loaded = await loadModel(source);
      expect(loaded.constructor).toBe(model.constructor);
      expect(loaded.getConfig()).toEqual(model.getConfig());
      expect([...loaded.stateDict().keys()]).toEqual([...model.stateDict().keys()]);
      expect(await run(loaded, x)).toEqual(expected);
      loaded.dispose();
    }
    model.dispose();
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a stack records its own options, not its cells', async () => {
    const model = new ConvLSTM({ inputChannels: 1, hiddenChannels: 2, kernelSize: 3, numLayers: 2, seed: 9 });
    const info = await inspectModel((await saveModel(model)).bytes);
    expect(info.className).toBe('ConvLSTM');
    expect(info.config).toEqual({ inputChannels: 1, hiddenChannels: 2, kernelSize: 3, numLayers: 2, seed: 9 });
    model.dispose();
  });

  it('loads a ConvLSTM in a fresh Node process that passes no config', async () => {
    const model = new ConvLSTM({ inputChannels: 2, hiddenChannels: 3, kernelSize: 3, numLayers: 2, seed: 12 });
    const x = tf.randomUniform(videoShape, -1, 1, 'float32', 13);
    const expected = Array.from(await run(model, x));
    const path = join(dir, 'fresh-convlstm.safetensors');
    await saveModel(model, path);
    model.dispose();
    x.dispose();
    const stdout = await runFreshNode({
      packageDir: resolve(here, '..'),
      // The same backend as this process, so that the outputs are bit-identical.
      args: [path, tf.getBackend()],
      source: [
        `import * as tf from '@tensorflow/tfjs-core';`,
        `import { initBackend, loadModel } from '@vid/core';`,
        `import '@vid/cells';`,
        `await initBackend({ backend: process.argv[3], log: false });`,
        `const model = await loadModel(process.argv[2]);`,
        `const x = tf.randomUniform(${JSON.stringify(videoShape)}, -1, 1, 'float32', 13);`,
        `process.stdout.write(JSON.stringify({ className: model.constructor.className, y: Array.from(model.apply(x).output.dataSync()) }));`,
      ].join('\n'),
    });
    const result = JSON.parse(stdout) as { className: string; y: number[] };
    expect(result.className).toBe('ConvLSTM');
    expect(result.y).toEqual(expected);
  });
});
