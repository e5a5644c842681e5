import * as tf from '@tensorflow/tfjs-core';
import { Adam, initBackend } from '@vid/core';
import { ConvTTLSTMNet, paperNetwork } from '../src/index.js';
const [cell, batch, size, ckpt] = [process.argv[2] as 'convttlstm', Number(process.argv[3]), Number(process.argv[4]), process.argv[5] === 'ckpt'];
const r = await initBackend({ backend: 'wasm', log: true });
const model = new ConvTTLSTMNet(paperNetwork(cell));
const adam = new Adam(model.namedParameters(), { lr: 1e-4 });
const frames = tf.randomUniform([batch, 20, size, size, 1], 0, 1, 'float32', 1) as tf.Tensor5D;
const step = async () => {
  const { value, grads } = adam.computeGradients(() => model.trainingLoss(frames, { inputFrames: 10, futureFrames: 10, scheduledSamplingRatio: 1, checkpointing: ckpt }));
  adam.applyGradients(grads); await value.data(); value.dispose(); grads.forEach((g) => g.dispose());
};
let t = performance.now();
const info = await tf.profile(step);
console.log(cell, batch, size, 'ms', performance.now() - t, 'peak MB', info.peakBytes / 2 ** 20, 'rss MB', process.memoryUsage().rss / 2 ** 20);
t = performance.now(); await step(); console.log('ms', performance.now() - t);
