import * as tf from '@tensorflow/tfjs-core';
import { rnn } from '@vid/cells';
import { Adam, Rng, setDebugChecks } from '@vid/core';
import { assertClose, expectNoLeakedTensors, numericalGradient, numericalVariableGradient } from '@vid/core/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { initTestBackend } from './__fixtures__/helpers.js';
import { MultiLSTM } from './multi-lstm.js';

beforeAll(async () => {
  await initTestBackend();
});

afterEach(() => setDebugChecks(false));

const random = (shape: number[], seed: number): tf.Tensor =>
  tf.tensor(new Rng(seed).fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1))), shape);

function disposeResult(result: ReturnType<MultiLSTM['apply']>): void {
  tf.dispose([result.windowLogits, result.framePredictions, result.attention, result.state.h, result.state.c]);
}

/**
 * Sequences of frame features where one frame (at a random time) holds the class: channel 0 is
 * ±2 there, and channel D−1 marks it (+3); every other frame is noise with channel D−1 = 0. The
 * dense labels give the video's class to every frame.
 */
function eventSequences(count: number, seed: number, time: number, channels: number) {
  const rng = new Rng(seed);
  const data = rng.fillNormal(new Float32Array(count * time * channels));
  const labels: number[] = [];
  const events: number[] = [];
  for (let v = 0; v < count; v++) {
    const label = rng.int(2);
    const event = rng.int(time - 2);
    events.push(event);
    for (let t = 0; t < time; t++) {
      data[(v * time + t) * channels + channels - 1] = 0;
      labels.push(label);
    }
    const base = (v * time + event) * channels;
    data[base] = label === 1 ? 2 : -2;
    data[base + channels - 1] = 3;
  }
  return {
    features: tf.tensor3d(data, [count, time, channels]),
    labels: tf.tensor2d(labels, [count, time], 'int32'),
    events,
  };
}

