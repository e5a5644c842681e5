import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, hostToTensor, initBackend } from '@vid/core';
import { assertClose, expectNoLeakedTensors, fixtureTensor, loadReferenceFixture } from '@vid/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';

import { loadLocalFixture, values } from './__fixtures__/local.js';
import { EVALUATION_PROTOCOLS, FrameMetrics, evaluateFrames, formatMetricsTable } from './evaluate.js';
import { LPIPS } from './lpips/lpips.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

const shared = await loadReferenceFixture('image-metrics.safetensors');

describe.runIf(shared !== null)(
  'per-frame evaluation reproduces scikit-image per frame (shared image-metrics fixture)',
  () => {
    const contents = shared!;
    // 6 frames [6, 64, 64] → videos [2, 3, 64, 64, 1]: sample b, frame t is image 3b + t.
    const videos = (name: string) => tf.reshape(hostToTensor(fixtureTensor(contents, name)), [2, 3, 64, 64, 1]);
    const perFrame = (key: string, scale = 1) => {
      const v = values(contents, key);
      return [0, 1, 2].map((t) => scale * mean([v[t]!, v[3 + t]!]));
    };

    it('convttlstm protocol: per-pixel MSE, PSNR R = 1, SSIM with R = 2', async () => {
      const [p, t] = [videos('prediction'), videos('target')];
      const result = await evaluateFrames(p, t, { protocol: 'convttlstm' });
      expect([result.samples, result.frames]).toEqual([2, 3]);
      assertClose(result.metrics.ssim!.perFrame as number[], perFrame('ssim.convttlstm_float_range2'), {
        atol: 1e-5,
        name: 'ssim',
      });
      assertClose(result.metrics.psnr!.perFrame as number[], perFrame('psnr_range1'), { atol: 1e-5, name: 'psnr' });
      assertClose(result.metrics.mse!.perFrame as number[], perFrame('mse_mean'), { rtol: 1e-5, name: 'mse' });
      expect(result.metrics.ssim!.mean).toBeCloseTo(mean(values(contents, 'ssim.convttlstm_float_range2')), 5);
      tf.dispose([p, t]);
    });

    it("skimage protocol: scikit-image's default SSIM (7×7 uniform, sample covariance, data range 1), PSNR R = 1", async () => {
      const [p, t] = [videos('prediction'), videos('target')];
      const result = await evaluateFrames(p, t, { protocol: 'skimage' });
      assertClose(result.metrics.ssim!.perFrame as number[], perFrame('ssim.skimage_default_range1'), {
        atol: 1e-5,
        name: 'ssim',
      });
      assertClose(result.metrics.psnr!.perFrame as number[], perFrame('psnr_range1'), { atol: 1e-5, name: 'psnr' });
      tf.dispose([p, t]);
    });

    it('predrnn protocol: per-frame-sum MSE (×4096 at 64×64), uint8 SSIM; standard: wang2004', async () => {
      const [p, t] = [videos('prediction'), videos('target')];
      const predrnn = await evaluateFrames(p, t, { protocol: 'predrnn' });
      assertClose(predrnn.metrics.ssim!.perFrame as number[], perFrame('ssim.predrnn_uint8'), {
        atol: 1e-5,
        name: 'ssim',
      });
      assertClose(predrnn.metrics.mse!.perFrame as number[], perFrame('mse_mean', 4096), {
        rtol: 1e-5,
        name: 'mse (sum)',
      });
      const standard = await evaluateFrames(p, t);
      assertClose(standard.metrics.ssim!.perFrame as number[], perFrame('ssim.wang2004'), { atol: 1e-5, name: 'ssim' });
      expect(predrnn.metrics.mse!.mean / standard.metrics.mse!.mean).toBeCloseTo(4096, 2);
      tf.dispose([p, t]);
    });
  },
);

