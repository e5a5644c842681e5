import * as tf from '@tensorflow/tfjs-core';
import { ConvGRUCell, ConvLSTM, LSTMCell, StackedRNN } from '@vid/cells';
import { Rng, setDebugChecks } from '@vid/core';
import { assertClose, expectNoLeakedTensors } from '@vid/core/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { initTestBackend, report, trainSteps } from '../__fixtures__/helpers.js';
import { spaceToDepth } from '../prediction/patches.js';
import { EarlyRecognizer, evaluateEarlyRecognition, observeFirst, observedFrames } from './early.js';
import { movingGlyphVideos } from './synthetic.js';

beforeAll(async () => {
  await initTestBackend();
});

afterEach(() => setDebugChecks(false));

const random = (shape: number[], seed: number): tf.Tensor =>
  tf.tensor(new Rng(seed).fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1))), shape);

function disposeResult(result: ReturnType<EarlyRecognizer['apply']>): void {
  tf.dispose([
    result.logits,
    result.probabilities,
    ...(result.predictedFrames ? [result.predictedFrames] : []),
    ...(result.targetFrames ? [result.targetFrames] : []),
  ]);
}

describe('observing the first p% of a video', () => {
  it('observedFrames: ⌈T · p / 100⌉, at least one (the SSv2 early-recognition rule)', () => {
    expect([25, 50, 75, 100].map((p) => observedFrames(8, p))).toEqual([2, 4, 6, 8]);
    expect([25, 50, 75, 100].map((p) => observedFrames(40, p))).toEqual([10, 20, 30, 40]);
    expect(observedFrames(7, 25)).toBe(2);
    expect(observedFrames(3, 1)).toBe(1);
    expect(observedFrames(3, 0)).toBe(1);
    expect(() => observedFrames(8, 120)).toThrow(/percent: expected a number ≤ 100, received 120/);
  });

  it('observeFirst keeps the first frames', async () => {
    const video = tf.reshape(tf.range(0, 8), [1, 8, 1, 1, 1]);
    expect(Array.from(await observeFirst(video, 50).data())).toEqual([0, 1, 2, 3]);
    video.dispose();
  });
});

