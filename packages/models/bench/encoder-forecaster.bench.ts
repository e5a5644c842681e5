/**
 * ms per training step of Shi et al.'s encoder-forecaster (2 ConvLSTM layers) on Moving-MNIST-
 * shaped input, 64×64×1 frames patched 4×4 to 16×16×16, 10 frames in and 10 out, on the wasm
 * backend: the fused convolution (one conv on concat[x, h]) against the unfused pair, measured
 * side by side in one run, alternating so that both see the same machine load. Reports the
 * minimum (the least disturbed run) and the median of the timed steps.
 *
 * Needs @vid/core built (`cd packages/core && npx tsup`): gradients are registered from its dist.
 *
 *   npx tsx bench/encoder-forecaster.bench.ts [--batch 2 --hidden 32,32 --kernel 5 --steps 5 --peephole spatial]
 */
import { parseArgs } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';
import { Adam, initBackend } from '@vid/core';

import { EncoderForecaster } from '../src/index.js';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '2' },
    hidden: { type: 'string', default: '32,32' },
    kernel: { type: 'string', default: '5' },
    steps: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    input: { type: 'string', default: '10' },
    horizon: { type: 'string', default: '10' },
    peephole: { type: 'string', default: 'spatial' },
  },
});
const batch = Number(values.batch);
const hidden = values.hidden.split(',').map(Number);
const kernel = Number(values.kernel);
const steps = Number(values.steps);
const warmup = Number(values.warmup);
const inputFrames = Number(values.input);
const horizon = Number(values.horizon);
const peephole = values.peephole as 'none' | 'channel' | 'spatial';

const report = await initBackend({ backend: 'wasm', log: false });
console.log(`backend: ${report.line}`);
console.log(
  `encoder-forecaster: 64×64×1 → 16×16×16 patches, ${hidden.length} layers [${hidden.join(', ')}], kernel ${kernel}, peephole ${peephole}, ` +
    `batch ${batch}, ${inputFrames} → ${horizon} frames; Adam; ${warmup} warm-up + ${steps} timed steps each`,
);

const frames = tf.randomUniform([batch, inputFrames, 64, 64, 1], 0, 1, 'float32', 1);
const targets = tf.randomUniform([batch, horizon, 64, 64, 1], 0, 1, 'float32', 2);

interface Contender {
  readonly name: string;
  readonly model: EncoderForecaster;
  readonly optimizer: Adam;
  readonly train: number[];
  readonly infer: number[];
}

const contenders: Contender[] = [true, false].map((fused) => {
  const model = new EncoderForecaster({
    frameSize: [64, 64],
    patchSize: 4,
    hiddenChannels: hidden,
    kernelSize: kernel,
    peephole,
    fused,
    seed: 0,
  });
  return {
    name: fused ? 'fused' : 'unfused',
    model,
    optimizer: new Adam(model.namedParameters(), { lr: 1e-3 }),
    train: [],
    infer: [],
  };
});

function trainStep(c: Contender): number {
  const start = performance.now();
  const { value, grads } = c.optimizer.computeGradients(() =>
    tf.tidy(() => tf.mean(tf.squaredDifference(c.model.apply(frames, { horizon }).predictions, targets)) as tf.Scalar),
  );
  c.optimizer.applyGradients(grads);
  const loss = value.dataSync()[0] as number; // waits for the step to finish
  value.dispose();
  grads.forEach((g) => g.dispose());
  if (!Number.isFinite(loss)) throw new Error(`${c.name}: loss is ${loss}`);
  return performance.now() - start;
}

function inferStep(c: Contender): number {
  const start = performance.now();
  const result = c.model.apply(frames, { horizon });
  result.predictions.dataSync();
  tf.dispose([result.predictions, result.logits]);
  return performance.now() - start;
}

for (let i = 0; i < warmup; i++) for (const c of contenders) (trainStep(c), inferStep(c));
const tensorsBefore = tf.memory().numTensors;
for (let i = 0; i < steps; i++) {
  for (const c of contenders) {
    c.train.push(trainStep(c));
    c.infer.push(inferStep(c));
  }
}
if (tf.memory().numTensors !== tensorsBefore)
  console.warn(`warning: ${tf.memory().numTensors - tensorsBefore} tensors leaked`);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const min = (xs: number[]) => Math.min(...xs);
console.log('');
console.log('             train step ms (min / median)   forward ms (min / median)   train runs');
for (const c of contenders) {
  const train = `${min(c.train).toFixed(0)} / ${median(c.train).toFixed(0)}`;
  const infer = `${min(c.infer).toFixed(0)} / ${median(c.infer).toFixed(0)}`;
  console.log(
    `${c.name.padEnd(12)} ${train.padStart(28)}   ${infer.padStart(25)}   ${c.train.map((t) => t.toFixed(0)).join(', ')}`,
  );
}
const [fused, unfused] = contenders as [Contender, Contender];
console.log('');
console.log(
  `unfused / fused, training step: ${(min(unfused.train) / min(fused.train)).toFixed(2)}× (min), ${(median(unfused.train) / median(fused.train)).toFixed(2)}× (median); ` +
    `forward: ${(min(unfused.infer) / min(fused.infer)).toFixed(2)}× (min), ${(median(unfused.infer) / median(fused.infer)).toFixed(2)}× (median)`,
);
console.log(`parameters: ${fused.model.numParameters()} (fused) = ${unfused.model.numParameters()} (unfused)`);

for (const c of contenders) {
  c.optimizer.dispose();
  c.model.dispose();
}
tf.dispose([frames, targets]);
