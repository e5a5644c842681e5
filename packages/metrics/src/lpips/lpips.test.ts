import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  type HostTensor,
  ShapeError,
  StateDictError,
  hostToTensor,
  initBackend,
  setDebugChecks,
} from '@vid/core';
import {
  assertClose,
  expectNoLeakedTensors,
  fixtureMetadata,
  fixtureTensor,
  loadReferenceFixture,
} from '@vid/core/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { hashedInputs, hashedStateDict } from '../__fixtures__/hashed-weights.js';
import { loadLocalFixture, localFixturePath, values } from '../__fixtures__/local.js';
import { LPIPS, LPIPS_INPUT_PRESETS } from './lpips.js';
import { LPIPS_TRUNKS, type LpipsNet, trunkFeatureSizes } from './trunks.js';
import { normalizeLpipsNames } from './weights.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});
afterEach(() => setDebugChecks(false));

/** NCHW host tensor → NHWC tensor. */
const nhwc = (x: HostTensor | tf.Tensor): tf.Tensor4D =>
  tf.tidy(() => tf.transpose(x instanceof tf.Tensor ? x : hostToTensor(x), [0, 2, 3, 1]) as tf.Tensor4D);

const shared = await loadReferenceFixture('lpips-alex-random-trunk.safetensors');

describe.runIf(shared !== null)(
  'LPIPS against the official lpips package (shared lpips-alex-random-trunk fixture)',
  () => {
    const contents = shared!;
    const weights = () =>
      new Map([...contents.tensors].filter(([name]) => !['x0', 'x1', 'distance', 'distance.gray3'].includes(name)));

    it('loads the official state dict names and matches both distances to 1e-5', async () => {
      expect(fixtureMetadata<string>(contents, 'protocol')).toContain('inputs in [-1, 1]');
      const model = await LPIPS.load({ net: 'alex', preset: 'official', weights: weights() });
      const x0 = nhwc(fixtureTensor(contents, 'x0'));
      const x1 = nhwc(fixtureTensor(contents, 'x1'));
      const distance = model.distance(x0, x1);
      assertClose(distance, fixtureTensor(contents, 'distance'), { atol: 1e-5, name: 'distance' });
      // distance.gray3: channel 0 repeated to 3 channels; LPIPS repeats a 1-channel frame itself.
      const gray0 = tf.slice(x0, [0, 0, 0, 0], [-1, -1, -1, 1]);
      const gray1 = tf.slice(x1, [0, 0, 0, 0], [-1, -1, -1, 1]);
      const gray = model.distance(gray0, gray1);
      assertClose(gray, fixtureTensor(contents, 'distance.gray3'), { atol: 1e-5, name: 'distance.gray3' });
      // The per-layer values sum to the distance.
      const layers = model.layerDistances(x0, x1);
      expect(layers.shape).toEqual([2, 5]);
      assertClose(tf.sum(layers, 1), distance, { atol: 1e-7 });
      tf.dispose([x0, x1, distance, gray0, gray1, gray, layers]);
      model.dispose();
    });

    it('exports the official names in PyTorch layout (round trip)', async () => {
      const model = await LPIPS.load({ net: 'alex', preset: 'official', weights: weights() });
      const exported = await model.exportStateDict({ layout: 'torch' });
      const expected = fixtureTensor(contents, 'net.slice2.3.weight');
      expect(exported.get('net.slice2.3.weight')?.shape).toEqual([192, 64, 5, 5]);
      assertClose(exported.get('net.slice2.3.weight') as HostTensor, expected, { atol: 0 });
      expect(exported.get('scaling_layer.shift')?.shape).toEqual([1, 3, 1, 1]);
      expect([...exported.keys()].filter((k) => k.startsWith('lin'))).toEqual([
        'lin0.model.1.weight',
        'lin1.model.1.weight',
        'lin2.model.1.weight',
        'lin3.model.1.weight',
        'lin4.model.1.weight',
      ]);
      model.dispose();
    });
  },
);