describe('MultiLSTM (Yeung et al., "Every Moment Counts")', () => {
  it('step by step: attention over the last N frames with query W_q h_{t−1} + b_q, N outputs per step', async () => {
    const model = new MultiLSTM({ inputSize: 3, hiddenSize: 4, numClasses: 2, window: 3, seed: 1 });
    const features = random([2, 5, 3], 2);
    const result = model.apply(features);
    expect(result.windowLogits.shape).toEqual([2, 5, 3, 2]);
    expect(result.attention.shape).toEqual([2, 5, 3]);
    const expected = tf.tidy(() => {
      let state = { h: tf.zeros([2, 4]), c: tf.zeros([2, 4]) };
      const outputs: tf.Tensor[] = [];
      const weights: tf.Tensor[] = [];
      for (let t = 0; t < 5; t++) {
        // Only the frames that exist: max(0, t − 2) … t.
        const first = Math.max(0, t - 2);
        const window = tf.slice(features, [0, first, 0], [2, t - first + 1, 3]);
        const q = tf.expandDims(tf.add(tf.matMul(state.h, model.query.weight), model.query.bias!), 1);
        const scores = tf.div(tf.matMul(q, tf.transpose(window, [0, 2, 1])), Math.sqrt(3));
        const alpha = tf.softmax(scores); // [2, 1, n]
        const x = tf.reshape(tf.matMul(alpha, window), [2, 3]);
        state = model.lstm.step(x, state).state;
        outputs.push(tf.reshape(model.output.apply(state.h), [2, 3, 2]));
        // Left-pad the weights with zeros for the missing frames.
        weights.push(
          tf.pad(tf.reshape(alpha, [2, t - first + 1]), [
            [0, 0],
            [3 - (t - first + 1), 0],
          ]),
        );
      }
      return { windowLogits: tf.stack(outputs, 1), attention: tf.stack(weights, 1) };
    });
    assertClose(result.windowLogits, expected.windowLogits, { atol: 1e-5, name: 'window outputs' });
    assertClose(result.attention, expected.attention, { atol: 1e-6, name: 'attention' });
    const rows = (await result.attention.array()) as number[][][];
    for (const video of rows) {
      expect(video[0]!.slice(0, 2)).toEqual([0, 0]); // before the first frame
      expect(video[1]![0]).toBe(0);
      for (const step of video) expect(step.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    }
    tf.dispose([features, expected.windowLogits, expected.attention]);
    disposeResult(result);
    model.dispose();
  });

  it('dense labels average the N predictions made for each frame (hand computation)', async () => {
    const model = new MultiLSTM({ inputSize: 1, hiddenSize: 1, numClasses: 1, window: 2, labels: 'multilabel' });
    // windowLogits[t][i] for time 3, window 2: step t predicts frames t−1 (i = 0) and t (i = 1).
    const logits = [
      [
        [[0.1], [0.2]],
        [[0.3], [0.4]],
        [[0.5], [0.6]],
      ],
    ];
    const p = (x: number): number => 1 / (1 + Math.exp(-x));
    const combined = model.combine(tf.tensor4d(logits));
    // frame 0: steps 0 (i = 1) and 1 (i = 0); frame 1: steps 1 (i = 1), 2 (i = 0); frame 2: step 2 (i = 1).
    assertClose(combined, [(p(0.2) + p(0.3)) / 2, (p(0.4) + p(0.5)) / 2, p(0.6)], { atol: 1e-6, name: 'combined' });
    const softmaxModel = new MultiLSTM({ inputSize: 1, hiddenSize: 1, numClasses: 2, window: 3, labels: 'multiclass' });
    const windowLogits = random([1, 4, 3, 2], 3);
    const probabilities = (await tf.softmax(windowLogits).array()) as number[][][][];
    const byHand = [0, 1, 2, 3].map((j) => {
      const preds = [0, 1, 2].filter((k) => j + k < 4).map((k) => probabilities[0]![j + k]![2 - k]!);
      return [0, 1].map((c) => preds.reduce((a, x) => a + x[c]!, 0) / preds.length);
    });
    const combinedSoftmax = softmaxModel.combine(windowLogits);
    assertClose(combinedSoftmax, byHand.flat(), { atol: 1e-6, name: 'combined (softmax)', checkShape: false });
    tf.dispose([combined, windowLogits, combinedSoftmax]);
    model.dispose();
    softmaxModel.dispose();
  });

  it('the loss scores every window output against its frame and skips frames before the first (hand computation)', () => {
    const model = new MultiLSTM({ inputSize: 1, hiddenSize: 1, numClasses: 2, window: 2, labels: 'multiclass' });
    const windowLogits = random([1, 3, 2, 2], 4);
    const labels = tf.tensor2d([[1, 0, 1]], [1, 3], 'int32');
    const result = {
      windowLogits: windowLogits as tf.Tensor4D,
      framePredictions: tf.zeros([1, 3, 2]) as tf.Tensor3D,
      attention: tf.zeros([1, 3, 2]) as tf.Tensor3D,
      state: { h: tf.zeros([1, 1]), c: tf.zeros([1, 1]) },
    };
    const loss = model.loss(result, labels);
    const logp = tf.logSoftmax(windowLogits).arraySync() as number[][][][];
    // Valid (t, i): (0, 1) frame 0; (1, 0) frame 0; (1, 1) frame 1; (2, 0) frame 1; (2, 1) frame 2.
    const terms = [
      logp[0]![0]![1]![1]!,
      logp[0]![1]![0]![1]!,
      logp[0]![1]![1]![0]!,
      logp[0]![2]![0]![0]!,
      logp[0]![2]![1]![1]!,
    ];
    assertClose(loss, [-terms.reduce((a, b) => a + b, 0) / 5], { atol: 1e-6, name: 'multiclass loss' });
    // Multi-label: sigmoid cross-entropy summed over classes.
    const multi = new MultiLSTM({ inputSize: 1, hiddenSize: 1, numClasses: 2, window: 1 });
    const z = random([1, 2, 1, 2], 5);
    const y = tf.tensor3d([
      [
        [1, 0],
        [1, 1],
      ],
    ]);
    const multiLoss = multi.loss({ ...result, windowLogits: z as tf.Tensor4D }, y);
    const zs = (z.arraySync() as number[][][][])[0]!;
    const bce = (x: number, t: number): number =>
      -(t * Math.log(1 / (1 + Math.exp(-x))) + (1 - t) * Math.log(1 - 1 / (1 + Math.exp(-x))));
    const byHand =
      (bce(zs[0]![0]![0]!, 1) + bce(zs[0]![0]![1]!, 0) + bce(zs[1]![0]![0]!, 1) + bce(zs[1]![0]![1]!, 1)) / 2;
    assertClose(multiLoss, [byHand], { atol: 1e-5, name: 'multilabel loss' });
    tf.dispose([
      windowLogits,
      labels,
      loss,
      result.framePredictions,
      result.attention,
      result.state.h,
      result.state.c,
      z,
      y,
      multiLoss,
    ]);
    model.dispose();
    multi.dispose();
  });

  it('window 1 is a plain LSTM on the features', () => {
    const model = new MultiLSTM({ inputSize: 3, hiddenSize: 4, numClasses: 2, window: 1, seed: 6 });
    const features = random([2, 4, 3], 7);
    const result = model.apply(features);
    const reference = tf.tidy(() => model.output.apply(rnn(model.lstm, features).outputs));
    assertClose(tf.reshape(result.windowLogits, [2, 4, 2]), reference, { atol: 1e-6, name: 'outputs' });
    tf.dispose([features, reference]);
    disposeResult(result);
    model.dispose();
  });

  it('learns where the event is: a few Adam steps put most attention on the frame that holds the signal', async () => {
    const time = 8;
    const N = 4;
    const trainSet = eventSequences(48, 1, time, 4);
    const testSet = eventSequences(32, 2, time, 4);
    const model = new MultiLSTM({
      inputSize: 4,
      hiddenSize: 8,
      numClasses: 2,
      window: N,
      labels: 'multiclass',
      seed: 3,
    });
    /** Mean α on the event frame over the steps whose window holds it (t = event … event + N − 1). */
    const weightOnEvent = async (data: ReturnType<typeof eventSequences>): Promise<number> => {
      const result = model.apply(data.features);
      const weights = (await result.attention.array()) as number[][][];
      disposeResult(result);
      let total = 0;
      let count = 0;
      data.events.forEach((event, v) => {
        for (let t = event; t < Math.min(time, event + N); t++) {
          total += weights[v]![t]![event - t + N - 1]!;
          count++;
        }
      });
      return total / count;
    };
    const initial = await weightOnEvent(testSet);
    expect(initial).toBeLessThan(0.45); // about uniform over the frames in the window
    const adam = new Adam(model.namedParameters(), { lr: 0.05 });
    for (let step = 0; step < 40; step++) {
      const { value, grads } = adam.computeGradients(() =>
        tf.tidy(() => model.loss(model.apply(trainSet.features), trainSet.labels)),
      );
      adam.applyGradients(grads);
      tf.dispose([value, ...grads.values()]);
    }
    adam.dispose();
    const after = await weightOnEvent(testSet);
    expect(after).toBeGreaterThan(0.8);
    expect(after).toBeGreaterThan(2 * initial);
    // The dense labels of the frames after the event are right.
    const result = model.apply(testSet.features);
    const predicted = (await tf.argMax(result.framePredictions, 2).array()) as number[][];
    const truth = (await testSet.labels.array()) as number[][];
    let correct = 0;
    let total = 0;
    testSet.events.forEach((event, v) => {
      for (let t = event; t < time; t++, total++) if (predicted[v]![t] === truth[v]![t]) correct++;
    });
    expect(correct / total).toBeGreaterThan(0.9);
    disposeResult(result);
    tf.dispose([trainSet.features, trainSet.labels, testSet.features, testSet.labels]);
    model.dispose();
  });

  it('gradients match central finite differences', () => {
    const model = new MultiLSTM({ inputSize: 2, hiddenSize: 2, numClasses: 2, window: 2, seed: 8 });
    const features = random([1, 3, 2], 9);
    const labels = tf.tensor3d([
      [
        [1, 0],
        [0, 1],
        [1, 1],
      ],
    ]);
    const loss = (x: tf.Tensor): tf.Scalar =>
      tf.tidy(() => {
        const result = model.apply(x);
        return tf.add(model.loss(result, labels), tf.mean(result.framePredictions)) as tf.Scalar;
      });
    const { value, grads } = tf.variableGrads(() => loss(features));
    for (const [name, variable] of model.namedParameters()) {
      const numeric = numericalVariableGradient(variable, () => loss(features));
      assertClose(grads[variable.name]!, numeric, { atol: 2e-3, rtol: 1e-2, name: `grad ${name}` });
    }
    const dFeatures = tf.grad(loss)(features);
    assertClose(dFeatures, numericalGradient(loss, features), { atol: 2e-3, rtol: 1e-2, name: 'grad features' });
    tf.dispose([value, ...Object.values(grads), dFeatures, features, labels]);
    model.dispose();
  });

  it('does not leak tensors', async () => {
    const model = new MultiLSTM({ inputSize: 2, hiddenSize: 3, numClasses: 2, window: 3 });
    const features = random([2, 4, 2], 10);
    const labels = tf.zeros([2, 4, 2]);
    await expectNoLeakedTensors(() => model.apply(features), 'apply');
    await expectNoLeakedTensors(() => tf.tidy(() => model.loss(model.apply(features), labels)), 'loss');
    await expectNoLeakedTensors(() => {
      const { value, grads } = tf.variableGrads(() => tf.tidy(() => model.loss(model.apply(features), labels)));
      return [value, ...Object.values(grads)];
    }, 'gradients');
    tf.dispose([features, labels]);
    model.dispose();
  });

  it('rejects bad options and input', () => {
    expect(() => new MultiLSTM({ inputSize: 2, hiddenSize: 3, numClasses: 2, window: 0 })).toThrow(
      /window: expected a positive integer, received 0/,
    );
    expect(() => new MultiLSTM({ inputSize: 2, hiddenSize: 3, numClasses: 2, labels: 'dense' as never })).toThrow(
      /labels: expected one of "multilabel", "multiclass", received "dense"/,
    );
    expect(() => new MultiLSTM({ inputSize: 2, hiddenSize: 3, numClasses: 2, windowSize: 3 } as never)).toThrow(
      /windowSize/,
    );
    const model = new MultiLSTM({ inputSize: 2, hiddenSize: 3, numClasses: 2, window: 2 });
    expect(() => model.apply(tf.zeros([1, 4, 3]))).toThrow(
      /features: expected \[batch, time ≥ 1, 2\] \(inputSize\), received \[1, 4, 3\]/,
    );
    expect(() => model.apply(tf.zeros([4, 2]))).toThrow(/features: expected \[batch, time ≥ 1, 2\]/);
    const result = model.apply(tf.zeros([1, 4, 2]));
    expect(() => model.loss(result, tf.zeros([1, 4]))).toThrow(
      /labels: expected \[1, 4, 2\] \(0\/1 per class\), received \[1, 4\]/,
    );
    expect(() => model.combine(tf.zeros([1, 4, 3, 2]))).toThrow(/windowLogits: expected \[batch, time, 2, 2\]/);
    setDebugChecks(true);
    expect(() => model.apply(tf.tensor3d([[[Number.NaN, 0]]]))).toThrow(
      /features: expected finite values, received NaN/,
    );
    disposeResult(result);
    model.dispose();
  });
});
