import * as tf from '@tensorflow/tfjs-core';
import { Rng, setDebugChecks } from '@vid/core';
import { assertClose, expectNoLeakedTensors, useBackend } from '@vid/core/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { initTestBackend, report, trainSteps } from '../__fixtures__/helpers.js';
import { evaluateAccuracy } from './classifier.js';
import type { ConvTrunk } from './encoder.js';
import {
  FeaturePoolingNet,
  TemporalConv,
  maxOverTime,
  temporalConv,
  temporalMaxPool,
  temporalWindows,
} from './pooling.js';
import { movingGlyphVideos } from './synthetic.js';
import { TwoStreamNet } from './two-stream.js';

beforeAll(async () => {
  await initTestBackend();
});

afterEach(() => setDebugChecks(false));

const random = (shape: number[], seed: number): tf.Tensor =>
  tf.tensor(new Rng(seed).fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1))), shape);

describe('temporal pooling operations', () => {
  it('maxOverTime and temporalMaxPool: hand computations', async () => {
    const x = tf.tensor3d([
      [
        [1, 5],
        [4, 2],
        [3, 3],
        [0, 7],
        [6, 1],
      ],
    ]); // [1, 5, 2]
    expect(await maxOverTime(x).array()).toEqual([[6, 7]]);
    expect(temporalWindows(5, 2, 1)).toBe(4);
    expect(temporalWindows(5, 2, 2)).toBe(2); // frames 0–1, 2–3; frame 4 left over
    expect(temporalWindows(5, 6, 1)).toBe(0);
    expect(await temporalMaxPool(x, 2, 1).array()).toEqual([
      [
        [4, 5],
        [4, 3],
        [3, 7],
        [6, 7],
      ],
    ]);
    expect(await temporalMaxPool(x, 2, 2).array()).toEqual([
      [
        [4, 5],
        [3, 7],
      ],
    ]);
    expect(await temporalMaxPool(x, 3, 2).array()).toEqual([
      [
        [4, 5],
        [6, 7],
      ],
    ]);
    x.dispose();
  });

  it('temporalConv: a hand computation (1×1 kernel), and equal to tf.conv3d (3×3 kernel, stride 2), forward and backward', async () => {
    // x_t = t + 1 at every pixel; weights (1, −1): out_k = x_k − x_{k+1} + bias = −1 + 0.5.
    const ramp = tf.tensor5d(
      Float32Array.from({ length: 16 }, (_, i) => Math.floor(i / 4) + 1),
      [1, 4, 2, 2, 1],
    );
    const weight = tf.reshape(tf.tensor1d([1, -1]), [2, 1, 1, 1, 1]);
    const out = temporalConv(ramp, weight, tf.tensor1d([0.5]), 1);
    expect(out.shape).toEqual([1, 3, 2, 2, 1]);
    expect(Array.from(await out.data())).toEqual(new Array(12).fill(-0.5));
    tf.dispose([ramp, weight, out]);

    const video = random([2, 7, 5, 4, 3], 1);
    const kernel = random([3, 3, 3, 3, 4], 2); // [L, kh, kw, in, out]
    const bias = random([4], 3);
    const ours = temporalConv(video, kernel, bias, 2);
    const reference = tf.tidy(() => {
      // "same" in space by explicit padding, "valid" in time.
      const padded = tf.pad(video, [
        [0, 0],
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ]) as tf.Tensor5D;
      return tf.add(tf.conv3d(padded, kernel as tf.Tensor5D, [2, 1, 1], 'valid'), bias);
    });
    expect(ours.shape).toEqual([2, 3, 5, 4, 4]);
    assertClose(ours, reference, { atol: 1e-5, name: 'temporalConv vs conv3d' });
    // Gradients too, with respect to the input, the kernel and the bias. The reference runs on the
    // cpu backend: tfjs-backend-wasm 4.22's Conv3D backprop kernels give wrong gradients (even at
    // stride 1), which is one reason temporalConv does not use tf.conv3d.
    const target = random([2, 3, 5, 4, 4], 4);
    const viaConv2d = tf.grads((a: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(temporalConv(a, w, b, 2), target)),
    )([video, kernel, bias]);
    const values = await Promise.all([video, kernel, bias, target].map((t) => t.data()));
    const shapes = [video, kernel, bias, target].map((t) => t.shape);
    const backend = tf.getBackend() as 'wasm' | 'cpu';
    await useBackend('cpu');
    const viaConv3d = await (async () => {
      const [a0, w0, b0, t0] = values.map((v, i) => tf.tensor(v as Float32Array, shapes[i]));
      const grads = tf.grads((a: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
        tf.sum(
          tf.mul(
            tf.add(
              tf.conv3d(
                tf.pad(a, [
                  [0, 0],
                  [0, 0],
                  [1, 1],
                  [1, 1],
                  [0, 0],
                ]) as tf.Tensor5D,
                w as tf.Tensor5D,
                [2, 1, 1],
                'valid',
              ),
              b,
            ),
            t0!,
          ),
        ),
      )([a0!, w0!, b0!]);
      const out = await Promise.all(grads.map((g) => g.data()));
      tf.dispose([a0!, w0!, b0!, t0!, ...grads]);
      return out;
    })();
    await useBackend(backend);
    ['input', 'kernel', 'bias'].forEach((name, i) =>
      assertClose(viaConv2d[i]!, viaConv3d[i]! as Float32Array, { atol: 1e-4, name: `d/d ${name}` }),
    );
    tf.dispose([video, kernel, bias, ours, reference, target, ...viaConv2d]);
  });

  it('TemporalConv keeps the 3-D kernel layout: PyTorch nn.Conv3d [out, in, L, kh, kw] on export', async () => {
    const conv = new TemporalConv({ inChannels: 2, outChannels: 3, frames: 4, kernelSize: 3, stride: 2, seed: 1 });
    expect(conv.weight.shape).toEqual([4, 3, 3, 2, 3]);
    const torch = await conv.exportStateDict({ layout: 'torch' });
    expect(torch.get('weight')!.shape).toEqual([3, 2, 4, 3, 3]);
    // PyTorch's default bound: 1/√fanIn for the bias, fanIn = 2·4·3·3.
    expect(Math.max(...Array.from(await conv.bias.data(), Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(72));
    conv.dispose();
  });
});

describe('FeaturePoolingNet: every variant of Ng et al. 2015 (sec. 3.1) by hand on a tiny video', () => {
  // Frames of one pixel, values x = [1, 3, 2, 0] over time, an identity trunk, FC h = relu(3 − v)
  // (weight −1, bias 3) and classifier logits [h + 0.5, −h] (for 'local': weights on each window).
  const identity: ConvTrunk = { outputShape: [1, 1, 1], apply: (frames) => tf.clone(frames) };
  const video = (): tf.Tensor => tf.reshape(tf.tensor1d([1, 3, 2, 0]), [1, 4, 1, 1, 1]);

  async function logitsOf(
    pooling: 'conv' | 'late' | 'slow' | 'local' | 'time-conv',
    extra: Record<string, number> = {},
  ): Promise<number[]> {
    const windowed = pooling === 'slow' || pooling === 'local' || pooling === 'time-conv';
    const model = new FeaturePoolingNet({
      frameSize: 1,
      numClasses: 2,
      pooling,
      hiddenSize: 1,
      trunk: identity,
      ...(windowed ? { window: 2, stride: 1 } : {}),
      ...(pooling === 'local' ? { numFrames: 4 } : {}),
      ...(pooling === 'time-conv' ? { timeConvChannels: 1, timeConvKernel: 1 } : {}),
      ...extra,
    });
    const towers = pooling === 'local' ? 3 : 1;
    const classifierWeight =
      pooling === 'local'
        ? [
            [1, 0],
            [10, 0],
            [100, -1],
          ]
        : [[1, -1]];
    model.loadStateDict({
      'fc.weight': tf.tensor2d([[-1]]),
      'fc.bias': tf.tensor1d([3]),
      'classifier.weight': tf.tensor2d(classifierWeight, [towers, 2]),
      'classifier.bias': tf.tensor1d([0.5, 0]),
      ...(pooling === 'time-conv'
        ? { 'time_conv.weight': tf.reshape(tf.tensor1d([1, -1]), [2, 1, 1, 1, 1]), 'time_conv.bias': tf.tensor1d([0]) }
        : {}),
    });
    const x = video();
    const result = model.apply(x);
    const logits = Array.from(await result.logits.data());
    const probabilities = await result.probabilities.data();
    expect(probabilities[0]! + probabilities[1]!).toBeCloseTo(1, 6);
    tf.dispose([x, result.logits, result.probabilities]);
    model.dispose();
    return logits;
  }

  it('conv pooling: max over time of the conv maps (3), then FC: h = relu(3 − 3) = 0', async () => {
    expect(await logitsOf('conv')).toEqual([0.5, 0]);
  });

  it('late pooling: FC per frame [2, 0, 1, 3], then max over time: h = 3', async () => {
    expect(await logitsOf('late')).toEqual([3.5, -3]);
  });

  it('slow pooling: local max (window 2, stride 1) [3, 3, 2], shared FC [0, 0, 1], max over windows: h = 1', async () => {
    expect(await logitsOf('slow')).toEqual([1.5, -1]);
  });

  it('local pooling: the same local max and FC [0, 0, 1], every window to the softmax: 1·0 + 10·0 + 100·1', async () => {
    expect(await logitsOf('local')).toEqual([100.5, -1]);
  });

  it('time-domain convolution: x_k − x_{k+1} = [−2, 1, 2], ReLU, max 2, then FC: h = relu(3 − 2) = 1', async () => {
    expect(await logitsOf('time-conv')).toEqual([1.5, -1]);
  });

  it('parameter names, sizes and the loss', async () => {
    const model = new FeaturePoolingNet({
      frameSize: 8,
      numClasses: 3,
      pooling: 'local',
      numFrames: 6,
      window: 2,
      stride: 2,
      hiddenSize: 5,
    });
    expect(model.namedParameters().map(([n, v]) => `${n} ${v.shape.join('×')}`)).toEqual([
      'trunk.layers.0.weight 3×3×1×8',
      'trunk.layers.0.bias 8',
      'trunk.layers.1.weight 3×3×8×16',
      'trunk.layers.1.bias 16',
      'fc.weight 64×5',
      'fc.bias 5',
      'classifier.weight 15×3', // 3 windows × 5
      'classifier.bias 3',
    ]);
    const logits = tf.tensor2d([
      [1, 2, 0.5],
      [0, 0, 0],
    ]);
    const labels = tf.tensor1d([1, 2], 'int32');
    const loss = model.loss({ logits, probabilities: tf.softmax(logits) as tf.Tensor2D }, labels);
    const byHand = (-(2 - Math.log(Math.exp(1) + Math.exp(2) + Math.exp(0.5))) + Math.log(3)) / 2;
    expect((await loss.data())[0]).toBeCloseTo(byHand, 5);
    tf.dispose([logits, labels, loss]);
    model.dispose();
  });

  it('does not leak tensors (forward and gradients), for every variant', async () => {
    const x = random([2, 6, 8, 8, 1], 4);
    const labels = tf.tensor1d([0, 1], 'int32');
    for (const pooling of ['conv', 'late', 'slow', 'local', 'time-conv'] as const) {
      const model = new FeaturePoolingNet({
        frameSize: 8,
        numClasses: 2,
        pooling,
        ...(pooling === 'conv' || pooling === 'late' ? {} : { window: 3, stride: 2 }),
        ...(pooling === 'local' ? { numFrames: 6 } : {}),
      });
      await expectNoLeakedTensors(() => model.apply(x), `${pooling} apply`);
      await expectNoLeakedTensors(() => {
        const { value, grads } = tf.variableGrads(() => tf.tidy(() => model.loss(model.apply(x), labels)));
        expect(Object.keys(grads).length).toBe(model.parameters().length);
        return [value, ...Object.values(grads)];
      }, `${pooling} gradients`);
      model.dispose();
    }
    tf.dispose([x, labels]);
  });

  it('rejects bad options and input', () => {
    expect(() => new FeaturePoolingNet({ frameSize: 8, numClasses: 2, pooling: 'mean' as never })).toThrow(
      /pooling: expected one of "conv", "late", "slow", "local", "time-conv", received "mean"/,
    );
    expect(() => new FeaturePoolingNet({ frameSize: 8, numClasses: 2, pooling: 'local' })).toThrow(
      /numFrames: expected the number of frames per video with pooling 'local'/,
    );
    expect(() => new FeaturePoolingNet({ frameSize: 8, numClasses: 2, pooling: 'conv', window: 3 })).toThrow(
      /window: expected nothing with pooling 'conv'/,
    );
    expect(() => new FeaturePoolingNet({ frameSize: 8, numClasses: 2, pooling: 'slow', timeConvChannels: 4 })).toThrow(
      /timeConvChannels: expected nothing unless pooling is 'time-conv'/,
    );
    expect(
      () => new FeaturePoolingNet({ frameSize: 8, numClasses: 2, pooling: 'slow', numFrames: 4, window: 5 }),
    ).toThrow(/window: expected at most numFrames \(4\), received 5/);
    expect(
      () => new FeaturePoolingNet({ frameSize: 8, numClasses: 2, trunk: { apply: (f: tf.Tensor) => f } as never }),
    ).toThrow(/trunk: expected a ConvTrunk/);
    const model = new FeaturePoolingNet({ frameSize: 8, numClasses: 2, pooling: 'slow', window: 4, stride: 2 });
    expect(() => model.apply(tf.zeros([1, 6, 8, 8, 3]))).toThrow(
      /video: expected \[batch, time, 8, 8, 1\] \(frameSize, frameChannels\), received \[1, 6, 8, 8, 3\]/,
    );
    expect(() => model.apply(tf.zeros([1, 3, 8, 8, 1]))).toThrow(
      /video: expected at least 4 frames \(window = 4\), received 3/,
    );
    expect(() => model.apply(tf.zeros([6, 8, 8, 1]))).toThrow(/video: expected \[batch, time, 8, 8, 1\]/);
    setDebugChecks(true);
    expect(() => model.apply(tf.fill([1, 4, 8, 8, 1], Number.NaN))).toThrow(
      /video: expected finite values, received NaN/,
    );
    model.dispose();
  });
});

describe('end to end on a two-class motion task (glyphs moving left vs right, 16×16, 8 frames)', () => {
  const train = movingGlyphVideos({ count: 128, seed: 1 });
  const test = movingGlyphVideos({ count: 64, seed: 2 });
  let xs: tf.Tensor5D;
  let ys: tf.Tensor1D;
  let xt: tf.Tensor5D;
  beforeAll(() => {
    xs = tf.tensor5d(train.videos, [...train.shape]);
    ys = tf.tensor1d(train.labels, 'int32');
    xt = tf.tensor5d(test.videos, [...test.shape]);
  });
  const batch = (step: number, size = 32) => {
    const start = (step * size) % 128;
    return { x: tf.slice(xs, [start, 0, 0, 0, 0], [size, -1, -1, -1, -1]), y: tf.slice(ys, [start], [size]), start };
  };

  it('time-domain convolution pooling reaches > 90% held-out accuracy in 40 seeded Adam steps', async () => {
    const model = new FeaturePoolingNet({
      frameSize: 16,
      numClasses: 2,
      pooling: 'time-conv',
      window: 3,
      stride: 1,
      seed: 1,
    });
    const started = performance.now();
    const losses = await trainSteps(model, 40, 3e-3, (step) =>
      tf.tidy(() => {
        const { x, y } = batch(step);
        return model.loss(model.apply(x), y);
      }),
    );
    report('time-conv pooling: train ms (40 steps)', performance.now() - started);
    const accuracy = await evaluateAccuracy(model, xt, test.labels);
    report('time-conv pooling: held-out accuracy', accuracy);
    expect(accuracy).toBeGreaterThan(0.9);
    expect(losses[losses.length - 1]!).toBeLessThan(0.2);
    model.dispose();
  });

  it('conv pooling alone cannot tell the direction (orderless max: chance), its optical-flow stream can (> 90%)', async () => {
    const model = new TwoStreamNet({
      image: new FeaturePoolingNet({ frameSize: 16, numClasses: 2, pooling: 'conv', seed: 1 }),
      flow: new FeaturePoolingNet({ frameSize: 16, frameChannels: 2, numClasses: 2, pooling: 'conv', seed: 2 }),
      flowOptions: { iterations: 50 },
    });
    expect(model.namedParameters().map(([n]) => n.split('.')[0])).toEqual([
      ...new Array(8).fill('image'),
      ...new Array(8).fill('flow'),
    ]);
    let started = performance.now();
    const flows = model.computeFlow(xs); // once for the training set: [128, 7, 16, 16, 2]
    const flowsTest = model.computeFlow(xt);
    report('Horn–Schunck flow of 192 videos × 7 pairs (ms)', performance.now() - started);
    expect(flows.shape).toEqual([128, 7, 16, 16, 2]);
    started = performance.now();
    await trainSteps(model, 30, 3e-3, (step) =>
      tf.tidy(() => {
        const { x, y, start } = batch(step);
        const flow = tf.slice(flows, [start, 0, 0, 0, 0], [32, -1, -1, -1, -1]);
        return model.loss(model.apply(x, { flow }), y);
      }),
    );
    report('two-stream conv pooling: train ms (30 steps)', performance.now() - started);
    const imageAccuracy = await evaluateAccuracy(model.image, xt, test.labels);
    const flowAccuracy = await evaluateAccuracy(model.flow, flowsTest, test.labels);
    const fused = tf.tidy(() => tf.argMax(model.apply(xt, { flow: flowsTest }).probabilities, 1));
    const predicted = await fused.data();
    const fusedAccuracy = Array.from(predicted).filter((p, i) => p === test.labels[i]).length / 64;
    report('conv pooling accuracy: image, flow, fused', [imageAccuracy, flowAccuracy, fusedAccuracy]);
    expect(imageAccuracy).toBeLessThan(0.75);
    expect(flowAccuracy).toBeGreaterThan(0.9);
    expect(fusedAccuracy).toBeGreaterThan(0.9);
    tf.dispose([flows, flowsTest, fused]);
    model.dispose();
  });

  it('two-stream fusion: (1 − w)·p_image + w·p_flow; flow with magnitude; bad streams are rejected', async () => {
    const image = new FeaturePoolingNet({ frameSize: 16, numClasses: 2, seed: 3 });
    const flowStream = new FeaturePoolingNet({ frameSize: 16, frameChannels: 3, numClasses: 2, seed: 4 });
    const model = new TwoStreamNet({
      image,
      flow: flowStream,
      flowWeight: 0.25,
      flowMagnitude: true,
      flowOptions: { iterations: 10 },
    });
    const x = tf.slice(xt, [0, 0, 0, 0, 0], [2, 4, -1, -1, -1]);
    const flow = model.computeFlow(x);
    expect(flow.shape).toEqual([2, 3, 16, 16, 3]);
    const magnitude = tf.tidy(() =>
      tf.sqrt(tf.sum(tf.square(tf.slice(flow, [0, 0, 0, 0, 0], [-1, -1, -1, -1, 2])), 4, true)),
    );
    assertClose(tf.slice(flow, [0, 0, 0, 0, 2], [-1, -1, -1, -1, 1]), magnitude, {
      atol: 1e-6,
      name: 'magnitude channel',
    });
    const result = model.apply(x, { flow });
    const byHand = tf.add(tf.mul(result.image.probabilities, 0.75), tf.mul(result.flow.probabilities, 0.25));
    assertClose(result.probabilities, byHand, { atol: 1e-6, name: 'fused' });
    await expectNoLeakedTensors(() => model.apply(x), 'TwoStreamNet.apply (computing the flow)');
    expect(() => new TwoStreamNet({ image, flow: image })).toThrow(
      /flow.frameChannels: expected 2 \(u, v\), received 1/,
    );
    expect(() => model.apply(x, { flow: tf.zeros([2, 4, 16, 16, 3]) })).toThrow(
      /flow: expected \[2, 3, 16, 16, 3\] \(computeFlow of video\)/,
    );
    tf.dispose([
      x,
      flow,
      magnitude,
      byHand,
      result.probabilities,
      result.image.logits,
      result.image.probabilities,
      result.flow.logits,
      result.flow.probabilities,
    ]);
    model.dispose();
  });
});
