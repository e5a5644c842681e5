import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, type SafetensorsContents, Rng, ShapeError, hostToTensor, setDebugChecks } from '@vid/core';
import {
  assertClose,
  expectNoLeakedTensors,
  fixtureMetadata,
  hasReferenceFixture,
  loadReferenceFixture,
  numericalGradient,
  numericalVariableGradient,
} from '@vid/core/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { expectForward, get, initTestBackend } from './__fixtures__/helpers.js';
import { attention } from './dot-product.js';
import { MultiHeadAttention } from './multi-head.js';

beforeAll(async () => {
  await initTestBackend();
});

afterEach(() => setDebugChecks(false));

const random = (shape: number[], seed: number): tf.Tensor =>
  tf.tensor(new Rng(seed).fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1))), shape);

describe.runIf(await hasReferenceFixture('attention.safetensors'))(
  'parity with torch.nn.MultiheadAttention (shared fixture)',
  () => {
    let fixture: SafetensorsContents;
    beforeAll(async () => {
      fixture = (await loadReferenceFixture('attention.safetensors'))!;
    });

    it('reads the protocol: 2 heads over 16 features, batch_first, key padding mask 1 = ignore', () => {
      expect(fixtureMetadata(fixture, 'config')).toEqual({ embed_dim: 16, num_heads: 2 });
      expect(fixtureMetadata<string>(fixture, 'protocol')).toContain('mask 1 = ignore key');
    });

    it('plain scaled dot-product attention: softmax(q kᵀ / √16) v, output and weights', async () => {
      const t = fixture.tensors;
      const query = hostToTensor(get(t, 'query'));
      const keyValue = hostToTensor(get(t, 'key_value'));
      const { output, weights } = attention(query, keyValue, keyValue);
      expectForward(output, get(t, 'sdpa.output'), 'sdpa.output');
      expectForward(weights, get(t, 'sdpa.weights'), 'sdpa.weights');
      tf.dispose([query, keyValue, output, weights]);
    });

    it('loads in_proj_weight, in_proj_bias, out_proj.* in PyTorch layout; output and per-head weights with the key padding mask', async () => {
      const t = fixture.tensors;
      const mha = new MultiHeadAttention({ embedDim: 16, numHeads: 2 });
      const params = new Map([...t].filter(([name]) => name.startsWith('in_proj_') || name.startsWith('out_proj.')));
      expect([...params.keys()].sort()).toEqual(['in_proj_bias', 'in_proj_weight', 'out_proj.bias', 'out_proj.weight']);
      mha.loadStateDict(params, { layout: 'torch', source: 'attention.safetensors' });
      expect(mha.inProjWeight!.shape).toEqual([16, 48]); // vid [in, out]; PyTorch [48, 16]

      const query = hostToTensor(get(t, 'query'));
      const keyValue = hostToTensor(get(t, 'key_value'));
      const mask = hostToTensor(get(t, 'key_padding_mask')); // float 0/1, 1 = ignore
      const perHead = mha.apply(query, keyValue, keyValue, { keyPaddingMask: mask, averageWeights: false });
      expectForward(perHead.output, get(t, 'output'), 'output');
      expectForward(perHead.weights, get(t, 'attention_weights'), 'attention_weights');
      // The masked keys (the last two) get exactly zero weight.
      const w = (await perHead.weights.array()) as number[][][][];
      for (const row of w.flat(2)) expect([row[5], row[6]]).toEqual([0, 0]);

      // PyTorch's default: weights averaged over heads; a boolean mask is the same mask.
      const boolMask = tf.cast(mask, 'bool');
      const averaged = mha.apply(query, keyValue, keyValue, { keyPaddingMask: boolMask });
      const expectedMean = tf.mean(hostToTensor(get(t, 'attention_weights')), 1);
      assertClose(averaged.weights, expectedMean, { relativeToMax: 1e-5, name: 'averaged weights' });
      assertClose(averaged.output, perHead.output, { atol: 0, name: 'output with a bool mask' });

      // Export gives the PyTorch tensors back exactly.
      const exported = await mha.exportStateDict({ layout: 'torch' });
      for (const [name, value] of params) assertClose(exported.get(name)!, value, { atol: 0, name });
      tf.dispose([
        query,
        keyValue,
        mask,
        boolMask,
        expectedMean,
        perHead.output,
        perHead.weights,
        averaged.output,
        averaged.weights,
      ]);
      mha.dispose();
    });
  },
);