describe('per-frame evaluation on colour frames (image-metrics-rgb fixture)', async () => {
  const contents = await loadLocalFixture('image-metrics-rgb.safetensors');
  // [3, 32, 40, 3] → one video of 3 frames, or 3 videos of 1 frame.
  const frames = (name: string, shape: number[]) => tf.reshape(hostToTensor(fixtureTensor(contents, name)), shape);

  it('predrnn PSNR on uint8 frames, per frame', async () => {
    const [p, t] = [frames('prediction', [1, 3, 32, 40, 3]), frames('target', [1, 3, 32, 40, 3])];
    const result = await evaluateFrames(p, t, { protocol: 'predrnn', metrics: ['psnr', 'mae'] });
    assertClose(result.metrics.psnr!.perFrame as number[], values(contents, 'psnr_predrnn_uint8'), { atol: 1e-5 });
    assertClose(
      result.metrics.mae!.perFrame as number[],
      values(contents, 'mae_mean').map((v) => v * 32 * 40 * 3),
      { rtol: 1e-5 },
    );
    expect(Object.keys(result.metrics)).toEqual(['mae', 'psnr']);
    tf.dispose([p, t]);
  });

  it('the result does not depend on how samples are split into batches', async () => {
    const [p, t] = [frames('prediction', [3, 1, 32, 40, 3]), frames('target', [3, 1, 32, 40, 3])];
    const whole = await evaluateFrames(p, t, { protocol: 'convttlstm' });
    const streamed = new FrameMetrics({ protocol: 'convttlstm' });
    for (let b = 0; b < 3; b++) {
      const [pb, tb] = [tf.slice(p, [b], [1]), tf.slice(t, [b], [1])];
      await streamed.update(pb, tb);
      tf.dispose([pb, tb]);
    }
    const result = streamed.result();
    expect(result.samples).toBe(3);
    for (const name of ['mse', 'mae', 'psnr', 'ssim'] as const) {
      expect(result.metrics[name]!.perFrame[0]).toBeCloseTo(whole.metrics[name]!.perFrame[0]!, 6);
    }
    assertClose(result.metrics.ssim!.perFrame as number[], [mean(values(contents, 'ssim.convttlstm_float_range2'))], {
      atol: 1e-5,
    });
    tf.dispose([p, t]);
  });
});

const sharedLpips = await loadReferenceFixture('lpips-alex-random-trunk.safetensors');

describe.runIf(sharedLpips !== null)('per-frame LPIPS (shared lpips-alex-random-trunk fixture)', () => {
  it('standard protocol on frames in [-1, 1] with an official-convention LPIPS', async () => {
    const contents = sharedLpips!;
    const weights = new Map(
      [...contents.tensors].filter(([name]) => name.includes('.') && !name.startsWith('distance')),
    );
    const model = await LPIPS.load({ preset: 'official', weights });
    // x: [2, 3, 64, 64] NCHW → [1, 2, 64, 64, 3]: one video of two frames.
    const video = (name: string) =>
      tf.expandDims(tf.transpose(hostToTensor(fixtureTensor(contents, name)), [0, 2, 3, 1]), 0);
    const [a, b] = [video('x0'), video('x1')];
    const result = await evaluateFrames(a, b, { valueRange: [-1, 1], lpips: model });
    assertClose(result.metrics.lpips!.perFrame as number[], fixtureTensor(contents, 'distance'), {
      atol: 1e-5,
      name: 'lpips',
    });
    expect(result.metrics.psnr!.convention).toContain('R = 2');
    // The conv-tt-lstm protocol needs the LPIPS quirk, and frames in [0, 1].
    expect(() => new FrameMetrics({ protocol: 'convttlstm', lpips: model })).toThrow(
      /lpips: expected an LPIPS built with preset 'convttlstm'.*received "an LPIPS with preset 'official'/,
    );
    tf.dispose([a, b]);
    model.dispose();
  });
});

