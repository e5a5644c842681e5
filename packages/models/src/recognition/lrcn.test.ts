import * as tf from '@tensorflow/tfjs-core';
import { rnn } from '@vid/cells';
import { Linear, Module, Rng, setDebugChecks } from '@vid/core';
import { assertClose, expectNoLeakedTensors } from '@vid/core/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { initTestBackend, report, trainSteps } from '../__fixtures__/helpers.js';
import { evaluateAccuracy } from './classifier.js';
import { type FrameEncoder, SmallCnn } from './encoder.js';
import { DeepLSTMNet, LRCN } from './lrcn.js';
import { movingGlyphVideos } from './synthetic.js';

beforeAll(async () => {
  await initTestBackend();
});

afterEach(() => setDebugChecks(false));

const random = (shape: number[], seed: number): tf.Tensor =>
  tf.tensor(new Rng(seed).fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1))), shape);

/** A user encoder: flatten, one linear layer and tanh. */
class FlattenEncoder extends Module implements FrameEncoder {
  readonly outputSize = 6;
  readonly proj: Linear;
  constructor(pixels: number) {
    super();
    this.proj = this.registerModule('proj', new Linear({ inFeatures: pixels, outFeatures: 6, seed: 9 }));
  }
  apply(frames: tf.Tensor4D): tf.Tensor {
    return tf.tidy(() => tf.tanh(this.proj.apply(tf.reshape(frames, [frames.shape[0], -1]))));
  }
}

