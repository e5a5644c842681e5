/**
 * Attention on the wasm backend, measured side by side in one run (alternating, so that every
 * contender sees the same machine load; minimum and median of the timed runs):
 *
 * 1. scaled dot-product attention, forward + backward, with Kᵀ by an explicit transpose (what
 *    `attention` does) against `matMul(q, k, false, true)`;
 * 2. ms per Adam training step of MultiHeadAttention, SoftAttentionLSTM and MultiLSTM at small
 *    but realistic sizes.
 *
 * Needs @vid/core and @vid/cells built (`npx tsup` in each): gradients are registered from core's dist.
 *
 *   pnpm bench [-- --runs 7]
 */
import { parseArgs } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';
import { Adam, initBackend } from '@vid/core';

import { MultiHeadAttention, MultiLSTM, SoftAttentionLSTM, attention } from '../src/index.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '7' }, warmup: { type: 'string', default: '2' } },
});
const runs = Number(values.runs);
const warmup = Number(values.warmup);

const report = await initBackend({ backend: 'wasm', log: false });
console.log(`backend: ${report.line}`);

/** Times each contender `runs` times, interleaved; prints min and median ms. */
async function compare(
  title: string,
  contenders: Record<string, () => Promise<void> | void>,
): Promise<Record<string, number>> {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
  for (let i = 0; i < warmup + runs; i++) {
    for (const [name, fn] of Object.entries(contenders)) {
      const started = performance.now();
      await fn();
      if (i >= warmup) times[name]!.push(performance.now() - started);
    }
  }
  console.log(`\n${title}`);
  const minima: Record<string, number> = {};
  for (const [name, list] of Object.entries(times)) {
    const sorted = [...list].sort((a, b) => a - b);
    minima[name] = sorted[0]!;
    console.log(
      `  ${name.padEnd(52)} min ${sorted[0]!.toFixed(1).padStart(8)} ms   median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1).padStart(8)} ms`,
    );
  }
  return minima;
}

// 1. Kᵀ: explicit transpose vs the transposeB flag, forward + backward.
{
  const q = tf.randomNormal([8, 4, 64, 32], 0, 1, 'float32', 1);
  const k = tf.randomNormal([8, 4, 64, 32], 0, 1, 'float32', 2);
  const v = tf.randomNormal([8, 4, 64, 32], 0, 1, 'float32', 3);
  const flagged = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
    tf.matMul(tf.softmax(tf.mul(tf.matMul(a, b, false, true), 1 / Math.sqrt(32))), c);
  const run = (f: (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.Tensor) => async () => {
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(f(a, b, c)))([q, k, v]);
    await Promise.all(grads.map((g) => g.data()));
    tf.dispose(grads);
  };
  const t = await compare('attention [8 batch × 4 heads, 64 queries × 64 keys, d = 32], forward + backward', {
    'explicit transpose (attention())': run((a, b, c) => attention(a, b, c).output),
    'matMul(q, k, false, true)': run(flagged),
  });
  console.log(
    `  ratio transposeB / explicit: ${(t['matMul(q, k, false, true)']! / t['explicit transpose (attention())']!).toFixed(2)}`,
  );
  tf.dispose([q, k, v]);
}

// 2. Training steps.
async function step(
  module: { namedParameters(): Array<[string, tf.Variable]> },
  loss: () => tf.Scalar,
  adam: Adam,
): Promise<void> {
  const { value, grads } = adam.computeGradients(loss);
  adam.applyGradients(grads);
  await value.data();
  tf.dispose([value, ...grads.values()]);
  void module;
}
{
  const mha = new MultiHeadAttention({ embedDim: 64, numHeads: 4, seed: 1 });
  const x = tf.randomNormal([8, 32, 64], 0, 1, 'float32', 4);
  const mhaAdam = new Adam(mha.namedParameters());
  const visual = new SoftAttentionLSTM({ featureChannels: 64, gridSize: 7, hiddenSize: 64, numClasses: 10, seed: 2 });
  const features = tf.randomNormal([8, 8, 7, 7, 64], 0, 1, 'float32', 5);
  const labels = tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32');
  const visualAdam = new Adam(visual.namedParameters());
  const multi = new MultiLSTM({ inputSize: 64, hiddenSize: 64, numClasses: 10, window: 5, seed: 3 });
  const frames = tf.randomNormal([8, 16, 64], 0, 1, 'float32', 6);
  const dense = tf.randomUniform([8, 16, 10], 0, 1, 'float32', 7);
  const denseLabels = tf.cast(tf.greater(dense, 0.8), 'float32');
  const multiAdam = new Adam(multi.namedParameters());
  await compare('ms per Adam training step (batch 8)', {
    'MultiHeadAttention: 64 features, 4 heads, 32 tokens': () =>
      step(mha, () => tf.tidy(() => tf.mean(tf.square(mha.apply(x, x, x).output))), mhaAdam),
    'SoftAttentionLSTM: 8 frames of 7×7×64, hidden 64': () =>
      step(
        visual,
        () => tf.tidy(() => visual.loss(visual.apply(features), labels, { attentionPenalty: 1 })),
        visualAdam,
      ),
    'MultiLSTM: 16 frames of 64, N = 5, hidden 64': () =>
      step(multi, () => tf.tidy(() => multi.loss(multi.apply(frames), denseLabels)), multiAdam),
  });
}
