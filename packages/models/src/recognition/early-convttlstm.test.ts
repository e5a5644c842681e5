/**
 * The early recognizer on Conv-TT-LSTM cells (Su et al. 2020's own model) from
 * `@vid/tensor-train`. The cell implements the `RecurrentCell` contract of `@vid/cells`, so it
 * stacks like a ConvLSTM cell. (The tests run when the installed `@vid/tensor-train` provides it.)
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AnyRecurrentModule } from '@vid/cells';
import { expectNoLeakedTensors } from '@vid/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';

import { initTestBackend, report, trainSteps } from '../__fixtures__/helpers.js';
import { EarlyRecognizer, evaluateEarlyRecognition } from './early.js';
import { movingGlyphVideos } from './synthetic.js';

interface ConvTTLSTMCellOptions {
  readonly inputChannels: number;
  readonly hiddenChannels: number;
  readonly order?: number;
  readonly steps?: number;
  readonly ranks?: number;
  readonly kernelSize?: number;
  readonly seed?: number;
}
const tensorTrain: Record<string, unknown> = await import('@vid/tensor-train');
const ConvTTLSTMCell = tensorTrain.ConvTTLSTMCell as
  (new (options: ConvTTLSTMCellOptions) => AnyRecurrentModule) | undefined;

beforeAll(async () => {
  await initTestBackend();
});

describe.runIf(ConvTTLSTMCell !== undefined)('EarlyRecognizer on Conv-TT-LSTM cells (@vid/tensor-train)', () => {
  const make = (seed: number) =>
    new ConvTTLSTMCell!({ inputChannels: 16, hiddenChannels: 8, order: 2, steps: 3, ranks: 4, kernelSize: 3, seed });

  it('stacks as a RecurrentCell: parameters under recurrent.cells.<l>, no leaks', async () => {
    const model = new EarlyRecognizer({ frameSize: 16, numClasses: 2, patchSize: 4, recurrent: [make(1)], seed: 1 });
    expect(
      model
        .namedParameters()
        .map(([n]) => n)
        .filter((n) => n.startsWith('recurrent.'))
        .slice(0, 2),
    ).toEqual(['recurrent.cells.0.layers.0.weight', 'recurrent.cells.0.layers.0.bias']);
    const video = tf.randomUniform([2, 6, 16, 16, 1], 0, 1, 'float32', 1);
    const labels = tf.tensor1d([0, 1], 'int32');
    await expectNoLeakedTensors(() => model.apply(video, { observedPercent: 50 }), 'apply');
    await expectNoLeakedTensors(() => {
      const { value, grads } = tf.variableGrads(() => tf.tidy(() => model.loss(model.apply(video), labels)));
      expect(Object.keys(grads).length).toBe(model.parameters().length);
      return [value, ...Object.values(grads)];
    }, 'gradients');
    tf.dispose([video, labels]);
    model.dispose();
  });

  it('accuracy per observed fraction on the delayed-motion task', async () => {
    const train = movingGlyphVideos({ count: 128, task: 'delayed', seed: 1 });
    const test = movingGlyphVideos({ count: 64, task: 'delayed', seed: 2 });
    const xs = tf.tensor5d(train.videos, [...train.shape]);
    const ys = tf.tensor1d(train.labels, 'int32');
    const xt = tf.tensor5d(test.videos, [...test.shape]);
    const model = new EarlyRecognizer({ frameSize: 16, numClasses: 2, patchSize: 4, recurrent: [make(2)], seed: 1 });
    const started = performance.now();
    await trainSteps(model, 60, 5e-3, (step) =>
      tf.tidy(() => {
        const start = (step * 16) % 128;
        return model.loss(
          model.apply(tf.slice(xs, [start, 0, 0, 0, 0], [16, -1, -1, -1, -1])),
          tf.slice(ys, [start], [16]),
        );
      }),
    );
    report('EarlyRecognizer (Conv-TT-LSTM): train ms (60 steps, batch 16)', performance.now() - started);
    const table = await evaluateEarlyRecognition(model, xt, test.labels);
    report('EarlyRecognizer (Conv-TT-LSTM): accuracy per p', table);
    expect(table[0]!.accuracy).toBeLessThan(0.75);
    expect(table[1]!.accuracy).toBeLessThan(0.75);
    expect(table[3]!.accuracy).toBeGreaterThan(0.9);
    tf.dispose([xs, ys, xt]);
    model.dispose();
  });
});
