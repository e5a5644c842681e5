import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError, hostToTensor, initBackend, setDebugChecks } from '@vid/core';
import {
  assertClose,
  expectNoLeakedTensors,
  fixtureMetadata,
  fixtureTensor,
  loadReferenceFixture,
  numericalGradient,
} from '@vid/core/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { loadLocalFixture, values } from './__fixtures__/local.js';
import { mse, psnr } from './pixel.js';
import { SSIM_PRESETS, describeSsim, resolveSsimConfig, ssim, ssimHost, ssimWindow1d } from './ssim.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});
afterEach(() => setDebugChecks(false));

const shared = await loadReferenceFixture('image-metrics.safetensors');

describe.runIf(shared !== null)('SSIM, PSNR and MSE against scikit-image 0.19.3 (shared image-metrics fixture)', () => {
  const contents = shared!;
  // [6, 64, 64] grayscale → [6, 64, 64, 1]
  const frames = (name: string) => tf.expandDims(hostToTensor(fixtureTensor(contents, name)), -1);

  it('documents the protocol it was made with', () => {
    const protocol = fixtureMetadata<string>(contents, 'protocol');
    expect(protocol).toContain('use_sample_covariance=False');
    expect(protocol).toContain('uint8(x*255)');
  });

  const cases = [
    ['wang2004', 'ssim.wang2004'],
    ['skimage', 'ssim.skimage_default_range1'],
    ['convttlstm', 'ssim.convttlstm_float_range2'],
    ['predrnn', 'ssim.predrnn_uint8'],
  ] as const;
  for (const [preset, key] of cases) {
    it(`SSIM preset ${preset} matches ${key} to 1e-5`, () => {
      const target = frames('target');
      const prediction = frames('prediction');
      const actual = ssim(prediction, target, preset);
      assertClose(actual, fixtureTensor(contents, key), { atol: 1e-5, name: key });
      // SSIM is symmetric in its two images.
      const swapped = ssim(target, prediction, preset);
      assertClose(swapped, actual, { atol: 1e-6, name: `${key} swapped` });
      tf.dispose([target, prediction, actual, swapped]);
    });

    it(`SSIM preset ${preset} on the host (float64, what FrameMetrics uses) matches ${key} to 1e-6`, () => {
      const target = fixtureTensor(contents, 'target');
      const prediction = fixtureTensor(contents, 'prediction');
      const [n, h, w] = target.shape as [number, number, number];
      const actual = ssimHost(prediction.data as Float32Array, target.data as Float32Array, [n, h, w, 1], preset);
      assertClose(Float32Array.from(actual), fixtureTensor(contents, key), { atol: 1e-6, name: `${key} (host)` });
    });
  }

  it('PSNR with data range 1 and per-pixel MSE match to 1e-5', () => {
    const target = frames('target');
    const prediction = frames('prediction');
    const p = psnr(prediction, target, { dataRange: 1 });
    const m = mse(prediction, target);
    assertClose(p, fixtureTensor(contents, 'psnr_range1'), { atol: 1e-5, name: 'psnr_range1' });
    assertClose(m, fixtureTensor(contents, 'mse_mean'), { atol: 1e-8, rtol: 1e-5, name: 'mse_mean' });
    tf.dispose([target, prediction, p, m]);
  });
});

