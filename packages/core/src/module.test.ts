import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { initBackend } from './backend/select.js';
import { ConfigError, ShapeError, StateDictError } from './errors.js';
import { computeFans, kaimingUniform, orthogonal, xavierUniform } from './init.js';
import { Conv2d, Linear, samePadding } from './layers.js';
import { Layouts, Module, ModuleList } from './module.js';
import { Rng } from './rng.js';
import { expectNoLeakedTensors, tensorsWithPrefix, torchGradients } from './testing/index.js';

class Block extends Module {
  readonly conv: Conv2d;
  readonly scale: tf.Variable;
  constructor(seed: number) {
    super();
    this.scale = this.registerParameter('scale', tf.ones([4]));
    this.conv = this.registerModule('conv', new Conv2d({ inChannels: 2, outChannels: 4, kernelSize: 3, seed }));
  }
}

class Net extends Module {
  readonly layers: ModuleList<Block>;
  readonly head: Linear;
  constructor() {
    super();
    this.layers = this.registerModule('layers', new ModuleList([new Block(1), new Block(2)]));
    this.head = this.registerModule('head', new Linear({ inFeatures: 4, outFeatures: 3, seed: 3 }));
  }
}

beforeAll(async () => {
  await initBackend({ backend: 'cpu', log: false });
});

