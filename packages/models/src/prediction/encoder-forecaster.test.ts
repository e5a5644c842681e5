import * as tf from '@tensorflow/tfjs-core';
import { type HostTensor, type SafetensorsContents, setDebugChecks } from '@vid/core';
import { assertClose, expectNoLeakedTensors } from '@vid/core/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { convertConvLSTMStateDict } from '@vid/cells';

import {
  expectForward,
  expectGradients,
  get,
  initTestBackend,
  loadLocalFixture,
  torchGradients,
  videoFromTorch,
  videoToTorch,
  withPrefix,
} from './__fixtures__/parity.js';
import { EncoderForecaster } from './encoder-forecaster.js';
import { depthToSpace, spaceToDepth } from './patches.js';
import { scheduledSampling } from './teacher-forcing.js';

beforeAll(async () => {
  await initTestBackend();
});

const parametersOf = (t: ReadonlyMap<string, HostTensor>) =>
  new Map([...t].filter(([n]) => /^(encoder|forecaster|output)\./.test(n)));

describe('spaceToDepth / depthToSpace', () => {
  it("64×64×1 → 16×16×16 with 4×4 patches, in TensorFlow's space_to_depth channel order, and back", () => {
    const x = tf.reshape(tf.range(0, 2 * 64 * 64, 1, 'float32'), [2, 64, 64, 1]);
    const patched = spaceToDepth(x, 4);
    expect(patched.shape).toEqual([2, 16, 16, 16]);
    // Pixel (y, x) = (4·1 + 2, 4·3 + 1) of image 1 lands in patch (1, 3), channel dy·4 + dx = 9.
    const value = tf.slice(patched, [1, 1, 3, 9], [1, 1, 1, 1]).dataSync()[0];
    expect(value).toBe(64 * 64 + 6 * 64 + 13);
    // tfjs's depthToSpace (DCR, forward only) inverts it too.
    const reference = tf.depthToSpace(patched as tf.Tensor4D, 4);
    assertClose(reference, x, { atol: 0, name: 'tf.depthToSpace' });
    const back = depthToSpace(patched, 4);
    assertClose(back, x, { atol: 0, name: 'depthToSpace' });
    tf.dispose([x, patched, reference, back]);
  });

  it('videos [batch, time, H, W, C] patch frame by frame; gradients pass through', async () => {
    const video = tf.randomUniform([2, 3, 8, 4, 2], 0, 1, 'float32', 1);
    const patched = spaceToDepth(video, 2);
    expect(patched.shape).toEqual([2, 3, 4, 2, 8]);
    const frame = spaceToDepth(tf.squeeze(tf.slice(video, [1, 2, 0, 0, 0], [1, 1, 8, 4, 2]), [1]), 2);
    assertClose(tf.squeeze(tf.slice(patched, [1, 2, 0, 0, 0], [1, 1, 4, 2, 8]), [1]), frame, {
      atol: 0,
      name: 'frame',
    });
    const weights = tf.randomUniform([2, 3, 4, 2, 8], 0, 1, 'float32', 2);
    const grad = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(spaceToDepth(v, 2), weights)))(video);
    assertClose(grad, depthToSpace(weights, 2), { atol: 0, name: 'gradient = depthToSpace of the upstream gradient' });
    await expectNoLeakedTensors(() => tf.tidy(() => depthToSpace(spaceToDepth(video, 2), 2)), 'patching');
    tf.dispose([video, patched, frame, weights, grad]);
  });

  it('bad input names x, patchSize and the shape', () => {
    const odd = tf.zeros([1, 6, 5, 1]);
    const flat = tf.zeros([4, 4]);
    const depth = tf.zeros([1, 2, 2, 6]);
    expect(() => spaceToDepth(odd, 2)).toThrow(
      /spaceToDepth: x: expected height and width divisible by patchSize 2, received \[1, 6, 5, 1\]/,
    );
    expect(() => spaceToDepth(flat, 2)).toThrow(
      /x: expected rank 4 \[batch, height, width, channels\] or rank 5.*received rank 2 \[4, 4\]/,
    );
    expect(() => depthToSpace(depth, 2)).toThrow(
      /depthToSpace: x: expected channels divisible by patchSize² = 4, received \[1, 2, 2, 6\]/,
    );
    expect(() => spaceToDepth(odd, 0)).toThrow(/patchSize: expected a positive integer, received 0/);
    tf.dispose([odd, flat, depth]);
  });
});

