/**
 * Writes a randomly initialised network (each cell type) with `saveSafetensors`, with frames and
 * vid's test-mode outputs, for `tooling/fixtures/tensor-train/verify_export.py` to load into the
 * official PyTorch `ConvLSTMNet` (strict `load_state_dict`) and compare.
 *
 *   npx tsx bench/export-for-pytorch.ts /tmp/vid-export
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import { initBackend, tensorToHost, writeSafetensors } from '@vid/core';

import { ConvRecurrentNet } from '../src/index.js';

const out = process.argv[2] ?? '/tmp/vid-export';
mkdirSync(out, { recursive: true });
await initBackend({ backend: 'wasm', log: false });
for (const cell of ['convttlstm', 'convlstm'] as const) {
  const model = new ConvRecurrentNet({
    cell,
    inputChannels: 2,
    layersPerBlock: [2, 1, 1],
    hiddenChannels: [5, 6, 4],
    skipStride: 1,
    order: 2,
    steps: 4,
    ranks: 3,
    kernelSize: [3, 5],
    outputSigmoid: true,
    seed: 5,
  });
  await model.saveSafetensors(join(out, `${cell}.safetensors`));
  const frames = tf.randomUniform([2, 9, 7, 10, 2], 0, 1, 'float32', 3) as tf.Tensor5D;
  const output = model.forward(frames, { inputFrames: 5, futureFrames: 4, outputFrames: 6 });
  // PyTorch layout: [batch, time, channels, height, width]
  await writeSafetensors(join(out, `${cell}-io.safetensors`), {
    frames: await tensorToHost(tf.transpose(frames, [0, 1, 4, 2, 3])),
    output: await tensorToHost(tf.transpose(output, [0, 1, 4, 2, 3])),
  });
  console.log(`wrote ${join(out, `${cell}.safetensors`)}`);
}