describe('EarlyRecognizer (Su et al. 2020 / Wang et al. 2019 protocol)', () => {
  it('classifies from the final hidden state of every layer after the observed frames (by hand), blind to later frames', async () => {
    const model = new EarlyRecognizer({ frameSize: 8, numClasses: 3, patchSize: 2, hiddenChannels: [4, 5], seed: 1 });
    expect(model.namedParameters().map(([n, v]) => `${n} ${v.shape.join('×')}`)).toEqual([
      'recurrent.cells.0.conv.weight 3×3×8×16',
      'recurrent.cells.0.conv.bias 16',
      'recurrent.cells.1.conv.weight 3×3×9×20',
      'recurrent.cells.1.conv.bias 20',
      'classifier.weight 9×3',
      'classifier.bias 3',
      'predictor.weight 1×1×5×4',
      'predictor.bias 4',
    ]);
    const video = random([2, 8, 8, 8, 1], 2);
    const result = model.apply(video, { observedPercent: 50 });
    expect(result.observed).toBe(4);
    const expected = tf.tidy(() => {
      const input = spaceToDepth(tf.slice(video, [0, 0, 0, 0, 0], [2, 4, 8, 8, 1]), 2); // [2, 4, 4, 4, 4]
      const run = model.recurrent.apply(input);
      // Final h of each layer, mean over space, concatenated: [2, 4 + 5].
      const readout = tf.concat(
        run.states.map((s) => tf.mean(s.h, [1, 2])),
        1,
      );
      const logits = model.classifier.apply(readout);
      // Next-frame predictions of frames 1…3 from the top layer's outputs at 0…2.
      const top = tf.slice(run.output, [0, 0, 0, 0, 0], [2, 3, 4, 4, 5]);
      const patched = tf.reshape(model.predictor!.apply(tf.reshape(top, [6, 4, 4, 5]) as tf.Tensor4D), [2, 3, 4, 4, 4]);
      return { logits, patched };
    });
    assertClose(result.logits, expected.logits, { atol: 1e-5, name: 'logits' });
    assertClose(spaceToDepth(result.predictedFrames!, 2), expected.patched, { atol: 1e-5, name: 'predicted frames' });
    assertClose(result.targetFrames!, tf.slice(video, [0, 1, 0, 0, 0], [2, 3, 8, 8, 1]), { atol: 0, name: 'targets' });
    // Frames after the observed 50% do not matter.
    const changed = tf.concat([tf.slice(video, [0, 0, 0, 0, 0], [2, 4, 8, 8, 1]), random([2, 4, 8, 8, 1], 3)], 1);
    const again = model.apply(changed, { observedPercent: 50 });
    assertClose(again.logits, result.logits, { atol: 0, name: 'logits with other late frames' });
    const full = model.apply(changed);
    expect(full.observed).toBe(8);
    expect(full.predictedFrames!.shape).toEqual([2, 7, 8, 8, 1]);
    tf.dispose([video, changed, expected.logits, expected.patched]);
    [result, again, full].forEach(disposeResult);
    model.dispose();
  });

  it('loss = cross-entropy + λ · MSE of the next-frame predictions (λ settable, e.g. annealed)', async () => {
    const model = new EarlyRecognizer({ frameSize: 4, numClasses: 2, hiddenChannels: 3, predictionWeight: 0.5 });
    const video = random([2, 3, 4, 4, 1], 4);
    const labels = tf.tensor1d([1, 0], 'int32');
    const result = model.apply(video);
    const logp = (await tf.logSoftmax(result.logits).array()) as number[][];
    const crossEntropy = -(logp[0]![1]! + logp[1]![0]!) / 2;
    const mse = (await tf.mean(tf.square(tf.sub(result.predictedFrames!, result.targetFrames!))).data())[0]!;
    expect((await model.loss(result, labels).data())[0]).toBeCloseTo(crossEntropy + 0.5 * mse, 5);
    model.predictionWeight = 0;
    expect((await model.loss(result, labels).data())[0]).toBeCloseTo(crossEntropy, 5);
    // One observed frame: nothing to predict.
    const first = model.apply(video, { observedPercent: 10 });
    expect(first.predictedFrames).toBeNull();
    tf.dispose([video, labels]);
    disposeResult(result);
    disposeResult(first);
    model.dispose();
  });

  it('plugs in any convolutional RecurrentCell stack: ConvGRU cells, a given ConvLSTM', () => {
    const gru = new EarlyRecognizer({
      frameSize: 8,
      numClasses: 2,
      recurrent: [
        new ConvGRUCell({ inputChannels: 1, hiddenChannels: 4, kernelSize: 3 }),
        new ConvGRUCell({ inputChannels: 4, hiddenChannels: 2, kernelSize: 3 }),
      ],
      predictFrames: false,
    });
    expect(gru.predictor).toBeNull();
    const video = random([1, 4, 8, 8, 1], 5);
    const result = gru.apply(video);
    expect(result.logits.shape).toEqual([1, 2]);
    const convlstm = new EarlyRecognizer({
      frameSize: 8,
      numClasses: 2,
      recurrent: new ConvLSTM({ inputChannels: 1, hiddenChannels: [3], kernelSize: 5, peephole: 'channel' }),
    });
    expect(convlstm.namedParameters().map(([n]) => n)).toContain('recurrent.cells.0.w_ci');
    tf.dispose([video]);
    disposeResult(result);
    gru.dispose();
    convlstm.dispose();
  });

  it('accuracy per observed fraction on a task whose class shows only in the second half', async () => {
    // The glyph rests for frames 0…4 and moves left or right from frame 5: p ≤ 50% carries no information.
    const train = movingGlyphVideos({ count: 128, task: 'delayed', seed: 1 });
    const test = movingGlyphVideos({ count: 64, task: 'delayed', seed: 2 });
    const xs = tf.tensor5d(train.videos, [...train.shape]);
    const ys = tf.tensor1d(train.labels, 'int32');
    const xt = tf.tensor5d(test.videos, [...test.shape]);
    const model = new EarlyRecognizer({ frameSize: 16, numClasses: 2, patchSize: 4, hiddenChannels: [8], seed: 1 });
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
    report('EarlyRecognizer (ConvLSTM): train ms (60 steps, batch 16)', performance.now() - started);
    const table = await evaluateEarlyRecognition(model, xt, test.labels, { percents: [25, 50, 75, 100] });
    report('EarlyRecognizer (ConvLSTM): accuracy per p', table);
    expect(table.map((row) => row.frames)).toEqual([2, 4, 6, 8]);
    expect(table[0]!.accuracy).toBeLessThan(0.75);
    expect(table[1]!.accuracy).toBeLessThan(0.75);
    expect(table[3]!.accuracy).toBeGreaterThan(0.9);
    tf.dispose([xs, ys, xt]);
    model.dispose();
  });

  it('does not leak tensors', async () => {
    const model = new EarlyRecognizer({ frameSize: 8, numClasses: 2, patchSize: 2, hiddenChannels: [3, 3] });
    const video = random([2, 4, 8, 8, 1], 6);
    const labels = tf.tensor1d([0, 1], 'int32');
    await expectNoLeakedTensors(() => model.apply(video, { observedPercent: 75 }), 'apply');
    await expectNoLeakedTensors(() => {
      const { value, grads } = tf.variableGrads(() => tf.tidy(() => model.loss(model.apply(video), labels)));
      expect(Object.keys(grads).length).toBe(model.parameters().length);
      return [value, ...Object.values(grads)];
    }, 'gradients');
    await expectNoLeakedTensors(
      () => evaluateEarlyRecognition(model, video, [0, 1], { percents: [50] }),
      'evaluateEarlyRecognition',
    );
    tf.dispose([video, labels]);
    model.dispose();
  });

  it('rejects bad options and input', () => {
    expect(() => new EarlyRecognizer({ frameSize: 10, numClasses: 2, patchSize: 4 })).toThrow(
      /patchSize: expected a divisor of the frame size \[10, 10\], received 4/,
    );
    expect(
      () =>
        new EarlyRecognizer({
          frameSize: 8,
          numClasses: 2,
          patchSize: 2,
          recurrent: new ConvLSTM({ inputChannels: 1, hiddenChannels: 4, kernelSize: 3 }),
        }),
    ).toThrow(
      /recurrent: expected a first layer that reads patchSize² · frameChannels = 4 channels, received "inputSize 1"/,
    );
    expect(
      () =>
        new EarlyRecognizer({
          frameSize: 8,
          numClasses: 2,
          recurrent: [new LSTMCell({ inputSize: 1, hiddenSize: 2 })],
        }),
    ).toThrow(/recurrent: expected convolutional cells/);
    expect(
      () =>
        new EarlyRecognizer({
          frameSize: 8,
          numClasses: 2,
          recurrent: new ConvLSTM({ inputChannels: 1, hiddenChannels: 2, kernelSize: 3, direction: 'bidirectional' }),
        }),
    ).toThrow(/recurrent: expected a forward, non-stateful stack/);
    expect(
      () =>
        new EarlyRecognizer({
          frameSize: 8,
          numClasses: 2,
          recurrent: new StackedRNN({
            cells: [new ConvGRUCell({ inputChannels: 1, hiddenChannels: 2, kernelSize: 3 })],
          }),
          kernelSize: 3,
        }),
    ).toThrow(/kernelSize: expected nothing when a recurrent network is given/);
    const model = new EarlyRecognizer({ frameSize: 8, numClasses: 2 });
    expect(() => model.apply(tf.zeros([1, 4, 8, 8, 3]))).toThrow(
      /video: expected \[batch, time, 8, 8, 1\] \(frameSize, frameChannels\), received \[1, 4, 8, 8, 3\]/,
    );
    expect(() => model.apply(tf.zeros([1, 4, 8, 8, 1]), { observedPercent: -5 })).toThrow(
      /observedPercent: expected a number ≥ 0, received -5/,
    );
    setDebugChecks(true);
    expect(() => model.apply(tf.fill([1, 2, 8, 8, 1], Number.NaN))).toThrow(
      /video: expected finite values, received NaN/,
    );
    model.dispose();
  });
});
