import * as tf from '@tensorflow/tfjs-core';
import { rnn } from '@vid/cells';
import { Adam, Rng, setDebugChecks } from '@vid/core';
import { assertClose, expectNoLeakedTensors, numericalGradient, numericalVariableGradient } from '@vid/core/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { initTestBackend } from './__fixtures__/helpers.js';
import { SoftAttentionLSTM, attentionRegularizer } from './visual-attention.js';

beforeAll(async () => {
  await initTestBackend();
});

afterEach(() => setDebugChecks(false));

const random = (shape: number[], seed: number, std = 1): tf.Tensor =>
  tf.tensor(new Rng(seed).fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1)), 0, std), shape);

/**
 * Videos of K×K×D feature cubes where only region `signal(video)` tells the class: its first channel
 * is +1.5 or −1.5 (plus noise); every other region is noise. Channel D−1 of the signal region is a
 * marker (+2) that says where it is.
 */
function signalVideos(
  count: number,
  seed: number,
  options: { time: number; grid: number; channels: number; signal: (video: number, rng: Rng) => number },
) {
  const { time, grid, channels } = options;
  const rng = new Rng(seed);
  const regions = grid * grid;
  const data = rng.fillNormal(new Float32Array(count * time * regions * channels), 0, 1);
  const labels: number[] = [];
  const where: number[] = [];
  for (let v = 0; v < count; v++) {
    const label = rng.int(2);
    const region = options.signal(v, rng);
    labels.push(label);
    where.push(region);
    for (let t = 0; t < time; t++) {
      for (let r = 0; r < regions; r++) data[((v * time + t) * regions + r) * channels + channels - 1] = 0;
      const base = ((v * time + t) * regions + region) * channels;
      data[base] = (label === 1 ? 1.5 : -1.5) + 0.3 * rng.normal();
      data[base + channels - 1] = 2;
    }
  }
  return {
    features: tf.tensor5d(data, [count, time, grid, grid, channels]),
    labels: tf.tensor1d(labels, 'int32'),
    where,
  };
}

/** Mean attention weight on each video's signal region, over steps and videos. */
async function weightOnSignal(attention: tf.Tensor, where: readonly number[]): Promise<number> {
  const [batch, time] = attention.shape as [number, number];
  const maps = (await tf.reshape(attention, [batch, time, -1]).array()) as number[][][];
  let total = 0;
  maps.forEach((video, v) => video.forEach((step) => (total += step[where[v]!]!)));
  return total / (batch * time);
}

async function train(
  model: SoftAttentionLSTM,
  data: { features: tf.Tensor; labels: tf.Tensor },
  steps: number,
  lr: number,
  attentionPenalty = 0,
): Promise<number[]> {
  const adam = new Adam(model.namedParameters(), { lr });
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const { value, grads } = adam.computeGradients(() =>
      tf.tidy(() => {
        const result = model.apply(data.features);
        return model.loss(result, data.labels, { attentionPenalty });
      }),
    );
    adam.applyGradients(grads);
    losses.push((await value.data())[0]!);
    tf.dispose([value, ...grads.values()]);
  }
  adam.dispose();
  return losses;
}