describe('Module', () => {
  it('names parameters like PyTorch state dicts, in registration order', async () => {
    await expectNoLeakedTensors(() => {
      const net = new Net();
      expect(net.namedParameters().map(([n]) => n)).toEqual([
        'layers.0.scale',
        'layers.0.conv.weight',
        'layers.0.conv.bias',
        'layers.1.scale',
        'layers.1.conv.weight',
        'layers.1.conv.bias',
        'head.weight',
        'head.bias',
      ]);
      expect(net.numParameters()).toBe(2 * (4 + 3 * 3 * 2 * 4 + 4) + 4 * 3 + 3);
      net.dispose();
    });
  });

  it('exports PyTorch layouts and loads them back exactly', async () => {
    const a = new Net();
    const torch = await a.exportStateDict({ layout: 'torch' });
    expect(torch.get('layers.0.conv.weight')?.shape).toEqual([4, 2, 3, 3]);
    expect(torch.get('head.weight')?.shape).toEqual([3, 4]);
    const b = new Net();
    b.loadStateDict(torch, { layout: 'torch' });
    for (const [name, v] of a.namedParameters()) {
      expect([...b.stateDict().get(name)!.dataSync()], name).toEqual([...v.dataSync()]);
    }
    a.dispose();
    b.dispose();
  });

  it('lists every missing, unexpected and mis-shaped key in one error, and assigns nothing', async () => {
    const net = new Net();
    const state = await net.exportStateDict();
    const before = [...net.head.weight.dataSync()];
    const missing = new Map(state);
    missing.delete('head.bias');
    missing.set('head.extra', state.get('head.bias')!);
    const error = (() => {
      try {
        net.loadStateDict(missing);
      } catch (e) {
        return e as StateDictError;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(StateDictError);
    expect(error!.message).toMatch(/missing keys \(1\): head\.bias; unexpected keys \(1\): head\.extra/);
    expect(error!.missing).toEqual(['head.bias']);
    const wrong = new Map(state);
    wrong.set('head.weight', { dtype: 'F32', shape: [3, 4], data: new Float32Array(12).fill(9) });
    wrong.set('layers.0.scale', { dtype: 'F32', shape: [5], data: new Float32Array(5) });
    expect(() => net.loadStateDict(wrong, { source: 'ckpt.safetensors' })).toThrow(
      /ckpt\.safetensors: shape mismatch in Net: layers\.0\.scale: expected \[4\], received \[5\]; head\.weight: expected \[4, 3\], received \[3, 4\]/,
    );
    expect([...net.head.weight.dataSync()]).toEqual(before);
    const withExtras = new Map([...state, ['inputs.x', state.get('head.bias')!]]);
    expect(net.loadStateDict(withExtras, { ignore: (name) => name.startsWith('inputs.') })).toEqual({
      missing: [],
      unexpected: [],
    });
    const relaxed = net.loadStateDict(missing, { strict: false });
    expect(relaxed).toEqual({ missing: ['head.bias'], unexpected: ['head.extra'] });
    net.dispose();
  });

  it('freezes and unfreezes by prefix', () => {
    const net = new Net();
    net.freeze(['layers.0']);
    expect(net.trainableVariables().length).toBe(5);
    net.unfreeze();
    expect(net.trainableVariables().length).toBe(8);
    net.dispose();
    expect(net.isDisposed).toBe(true);
    net.dispose();
  });

  it('rejects bad names', () => {
    class Bad extends Module {
      constructor() {
        super();
        this.registerParameter('a.b', tf.zeros([1]));
      }
    }
    expect(() => new Bad()).toThrow(ConfigError);
  });
});

describe('initializers and layers', () => {
  it('computes fans as PyTorch does, on vid layouts', () => {
    expect(computeFans([5, 5, 3, 8])).toEqual({ fanIn: 75, fanOut: 200 });
    expect(computeFans([10, 4])).toEqual({ fanIn: 10, fanOut: 4 });
  });

  it('draws Kaiming-uniform weights within ±1/√fanIn, reproducibly', () => {
    const w = kaimingUniform()([3, 3, 4, 16], new Rng(1));
    const data = w.dataSync();
    const bound = 1 / Math.sqrt(36);
    expect(Math.max(...data)).toBeLessThanOrEqual(bound);
    expect(Math.min(...data)).toBeGreaterThanOrEqual(-bound);
    expect(Math.max(...data)).toBeGreaterThan(0.9 * bound);
    expect([...kaimingUniform()([3, 3, 4, 16], new Rng(1)).dataSync()]).toEqual([...data]);
    const x = xavierUniform()([20, 30], new Rng(2)).dataSync();
    expect(Math.max(...x)).toBeLessThanOrEqual(Math.sqrt(6 / 50));
  });

  it('makes orthogonal matrices', () => {
    for (const shape of [
      [6, 4],
      [4, 6],
      [2, 3, 5],
    ]) {
      const q = orthogonal()(shape, new Rng(3));
      const cols = shape[shape.length - 1]!;
      const m = tf.reshape(q, [-1, cols]);
      const gram = m.shape[0]! >= cols ? tf.matMul(m, m, true, false) : tf.matMul(m, m, false, true);
      const eye = tf.eye(gram.shape[0]!);
      expect(tf.max(tf.abs(tf.sub(gram, eye))).dataSync()[0]).toBeLessThan(1e-5);
    }
  });

  it('pads "same" like PyTorch for odd and even kernels', () => {
    expect(samePadding([3, 3])).toEqual([1, 1, 1, 1]);
    expect(samePadding([4, 4])).toEqual([1, 2, 1, 2]);
    expect(samePadding([3, 3], [2, 2])).toEqual([2, 2, 2, 2]);
    const conv = new Conv2d({
      inChannels: 1,
      outChannels: 1,
      kernelSize: 4,
      bias: false,
      weightInit: () => tf.ones([4, 4, 1, 1]),
    });
    const y = conv.apply(tf.ones([1, 5, 5, 1]) as tf.Tensor4D);
    expect(y.shape).toEqual([1, 5, 5, 1]);
    // Top-left output sees rows/cols 0..2 (1 pad before, 2 after): 3 × 3 ones.
    expect(y.dataSync()[0]).toBe(9);
    conv.dispose();
  });

  it('validates layer inputs and options with clear messages', () => {
    const conv = new Conv2d({ inChannels: 3, outChannels: 2, kernelSize: 3 });
    expect(() => conv.apply(tf.zeros([1, 4, 4, 2]) as tf.Tensor4D)).toThrow(ShapeError);
    expect(() => conv.apply(tf.zeros([1, 4, 4, 2]) as tf.Tensor4D)).toThrow(
      /x: expected \[batch, height, width, 3\], received \[1, 4, 4, 2\]/,
    );
    expect(() => new Conv2d({ inChannels: 0, outChannels: 2, kernelSize: 3 })).toThrow(
      /inChannels: expected a positive integer, received 0/,
    );
    expect(() => new Conv2d({ inChannels: 1, outChannels: 2, kernelSize: 3, stride: 2 })).toThrow(/padding/);
    const linear = new Linear({ inFeatures: 3, outFeatures: 2 });
    expect(linear.apply(tf.zeros([2, 5, 3])).shape).toEqual([2, 5, 2]);
    expect(() => linear.apply(tf.zeros([2, 4]))).toThrow(/x: expected \[\.\.\., 3\], received \[2, 4\]/);
    expect(Layouts.conv2d.toTorch(tf.zeros([3, 3, 2, 5])).shape).toEqual([5, 2, 3, 3]);
    conv.dispose();
    linear.dispose();
  });
});

describe('torchGradients and tensorsWithPrefix (testing helpers)', () => {
  it("gives every parameter's gradient in PyTorch layout, by name, and the loss, without leaks", async () => {
    const linear = new Linear({ inFeatures: 3, outFeatures: 2, seed: 1 });
    const x = tf.tensor2d([[1, 2, 3]]);
    await expectNoLeakedTensors(() => {
      const { value, grads } = torchGradients(linear, () => tf.sum(linear.apply(x)));
      expect(value).toBeCloseTo(
        tf.tidy(() => tf.sum(linear.apply(x)).dataSync()[0] as number),
        5,
      );
      expect([...grads.keys()].sort()).toEqual(['bias', 'weight']);
      // d sum(x W + b) / dW[i, o] = x[i]; PyTorch's weight is [out, in].
      expect(grads.get('weight')!.shape).toEqual([2, 3]);
      expect(Array.from(grads.get('weight')!.dataSync())).toEqual([1, 2, 3, 1, 2, 3]);
      expect(Array.from(grads.get('bias')!.dataSync())).toEqual([1, 1]);
      tf.dispose([...grads.values()]);
    }, 'torchGradients');
    x.dispose();
    linear.dispose();
  });

  it('selects a sub-model by prefix, from a map or fixture contents', () => {
    const t = { dtype: 'F32', shape: [1], data: new Float32Array([1]) } as never;
    const tensors = new Map([
      ['enc.w', t],
      ['dec.w', t],
    ]);
    expect([...tensorsWithPrefix(tensors, 'enc.').keys()]).toEqual(['w']);
    expect([...tensorsWithPrefix({ tensors, metadata: {} } as never, 'dec.').keys()]).toEqual(['w']);
  });
});