describe('attention: weights are distributions that respect the masks', () => {
  it('rows sum to 1; padding keys, forbidden pairs and future keys get exactly 0', async () => {
    const q = random([2, 3, 5, 4], 1); // [batch, heads, queries, keySize]
    const k = random([2, 3, 6, 4], 2);
    const v = random([2, 3, 6, 7], 3);
    const keyPaddingMask = tf.tensor2d([
      [0, 0, 0, 0, 1, 1],
      [0, 0, 0, 0, 0, 1],
    ]);
    const attentionMask = tf.tensor2d(
      [
        [0, 1, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0],
      ],
      undefined,
      'bool',
    );
    const { output, weights } = attention(q, k, v, { keyPaddingMask, attentionMask, causal: true });
    expect(output.shape).toEqual([2, 3, 5, 7]);
    const w = (await weights.array()) as number[][][][];
    const padding = [[4, 5], [5]];
    for (let b = 0; b < 2; b++) {
      for (let h = 0; h < 3; h++) {
        for (let i = 0; i < 5; i++) {
          const row = w[b]![h]![i]!;
          expect(row.reduce((a, x) => a + x, 0)).toBeCloseTo(1, 6);
          row.forEach((x, j) => {
            const masked = j > i || padding[b]!.includes(j) || (i === 0 && j === 1);
            if (masked) expect(x).toBe(0);
            else expect(x).toBeGreaterThan(0);
          });
        }
      }
    }
    // The output is the weighted sum of the values: check one row by hand.
    const vRows = (await v.array()) as number[][][][];
    const out = (await output.array()) as number[][][][];
    const byHand = vRows[1]![2]![0]!.map((_, c) =>
      w[1]![2]![3]!.reduce((acc, wj, j) => acc + wj * vRows[1]![2]![j]![c]!, 0),
    );
    assertClose(out[1]![2]![3]!, byHand, { atol: 1e-5, name: 'output row' });
    tf.dispose([q, k, v, keyPaddingMask, attentionMask, output, weights]);
  });

  it('scale: true is 1/√d_k, false is 1, a number is used as is; unbatched input works', async () => {
    const q = random([3, 4], 4);
    const k = random([5, 4], 5);
    const v = random([5, 2], 6);
    const logits = tf.matMul(q, k, false, true);
    const cases: Array<[boolean | number | undefined, number]> = [
      [undefined, 0.5],
      [true, 0.5],
      [false, 1],
      [0.25, 0.25],
    ];
    for (const [scale, factor] of cases) {
      const { output, weights } = attention(q, k, v, scale === undefined ? {} : { scale });
      const expected = tf.softmax(tf.mul(logits, factor));
      assertClose(weights, expected, { atol: 1e-6, name: `weights (scale ${scale})` });
      const expectedOut = tf.matMul(expected, v);
      assertClose(output, expectedOut, { atol: 1e-6, name: `output (scale ${scale})` });
      tf.dispose([output, weights, expected, expectedOut]);
    }
    const padded = attention(q, k, v, { keyPaddingMask: tf.tensor1d([0, 0, 1, 0, 1]) });
    const w = (await padded.weights.array()) as number[][];
    for (const row of w) expect([row[2], row[4]]).toEqual([0, 0]);
    tf.dispose([q, k, v, logits, padded.output, padded.weights]);
  });

  it('a query whose every key is masked gets zero weights and a zero output, and finite gradients', async () => {
    const q = random([1, 2, 3], 7);
    const k = random([1, 4, 3], 8);
    const v = random([1, 4, 3], 9);
    const attentionMask = tf.tensor2d([
      [1, 1, 1, 1],
      [0, 1, 0, 0],
    ]);
    const { output, weights } = attention(q, k, v, { attentionMask });
    const out = (await output.array()) as number[][][];
    expect(out[0]![0]).toEqual([0, 0, 0]);
    expect(((await weights.array()) as number[][][])[0]![0]).toEqual([0, 0, 0, 0]);
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
      tf.sum(attention(a, b, c, { attentionMask }).output),
    )([q, k, v]);
    for (const g of grads) expect(Array.from(await g.data()).every(Number.isFinite)).toBe(true);
    tf.dispose([q, k, v, attentionMask, output, weights, ...grads]);
  });

  it('gradients match central finite differences (query, key, value; with masks)', () => {
    const q = random([2, 3, 4], 10);
    const k = random([2, 5, 4], 11);
    const v = random([2, 5, 3], 12);
    const keyPaddingMask = tf.tensor2d([
      [0, 0, 0, 1, 1],
      [0, 0, 0, 0, 0],
    ]);
    const target = random([2, 3, 3], 13);
    const loss = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor): tf.Scalar =>
      tf.tidy(() => tf.sum(tf.mul(attention(a, b, c, { keyPaddingMask, causal: true }).output, target)) as tf.Scalar);
    const analytic = tf.grads(loss)([q, k, v]);
    const numeric = [
      numericalGradient((x) => loss(x, k, v), q),
      numericalGradient((x) => loss(q, x, v), k),
      numericalGradient((x) => loss(q, k, x), v),
    ];
    ['query', 'key', 'value'].forEach((name, i) =>
      assertClose(analytic[i]!, numeric[i]!, { atol: 2e-3, rtol: 1e-2, name: `d loss / d ${name}` }),
    );
    tf.dispose([q, k, v, keyPaddingMask, target, ...analytic]);
  });

  it('does not leak tensors', async () => {
    const q = random([2, 3, 4], 14);
    const k = random([2, 5, 4], 15);
    const mask = tf.tensor2d([
      [0, 0, 0, 1, 1],
      [0, 0, 0, 0, 0],
    ]);
    await expectNoLeakedTensors(() => attention(q, k, k, { keyPaddingMask: mask, causal: true }), 'attention');
    await expectNoLeakedTensors(() => attention(q, k, k), 'attention without masks');
    tf.dispose([q, k, mask]);
  });

  it('rejects bad input with the argument, the expected and the received value', () => {
    const q = tf.zeros([2, 3, 4]);
    const k = tf.zeros([2, 5, 4]);
    expect(() => attention(q, tf.zeros([2, 5, 3]), k)).toThrow(/key: expected \[2, keys, 4\].*received \[2, 5, 3\]/);
    expect(() => attention(q, k, tf.zeros([2, 4, 4]))).toThrow(
      /value: expected \[2, 5, valueSize\].*received \[2, 4, 4\]/,
    );
    expect(() => attention(tf.zeros([4]), k, k)).toThrow(ShapeError);
    expect(() => attention(q, k, k, { keyPaddingMask: tf.zeros([2, 4]) })).toThrow(
      /keyPaddingMask: expected \[2, 5\].*received \[2, 4\]/,
    );
    expect(() => attention(q, k, k, { attentionMask: tf.zeros([3, 4]) })).toThrow(
      /attentionMask: expected \[3, 5\] or \[2, 3, 5\]/,
    );
    expect(() => attention(q, k, k, { scale: Number.NaN })).toThrow(ConfigError);
    expect(() => attention(q, 'k' as unknown as tf.Tensor, k)).toThrow(/key: expected a tf.Tensor, received string/);
    setDebugChecks(true);
    const bad = tf.tensor3d([[[Number.NaN, 0, 0, 0]]]);
    expect(() => attention(bad, tf.zeros([1, 2, 4]), tf.zeros([1, 2, 4]))).toThrow(
      /query: expected finite values, received NaN/,
    );
    tf.dispose([q, k, bad]);
  });
});