describe('LPIPS trunks with hashed weights against the PyTorch reference (lpips-hashed-trunks fixture)', async () => {
  const contents = await loadLocalFixture('lpips-hashed-trunks.safetensors');
  const config = fixtureMetadata<Record<LpipsNet, { inputs: number[]; parameters: Array<[string, number[]]> }>>(
    contents,
    'config',
  );

  for (const net of ['alex', 'vgg', 'squeeze'] as const) {
    it(`${net}: distance and per-layer values match to 1e-6 on non-square frames`, async () => {
      const { inputs, parameters } = config[net];
      const model = await LPIPS.load({ net, preset: 'official', weights: hashedStateDict(parameters) });
      const { x0, x1 } = hashedInputs(inputs);
      const a = nhwc(tf.tensor4d(x0, inputs as [number, number, number, number]));
      const b = nhwc(tf.tensor4d(x1, inputs as [number, number, number, number]));
      const layers = model.layerDistances(a, b);
      const distance = model.distance(a, b);
      assertClose(layers, tf.tensor(values(contents, `${net}.per_layer`), layers.shape), {
        atol: 1e-6,
        name: `${net}.per_layer`,
      });
      assertClose(distance, values(contents, `${net}.distance`), { atol: 1e-6, name: `${net}.distance` });
      tf.dispose([a, b, layers, distance]);
      model.dispose();
    });
  }

  it('loads torchvision trunk names (features.N.*) plus the released lin weights from a .pth file', async () => {
    const { inputs, parameters } = config.squeeze;
    const hashed = hashedStateDict(parameters);
    // torchvision's squeezenet1_1 checkpoint: features.{i}.*, plus a classifier head LPIPS ignores.
    const torchvision = new Map<string, HostTensor>();
    for (const [name, tensor] of hashed) {
      const match = /^net\.slice\d+\.(.+)$/.exec(name);
      if (match) torchvision.set(`features.${match[1]}`, tensor);
    }
    torchvision.set('classifier.1.weight', { dtype: 'F32', shape: [1000, 512, 1, 1], data: new Float32Array(512000) });
    const model = await LPIPS.load({
      net: 'squeeze',
      preset: 'official',
      weights: [torchvision, localFixturePath('lpips-squeeze-lins.pth')],
    });
    const { x0, x1 } = hashedInputs(inputs);
    const a = nhwc(tf.tensor4d(x0, inputs as [number, number, number, number]));
    const b = nhwc(tf.tensor4d(x1, inputs as [number, number, number, number]));
    const distance = model.distance(a, b);
    assertClose(distance, values(contents, 'squeeze.distance'), { atol: 1e-6, name: 'squeeze.distance from .pth' });
    tf.dispose([a, b, distance]);
    model.dispose();
  });
});

