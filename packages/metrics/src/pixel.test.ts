import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, hostToTensor, initBackend, setDebugChecks } from '@vid/core';
import { assertClose, expectNoLeakedTensors, fixtureTensor } from '@vid/core/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { loadLocalFixture, values } from './__fixtures__/local.js';
import { mae, mse, psnr, quantizeUint8 } from './pixel.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});
afterEach(() => setDebugChecks(false));

describe('pixel metrics against scikit-image / NumPy (image-metrics-rgb fixture)', async () => {
  const contents = await loadLocalFixture('image-metrics-rgb.safetensors');
  const target = () => hostToTensor(fixtureTensor(contents, 'target'));
  const prediction = () => hostToTensor(fixtureTensor(contents, 'prediction'));

  it('per-pixel MSE and MAE (skimage, conv-tt-lstm)', () => {
    const [t, p] = [target(), prediction()];
    assertClose(mse(p, t), values(contents, 'mse_mean'), { rtol: 1e-5, name: 'mse_mean' });
    assertClose(mae(p, t), values(contents, 'mae_mean'), { rtol: 1e-5, name: 'mae_mean' });
    tf.dispose([t, p]);
  });

  it('per-frame-sum MSE (PredRNN/OpenSTL) is height × width × channels times the per-pixel MSE', () => {
    const [t, p] = [target(), prediction()];
    const sum = mse(p, t, { reduction: 'sum' });
    const mean = mse(p, t);
    assertClose(sum, values(contents, 'mse_sum'), { rtol: 1e-5, name: 'mse_sum' });
    assertClose(sum, tf.mul(mean, 32 * 40 * 3), { rtol: 1e-6 });
    tf.dispose([t, p, sum, mean]);
  });

  it('PSNR: range 1, PredRNN uint8 (range 255) and the range skimage infers for float frames (1)', () => {
    const [t, p] = [target(), prediction()];
    assertClose(psnr(p, t, { dataRange: 1 }), values(contents, 'psnr_range1'), { atol: 1e-5, name: 'psnr_range1' });
    assertClose(psnr(p, t, { dataRange: 255, quantize: 'uint8' }), values(contents, 'psnr_predrnn_uint8'), {
      atol: 1e-5,
      name: 'psnr_predrnn_uint8',
    });
    assertClose(psnr(p, t, { dataRange: 1 }), values(contents, 'psnr_convttlstm_inferred'), {
      atol: 1e-5,
      name: 'psnr_convttlstm_inferred',
    });
    tf.dispose([t, p]);
  });
});

describe('pixel metrics: shapes, edge cases and errors', () => {
  it('reduces [batch, time, h, w, c] to [batch, time], and a single image to a scalar', async () => {
    const a = tf.randomUniform([2, 3, 8, 8, 1], 0, 1, 'float32', 5);
    const b = tf.randomUniform([2, 3, 8, 8, 1], 0, 1, 'float32', 6);
    expect(mse(a, b).shape).toEqual([2, 3]);
    expect(psnr(tf.slice(a, [0, 0], [1, 1]), tf.slice(b, [0, 0], [1, 1]), { dataRange: 1 }).shape).toEqual([1, 1]);
    const single = mae(tf.zeros([4, 4, 3]), tf.ones([4, 4, 3]));
    expect(single.shape).toEqual([]);
    expect(single.dataSync()[0]).toBe(1);
    await expectNoLeakedTensors(
      () => [mse(a, b), mae(a, b, { reduction: 'sum' }), psnr(a, b, { dataRange: 1, quantize: 'uint8' })],
      'pixel metrics',
    );
    tf.dispose([a, b]);
  });

  it('PSNR of identical frames is +Infinity, as in scikit-image', () => {
    const a = tf.fill([1, 4, 4, 1], 0.25);
    expect(psnr(a, a, { dataRange: 1 }).dataSync()[0]).toBe(Infinity);
    tf.dispose(a);
  });

  it('quantizes like np.uint8(x * 255): truncation, clipped instead of wrapped', () => {
    const x = tf.tensor1d([0, 0.5, 0.999, 1, 1.2, -0.1]);
    expect(Array.from(quantizeUint8(x).dataSync())).toEqual([0, 127, 254, 255, 255, 0]);
    tf.dispose(x);
  });

  it('rejects mismatched shapes, rank < 3, and a missing or bad data range', () => {
    const a = tf.zeros([2, 4, 4, 1]);
    const b = tf.zeros([2, 4, 5, 1]);
    expect(() => mse(a, b)).toThrow(ShapeError);
    expect(() => mse(a, b)).toThrow(
      /mse: target: expected the shape of prediction \[2, 4, 4, 1\], received \[2, 4, 5, 1\]/,
    );
    expect(() => mae(tf.zeros([4]), tf.zeros([4]))).toThrow(/prediction: expected rank ≥ 3/);
    expect(() => psnr(a, a, undefined as never)).toThrow(
      /options.dataRange: expected a data range \(1 for frames in \[0, 1\], 255 for 8-bit frames\); PSNR has no default range/,
    );
    expect(() => psnr(a, a, { dataRange: -1 })).toThrow(/dataRange: expected a number ≥/);
    expect(() => mse(a, a, { reduction: 'avg' as never })).toThrow(
      /reduction: expected one of "mean", "sum", received "avg"/,
    );
    tf.dispose([a, b]);
  });

  it('with debug checks on, rejects NaN, and values spanning more than the PSNR data range', () => {
    setDebugChecks(true);
    const good = tf.fill([1, 4, 4, 1], 0.5);
    const nan = tf.tensor4d([NaN, ...new Array(15).fill(0)], [1, 4, 4, 1]);
    const wide = tf.tensor4d([2, ...new Array(15).fill(0)], [1, 4, 4, 1]);
    expect(() => mse(nan, good)).toThrow(/prediction: expected finite values, received NaN at flat index 0/);
    expect(() => psnr(good, nan, { dataRange: 1 })).toThrow(/target: expected finite values/);
    expect(() => psnr(wide, good, { dataRange: 1 })).toThrow(/spanning at most dataRange = 1/);
    expect(() => psnr(wide, good, { dataRange: 255, quantize: 'uint8' })).toThrow(
      /prediction: expected values in \[0, 1\]/,
    );
    tf.dispose([good, nan, wide]);
  });
});
