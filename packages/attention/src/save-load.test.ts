import * as tf from '@tensorflow/tfjs-core';
import { expectSaveLoadRoundTrip } from '@vid/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';

import { initTestBackend } from './__fixtures__/helpers.js';
import { MultiHeadAttention } from './multi-head.js';
import { MultiLSTM } from './multi-lstm.js';
import { SoftAttentionLSTM } from './visual-attention.js';

beforeAll(async () => {
  await initTestBackend();
});

describe('saveModel / loadModel: every @vid/attention module', () => {
  it('MultiHeadAttention (separate key and value dims)', async () => {
    const model = new MultiHeadAttention({ embedDim: 8, numHeads: 2, keyDim: 6, valueDim: 5, seed: 3 });
    const [q, k, v] = [
      tf.randomNormal([2, 3, 8], 0, 1, 'float32', 1),
      tf.randomNormal([2, 4, 6], 0, 1, 'float32', 2),
      tf.randomNormal([2, 4, 5], 0, 1, 'float32', 3),
    ];
    const before = tf.memory().numTensors;
    await expectSaveLoadRoundTrip(model, (m) => {
      const r = (m as MultiHeadAttention).apply(q, k, v);
      return [r.output, r.weights];
    });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([q, k, v]);
    model.dispose();
  });

  it('MultiLSTM', async () => {
    const model = new MultiLSTM({ inputSize: 6, hiddenSize: 5, numClasses: 3, window: 2, seed: 4 });
    const x = tf.randomNormal([2, 4, 6], 0, 1, 'float32', 5);
    await expectSaveLoadRoundTrip(model, (m) => {
      const r = (m as MultiLSTM).apply(x);
      tf.dispose([r.state.h, r.state.c]);
      return [r.windowLogits, r.framePredictions, r.attention];
    });
    x.dispose();
    model.dispose();
  });

  it.each(['location', 'additive'] as const)('SoftAttentionLSTM (%s attention)', async (attention) => {
    const model = new SoftAttentionLSTM({
      featureChannels: 4,
      gridSize: [2, 3],
      hiddenSize: 5,
      numClasses: 3,
      attention,
      seed: 6,
    });
    const x = tf.randomNormal([2, 3, 2, 3, 4], 0, 1, 'float32', 7);
    await expectSaveLoadRoundTrip(model, (m) => {
      const r = (m as SoftAttentionLSTM).apply(x);
      tf.dispose([r.state.h, r.state.c]);
      return [r.logits, r.attention];
    });
    x.dispose();
    model.dispose();
  });
});
