/**
 * Moving MNIST throughput (batch 16, 20 frames of 64 × 64) against a training step, measured
 * side by side in one run: is data generation a bottleneck of training?
 *
 * Run: `pnpm bench` (builds @vid/core first; plain tsx so that @vid/core's dist registers the
 * gradients the training step needs).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Adam, Conv2d, initBackend } from '@vid/core';

import { batchToTensor } from '../src/data/tensor.js';
import { collateVideos, stackClips } from '../src/data/video.js';
import { MovingMnist } from '../src/mnist/moving-mnist.js';

const BATCH = 16;
const FRAMES = 20;

async function timeBatches(label: string, make: () => Promise<unknown> | unknown, seconds = 3): Promise<number> {
  for (let i = 0; i < 5; i++) await make(); // warm up the JIT
  let count = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    await make();
    count++;
  }
  const ms = (performance.now() - start) / count;
  console.log(
    `${label.padEnd(52)} ${ms.toFixed(2).padStart(8)} ms/batch  ${(1000 / ms).toFixed(1).padStart(7)} batches/s`,
  );
  return ms;
}

async function main(): Promise<void> {
  const backend = await initBackend({ backend: 'wasm', log: false });
  const generator = await MovingMnist.create({ seed: 0, sequenceLength: FRAMES });
  console.log(
    `Moving MNIST, batch ${BATCH} × ${FRAMES} frames × 64 × 64 (backend ${backend.backend ?? tf.getBackend()})\n`,
  );

  let index = 0;
  const generate = (): ReturnType<MovingMnist['sequence']>[] =>
    Array.from({ length: BATCH }, () => generator.sequence(index++));
  const hostBytes = await timeBatches('generate (uint8 host batch)', () => stackClips(generate(), 'uint8'));
  const hostFloat = await timeBatches('generate (float32 [0, 1] host batch)', () => stackClips(generate(), 'float32'));
  const withTensor = await timeBatches('generate + batchToTensor (float32 NTHWC tensor)', () =>
    tf.dispose(batchToTensor(stackClips(generate()))),
  );
  const iterator = generator
    .stream()
    .shuffle({ bufferSize: 64, seed: 1 })
    .batch(BATCH, { collate: collateVideos() })
    .prefetch(2)
    [Symbol.asyncIterator]();
  const pipeline = await timeBatches(
    'stream → shuffle(64) → batch → prefetch(2)',
    async () => (await iterator.next()).value,
  );
  await iterator.return?.();

  // A training step of a small recurrent conv model: a ConvLSTM-style step (one 3 × 3 conv on
  // concat([x, h]) → 4 gates, hidden 8) over 20 frames, L1 loss, backward, Adam.
  const hidden = 8;
  const conv = new Conv2d({ inChannels: 1 + hidden, outChannels: 4 * hidden, kernelSize: 3, padding: 'same', seed: 0 });
  const optimizer = new Adam(conv.namedParameters(), { lr: 1e-3 });
  const step = async (): Promise<void> => {
    const batch = stackClips(generate());
    const video = batchToTensor(batch);
    const { value, grads } = optimizer.computeGradients(() =>
      tf.tidy(() => {
        const frames = tf.unstack(tf.transpose(video, [1, 0, 2, 3, 4])); // T × [batch, 64, 64, 1]
        let h = tf.zeros([BATCH, 64, 64, hidden]);
        let c = tf.zeros([BATCH, 64, 64, hidden]);
        let loss = tf.scalar(0);
        for (let t = 0; t < FRAMES - 1; t++) {
          const gates = conv.apply(tf.concat([frames[t] as tf.Tensor4D, h], -1)); // [batch, 64, 64, 4·hidden]
          const [i, f, o, g] = tf.split(gates, 4, -1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
          c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
          h = tf.mul(tf.sigmoid(o), tf.tanh(c));
          const prediction = tf.mean(h, -1, true); // [batch, 64, 64, 1]
          loss = tf.add(loss, tf.mean(tf.abs(tf.sub(prediction, frames[t + 1] as tf.Tensor))));
        }
        return loss as tf.Scalar;
      }),
    );
    optimizer.applyGradients(grads);
    await value.data();
    tf.dispose([video, value, ...grads.values()]);
  };
  await step();
  const stepStart = performance.now();
  const steps = 3;
  for (let s = 0; s < steps; s++) await step();
  const stepMs = (performance.now() - stepStart) / steps;
  console.log(
    `${'training step (ConvLSTM-style, hidden 8, 20 frames, wasm)'.padEnd(52)} ${stepMs.toFixed(1).padStart(8)} ms/step`,
  );
  console.log(
    `\ndata share of a training step: ${((100 * withTensor) / stepMs).toFixed(2)}% (generation + tensor ${withTensor.toFixed(2)} ms vs step ${stepMs.toFixed(1)} ms)`,
  );
  console.log(
    `uint8 / float32 host batch time: ${(hostBytes / hostFloat).toFixed(2)}; pipeline / plain float32: ${(pipeline / hostFloat).toFixed(2)}`,
  );
  conv.dispose();
}

await main();
