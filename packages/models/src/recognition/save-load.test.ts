import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';
import { ConvGRUCell, ConvLSTM, ConvLSTMCell } from '@vid/cells';
import { type Module, saveModel } from '@vid/core';
import { expectSaveLoadRoundTrip } from '@vid/core/testing';
import { runFreshNode } from '@vid/vitest-config/fresh-node';
import { beforeAll, describe, expect, it } from 'vitest';

import { initTestBackend } from '../__fixtures__/helpers.js';
import { EarlyRecognizer } from './early.js';
import { ConvStack, SmallCnn } from './encoder.js';
import { ConvRecurrentNet } from '../prediction/network.js';
import { EncoderForecaster } from '../prediction/encoder-forecaster.js';
import { DeepLSTMNet, LRCN } from './lrcn.js';
import { FeaturePoolingNet, TemporalConv } from './pooling.js';
import { TwoStreamNet } from './two-stream.js';

const here = dirname(fileURLToPath(import.meta.url));

beforeAll(async () => {
  await initTestBackend();
});

/** Every tensor in a result object (nested results included), in key order. */
function tensorsOf(value: unknown): tf.Tensor[] {
  if (value instanceof tf.Tensor) return [value];
  if (Array.isArray(value)) return value.flatMap(tensorsOf);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(tensorsOf);
  return [];
}

const video = (shape: number[], seed: number): tf.Tensor => tf.randomUniform(shape, 0, 1, 'float32', seed);

interface Case {
  readonly build: () => Module;
  readonly input: number[];
  readonly run?: (model: Module, x: tf.Tensor) => unknown;
}

const classify = (model: Module, x: tf.Tensor): unknown =>
  (model as unknown as { apply(v: tf.Tensor): unknown }).apply(x);

const cases: Record<string, Case> = {
  ConvStack: {
    build: () => new ConvStack({ frameSize: 8, inputChannels: 2, channels: [3, 4], seed: 1 }),
    input: [2, 8, 8, 2],
  },
  SmallCnn: {
    build: () => new SmallCnn({ frameSize: [8, 6], inputChannels: 1, channels: [3], featureSize: 5, seed: 2 }),
    input: [2, 8, 6, 1],
  },
  TemporalConv: {
    build: () => new TemporalConv({ inChannels: 2, outChannels: 3, frames: 2, kernelSize: 3, stride: 1, seed: 3 }),
    input: [1, 4, 5, 5, 2],
  },
  LRCN: {
    build: () =>
      new LRCN({
        frameSize: [8, 12],
        frameChannels: 3,
        numClasses: 4,
        hiddenSize: 5,
        cnn: { channels: [4], featureSize: 7 },
        seed: 2,
      }),
    input: [2, 3, 8, 12, 3],
    run: classify,
  },
  DeepLSTMNet: {
    build: () => new DeepLSTMNet({ frameSize: 8, numClasses: 3, hiddenSize: [4, 3], seed: 5 }),
    input: [2, 3, 8, 8, 1],
    run: classify,
  },
  'LRCN with its own SmallCnn encoder': {
    build: () =>
      new LRCN({
        frameSize: 8,
        numClasses: 2,
        encoder: new SmallCnn({ frameSize: 8, channels: [2], featureSize: 3, seed: 9 }),
        seed: 1,
      }),
    input: [1, 2, 8, 8, 1],
    run: classify,
  },
  'FeaturePoolingNet (time-conv)': {
    build: () =>
      new FeaturePoolingNet({
        frameSize: 8,
        numClasses: 2,
        pooling: 'time-conv',
        window: 2,
        stride: 1,
        timeConvChannels: 3,
        convs: { channels: [3] },
        seed: 6,
      }),
    input: [2, 4, 8, 8, 1],
    run: classify,
  },
  'FeaturePoolingNet (local)': {
    build: () =>
      new FeaturePoolingNet({
        frameSize: 8,
        numClasses: 2,
        pooling: 'local',
        numFrames: 4,
        window: 2,
        stride: 2,
        seed: 7,
      }),
    input: [2, 4, 8, 8, 1],
    run: classify,
  },
  'EarlyRecognizer (default ConvLSTM)': {
    build: () => new EarlyRecognizer({ frameSize: 8, numClasses: 3, patchSize: 2, hiddenChannels: [4, 5], seed: 1 }),
    input: [2, 3, 8, 8, 1],
    run: classify,
  },
  'EarlyRecognizer (given ConvGRU cells)': {
    build: () =>
      new EarlyRecognizer({
        frameSize: 8,
        numClasses: 2,
        recurrent: [
          new ConvGRUCell({ inputChannels: 1, hiddenChannels: 4, kernelSize: 3 }),
          new ConvGRUCell({ inputChannels: 4, hiddenChannels: 2, kernelSize: 3 }),
        ],
        predictFrames: false,
      }),
    input: [1, 4, 8, 8, 1],
    run: classify,
  },
  'EarlyRecognizer (given ConvLSTM)': {
    build: () =>
      new EarlyRecognizer({
        frameSize: 8,
        numClasses: 2,
        recurrent: new ConvLSTM({ inputChannels: 1, hiddenChannels: [3], kernelSize: 5, peephole: 'channel' }),
      }),
    input: [1, 3, 8, 8, 1],
    run: classify,
  },
  TwoStreamNet: {
    build: () =>
      new TwoStreamNet({
        image: new FeaturePoolingNet({ frameSize: 8, numClasses: 2, seed: 3 }),
        flow: new FeaturePoolingNet({ frameSize: 8, frameChannels: 3, numClasses: 2, seed: 4 }),
        flowWeight: 0.25,
        flowMagnitude: true,
        flowOptions: { iterations: 5 },
      }),
    input: [2, 4, 8, 8, 1],
    run: classify,
  },
};