describe('SoftAttentionLSTM (Sharma et al. 2015)', () => {
  it('follows eqs. 4–7 step by step: location softmax on h_{t−1}, attended input, LSTM; h_0, c_0 from the mean feature', async () => {
    const model = new SoftAttentionLSTM({
      featureChannels: 3,
      gridSize: 2,
      hiddenSize: 5,
      numClasses: 4,
      initLayers: 1,
      seed: 1,
    });
    const features = random([2, 3, 2, 2, 3], 2);
    const result = model.apply(features);
    expect(result.logits.shape).toEqual([2, 3, 4]);
    expect(result.attention.shape).toEqual([2, 3, 2, 2]);
    const expected = tf.tidy(() => {
      // eqs. 6–7 with one ReLU layer before the tanh layers.
      const mean = tf.relu(model.initLayers[0]!.apply(tf.mean(features, [1, 2, 3])));
      let h = tf.tanh(model.initH.apply(mean));
      let c = tf.tanh(model.initC.apply(mean));
      const maps: tf.Tensor[] = [];
      const logits: tf.Tensor[] = [];
      for (let t = 0; t < 3; t++) {
        const regions = tf.reshape(tf.slice(features, [0, t, 0, 0, 0], [2, 1, 2, 2, 3]), [2, 4, 3]);
        const l = tf.softmax(tf.matMul(h, model.locationAttention!.weight)); // eq. 4, no bias
        const x = tf.sum(tf.mul(tf.expandDims(l, 2), regions), 1); // eq. 5
        ({ h, c } = model.lstm.step(x, { h, c }).state);
        maps.push(l);
        logits.push(model.classifier.apply(h));
      }
      return { maps: tf.stack(maps, 1), logits: tf.stack(logits, 1), h };
    });
    assertClose(tf.reshape(result.attention, [2, 3, 4]), expected.maps, { atol: 1e-6, name: 'attention maps' });
    assertClose(result.logits, expected.logits, { atol: 1e-5, name: 'logits' });
    assertClose(result.state.h, expected.h, { atol: 1e-6, name: 'h_T' });
    // Each map is a distribution over the K² regions.
    const sums = (await tf.sum(result.attention, [2, 3]).array()) as number[][];
    for (const s of sums.flat()) expect(s).toBeCloseTo(1, 6);
    tf.dispose([
      features,
      result.logits,
      result.attention,
      result.state.h,
      result.state.c,
      expected.maps,
      expected.logits,
      expected.h,
    ]);
    model.dispose();
  });

  it('the regulariser Σ_i (1 − Σ_t l_{t,i})² matches a hand computation', async () => {
    // Video 0: always region 0 of 4 over T = 2 → (1−2)² + 3·(1−0)² = 4.
    // Video 1: uniform over 4 regions for T = 4 → every region totals 1 → 0.
    // Video 2: T = 2, weights [0.5, 0.5, 0, 0] then [0, 0.5, 0.25, 0.25] → 0.25 + 0 + 0.5625 + 0.5625.
    const weights = tf.tensor4d([
      [
        [
          [1, 0],
          [0, 0],
        ],
        [
          [1, 0],
          [0, 0],
        ],
        [
          [1, 0],
          [0, 0],
        ],
        [
          [1, 0],
          [0, 0],
        ],
      ],
      [
        [
          [0.25, 0.25],
          [0.25, 0.25],
        ],
        [
          [0.25, 0.25],
          [0.25, 0.25],
        ],
        [
          [0.25, 0.25],
          [0.25, 0.25],
        ],
        [
          [0.25, 0.25],
          [0.25, 0.25],
        ],
      ],
      [
        [
          [0.5, 0.5],
          [0, 0],
        ],
        [
          [0, 0.5],
          [0.25, 0.25],
        ],
        [
          [0, 0],
          [0, 0],
        ],
        [
          [0, 0],
          [0, 0],
        ],
      ],
    ]);
    const twoSteps = tf.slice(weights, [0, 0, 0, 0], [1, 2, 2, 2]);
    assertClose(attentionRegularizer(twoSteps), [4], { atol: 1e-6, name: 'always region 0' });
    const all = attentionRegularizer(weights);
    assertClose(all, [(1 - 4) ** 2 + 3, 0, 0.25 + 0 + 0.5625 + 0.5625], { atol: 1e-6, name: 'regulariser' });
    // In the loss: mean over the batch of Σ_t CE_t + λ · regulariser.
    const model = new SoftAttentionLSTM({ featureChannels: 2, gridSize: 2, hiddenSize: 3, numClasses: 2 });
    const logits = tf.tensor3d([
      [
        [0, 0],
        [0, Math.log(3)],
      ],
      [
        [0, 0],
        [0, 0],
      ],
      [
        [0, 0],
        [0, 0],
      ],
    ]);
    const attention = tf.slice(weights, [0, 0, 0, 0], [3, 2, 2, 2]) as tf.Tensor4D;
    const labels = tf.tensor1d([1, 0, 0], 'int32');
    const loss = model.loss({ logits, attention, state: { h: tf.zeros([3, 3]), c: tf.zeros([3, 3]) } }, labels, {
      attentionPenalty: 0.5,
    });
    const ce = [Math.log(2) + Math.log(4 / 3), 2 * Math.log(2), 2 * Math.log(2)];
    // The first two steps only: video 1 totals 0.5 per region → 4 · 0.25.
    const reg = [4, 4 * 0.25, 0.25 + 0 + 0.5625 + 0.5625];
    assertClose(loss, [(ce[0]! + ce[1]! + ce[2]! + 0.5 * (reg[0]! + reg[1]! + reg[2]!)) / 3], {
      atol: 1e-5,
      name: 'loss',
    });
    tf.dispose([weights, twoSteps, all, logits, attention, labels, loss]);
    model.dispose();
  });

  it('learns where the signal is: a few Adam steps put most attention on the one informative region', async () => {
    const options = { time: 4, grid: 3, channels: 4, signal: () => 5 };
    const trainSet = signalVideos(48, 1, options);
    const testSet = signalVideos(32, 2, options);
    const model = new SoftAttentionLSTM({ featureChannels: 4, gridSize: 3, hiddenSize: 8, numClasses: 2, seed: 3 });
    const before = model.apply(testSet.features);
    const initial = await weightOnSignal(before.attention, testSet.where);
    expect(initial).toBeLessThan(0.2); // about 1/9
    const losses = await train(model, trainSet, 40, 0.05);
    const after = model.apply(testSet.features);
    const focused = await weightOnSignal(after.attention, testSet.where);
    expect(focused).toBeGreaterThan(0.5);
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! / 2);
    // …and classifies the held-out videos from the last step.
    const predicted = (await tf.argMax(tf.slice(after.logits, [0, 3, 0], [32, 1, 2]), 2).data()) as Int32Array;
    const truth = await testSet.labels.data();
    expect(predicted.filter((p, i) => p === truth[i]).length / 32).toBeGreaterThan(0.9);
    tf.dispose([
      trainSet.features,
      trainSet.labels,
      testSet.features,
      testSet.labels,
      before.logits,
      before.attention,
      before.state.h,
      before.state.c,
      after.logits,
      after.attention,
      after.state.h,
      after.state.c,
    ]);
    model.dispose();
  });

  it("attention: 'additive' (the official code's) follows the signal by content, wherever it is", async () => {
    const options = { time: 3, grid: 3, channels: 4, signal: (_: number, rng: Rng) => rng.int(9) };
    const trainSet = signalVideos(48, 3, options);
    const testSet = signalVideos(32, 4, options);
    const model = new SoftAttentionLSTM({
      featureChannels: 4,
      gridSize: 3,
      hiddenSize: 8,
      numClasses: 2,
      attention: 'additive',
      attentionSize: 6,
      seed: 4,
    });
    expect(
      model
        .namedParameters()
        .map(([n]) => n)
        .filter((n) => n.startsWith('attention')),
    ).toEqual([
      'attention_hidden.weight',
      'attention_features.weight',
      'attention_features.bias',
      'attention_score.weight',
    ]);
    await train(model, trainSet, 40, 0.05);
    const after = model.apply(testSet.features);
    expect(await weightOnSignal(after.attention, testSet.where)).toBeGreaterThan(0.5);
    tf.dispose([
      trainSet.features,
      trainSet.labels,
      testSet.features,
      testSet.labels,
      after.logits,
      after.attention,
      after.state.h,
      after.state.c,
    ]);
    model.dispose();
  });

  it('the regulariser spreads attention: with λ > 0 the total weight per region moves towards 1', async () => {
    // T = K² = 4 steps over 2×2 regions, the signal always in region 0.
    const options = { time: 4, grid: 2, channels: 3, signal: () => 0 };
    const data = signalVideos(32, 5, options);
    const regulariserAfter = async (lambda: number): Promise<number> => {
      const model = new SoftAttentionLSTM({ featureChannels: 3, gridSize: 2, hiddenSize: 6, numClasses: 2, seed: 6 });
      await train(model, data, 30, 0.05, lambda);
      const result = model.apply(data.features);
      const value = (await tf.mean(attentionRegularizer(result.attention)).data())[0]!;
      tf.dispose([result.logits, result.attention, result.state.h, result.state.c]);
      model.dispose();
      return value;
    };
    const without = await regulariserAfter(0);
    const withPenalty = await regulariserAfter(1);
    expect(withPenalty).toBeLessThan(without / 2);
    tf.dispose([data.features, data.labels]);
  });

  it('gradients match central finite differences (parameters and features)', () => {
    const model = new SoftAttentionLSTM({
      featureChannels: 2,
      gridSize: [1, 2],
      hiddenSize: 3,
      numClasses: 2,
      seed: 7,
    });
    const features = random([2, 2, 1, 2, 2], 8);
    const labels = tf.tensor1d([0, 1], 'int32');
    const loss = (x: tf.Tensor): tf.Scalar =>
      tf.tidy(() => model.loss(model.apply(x), labels, { attentionPenalty: 0.3 }));
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

  it('an explicit initial state is used as given', () => {
    const model = new SoftAttentionLSTM({ featureChannels: 2, gridSize: 2, hiddenSize: 3, numClasses: 2, seed: 9 });
    const features = random([1, 2, 2, 2, 2], 10);
    const initialState = { h: random([1, 3], 11), c: random([1, 3], 12) };
    const given = model.apply(features, { initialState });
    const l0 = tf.softmax(tf.matMul(initialState.h, model.locationAttention!.weight));
    assertClose(tf.reshape(tf.slice(given.attention, [0, 0, 0, 0], [1, 1, 2, 2]), [1, 4]), l0, {
      atol: 1e-6,
      name: 'first map from the given h_0',
    });
    tf.dispose([
      features,
      initialState.h,
      initialState.c,
      given.logits,
      given.attention,
      given.state.h,
      given.state.c,
      l0,
    ]);
    model.dispose();
  });

  it('does not leak tensors (apply, loss, gradients)', async () => {
    const model = new SoftAttentionLSTM({
      featureChannels: 2,
      gridSize: 2,
      hiddenSize: 3,
      numClasses: 2,
      attention: 'additive',
    });
    const features = random([2, 3, 2, 2, 2], 13);
    const labels = tf.tensor1d([0, 1], 'int32');
    await expectNoLeakedTensors(() => model.apply(features), 'apply');
    await expectNoLeakedTensors(
      () => tf.tidy(() => model.loss(model.apply(features), labels, { attentionPenalty: 1 })),
      'loss',
    );
    await expectNoLeakedTensors(() => {
      const { value, grads } = tf.variableGrads(() => tf.tidy(() => model.loss(model.apply(features), labels)));
      return [value, ...Object.values(grads)];
    }, 'gradients');
    tf.dispose([features, labels]);
    model.dispose();
  });

  it('rejects bad options and input', () => {
    expect(() => new SoftAttentionLSTM({ featureChannels: 4, gridSize: 0, hiddenSize: 3, numClasses: 2 })).toThrow(
      /gridSize: expected a positive integer, received 0/,
    );
    expect(
      () =>
        new SoftAttentionLSTM({
          featureChannels: 4,
          gridSize: 2,
          hiddenSize: 3,
          numClasses: 2,
          attention: 'dot' as never,
        }),
    ).toThrow(/attention: expected one of "location", "additive", received "dot"/);
    expect(
      () => new SoftAttentionLSTM({ featureChannels: 4, gridSize: 2, hiddenSize: 3, numClasses: 2, attentionSize: 5 }),
    ).toThrow(/attentionSize/);
    expect(
      () =>
        new SoftAttentionLSTM({ featureChannels: 4, gridSize: 2, hiddenSize: 3, numClasses: 2, lambda: 1 } as never),
    ).toThrow(/lambda/);
    const model = new SoftAttentionLSTM({ featureChannels: 4, gridSize: 2, hiddenSize: 3, numClasses: 2 });
    expect(() => model.apply(tf.zeros([1, 2, 3, 3, 4]))).toThrow(
      /features: expected \[batch, time, 2, 2, 4\] \(gridSize, featureChannels\), received \[1, 2, 3, 3, 4\]/,
    );
    expect(() => model.apply(tf.zeros([1, 2, 2, 4]))).toThrow(/features: expected \[batch, time, 2, 2, 4\]/);
    const result = model.apply(tf.zeros([1, 2, 2, 2, 4]));
    expect(() => model.loss(result, tf.zeros([2], 'int32'))).toThrow(
      /labels: expected \[1\] or \[1, 2\] \(class indices\), received \[2\]/,
    );
    expect(() => model.loss(result, tf.zeros([1], 'int32'), { attentionPenalty: -1 })).toThrow(
      /attentionPenalty: expected a number ≥ 0, received -1/,
    );
    expect(() => attentionRegularizer(tf.zeros([2, 3]))).toThrow(/weights: expected rank ≥ 3/);
    setDebugChecks(true);
    expect(() => model.apply(tf.fill([1, 1, 2, 2, 4], Number.NaN))).toThrow(
      /features: expected finite values, received NaN/,
    );
    model.dispose();
  });
});

describe('SoftAttentionLSTM with a one-region grid is a plain LSTM on the features', () => {
  it('equals rnn(lstm) from the same initial state', () => {
    const model = new SoftAttentionLSTM({ featureChannels: 3, gridSize: 1, hiddenSize: 4, numClasses: 2, seed: 12 });
    const features = random([2, 5, 1, 1, 3], 13);
    const result = model.apply(features);
    const reference = tf.tidy(() => {
      const initial = model.initialState(features);
      return rnn(model.lstm, tf.reshape(features, [2, 5, 3]), { initialState: initial }).outputs;
    });
    const expectedLogits = model.classifier.apply(reference);
    assertClose(result.logits, expectedLogits, { atol: 1e-6, name: 'logits' });
    tf.dispose([features, result.logits, result.attention, result.state.h, result.state.c, reference, expectedLogits]);
    model.dispose();
  });
});