describe('SSIM on colour, non-square frames against scikit-image (image-metrics-rgb fixture)', async () => {
  const contents = await loadLocalFixture('image-metrics-rgb.safetensors');
  const cases = [
    ['wang2004', 'ssim.wang2004'],
    ['skimage', 'ssim.skimage_range1'],
    ['convttlstm', 'ssim.convttlstm_float_range2'],
    ['predrnn', 'ssim.predrnn_uint8'],
  ] as const;
  for (const [preset, key] of cases) {
    it(`preset ${preset} averages over channels as skimage's channel_axis does`, () => {
      const target = hostToTensor(fixtureTensor(contents, 'target'));
      const prediction = hostToTensor(fixtureTensor(contents, 'prediction'));
      const actual = ssim(prediction, target, preset);
      assertClose(actual, values(contents, key), { atol: 1e-5, name: key });
      tf.dispose([target, prediction, actual]);
    });

    it(`preset ${preset} on the host matches ${key} to 1e-6`, () => {
      const target = fixtureTensor(contents, 'target');
      const prediction = fixtureTensor(contents, 'prediction');
      const actual = ssimHost(
        prediction.data as Float32Array,
        target.data as Float32Array,
        target.shape as [number, number, number, number],
        preset,
      );
      assertClose(Float32Array.from(actual), values(contents, key), { atol: 1e-6, name: `${key} (host)` });
    });
  }

  it('full options: 9×9 uniform window, population covariance, K1 0.02, K2 0.05', () => {
    const target = hostToTensor(fixtureTensor(contents, 'target'));
    const prediction = hostToTensor(fixtureTensor(contents, 'prediction'));
    const options = {
      window: 'uniform',
      windowSize: 9,
      covariance: 'population',
      k1: 0.02,
      k2: 0.05,
      dataRange: 1,
    } as const;
    const actual = ssim(prediction, target, options);
    assertClose(actual, values(contents, 'ssim.custom'), { atol: 1e-5, name: 'ssim.custom' });
    const host = ssimHost(
      fixtureTensor(contents, 'prediction').data as Float32Array,
      fixtureTensor(contents, 'target').data as Float32Array,
      target.shape as [number, number, number, number],
      options,
    );
    assertClose(Float32Array.from(host), values(contents, 'ssim.custom'), { atol: 1e-6, name: 'ssim.custom (host)' });
    expect(resolveSsimConfig(options).preset).toBe('custom');
    tf.dispose([target, prediction, actual]);
  });

  it('batches over leading dimensions: [batch, time, h, w, c] → [batch, time]', () => {
    const target = hostToTensor(fixtureTensor(contents, 'target'));
    const prediction = hostToTensor(fixtureTensor(contents, 'prediction'));
    // [3, h, w, c] → [1, 3, h, w, c]
    const actual = ssim(tf.expandDims(prediction, 0), tf.expandDims(target, 0), 'wang2004');
    expect(actual.shape).toEqual([1, 3]);
    assertClose(tf.reshape(actual, [3]), values(contents, 'ssim.wang2004'), { atol: 1e-5 });
    const single = ssim(
      tf.reshape(tf.slice(prediction, [1], [1]), [32, 40, 3]),
      tf.reshape(tf.slice(target, [1], [1]), [32, 40, 3]),
    );
    expect(single.shape).toEqual([]);
    tf.dispose([target, prediction, actual, single]);
  });
});

