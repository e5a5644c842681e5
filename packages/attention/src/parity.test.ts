/**
 * Parity, forward and backward, with the PyTorch references of `tooling/fixtures/attention`:
 * `torch.nn.MultiheadAttention` with both masks and with separate key/value sizes, and the soft
 * visual attention LSTM and MultiLSTM written there from their papers.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type HostTensor, type SafetensorsContents, hostToTensor } from '@vid/core';
import { beforeAll, describe, expect, it } from 'vitest';

import {
  expectForward,
  expectGradient,
  expectGradients,
  get,
  initTestBackend,
  loadLocalFixture,
  parametersOf,
  torchGradients,
  withPrefix,
} from './__fixtures__/helpers.js';
import { MultiHeadAttention } from './multi-head.js';
import { MultiLSTM } from './multi-lstm.js';
import { SoftAttentionLSTM } from './visual-attention.js';

let fixture: SafetensorsContents;
beforeAll(async () => {
  await initTestBackend();
  fixture = await loadLocalFixture('attention-references.safetensors');
});

const tensor = (t: ReadonlyMap<string, HostTensor>, name: string): tf.Tensor => hostToTensor(get(t, name));

describe('MultiHeadAttention: parity with torch.nn.MultiheadAttention, forward and backward', () => {
  it('key padding mask and boolean attn_mask; per-head weights; every gradient', () => {
    const t = withPrefix(fixture.tensors, 'mha.');
    const inputs = ['query', 'key', 'value', 'key_padding_mask', 'attn_mask', 'output', 'weights', 'loss'];
    const mha = new MultiHeadAttention({ embedDim: 8, numHeads: 2 });
    mha.loadStateDict(parametersOf(t, inputs), { layout: 'torch' });
    const [query, key, value, keyPaddingMask, attentionMask] = [
      'query',
      'key',
      'value',
      'key_padding_mask',
      'attn_mask',
    ].map((n) => tensor(t, n)) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    const run = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) =>
      mha.apply(q, k, v, { keyPaddingMask, attentionMask, averageWeights: false });
    const lossOf = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor): tf.Scalar =>
      tf.tidy(() => {
        const { output, weights } = run(q, k, v);
        return tf.add(tf.mean(tf.square(output)), tf.mean(tf.square(weights))) as tf.Scalar;
      });
    const { output, weights } = run(query, key, value);
    expectForward(output, get(t, 'output'), 'mha.output');
    expectForward(weights, get(t, 'weights'), 'mha.weights');
    const { value: loss, grads } = torchGradients(mha, () => lossOf(query, key, value));
    expectForward(loss, get(t, 'loss'), 'mha.loss');
    expect([...grads.keys()]).toEqual(['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']);
    expectGradients(grads, t, 'mha.');
    const inputGrads = tf.grads(lossOf)([query, key, value]);
    ['query', 'key', 'value'].forEach((name, i) =>
      expectGradient(inputGrads[i]!, get(t, `grad.${name}`), `mha.grad.${name}`),
    );
    tf.dispose([query, key, value, keyPaddingMask, attentionMask, output, weights, ...inputGrads]);
    mha.dispose();
  });

  it('kdim ≠ vdim ≠ embed_dim: q_proj_weight, k_proj_weight, v_proj_weight; averaged weights; gradients', () => {
    const t = withPrefix(fixture.tensors, 'mha_kv.');
    const mha = new MultiHeadAttention({ embedDim: 8, numHeads: 4, keyDim: 6, valueDim: 5 });
    mha.loadStateDict(parametersOf(t, ['query', 'key', 'value', 'output', 'weights', 'loss']), { layout: 'torch' });
    const [query, key, value] = ['query', 'key', 'value'].map((n) => tensor(t, n)) as [tf.Tensor, tf.Tensor, tf.Tensor];
    const { output, weights } = mha.apply(query, key, value);
    expectForward(output, get(t, 'output'), 'mha_kv.output');
    expectForward(weights, get(t, 'weights'), 'mha_kv.weights');
    const { value: loss, grads } = torchGradients(mha, () =>
      tf.tidy(() => tf.mean(tf.square(mha.apply(query, key, value).output)) as tf.Scalar),
    );
    expectForward(loss, get(t, 'loss'), 'mha_kv.loss');
    expectGradients(grads, t, 'mha_kv.');
    tf.dispose([query, key, value, output, weights]);
    mha.dispose();
  });
});

describe('SoftAttentionLSTM: parity with a PyTorch reference written from Sharma et al. 2015', () => {
  for (const [prefix, attention] of [
    ['visual.', 'location'],
    ['visual_additive.', 'additive'],
  ] as const) {
    it(`${attention} attention: logits, attention maps, final state, eq. 8 loss (λ = 0.7) and every gradient`, () => {
      const t = withPrefix(fixture.tensors, prefix);
      const activations = ['features', 'labels', 'logits', 'attention', 'h_n', 'c_n', 'loss'];
      const model = new SoftAttentionLSTM({
        featureChannels: 3,
        gridSize: 2,
        hiddenSize: 4,
        numClasses: 3,
        attention,
        ...(attention === 'additive' ? { attentionSize: 5 } : {}),
      });
      model.loadStateDict(parametersOf(t, activations), { layout: 'torch' });
      // PyTorch [batch, time, D, K, K] → vid [batch, time, K, K, D]
      const features = tf.tidy(() => tf.transpose(tensor(t, 'features'), [0, 1, 3, 4, 2]));
      const labels = tf.tidy(() => tf.cast(tensor(t, 'labels'), 'int32'));
      const result = model.apply(features);
      expectForward(result.logits, get(t, 'logits'), `${prefix}logits`);
      expectForward(result.attention, get(t, 'attention'), `${prefix}attention`);
      expectForward(result.state.h, get(t, 'h_n'), `${prefix}h_n`);
      expectForward(result.state.c, get(t, 'c_n'), `${prefix}c_n`);
      const lossOf = (x: tf.Tensor): tf.Scalar =>
        tf.tidy(() => model.loss(model.apply(x), labels, { attentionPenalty: 0.7 }));
      const { value: loss, grads } = torchGradients(model, () => lossOf(features));
      expectForward(loss, get(t, 'loss'), `${prefix}loss`);
      expectGradients(grads, t, prefix);
      const dFeatures = tf.tidy(() => tf.transpose(tf.grad(lossOf)(features), [0, 1, 4, 2, 3]));
      expectGradient(dFeatures, get(t, 'grad.features'), `${prefix}grad.features`);
      tf.dispose([features, labels, result.logits, result.attention, result.state.h, result.state.c, dFeatures]);
      model.dispose();
    });
  }
});

describe('MultiLSTM: parity with a PyTorch reference written from Yeung et al.', () => {
  for (const [prefix, labelsMode] of [
    ['multilstm.', 'multiclass'],
    ['multilstm_multilabel.', 'multilabel'],
  ] as const) {
    it(`${labelsMode}: window outputs, dense predictions, attention, loss and every gradient`, () => {
      const t = withPrefix(fixture.tensors, prefix);
      const activations = [
        'features',
        'labels',
        'window_logits',
        'frame_predictions',
        'attention',
        'h_n',
        'c_n',
        'loss',
      ];
      const model = new MultiLSTM({ inputSize: 3, hiddenSize: 4, numClasses: 3, window: 3, labels: labelsMode });
      model.loadStateDict(parametersOf(t, activations), { layout: 'torch' });
      const features = tensor(t, 'features');
      const labels = tf.tidy(() =>
        labelsMode === 'multiclass' ? tf.cast(tensor(t, 'labels'), 'int32') : tensor(t, 'labels'),
      );
      const result = model.apply(features);
      expectForward(result.windowLogits, get(t, 'window_logits'), `${prefix}window_logits`);
      expectForward(result.framePredictions, get(t, 'frame_predictions'), `${prefix}frame_predictions`);
      expectForward(result.attention, get(t, 'attention'), `${prefix}attention`);
      expectForward(result.state.h, get(t, 'h_n'), `${prefix}h_n`);
      const lossOf = (x: tf.Tensor): tf.Scalar =>
        tf.tidy(() => {
          const r = model.apply(x);
          return tf.add(model.loss(r, labels), tf.mean(tf.square(r.framePredictions))) as tf.Scalar;
        });
      const { value: loss, grads } = torchGradients(model, () => lossOf(features));
      expectForward(loss, get(t, 'loss'), `${prefix}loss`);
      expectGradients(grads, t, prefix);
      const dFeatures = tf.grad(lossOf)(features);
      expectGradient(dFeatures, get(t, 'grad.features'), `${prefix}grad.features`);
      tf.dispose([
        features,
        labels,
        result.windowLogits,
        result.framePredictions,
        result.attention,
        result.state.h,
        result.state.c,
        dFeatures,
      ]);
      model.dispose();
    });
  }
});
