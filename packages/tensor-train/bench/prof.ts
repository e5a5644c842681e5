import * as tf from '@tensorflow/tfjs-core';
import { Adam, initBackend } from '@vid/core';
import { ConvTTLSTMNet } from '../src/index.js';
const [cell, batch, size] = [process.argv[2] as 'convttlstm', Number(process.argv[3]), Number(process.argv[4])];
await initBackend({ backend: 'wasm', log: false });
if (process.env.SHARE) (await import('./identity-patch.js')).shareIdentity();
const model = new ConvTTLSTMNet({ cell, inputChannels: 1, layersPerBlock: [3, 3, 3, 3], hiddenChannels: [8, 12, 12, 8], skipStride: 2, order: 3, steps: 3, ranks: 4, kernelSize: 5 });
const adam = new Adam(model.namedParameters(), { lr: 1e-4 });
const frames = tf.randomUniform([batch, 20, size, size, 1], 0, 1, 'float32', 1) as tf.Tensor5D;
const step = async () => {
  const { value, grads } = adam.computeGradients(() => model.trainingLoss(frames, { inputFrames: 10, futureFrames: 10, scheduledSamplingRatio: 1, checkpointing: process.env.CKPT === '1' }));
  adam.applyGradients(grads); await value.data(); value.dispose(); grads.forEach((g) => g.dispose());
};
await step();
let t = performance.now(); await step(); console.log('step ms', (performance.now() - t).toFixed(0));
const info = await tf.profile(step);
console.log('peak MB', (info.peakBytes / 2 ** 20).toFixed(0), 'wasm heap MB', ((tf.backend() as any).wasm.HEAPU8.buffer.byteLength / 2 ** 20).toFixed(0), 'numBytes now', tf.memory().numBytes);
const byName = new Map<string, { ms: number; n: number }>();
for (const k of info.kernels) { const e = byName.get(k.name) ?? { ms: 0, n: 0 }; e.ms += Number(k.kernelTimeMs) || 0; e.n++; byName.set(k.name, e); }
console.log([...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, 14).map(([n, e]) => `${n}: ${e.ms.toFixed(0)} ms (${e.n})`).join('\n'));
