/**
 * The shipped models: every registry entry loads by name (and through `loadModel` of its URL),
 * predicts finite frames of the right shape, beats copying the last frame on generated Moving
 * MNIST sequences of MNIST's test digits, and has a card that matches its file.
 */
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, type BackendName, Module, initBackend, inspectModel, loadModel, sliceFrames } from '@vid/core';
import { MovingMnist, batchToTensor, loadDigits, stackClips } from '@vid/datasets';
import { CopyLastFramePredictor } from '@vid/models';
import { beforeAll, describe, expect, it } from 'vitest';

import {
  DEFAULT_PRETRAINED,
  PRETRAINED,
  PRETRAINED_NAMES,
  loadPretrained,
  pretrained,
  pretrainedCard,
  pretrainedUrl,
} from './index.js';

beforeAll(async () => {
  await initBackend({ backend: (process.env.VID_TEST_BACKEND as BackendName | undefined) ?? 'wasm', log: false });
});

/** 16 generated test sequences of 20 frames (MNIST test digits), [16, 20, 64, 64, 1] in [0, 1]. */
async function testClips(): Promise<tf.Tensor5D> {
  const mnist = new MovingMnist({ digits: await loadDigits({ split: 'test', labels: false }), sequenceLength: 20 });
  const set = mnist.fixedSet(16, 'pretrained-test');
  return batchToTensor(stackClips(await Promise.all(Array.from({ length: 16 }, (_, i) => set.get(i)))));
}

describe('@vid/pretrained', () => {
  it('ships every model in at most 20 MB in all', () => {
    let bytes = 0;
    for (const name of PRETRAINED_NAMES) bytes += statSync(fileURLToPath(pretrainedUrl(name))).size;
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThanOrEqual(20 * 1024 * 1024);
    expect(PRETRAINED_NAMES).toContain(DEFAULT_PRETRAINED);
  });

  it('names the shipped models when a name is unknown', async () => {
    expect(() => pretrained('mmnist-lstm')).toThrow(ConfigError);
    expect(() => pretrained('mmnist-lstm')).toThrow(
      /one of mmnist-convlstm, mmnist-convttlstm.*received "?mmnist-lstm/,
    );
    await expect(loadPretrained('nope')).rejects.toThrow(/name: expected a shipped model/);
  });

  for (const name of PRETRAINED_NAMES) {
    describe(name, () => {
      it('has a card that matches its file and registry entry', async () => {
        const card = await pretrainedCard(name);
        const info = await inspectModel(pretrainedUrl(name));
        expect(card.name).toBe(name);
        expect(card.preset).toBe(PRETRAINED[name].preset);
        expect(card.steps).toBeGreaterThan(0);
        expect(card.sequences).toBe(card.steps * (card.config.train as { batchSize: number }).batchSize);
        expect(card.curves.train.length).toBeGreaterThan(0);
        expect((card.config.model as { cell: string }).cell).toBe(PRETRAINED[name].cell);
        expect(info.className).toBe('ConvRecurrentNet');
        expect(JSON.stringify(info.config)).toContain(`"cell":"${PRETRAINED[name].cell}"`);
      });

      it('loads by name and through loadModel of its URL, and predicts Moving MNIST better than copying the last frame or an all-black frame', async () => {
        const predictor = await loadPretrained(name);
        const network = await loadModel(pretrainedUrl(name));
        const clips = await testClips();
        try {
          expect(network).toBeInstanceOf(Module);
          expect(predictor.channels).toBe(1);
          expect(predictor.sizeMultiple).toBe(4);
          const context = sliceFrames(clips, 0, 10);
          const truth = sliceFrames(clips, 10, 10);
          const prediction = predictor.predict(context, 10);
          const copied = new CopyLastFramePredictor({ channels: 1 }).predict(context, 10);
          expect(prediction.shape).toEqual([16, 10, 64, 64, 1]);
          const values = await prediction.data();
          expect(values.every(Number.isFinite)).toBe(true);
          const mse = (t: tf.Tensor): number =>
            tf.tidy(() => tf.mean(tf.squaredDifference(tf.clipByValue(t, 0, 1), truth)).dataSync()[0]!);
          const model = mse(prediction);
          const copyLast = mse(copied);
          const black = tf.zerosLike(truth);
          const allBlack = mse(black);
          expect(model).toBeLessThan(copyLast);
          // The shipped weights are trained: well under an all-black prediction (about 0.042 on
          // these clips; the shipped models score about 0.028 on 1,000 test sequences).
          expect(model).toBeLessThan(allBlack - 0.005);
          black.dispose();
          tf.dispose([context, truth, prediction, copied]);
        } finally {
          predictor.dispose();
          network.dispose();
          clips.dispose();
        }
      });
    });
  }
});