describe('LRCN (Donahue et al. 2015)', () => {
  it('per-frame CNN → LSTM → per-frame softmax, averaged over time (by hand from its parts)', async () => {
    const model = new LRCN({
      frameSize: [8, 12],
      frameChannels: 3,
      numClasses: 4,
      hiddenSize: 5,
      cnn: { channels: [4], featureSize: 7 },
      seed: 2,
    });
    expect(model.encoder).toBeInstanceOf(SmallCnn);
    expect(model.namedParameters().map(([n, v]) => `${n} ${v.shape.join('×')}`)).toEqual([
      'encoder.convs.layers.0.weight 3×3×3×4',
      'encoder.convs.layers.0.bias 4',
      'encoder.fc.weight 96×7', // 4×6 maps of 4 channels, flattened
      'encoder.fc.bias 7',
      'lstm.cells.0.weight_ih 7×20',
      'lstm.cells.0.weight_hh 5×20',
      'lstm.cells.0.bias_ih 20',
      'lstm.cells.0.bias_hh 20',
      'classifier.weight 5×4',
      'classifier.bias 4',
    ]);
    const video = random([2, 3, 8, 12, 3], 3);
    const result = model.apply(video);
    expect(result.frameLogits.shape).toEqual([2, 3, 4]);
    const expected = tf.tidy(() => {
      const frames = tf.unstack(video, 1).map((f) => (model.encoder as SmallCnn).apply(f as tf.Tensor4D)); // 3 × [2, 7]
      const features = tf.stack(frames, 1);
      const h = rnn(model.lstm.cells.at(0), features).outputs;
      const logits = model.classifier.apply(h);
      return { logits, probabilities: tf.mean(tf.softmax(logits), 1) };
    });
    assertClose(result.frameLogits, expected.logits, { atol: 1e-5, name: 'frame logits' });
    assertClose(result.probabilities, expected.probabilities, { atol: 1e-6, name: 'averaged probabilities' });
    // The loss: cross-entropy of every frame against the video's label, averaged.
    const labels = tf.tensor1d([3, 0], 'int32');
    const loss = model.loss(result, labels);
    const logp = (await tf.logSoftmax(result.frameLogits).array()) as number[][][];
    const byHand = -[0, 1, 2].reduce((acc, t) => acc + logp[0]![t]![3]! + logp[1]![t]![0]!, 0) / 6;
    expect((await loss.data())[0]).toBeCloseTo(byHand, 5);
    tf.dispose([
      video,
      result.frameLogits,
      result.probabilities,
      expected.logits,
      expected.probabilities,
      labels,
      loss,
    ]);
    model.dispose();
  });

  it('accepts any encoder: a user Module trains with the model (encoder.*), a plain object is used as is', async () => {
    const encoder = new FlattenEncoder(36);
    const model = new LRCN({ frameSize: 6, numClasses: 2, hiddenSize: 4, encoder });
    expect(
      model
        .namedParameters()
        .map(([n]) => n)
        .slice(0, 2),
    ).toEqual(['encoder.proj.weight', 'encoder.proj.bias']);
    const video = random([2, 3, 6, 6, 1], 4);
    const labels = tf.tensor1d([0, 1], 'int32');
    const { value, grads } = tf.variableGrads(() => tf.tidy(() => model.loss(model.apply(video), labels)));
    const encoderGrad = grads[encoder.proj.weight.name]!;
    expect(Math.max(...Array.from(await tf.abs(encoderGrad).data()))).toBeGreaterThan(0);
    tf.dispose([value, ...Object.values(grads)]);

    const frozen: FrameEncoder = { outputSize: 36, apply: (frames) => tf.reshape(frames, [frames.shape[0], 36]) };
    const plain = new LRCN({ frameSize: 6, numClasses: 2, hiddenSize: 4, encoder: frozen });
    expect(plain.namedParameters().map(([n]) => n)[0]).toBe('lstm.cells.0.weight_ih');
    const result = plain.apply(video);
    expect(result.probabilities.shape).toEqual([2, 2]);
    tf.dispose([video, labels, result.frameLogits, result.probabilities]);
    model.dispose();
    plain.dispose();
  });

  it('reaches > 90% held-out accuracy on glyphs moving left vs right in 60 seeded Adam steps', async () => {
    const train = movingGlyphVideos({ count: 128, seed: 1 });
    const test = movingGlyphVideos({ count: 64, seed: 2 });
    const xs = tf.tensor5d(train.videos, [...train.shape]);
    const ys = tf.tensor1d(train.labels, 'int32');
    const xt = tf.tensor5d(test.videos, [...test.shape]);
    const model = new LRCN({ frameSize: 16, numClasses: 2, seed: 1 });
    const before = await evaluateAccuracy(model, xt, test.labels);
    const started = performance.now();
    const losses = await trainSteps(model, 60, 3e-3, (step) =>
      tf.tidy(() => {
        const start = (step * 32) % 128;
        const x = tf.slice(xs, [start, 0, 0, 0, 0], [32, -1, -1, -1, -1]);
        return model.loss(model.apply(x), tf.slice(ys, [start], [32]));
      }),
    );
    report('LRCN: train ms (60 steps, batch 32)', performance.now() - started);
    const accuracy = await evaluateAccuracy(model, xt, test.labels);
    report('LRCN: held-out accuracy before, after', [before, accuracy]);
    expect(accuracy).toBeGreaterThan(0.9);
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! / 3);
    tf.dispose([xs, ys, xt]);
    model.dispose();
  });

  it('does not leak tensors', async () => {
    const model = new LRCN({ frameSize: 8, numClasses: 3, hiddenSize: 4 });
    const video = random([2, 3, 8, 8, 1], 5);
    const labels = tf.tensor1d([0, 2], 'int32');
    await expectNoLeakedTensors(() => model.apply(video), 'apply');
    await expectNoLeakedTensors(() => {
      const { value, grads } = tf.variableGrads(() => tf.tidy(() => model.loss(model.apply(video), labels)));
      return [value, ...Object.values(grads)];
    }, 'gradients');
    tf.dispose([video, labels]);
    model.dispose();
  });

  it('rejects bad options and input', () => {
    expect(() => new LRCN({ frameSize: 8, numClasses: 0 })).toThrow(
      /numClasses: expected a positive integer, received 0/,
    );
    expect(() => new LRCN({ frameSize: 8, numClasses: 2, aggregation: 'median' as never })).toThrow(
      /aggregation: expected one of "mean", "max", "sum", "last", "weighted"/,
    );
    expect(
      () => new LRCN({ frameSize: 8, numClasses: 2, encoder: new FlattenEncoder(64), cnn: { featureSize: 3 } }),
    ).toThrow(/cnn: expected nothing when an encoder is given/);
    expect(
      () => new LRCN({ frameSize: 8, numClasses: 2, encoder: { outputSize: 0, apply: (f: tf.Tensor) => f } as never }),
    ).toThrow(/encoder: expected a FrameEncoder/);
    expect(() => new LRCN({ frameSize: 8, numClasses: 2, hidden: 3 } as never)).toThrow(/hidden/);
    const model = new LRCN({ frameSize: 8, numClasses: 2, hiddenSize: 3 });
    expect(() => model.apply(tf.zeros([1, 2, 8, 9, 1]))).toThrow(
      /LRCN.apply: video: expected \[batch, time, 8, 8, 1\] \(frameSize, frameChannels\), received \[1, 2, 8, 9, 1\]/,
    );
    const result = model.apply(tf.zeros([2, 2, 8, 8, 1]));
    expect(() => model.loss(result, tf.zeros([3], 'int32'))).toThrow(
      /labels: expected \[2\] \(one class index per video\), received \[3\]/,
    );
    setDebugChecks(true);
    expect(() => model.apply(tf.fill([1, 2, 8, 8, 1], Number.POSITIVE_INFINITY))).toThrow(
      /video: expected finite values, received Infinity/,
    );
    model.dispose();
  });
});