describe('per-frame evaluation: result shape, errors and memory', () => {
  it('formats a table that names every convention', async () => {
    const p = tf.randomUniform([2, 2, 16, 16, 1], 0, 1, 'float32', 1);
    const t = tf.randomUniform([2, 2, 16, 16, 1], 0, 1, 'float32', 2);
    const result = await evaluateFrames(p, t, { protocol: 'predrnn' });
    const table = formatMetricsTable(result);
    expect(table).toContain('| metric | mean | t+1 | t+2 |');
    expect(table).toContain('MSE (per-frame sum) ↓');
    expect(table).toContain('SSIM [predrnn]: 7×7 uniform window, sample covariance');
    expect(table).toContain(EVALUATION_PROTOCOLS.predrnn.source);
    expect(result.metrics.psnr!.higherIsBetter).toBe(true);
    tf.dispose([p, t]);
  });

  it("clamps predictions under the papers' protocols and rejects them under standard", async () => {
    const t = tf.randomUniform([1, 2, 12, 12, 1], 0, 1, 'float32', 3);
    const p = tf.randomUniform([1, 2, 12, 12, 1], -0.2, 1.2, 'float32', 4);
    const clipped = tf.clipByValue(p, 0, 1);
    const a = await evaluateFrames(p, t, { protocol: 'convttlstm' });
    const b = await evaluateFrames(clipped, t, { protocol: 'convttlstm' });
    expect(a.metrics.ssim!.perFrame).toEqual(b.metrics.ssim!.perFrame);
    await expect(evaluateFrames(p, t)).rejects.toThrow(
      /batch 0\): prediction: expected values in \[0, 1\] \(valueRange; or outOfRange: 'clamp'\), received values in \[-0\.\d+, 1\.\d+\]/,
    );
    await expect(evaluateFrames(t, p, { protocol: 'convttlstm' })).rejects.toThrow(
      /target: expected values in \[0, 1\]/,
    );
    tf.dispose([t, p, clipped]);
  });

  it('takes integer frames (uint8 values in int32 tensors) as their float32 values', async () => {
    const values = Array.from({ length: 2 * 2 * 12 * 12 }, (_, i) => (i * 37) % 256);
    const shifted = values.map((v) => (v + 9) % 256);
    const metrics = ['mse', 'psnr', 'ssim'] as const;
    const asInt = new FrameMetrics({ metrics: [...metrics], valueRange: [0, 255] });
    const asFloat = new FrameMetrics({ metrics: [...metrics], valueRange: [0, 255] });
    const [pi, ti, pf, tf32] = [
      tf.tensor5d(shifted, [2, 2, 12, 12, 1], 'int32'),
      tf.tensor5d(values, [2, 2, 12, 12, 1], 'int32'),
      tf.tensor5d(shifted, [2, 2, 12, 12, 1]),
      tf.tensor5d(values, [2, 2, 12, 12, 1]),
    ];
    await asInt.update(pi, ti);
    await asFloat.update(pf, tf32);
    for (const name of metrics)
      expect(asInt.result().metrics[name]?.perFrame).toEqual(asFloat.result().metrics[name]?.perFrame);
    tf.dispose([pi, ti, pf, tf32]);
  });

  it('rejects NaN, wrong ranks, shape changes and bad options', async () => {
    const good = tf.fill([1, 2, 8, 8, 1], 0.5);
    const nan = tf.tidy(() =>
      tf.where(tf.equal(tf.reshape(tf.range(0, 128), [1, 2, 8, 8, 1]), 5), tf.fill([1, 2, 8, 8, 1], NaN), good),
    );
    const metrics = new FrameMetrics({ metrics: ['mse'] });
    await expect(metrics.update(nan, good)).rejects.toThrow(
      /prediction: expected finite values, received 1 NaN or infinite value/,
    );
    await expect(metrics.update(good, nan)).rejects.toThrow(/target: expected finite values/);
    await expect(metrics.update(tf.zeros([2, 8, 8, 1]), tf.zeros([2, 8, 8, 1]))).rejects.toThrow(
      /prediction: expected \[batch, time, height, width, channels\], received \[2, 8, 8, 1\]/,
    );
    await metrics.update(good, good);
    const three = tf.fill([1, 3, 8, 8, 1], 0.5);
    await expect(metrics.update(three, three)).rejects.toThrow(
      /expected 2 frames per video \(as in the previous batches\)/,
    );
    expect(metrics.result().samples).toBe(1);
    expect(() => new FrameMetrics().result()).toThrow(/at least one batch/);
    expect(() => new FrameMetrics({ protocol: 'openstl' as never })).toThrow(ConfigError);
    expect(() => new FrameMetrics({ metrics: ['lpips'] })).toThrow(/lpips: expected an LPIPS model/);
    expect(() => new FrameMetrics({ metrics: ['fid' as never] })).toThrow(/metrics\[0\]: expected one of/);
    expect(() => new FrameMetrics({ protocol: 'predrnn', valueRange: [-1, 1] })).toThrow(
      /valueRange: expected \[0, 1\] for the predrnn protocol/,
    );
    expect(() => new FrameMetrics({ psnr: { dataRange: 0 } })).toThrow(/dataRange/);
    tf.dispose([good, nan, three]);
  });

  it('leaks no tensors over a 100-batch evaluation with every metric', async () => {
    const lpips = new LPIPS({ preset: 'unit', seed: 5 });
    const metrics = new FrameMetrics({ lpips });
    const prediction = tf.randomUniform([1, 2, 32, 32, 1], 0, 1, 'float32', 6);
    const target = tf.randomUniform([1, 2, 32, 32, 1], 0, 1, 'float32', 7);
    await expectNoLeakedTensors(async () => {
      for (let batch = 0; batch < 100; batch++) await metrics.update(prediction, target);
      return metrics.result();
    }, '100-batch FrameMetrics loop');
    const result = metrics.result();
    expect(result.samples).toBe(100);
    expect(Object.keys(result.metrics)).toEqual(['mse', 'mae', 'psnr', 'ssim', 'lpips']);
    expect(result.metrics.lpips!.perFrame.every(Number.isFinite)).toBe(true);
    tf.dispose([prediction, target]);
    lpips.dispose();
  });
});