describe('EncoderForecaster: parity with the encoder-forecaster written from Shi et al. 2015 (sec. 3.3, fig. 3)', () => {
  let contents: SafetensorsContents;
  beforeAll(async () => {
    contents = await loadLocalFixture('encoder-forecaster.safetensors');
  });

  it('paper: no forecaster input, spatial peepholes, per-layer kernels 3 and 5, 2×2 patches; predictions, loss, every gradient', () => {
    const t = withPrefix(contents, 'paper.');
    const model = new EncoderForecaster({
      frameSize: [8, 8],
      patchSize: 2,
      hiddenChannels: [5, 4],
      kernelSize: [3, 5],
    });
    const params = parametersOf(t);
    expect(
      model
        .namedParameters()
        .map(([n]) => n)
        .sort(),
    ).toEqual([...params.keys()].sort());
    model.loadStateDict(params, { layout: 'torch' });
    const frames = videoFromTorch(get(t, 'input'));
    const targets = videoFromTorch(get(t, 'targets'));
    const result = model.apply(frames, { horizon: 2 });
    const predictions = videoToTorch(result.predictions);
    expectForward(predictions, get(t, 'predictions'), 'predictions');
    tf.dispose([predictions, result.predictions, result.logits]);
    const { value, grads } = torchGradients(model, () =>
      tf.tidy(() => tf.mean(tf.squaredDifference(model.apply(frames, { horizon: 2 }).predictions, targets))),
    );
    expectForward(value, get(t, 'loss'), 'loss');
    expectGradients(grads, t);
    tf.dispose([frames, targets]);
    model.dispose();
  });

  for (const mode of ['forced', 'free'] as const) {
    it(`previous-frame input, ${mode === 'forced' ? 'teacher forcing' : 'free running (own predictions fed back)'}: predictions, loss, every gradient`, () => {
      const t = withPrefix(contents, 'previous.');
      const model = new EncoderForecaster({
        frameSize: [8, 8],
        patchSize: 2,
        hiddenChannels: [4, 4],
        kernelSize: 3,
        peephole: 'none',
        forecasterInput: 'previous-frame',
      });
      model.loadStateDict(parametersOf(t), { layout: 'torch' });
      const frames = videoFromTorch(get(t, 'input'));
      const targets = videoFromTorch(get(t, 'targets'));
      const options = { horizon: 3, targets, teacherForcing: mode === 'forced' };
      const result = model.apply(frames, options);
      const predictions = videoToTorch(result.predictions);
      expectForward(predictions, get(t, `${mode}.predictions`), 'predictions');
      tf.dispose([predictions, result.predictions, result.logits]);
      const { value, grads } = torchGradients(model, () =>
        tf.tidy(() => tf.mean(tf.squaredDifference(model.apply(frames, options).predictions, targets))),
      );
      expectForward(value, get(t, `${mode}.loss`), 'loss');
      expectGradients(grads, withPrefix(contents, `previous.${mode}.`));
      tf.dispose([frames, targets]);
      model.dispose();
    });
  }
});

describe('EncoderForecaster: fused and unfused cells are the same model', () => {
  it('same seed, same predictions', () => {
    const base = { frameSize: [8, 8] as const, patchSize: 2, hiddenChannels: [3, 3], kernelSize: 3, seed: 4 };
    const fused = new EncoderForecaster({ ...base, fused: true });
    const unfused = new EncoderForecaster({ ...base, fused: false });
    const frames = tf.randomUniform([1, 2, 8, 8, 1], 0, 1, 'float32', 5);
    const a = fused.apply(frames, { horizon: 2 });
    const b = unfused.apply(frames, { horizon: 2 });
    assertClose(a.logits, b.logits, { atol: 1e-5, name: 'logits' });
    tf.dispose([frames, a.logits, a.predictions, b.logits, b.predictions]);
    fused.dispose();
    unfused.dispose();
  });
});