describe('LPIPS names, input conventions and errors', () => {
  it('normalizes the known weight layouts onto lpips.LPIPS names', () => {
    const t = (shape: number[]): HostTensor => ({
      dtype: 'F32',
      shape,
      data: new Float32Array(shape.reduce((a, b) => a * b, 1)),
    });
    const { tensors, mapping } = normalizeLpipsNames(
      'alex',
      new Map([
        ['module.lins.0.model.1.weight', t([1, 64, 1, 1])],
        ['lin0.model.1.weight', t([1, 64, 1, 1])],
        ['lin1.model.0.weight', t([1, 192, 1, 1])],
        ['features.3.weight', t([192, 64, 5, 5])],
        ['features.12.weight', t([1])],
        ['classifier.1.weight', t([4096, 9216])],
      ]),
    );
    expect([...tensors.keys()].sort()).toEqual([
      'lin0.model.1.weight',
      'lin1.model.1.weight',
      'net.slice2.3.weight',
      'scaling_layer.scale',
      'scaling_layer.shift',
    ]);
    expect(mapping.renamed.get('net.slice2.3.weight')).toBe('features.3.weight');
    expect(mapping.dropped.get('module.lins.0.model.1.weight')).toBe('duplicate of lin0.model.1.weight');
    expect(mapping.dropped.has('classifier.1.weight')).toBe(true);
    expect(mapping.dropped.get('features.12.weight')).toMatch(/past the last LPIPS slice/);
    expect(mapping.filled).toEqual(['scaling_layer.shift', 'scaling_layer.scale']);
  });

  it('says which weights are missing and where to get them', async () => {
    const lins = new Map<string, HostTensor>(
      LPIPS_TRUNKS.alex.channels.map((c, k) => [
        `lin${k}.model.1.weight`,
        { dtype: 'F32', shape: [1, c, 1, 1], data: new Float32Array(c) },
      ]),
    );
    await expect(LPIPS.load({ net: 'alex', preset: 'unit', weights: lins })).rejects.toThrow(StateDictError);
    await expect(LPIPS.load({ net: 'alex', preset: 'unit', weights: lins })).rejects.toThrow(
      /missing keys \(10\): net\.slice1\.0\.weight.*Hint: the alex trunk is missing: pass torchvision's alexnet-owt-7be5be79\.pth/,
    );
    await expect(LPIPS.load({ net: 'alex', preset: 'unit', weights: '/nonexistent/alex.pth' })).rejects.toThrow(
      /\/nonexistent\/alex\.pth/,
    );
    await expect(LPIPS.load({ net: 'alex', preset: 'unit', weights: new Uint8Array([1, 2, 3]) })).rejects.toThrow(
      /truncated/,
    );
  });

  it('requires an explicit input range, and resolves the presets', () => {
    expect(() => new LPIPS({ net: 'alex' })).toThrow(ConfigError);
    expect(() => new LPIPS({ net: 'alex' })).toThrow(
      /inputRange: expected the range of the frames, '\[0,1\]' or '\[-1,1\]'/,
    );
    expect(() => new LPIPS({ inputRange: '[0,255]' as never })).toThrow(/inputRange: expected one of/);
    expect(() => new LPIPS({ net: 'resnet' as never, preset: 'unit' })).toThrow(
      /net: expected one of "alex", "vgg", "squeeze"/,
    );
    const quirk = new LPIPS({ preset: 'convttlstm' });
    expect([quirk.inputRange, quirk.rescale]).toEqual(['[0,1]', false]);
    expect(quirk.describe()).toBe(
      'LPIPS v0.1 [alex, convttlstm]: frames in [0, 1] fed unscaled (the network expects [-1, 1]), grayscale repeated to 3 channels',
    );
    const unit = new LPIPS({ inputRange: '[0,1]' });
    expect(unit.inputPreset).toBe('unit');
    expect(LPIPS_INPUT_PRESETS.predrnn).toEqual(LPIPS_INPUT_PRESETS.convttlstm);
    quirk.dispose();
    unit.dispose();
  });

  it('[0,1] frames rescaled equal [-1,1] frames; the conv-tt-lstm quirk does not', () => {
    const official = new LPIPS({ preset: 'official', seed: 3 });
    const unit = new LPIPS({ preset: 'unit', seed: 3 });
    const quirk = new LPIPS({ preset: 'convttlstm', seed: 3 });
    const a = tf.randomUniform([2, 40, 40, 3], 0, 1, 'float32', 1);
    const b = tf.randomUniform([2, 40, 40, 3], 0, 1, 'float32', 2);
    const signed = official.distance(tf.sub(tf.mul(a, 2), 1), tf.sub(tf.mul(b, 2), 1));
    assertClose(unit.distance(a, b), signed, { rtol: 1e-5 });
    const unscaled = quirk.distance(a, b);
    expect(Math.abs(unscaled.dataSync()[0]! - signed.dataSync()[0]!)).toBeGreaterThan(1e-4);
    tf.dispose([a, b, signed, unscaled]);
    for (const m of [official, unit, quirk]) m.dispose();
  });

  it('rejects wrong channels, small frames, mismatched shapes; with debug checks, values out of range', () => {
    const model = new LPIPS({ preset: 'unit' });
    const two = tf.zeros([1, 32, 32, 2]);
    const small = tf.zeros([1, 24, 40, 3]);
    const ok = tf.fill([1, 32, 32, 1], 0.5);
    const out = tf.fill([1, 32, 32, 1], 1.5);
    expect(() => model.distance(two, two)).toThrow(
      /prediction: expected \[\.\.\., height, width, 1 or 3\] \(grayscale or RGB\), received \[1, 32, 32, 2\]/,
    );
    expect(() => model.distance(small, small)).toThrow(ShapeError);
    expect(() => model.distance(small, small)).toThrow(/frames large enough for every alex slice/);
    expect(() => model.distance(ok, small)).toThrow(/target: expected the shape of prediction/);
    setDebugChecks(true);
    expect(() => model.distance(out, ok)).toThrow(
      /prediction: expected values in \[0, 1\], received values in \[1.5, 1.5\]/,
    );
    expect(() => model.distance(tf.fill([1, 32, 32, 1], NaN), ok)).toThrow(/finite values/);
    tf.dispose([two, small, ok, out]);
    model.dispose();
  });

  it('computes trunk feature sizes as PyTorch does (squeezenet ceil-mode pools)', () => {
    expect(trunkFeatureSizes('alex', 64, 64)).toEqual([
      [15, 15],
      [7, 7],
      [3, 3],
      [3, 3],
      [3, 3],
    ]);
    expect(trunkFeatureSizes('squeeze', 50, 44).map(([h]) => h)).toEqual([24, 12, 6, 3, 3, 3, 3]);
    expect(trunkFeatureSizes('vgg', 16, 16).at(-1)).toEqual([1, 1]);
  });

  it('batches over [batch, time], leaks no tensors, and has input gradients that match finite differences', async () => {
    const model = new LPIPS({ preset: 'unit', seed: 1 });
    const a = tf.randomUniform([2, 2, 32, 32, 1], 0.1, 0.9, 'float32', 4);
    const b = tf.randomUniform([2, 2, 32, 32, 1], 0.1, 0.9, 'float32', 5);
    const d = model.distance(a, b);
    expect(d.shape).toEqual([2, 2]);
    await expectNoLeakedTensors(() => model.distance(a, b), 'LPIPS.distance');
    // Directional derivative: ∇f·v against (f(a + εv) − f(a − εv)) / 2ε.
    const f = (x: tf.Tensor) => tf.sum(model.distance(x, b)) as tf.Scalar;
    const grad = tf.grad(f)(a);
    const direction = tf.randomNormal(a.shape, 0, 1, 'float32', 6);
    const analytic = tf.sum(tf.mul(grad, direction)).dataSync()[0]!;
    const eps = 1e-3;
    const plus = f(tf.add(a, tf.mul(direction, eps))).dataSync()[0]!;
    const minus = f(tf.sub(a, tf.mul(direction, eps))).dataSync()[0]!;
    const numeric = (plus - minus) / (2 * eps);
    expect(Math.abs(analytic - numeric)).toBeLessThan(2e-2 * Math.abs(numeric) + 1e-5);
    tf.dispose([a, b, d, grad, direction]);
    model.dispose();
  });
});