describe('saveModel / loadModel: every @vid/models recognition module', () => {
  it.each(Object.entries(cases))(
    '%s: build → save → load → identical outputs',
    async (_label, { build, input, run }) => {
      const before = tf.memory().numTensors;
      const model = build();
      const x = video(input, 11);
      await expectSaveLoadRoundTrip(model, (m) => tensorsOf((run ?? classify)(m, x)));
      x.dispose();
      model.dispose();
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it('a user script: a ConvLSTM stack (cells), ConvLSTMCell, a Conv-TT-LSTM network, an encoder-forecaster, LRCN and EarlyRecognizer saved to files load in a fresh process without any config, from the file, its bytes and a URL on 127.0.0.1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vid-models-fresh-'));
    try {
      const models: Array<[string, Module, number[]]> = [
        [
          'convlstm',
          new ConvLSTM({ inputChannels: 1, hiddenChannels: [4, 2], kernelSize: 3, seed: 1 }),
          [1, 3, 8, 8, 1],
        ],
        [
          'cell',
          new ConvLSTMCell({ inputChannels: 1, hiddenChannels: 3, kernelSize: 3, peephole: 'channel', seed: 2 }),
          [1, 8, 8, 1],
        ],
        ['lrcn', new LRCN({ frameSize: 8, numClasses: 3, hiddenSize: 4, seed: 3 }), [1, 3, 8, 8, 1]],
        [
          'early',
          new EarlyRecognizer({ frameSize: 8, numClasses: 2, patchSize: 2, hiddenChannels: 3, seed: 4 }),
          [1, 3, 8, 8, 1],
        ],
        [
          'convttlstm',
          new ConvRecurrentNet({
            cell: 'convttlstm',
            inputChannels: 1,
            layersPerBlock: [1, 1],
            hiddenChannels: [4, 4],
            order: 2,
            steps: 2,
            ranks: 2,
            kernelSize: 3,
            seed: 6,
          }),
          [1, 3, 8, 8, 1],
        ],
        [
          'forecaster',
          new EncoderForecaster({ frameSize: [8, 8], patchSize: 2, hiddenChannels: [4], kernelSize: 3, seed: 7 }),
          [1, 3, 8, 8, 1],
        ],
      ];
      const expected: Record<string, number[]> = {};
      for (const [name, model, shape] of models) {
        await saveModel(model, join(dir, `${name}.safetensors`));
        const x = video(shape, 5);
        const out = outputOf(model, x);
        expected[name] = Array.from(out.dataSync());
        tf.dispose([x, out]);
        model.dispose();
      }
      const stdout = await runFreshNode({
        packageDir: resolve(here, '..', '..'),
        args: [dir, tf.getBackend(), JSON.stringify(models.map(([name, , shape]) => [name, shape]))],
        source: `
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, loadModel } from '@vid/core';
import '@vid/models';
${outputOf.toString().replace(/^function outputOf/, 'function outputOf')}
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
const [dir, backend, list] = process.argv.slice(2);
await initBackend({ backend, log: false });
// The same files over HTTP, from a server on 127.0.0.1.
const server = createServer(async (request, response) => response.end(await readFile(dir + request.url)));
await new Promise((done) => server.listen(0, '127.0.0.1', done));
const url = 'http://127.0.0.1:' + server.address().port + '/';
const out = {};
for (const [name, shape] of JSON.parse(list)) {
  const file = dir + '/' + name + '.safetensors';
  const run = (model) => Array.from(outputOf(model, tf.randomUniform(shape, 0, 1, 'float32', 5)).dataSync());
  const fromFile = await loadModel(file);
  const fromBytes = await loadModel(new Uint8Array(await readFile(file)));
  const fromUrl = await loadModel(url + name + '.safetensors');
  out[name] = { className: fromFile.constructor.className, y: run(fromFile), bytes: run(fromBytes), url: run(fromUrl) };
}
server.close();
process.stdout.write(JSON.stringify(out));
`,
      });
      const loaded = JSON.parse(stdout) as Record<
        string,
        { className: string; y: number[]; bytes: number[]; url: number[] }
      >;
      expect(Object.fromEntries(Object.entries(loaded).map(([k, v]) => [k, v.className]))).toEqual({
        convlstm: 'ConvLSTM',
        cell: 'ConvLSTMCell',
        lrcn: 'LRCN',
        early: 'EarlyRecognizer',
        convttlstm: 'ConvRecurrentNet',
        forecaster: 'EncoderForecaster',
      });
      for (const [name] of models) {
        expect(loaded[name]?.y, name).toEqual(expected[name]);
        expect(loaded[name]?.bytes, `${name} from bytes`).toEqual(expected[name]);
        expect(loaded[name]?.url, `${name} from a URL`).toEqual(expected[name]);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** One output tensor of any of the script's models (kept free of imports: it is sent to the fresh process as source). */
function outputOf(model: Module, x: tf.Tensor): tf.Tensor {
  const m = model as unknown as {
    apply?: (x: tf.Tensor) => { output?: tf.Tensor; probabilities?: tf.Tensor };
    step?: (x: tf.Tensor, s: unknown) => { output: tf.Tensor };
    zeroState?: (x: tf.Tensor) => unknown;
    predict?: (context: tf.Tensor, futureFrames: number) => tf.Tensor;
  };
  const className = (model.constructor as { className?: string }).className;
  // Video predictors: 3 context frames → 2 predicted frames.
  if ((className === 'ConvRecurrentNet' || className === 'EncoderForecaster') && m.predict) return m.predict(x, 2);
  if (m.step && m.zeroState) return m.step(x, m.zeroState(x)).output;
  const result = m.apply!(x);
  return (result.output ?? result.probabilities) as tf.Tensor;
}