describe('DeepLSTMNet (Ng et al. 2015, sec. 3.2)', () => {
  it('stacked LSTMs; the answer is linearly weighted over time and the per-step losses are weighted by g = t / T', async () => {
    const model = new DeepLSTMNet({ frameSize: 8, numClasses: 3, cnn: { channels: [4], featureSize: 6 }, seed: 5 });
    expect(model.lstm.numLayers).toBe(2);
    expect(model.aggregation).toBe('weighted');
    const video = random([2, 4, 8, 8, 1], 6);
    const labels = tf.tensor1d([2, 1], 'int32');
    const result = model.apply(video);
    const p = (await tf.softmax(result.frameLogits).array()) as number[][][];
    const g = [0.25, 0.5, 0.75, 1];
    const weighted = p.map((video) =>
      [0, 1, 2].map((c) => video.reduce((acc, step, t) => acc + g[t]! * step[c]!, 0) / 2.5),
    );
    assertClose(result.probabilities, weighted.flat(), { atol: 1e-6, name: 'weighted aggregation', checkShape: false });
    const logp = (await tf.logSoftmax(result.frameLogits).array()) as number[][][];
    const byHand = -[0, 1, 2, 3].reduce((acc, t) => acc + g[t]! * (logp[0]![t]![2]! + logp[1]![t]![1]!), 0) / 2.5 / 2;
    const loss = model.loss(result, labels);
    expect((await loss.data())[0]).toBeCloseTo(byHand, 5);
    for (const aggregation of ['max', 'sum', 'last'] as const) {
      const other = new DeepLSTMNet({
        frameSize: 8,
        numClasses: 3,
        cnn: { channels: [4], featureSize: 6 },
        seed: 5,
        aggregation,
      });
      const r = other.apply(video);
      const expected =
        aggregation === 'last'
          ? p.map((v) => v[3]!)
          : p.map((v) =>
              [0, 1, 2].map((c) =>
                aggregation === 'max' ? Math.max(...v.map((s) => s[c]!)) : v.reduce((a, s) => a + s[c]!, 0),
              ),
            );
      assertClose(r.probabilities, expected.flat(), { atol: 1e-6, name: aggregation, checkShape: false });
      tf.dispose([r.frameLogits, r.probabilities]);
      other.dispose();
    }
    tf.dispose([video, labels, result.frameLogits, result.probabilities, loss]);
    model.dispose();
  });
});
