/**
 * The recognition models on the wasm backend, side by side in one run (alternating; minimum and
 * median of the timed runs): ms per Adam training step at the sizes of the package's end-to-end
 * tests (glyph videos of 8 frames, 16×16, batch 32; the early recognizer at batch 16), and the
 * throughput of the Horn–Schunck optical flow.
 *
 * Needs @vid/core and @vid/cells built (`npx tsup` in each).
 *
 *   pnpm bench [-- --runs 5]
 */
import { parseArgs } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';
import { Adam, initBackend } from '@vid/core';

import {
  DeepLSTMNet,
  EarlyRecognizer,
  FeaturePoolingNet,
  LRCN,
  type VideoClassifier,
  hornSchunck,
  movingGlyphVideos,
} from '../src/index.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, warmup: { type: 'string', default: '1' } },
});
const runs = Number(values.runs);
const warmup = Number(values.warmup);

const report = await initBackend({ backend: 'wasm', log: false });
console.log(`backend: ${report.line}`);

async function compare(title: string, contenders: Record<string, () => Promise<void>>): Promise<void> {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
  for (let i = 0; i < warmup + runs; i++) {
    for (const [name, fn] of Object.entries(contenders)) {
      const started = performance.now();
      await fn();
      if (i >= warmup) times[name]!.push(performance.now() - started);
    }
  }
  console.log(`\n${title}`);
  for (const [name, list] of Object.entries(times)) {
    const sorted = [...list].sort((a, b) => a - b);
    console.log(
      `  ${name.padEnd(40)} min ${sorted[0]!.toFixed(1).padStart(8)} ms   median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1).padStart(8)} ms`,
    );
  }
}

const data = movingGlyphVideos({ count: 32, seed: 1 });
const videos = tf.tensor5d(data.videos, [...data.shape]);
const labels = tf.tensor1d(data.labels, 'int32');
const small = tf.slice(videos, [0, 0, 0, 0, 0], [16, -1, -1, -1, -1]);
const smallLabels = tf.slice(labels, [0], [16]);

function trainer(
  model: VideoClassifier & { namedParameters(): Array<[string, tf.Variable]> },
  x: tf.Tensor,
  y: tf.Tensor,
): () => Promise<void> {
  const adam = new Adam(model.namedParameters(), { lr: 1e-3 });
  return async () => {
    const { value, grads } = adam.computeGradients(() => tf.tidy(() => model.loss(model.apply(x), y)));
    adam.applyGradients(grads);
    await value.data();
    tf.dispose([value, ...grads.values()]);
  };
}

await compare('ms per Adam training step (8 frames of 16×16; batch 32, early recognizer 16)', {
  'LRCN (SmallCnn, LSTM 32)': trainer(new LRCN({ frameSize: 16, numClasses: 2 }), videos, labels),
  'DeepLSTMNet (SmallCnn, LSTM 32, 32)': trainer(new DeepLSTMNet({ frameSize: 16, numClasses: 2 }), videos, labels),
  ...Object.fromEntries(
    (['conv', 'late', 'slow', 'local', 'time-conv'] as const).map((pooling) => [
      `FeaturePoolingNet '${pooling}'`,
      trainer(
        new FeaturePoolingNet({
          frameSize: 16,
          numClasses: 2,
          pooling,
          ...(pooling === 'conv' || pooling === 'late' ? {} : { window: 3, stride: 1 }),
          ...(pooling === 'local' ? { numFrames: 8 } : {}),
        }),
        videos,
        labels,
      ),
    ]),
  ),
  'EarlyRecognizer (ConvLSTM 8, patch 4)': trainer(
    new EarlyRecognizer({ frameSize: 16, numClasses: 2, patchSize: 4, hiddenChannels: [8] }),
    small,
    smallLabels,
  ),
});

const pattern = tf.randomUniform([16, 64, 64, 1], 0, 1, 'float32', 3);
// A smooth random pattern and the same pattern moved one pixel left (edge replicated).
const blurred = tf.avgPool(pattern as tf.Tensor4D, 5, 1, 'same');
const moved = tf.avgPool(
  tf.concat(
    [tf.slice(pattern, [0, 0, 1, 0], [-1, -1, 63, -1]), tf.slice(pattern, [0, 0, 63, 0], [-1, -1, 1, -1])],
    2,
  ) as tf.Tensor4D,
  5,
  1,
  'same',
);
await compare('Horn–Schunck, 16 pairs of 64×64 frames', {
  '100 iterations, 1 level': async () => {
    const flow = hornSchunck(blurred, moved, { iterations: 100 });
    await flow.data();
    flow.dispose();
  },
  '60 iterations × 3 levels × 2 warps': async () => {
    const flow = hornSchunck(blurred, moved, { iterations: 60, levels: 3, warps: 2 });
    await flow.data();
    flow.dispose();
  },
});