describe('SSIM options, errors and gradients', () => {
  it('resolves presets and describes them', () => {
    expect(resolveSsimConfig()).toEqual({ preset: 'wang2004', ...SSIM_PRESETS.wang2004 });
    expect(resolveSsimConfig('convttlstm').dataRange).toBe(2);
    expect(resolveSsimConfig({ preset: 'skimage', dataRange: 255 }).preset).toBe('custom');
    // σ = 2 without a size gives skimage's 2·⌊3.5σ + 0.5⌋ + 1 = 15 taps.
    expect(resolveSsimConfig({ sigma: 2 }).windowSize).toBe(15);
    expect(resolveSsimConfig({ window: 'uniform' }).windowSize).toBe(7);
    expect(describeSsim(resolveSsimConfig('predrnn'))).toBe(
      'SSIM [predrnn]: 7×7 uniform window, sample covariance, K1 0.01, K2 0.03, data range 255, on uint8(x·255) frames',
    );
    // A resolved config round-trips.
    const custom = resolveSsimConfig({ window: 'uniform', windowSize: 9, k1: 0.02 });
    expect(resolveSsimConfig(custom)).toEqual(custom);
  });

  it('builds scipy.ndimage Gaussian weights', () => {
    const w = ssimWindow1d({ window: 'gaussian', windowSize: 11, sigma: 1.5 });
    // scipy.ndimage._filters._gaussian_kernel1d(1.5, 0, 5)[5] = 0.26601172486179436
    expect(w[5]).toBeCloseTo(0.26601172486179436, 7);
    expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });

  it('rejects bad options with the field, expected and received values', () => {
    expect(() => resolveSsimConfig({ windowSize: 8 })).toThrow(/windowSize: expected an odd window size.*received 8/);
    expect(() => resolveSsimConfig('gaussian' as never)).toThrow(ConfigError);
    expect(() => resolveSsimConfig({ dataRange: 0 })).toThrow(/dataRange/);
    expect(() => resolveSsimConfig({ windowsize: 7 } as never)).toThrow(/windowsize.*unknown option/);
  });

  it('rejects mismatched shapes, wrong rank and frames smaller than the window', () => {
    const a = tf.zeros([2, 16, 16, 1]);
    const b = tf.zeros([2, 16, 16, 3]);
    const flat = tf.zeros([16, 16]);
    const small = tf.zeros([1, 9, 16, 1]);
    expect(() => ssim(a, b)).toThrow(
      /target: expected the shape of prediction \[2, 16, 16, 1\], received \[2, 16, 16, 3\]/,
    );
    expect(() => ssim(flat, flat)).toThrow(ShapeError);
    expect(() => ssim(flat, flat)).toThrow(/rank ≥ 3/);
    expect(() => ssim(small, small)).toThrow(/at least 11×11 pixels.*9×16/);
    expect(ssim(small, small, 'skimage').shape).toEqual([1]);
    tf.dispose([a, b, flat, small]);
  });

  it('with debug checks on, rejects NaN and values spanning more than the data range', () => {
    setDebugChecks(true);
    const target = tf.fill([1, 12, 12, 1], 0.5);
    const nan = tf.tensor4d(
      Float32Array.from({ length: 144 }, (_, i) => (i === 37 ? NaN : 0.5)),
      [1, 12, 12, 1],
    );
    const wide = tf.tensor4d(
      Float32Array.from({ length: 144 }, (_, i) => (i === 3 ? 1.5 : 0.2)),
      [1, 12, 12, 1],
    );
    expect(() => ssim(nan, target)).toThrow(/prediction: expected finite values, received NaN at flat index 37/);
    expect(() => ssim(wide, target)).toThrow(/spanning at most dataRange = 1.*\[0.2, 1.5\]/);
    // R = 2 (conv-tt-lstm) accepts the same values; uint8 quantization needs [0, 1].
    expect(() => tf.dispose(ssim(wide, target, 'convttlstm'))).not.toThrow();
    expect(() => ssim(wide, target, 'predrnn')).toThrow(
      /prediction: expected values in \[0, 1\], received values in \[0.2, 1.5\]/,
    );
    setDebugChecks(false);
    // Without debug checks, NaN propagates (documented).
    const value = ssim(nan, target, 'skimage');
    expect(Number.isNaN(value.dataSync()[0])).toBe(true);
    tf.dispose([target, nan, wide, value]);
  });

  it('host SSIM: equals the tensor path on random frames, and names bad shapes', () => {
    const shape = [5, 20, 24, 2] as const;
    const size = shape.reduce((a, b) => a * b, 1);
    const a = Float32Array.from({ length: size }, (_, i) => (Math.sin(i * 12.9898) * 43758.5453) % 1 ** 2);
    const p = a.map((v) => Math.abs(v));
    const t = p.map((v, i) => Math.min(1, Math.max(0, v + 0.2 * Math.sin(i))));
    for (const preset of ['wang2004', 'skimage', 'convttlstm', 'predrnn'] as const) {
      const tensor = ssim(tf.tensor4d(p, [...shape]), tf.tensor4d(t, [...shape]), preset);
      assertClose(Float32Array.from(ssimHost(p, t, shape, preset)), tensor, { atol: 1e-5, name: preset });
      tensor.dispose();
    }
    expect(() => ssimHost(p, t, [5, 20, 24, 3], 'skimage')).toThrow(/prediction\/target: expected 7200 values each/);
    expect(() => ssimHost(p.subarray(0, 5 * 6 * 6 * 2), t.subarray(0, 360), [5, 6, 6, 2], 'wang2004')).toThrow(
      /shape: expected frames of at least 11×11/,
    );
  });

  it('is 1 for identical images, and leaks no tensors', async () => {
    const x = tf.randomUniform([2, 3, 20, 20, 2], 0, 1, 'float32', 1);
    await expectNoLeakedTensors(() => ssim(x, x, 'wang2004'), 'ssim');
    const same = ssim(x, x, 'skimage');
    assertClose(same, new Float32Array(6).fill(1), { atol: 1e-6 });
    tf.dispose([x, same]);
  });

  it('has gradients that match finite differences (1 − SSIM as a loss)', () => {
    const target = tf.randomUniform([1, 13, 13, 1], 0, 1, 'float32', 2);
    const prediction = tf.randomUniform([1, 13, 13, 1], 0, 1, 'float32', 3);
    const loss = (p: tf.Tensor) =>
      tf.sum(tf.sub(1, ssim(p, target, { preset: 'skimage', windowSize: 7 }))) as tf.Scalar;
    const analytic = tf.grad(loss)(prediction);
    const numeric = numericalGradient(loss, prediction, 1e-2);
    assertClose(analytic, numeric, { relativeToMax: 2e-2, name: 'd(1 − ssim)/dprediction', checkShape: false });
    tf.dispose([target, prediction, analytic]);
  });
});