describe('MultiHeadAttention', () => {
  it('PyTorch initialisation: Xavier-uniform in_proj_weight, zero biases, nn.Linear out_proj.weight; seeded', async () => {
    const a = new MultiHeadAttention({ embedDim: 8, numHeads: 2, seed: 3 });
    const b = new MultiHeadAttention({ embedDim: 8, numHeads: 2, seed: 3 });
    const bound = Math.sqrt(6 / (8 + 24));
    const w = await a.inProjWeight!.data();
    expect(Math.max(...Array.from(w, Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...Array.from(w, Math.abs))).toBeGreaterThan(0.8 * bound);
    expect(Array.from(await a.inProjBias!.data()).every((x) => x === 0)).toBe(true);
    expect(Array.from(await a.outProj.bias!.data()).every((x) => x === 0)).toBe(true);
    expect(Math.max(...Array.from(await a.outProj.weight.data(), Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(8));
    assertClose(a.inProjWeight!, b.inProjWeight!, { atol: 0, name: 'same seed' });
    expect(a.namedParameters().map(([n]) => n)).toEqual([
      'in_proj_weight',
      'in_proj_bias',
      'out_proj.weight',
      'out_proj.bias',
    ]);
    a.dispose();
    b.dispose();
  });

  it('equals attention per head on projected inputs, also with separate key/value sizes and causal masking', async () => {
    const mha = new MultiHeadAttention({ embedDim: 6, numHeads: 3, keyDim: 4, valueDim: 5, seed: 1 });
    expect(mha.namedParameters().map(([n]) => n)).toEqual([
      'q_proj_weight',
      'k_proj_weight',
      'v_proj_weight',
      'in_proj_bias',
      'out_proj.weight',
      'out_proj.bias',
    ]);
    // Non-zero biases so that they take part.
    mha.loadStateDict({ in_proj_bias: random([18], 2), 'out_proj.bias': random([6], 3) }, { strict: false });
    const query = random([2, 4, 6], 4);
    const key = random([2, 4, 4], 5);
    const value = random([2, 4, 5], 6);
    const { output, weights } = mha.apply(query, key, value, { causal: true, averageWeights: false });
    expect(weights.shape).toEqual([2, 3, 4, 4]);
    // By hand, head by head.
    const { q, k, v } = mha.separateProjections!;
    const bias = mha.inProjBias!;
    const expected = tf.tidy(() => {
      const heads: tf.Tensor[] = [];
      for (let h = 0; h < 3; h++) {
        const qh = tf.add(
          tf.matMul(tf.reshape(query, [8, 6]), tf.slice(q, [0, h * 2], [-1, 2])),
          tf.slice(bias, [h * 2], [2]),
        );
        const kh = tf.add(
          tf.matMul(tf.reshape(key, [8, 4]), tf.slice(k, [0, h * 2], [-1, 2])),
          tf.slice(bias, [6 + h * 2], [2]),
        );
        const vh = tf.add(
          tf.matMul(tf.reshape(value, [8, 5]), tf.slice(v, [0, h * 2], [-1, 2])),
          tf.slice(bias, [12 + h * 2], [2]),
        );
        const r = attention(tf.reshape(qh, [2, 4, 2]), tf.reshape(kh, [2, 4, 2]), tf.reshape(vh, [2, 4, 2]), {
          causal: true,
        });
        heads.push(r.output);
      }
      return mha.outProj.apply(tf.concat(heads, -1));
    });
    assertClose(output, expected, { atol: 1e-5, name: 'output' });
    const w = (await weights.array()) as number[][][][];
    for (const row of w.flat(1))
      row.forEach((r, i) => r.forEach((x, j) => (j > i ? expect(x).toBe(0) : expect(x).toBeGreaterThan(0))));
    tf.dispose([query, key, value, output, weights, expected]);
    mha.dispose();
  });

  it('trains: gradients reach every parameter and match finite differences', () => {
    const mha = new MultiHeadAttention({ embedDim: 4, numHeads: 2, seed: 5 });
    const query = random([2, 3, 4], 7);
    const kv = random([2, 5, 4], 8);
    const mask = tf.tensor2d([
      [0, 0, 0, 0, 1],
      [0, 0, 1, 1, 1],
    ]);
    const target = random([2, 3, 4], 9);
    const loss = (): tf.Scalar =>
      tf.tidy(() => tf.sum(tf.mul(mha.apply(query, kv, kv, { keyPaddingMask: mask }).output, target)) as tf.Scalar);
    const { value, grads } = tf.variableGrads(loss);
    const named = new Map(mha.namedParameters());
    for (const [name, variable] of named) {
      const analytic = grads[variable.name]!;
      const numeric = numericalVariableGradient(variable, loss);
      assertClose(analytic, numeric, { atol: 2e-3, rtol: 1e-2, name: `grad ${name}` });
    }
    tf.dispose([value, ...Object.values(grads), query, kv, mask, target]);
    mha.dispose();
  });

  it('does not leak tensors', async () => {
    const mha = new MultiHeadAttention({ embedDim: 4, numHeads: 2 });
    const x = random([1, 3, 4], 1);
    const mask = tf.tensor2d([[0, 0, 1]]);
    await expectNoLeakedTensors(
      () => mha.apply(x, x, x, { keyPaddingMask: mask, causal: true, averageWeights: false }),
      'MultiHeadAttention.apply',
    );
    tf.dispose([x, mask]);
    mha.dispose();
  });

  it('rejects bad options and input', () => {
    expect(() => new MultiHeadAttention({ embedDim: 6, numHeads: 4 })).toThrow(
      /numHeads: expected a divisor of embedDim \(6\), received 4/,
    );
    expect(() => new MultiHeadAttention({ embedDim: 0, numHeads: 1 })).toThrow(
      /embedDim: expected a positive integer, received 0/,
    );
    expect(() => new MultiHeadAttention({ embedDim: 4, numHeads: 1, heads: 2 } as never)).toThrow(/heads/);
    const mha = new MultiHeadAttention({ embedDim: 4, numHeads: 2 });
    const x = tf.zeros([1, 3, 4]);
    expect(() => mha.apply(tf.zeros([1, 3, 5]), x, x)).toThrow(
      /query: expected \[batch, queries, 4\] \(embedDim\), received \[1, 3, 5\]/,
    );
    expect(() => mha.apply(x, tf.zeros([2, 3, 4]), x)).toThrow(/key: expected \[1, keys, 4\]/);
    expect(() => mha.apply(x, x, tf.zeros([1, 2, 4]))).toThrow(/value: expected \[1, 3, 4\]/);
    expect(() => mha.apply(x, x, x, { attentionMask: tf.zeros([3, 2]) })).toThrow(
      /attentionMask: expected \[3, 3\] or \[1, 2, 3, 3\]/,
    );
    expect(() => mha.apply(x, x, x, { keyPaddingMask: tf.zeros([1, 2]) })).toThrow(/keyPaddingMask: expected \[1, 3\]/);
    x.dispose();
    mha.dispose();
  });
});