describe('EncoderForecaster: teacher forcing and scheduled sampling hooks', () => {
  const make = () =>
    new EncoderForecaster({
      frameSize: [4, 4],
      patchSize: 2,
      hiddenChannels: 2,
      numLayers: 2,
      kernelSize: 3,
      peephole: 'channel',
      forecasterInput: 'previous-frame',
      seed: 6,
    });
  const frames = () => tf.randomUniform([3, 2, 4, 4, 1], 0, 1, 'float32', 7);
  const targets = () => tf.randomUniform([3, 3, 4, 4, 1], 0, 1, 'float32', 8);

  it('ratio 1 is teacher forcing, 0 is free running; a given mask mixes them example by example', () => {
    const model = make();
    const x = frames();
    const y = targets();
    const forced = model.apply(x, { horizon: 3, targets: y, teacherForcing: true });
    const free = model.apply(x, { horizon: 3, targets: y, teacherForcing: false });
    const one = model.apply(x, { horizon: 3, targets: y, teacherForcing: true, scheduledSamplingRatio: 1 });
    const zero = model.apply(x, { horizon: 3, targets: y, teacherForcing: true, scheduledSamplingRatio: 0 });
    assertClose(one.logits, forced.logits, { atol: 0, name: 'p = 1' });
    assertClose(zero.logits, free.logits, { atol: 0, name: 'p = 0' });
    // Examples 0 and 2 read the truth, example 1 its predictions: mask [batch 3, steps 2], row-major.
    const mixed = model.apply(x, {
      horizon: 3,
      targets: y,
      teacherForcing: true,
      teacherForcingMask: [1, 1, 0, 0, 1, 1],
    });
    const pick = (r: { logits: tf.Tensor }, i: number) => tf.slice(r.logits, [i, 0, 0, 0, 0], [1, 3, 4, 4, 1]);
    for (const [i, source] of [
      [0, forced],
      [1, free],
      [2, forced],
    ] as const) {
      const a = pick(mixed, i);
      const b = pick(source, i);
      assertClose(a, b, { atol: 1e-6, name: `example ${i}` });
      tf.dispose([a, b]);
    }
    // The same mask as a tensor gives the same result.
    const maskTensor = tf.tensor2d([1, 1, 0, 0, 1, 1], [3, 2]);
    const mixedTensor = model.apply(x, {
      horizon: 3,
      targets: y,
      teacherForcing: true,
      teacherForcingMask: maskTensor,
    });
    assertClose(mixedTensor.logits, mixed.logits, { atol: 0, name: 'mask tensor = mask values' });
    // The first prediction never depends on the choice (it reads the last input frame).
    const firstForced = tf.slice(forced.logits, [0, 0, 0, 0, 0], [3, 1, 4, 4, 1]);
    const firstFree = tf.slice(free.logits, [0, 0, 0, 0, 0], [3, 1, 4, 4, 1]);
    assertClose(firstForced, firstFree, { atol: 0, name: 'step 0' });
    for (const r of [forced, free, one, zero, mixed, mixedTensor]) tf.dispose([r.logits, r.predictions]);
    tf.dispose([x, y, firstForced, firstFree, maskTensor]);
    model.dispose();
  });

  it("a ratio draws per example and step from a seeded rng: same seed, same result; the model's own rng advances", () => {
    const model = make();
    const x = frames();
    const y = targets();
    const a = model.apply(x, { horizon: 3, targets: y, teacherForcing: true, scheduledSamplingRatio: 0.5, rng: 3 });
    const b = model.apply(x, { horizon: 3, targets: y, teacherForcing: true, scheduledSamplingRatio: 0.5, rng: 3 });
    assertClose(a.logits, b.logits, { atol: 0, name: 'same seed' });
    // Without an rng, the model's own generator advances: models with one seed agree call by call.
    const twin = make();
    const states = (m: EncoderForecaster) => {
      const seen: string[] = [];
      for (let i = 0; i < 2; i++) {
        const r = m.apply(x, { horizon: 3, targets: y, teacherForcing: true, scheduledSamplingRatio: 0.5 });
        seen.push(JSON.stringify(m.samplingRng.getState()));
        tf.dispose([r.logits, r.predictions]);
      }
      return seen;
    };
    const first = states(model);
    expect(first).toEqual(states(twin));
    expect(first[0]).not.toEqual(first[1]);
    twin.dispose();
    for (const r of [a, b]) tf.dispose([r.logits, r.predictions]);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('Bengio et al. 2015 schedules', () => {
    const linear = scheduledSampling.linear({ initial: 1, final: 0.1, slope: 0.01 });
    expect(linear(0)).toBe(1);
    expect(linear(50)).toBeCloseTo(0.5);
    expect(linear(1000)).toBe(0.1);
    expect(scheduledSampling.exponential(0.99)(100)).toBeCloseTo(0.99 ** 100);
    const inverse = scheduledSampling.inverseSigmoid(10);
    expect(inverse(0)).toBeCloseTo(10 / 11);
    expect(inverse(100)).toBeLessThan(inverse(10));
    expect(() => scheduledSampling.exponential(2)).toThrow(/k: expected a number ≤ 1, received 2/);
  });

  it('predicting leaks no tensor; neither does a training step', async () => {
    const model = make();
    const x = frames();
    const y = targets();
    await expectNoLeakedTensors(
      () => model.apply(x, { horizon: 3, targets: y, teacherForcing: true, scheduledSamplingRatio: 0.5 }),
      'apply',
    );
    await expectNoLeakedTensors(() => {
      const { grads, value } = torchGradients(model, () =>
        tf.tidy(() =>
          tf.mean(
            tf.squaredDifference(
              model.apply(x, { horizon: 3, targets: y, teacherForcing: true, scheduledSamplingRatio: 0.5 }).predictions,
              y,
            ),
          ),
        ),
      );
      expect(Number.isFinite(value)).toBe(true);
      grads.forEach((g) => g.dispose());
    }, 'training step');
    const paper = new EncoderForecaster({ frameSize: [4, 4], patchSize: 2, hiddenChannels: 2, kernelSize: 3 });
    await expectNoLeakedTensors(() => paper.apply(x, { horizon: 3 }), 'apply (paper)');
    tf.dispose([x, y]);
    paper.dispose();
    model.dispose();
  });
});

describe('EncoderForecaster: bad input', () => {
  afterEach(() => setDebugChecks(false));
  it('names the argument, the expected and the received value', () => {
    const model = new EncoderForecaster({ frameSize: [8, 8], patchSize: 2, hiddenChannels: 2, kernelSize: 3 });
    const wrongSize = tf.zeros([1, 2, 8, 6, 1]);
    const frames = tf.zeros([1, 2, 8, 8, 1]);
    expect(() => model.apply(wrongSize, { horizon: 2 })).toThrow(
      /EncoderForecaster\.apply: frames: expected \[batch, time, 8, 8, 1\] \(frameSize, frameChannels\), received \[1, 2, 8, 6, 1\]/,
    );
    expect(() => model.apply(frames, { horizon: 0 })).toThrow(/horizon: expected a positive integer, received 0/);
    expect(() => model.apply(frames, { horizon: 2, teacherForcing: true })).toThrow(
      /teacherForcing: expected false when forecasterInput is 'none'/,
    );
    const nan = tf.fill([1, 2, 8, 8, 1], NaN);
    setDebugChecks(true);
    expect(() => model.apply(nan, { horizon: 1 })).toThrow(
      /frames: expected finite values, received NaN at flat index 0/,
    );
    model.dispose();
    const previous = new EncoderForecaster({
      frameSize: [8, 8],
      patchSize: 2,
      hiddenChannels: 2,
      kernelSize: 3,
      forecasterInput: 'previous-frame',
    });
    const short = tf.zeros([1, 1, 8, 8, 1]);
    expect(() => previous.apply(frames, { horizon: 3, teacherForcing: true })).toThrow(
      /targets: expected the ground-truth future frames with teacher forcing/,
    );
    expect(() => previous.apply(frames, { horizon: 3, targets: short, teacherForcing: true })).toThrow(
      /targets: expected \[1, ≥ 2, 8, 8, 1\].*received \[1, 1, 8, 8, 1\]/,
    );
    expect(() =>
      previous.apply(frames, { horizon: 3, targets: frames, teacherForcing: true, scheduledSamplingRatio: 1.5 }),
    ).toThrow(/scheduledSamplingRatio: expected a number ≤ 1, received 1\.5/);
    expect(() =>
      previous.apply(frames, { horizon: 3, targets: frames, teacherForcing: true, teacherForcingMask: [1, 0, 1] }),
    ).toThrow(/teacherForcingMask: expected 2 values \(batch 1 × 2 future steps\), row-major, received/);
    previous.dispose();
    expect(() => new EncoderForecaster({ frameSize: [64, 62], hiddenChannels: 2, kernelSize: 3 })).toThrow(
      /frameSize: expected a height and width divisible by patchSize 4, received \[64, 62\]/,
    );
    tf.dispose([wrongSize, frames, nan, short]);
  });
});

describe('convertConvLSTMStateDict', () => {
  it('an unfused encoder-forecaster, converted, loads into a fused one with the same predictions (and back)', async () => {
    const base = {
      frameSize: [8, 8] as const,
      patchSize: 2,
      hiddenChannels: [3, 2],
      kernelSize: [3, 2],
      peephole: 'channel' as const,
    };
    const unfused = new EncoderForecaster({ ...base, fused: false, seed: 1 });
    const fused = new EncoderForecaster({ ...base, fused: true, seed: 2 });
    const again = new EncoderForecaster({ ...base, fused: false, seed: 3 });
    // Make the peepholes non-zero so that they are carried too.
    for (const [name, v] of unfused.namedParameters()) if (name.includes('w_c')) v.assign(tf.fill(v.shape, 0.2));
    const frames = tf.randomUniform([1, 2, 8, 8, 1], 0, 1, 'float32', 9);
    const converted = convertConvLSTMStateDict(unfused.stateDict(), { to: 'fused' });
    expect([...converted.keys()].sort()).toEqual(
      fused
        .namedParameters()
        .map(([n]) => n)
        .sort(),
    );
    fused.loadStateDict(converted);
    const back = convertConvLSTMStateDict(fused.stateDict(), { to: 'unfused' });
    again.loadStateDict(back);
    const a = unfused.apply(frames, { horizon: 2 });
    const b = fused.apply(frames, { horizon: 2 });
    const c = again.apply(frames, { horizon: 2 });
    assertClose(b.logits, a.logits, { atol: 1e-5, name: 'fused' });
    assertClose(c.logits, a.logits, { atol: 0, name: 'round trip' });
    // PyTorch layout: the fused kernel is conv_x ⧺ conv_h on axis 1.
    const torch = await unfused.exportStateDict({ layout: 'torch' });
    const fusedTorch = convertConvLSTMStateDict(torch, { to: 'fused', layout: 'torch' });
    const fusedVid = tf.transpose(fusedTorch.get('encoder.cells.0.conv.weight')!, [2, 3, 1, 0]);
    assertClose(fusedVid, converted.get('encoder.cells.0.conv.weight')!, { atol: 0, name: 'torch layout' });
    tf.dispose([
      frames,
      fusedVid,
      a.logits,
      a.predictions,
      b.logits,
      b.predictions,
      c.logits,
      c.predictions,
      ...converted.values(),
      ...back.values(),
      ...fusedTorch.values(),
    ]);
    [unfused, fused, again].forEach((m) => m.dispose());
  });
});
