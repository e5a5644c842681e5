/**
 * The architecture round trip that `saveModel`/`loadModel` rest on: every prediction module is
 * registered by class name, `getConfig()` rebuilds it with `deserializeModule` (through JSON, as a
 * file's metadata holds it), and its state dict makes the copy compute the same numbers.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type Module, Rng, deserializeModule, serializeModule } from '@vid/core';
import { ConvTTLSTMCell } from '@vid/tensor-train';
import { expectNoLeakedTensors } from '@vid/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';

import { initTestBackend } from '../__fixtures__/helpers.js';
import { EncoderForecaster } from './encoder-forecaster.js';
import { ConvRecurrentNet } from './network.js';
import { CELL_TYPES } from './network-config.js';

beforeAll(async () => {
  await initTestBackend();
});

function randomVideo(shape: [number, number, number, number, number], seed: number): tf.Tensor5D {
  return tf.tensor5d(new Rng(seed).fillUniform(new Float32Array(shape.reduce((a, b) => a * b, 1))), shape);
}

/** serializeModule → JSON → deserializeModule, then the original's weights loaded by name. */
async function roundTrip<M extends Module>(module: M): Promise<M> {
  const serialized = JSON.parse(JSON.stringify(serializeModule(module)));
  const copy = deserializeModule<M>(serialized);
  copy.loadStateDict(await module.exportStateDict());
  return copy;
}

describe('serializeModule → deserializeModule → the state dict: identical outputs', () => {
  for (const cell of CELL_TYPES) {
    it(`ConvRecurrentNet with ${cell} cells (skips, sigmoid head)`, async () => {
      const net = new ConvRecurrentNet({
        cell,
        inputChannels: 2,
        layersPerBlock: [1, 2, 1],
        hiddenChannels: [3, 4, 2],
        skipStride: 1,
        order: 2,
        steps: 3,
        ranks: 2,
        kernelSize: [3, 5],
        outputSigmoid: true,
        seed: 4,
      });
      const serialized = serializeModule(net);
      expect(serialized.className).toBe('ConvRecurrentNet');
      expect(serialized.config.cell).toBe(cell);
      const copy = await roundTrip(net);
      const video = randomVideo([2, 4, 6, 5, 2], 1);
      const a = net.forward(video, {
        inputFrames: 2,
        futureFrames: 3,
        outputFrames: 4,
        teacherForcing: true,
        teacherForcingMask: [1, 0, 0, 1],
      });
      const b = copy.forward(video, {
        inputFrames: 2,
        futureFrames: 3,
        outputFrames: 4,
        teacherForcing: true,
        teacherForcingMask: [1, 0, 0, 1],
      });
      expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
      tf.dispose([video, a, b]);
      net.dispose();
      copy.dispose();
    });
  }

  it('EncoderForecaster (per-layer kernels, previous-frame forecaster)', async () => {
    const model = new EncoderForecaster({
      frameSize: [8, 8],
      patchSize: 2,
      hiddenChannels: [3, 2],
      kernelSize: [3, [3, 5]],
      peephole: 'spatial',
      forgetBias: 0.5,
      forecasterInput: 'previous-frame',
      seed: 2,
    });
    expect(serializeModule(model).className).toBe('EncoderForecaster');
    const copy = await roundTrip(model);
    const video = randomVideo([2, 3, 8, 8, 1], 3);
    const a = model.apply(video, { horizon: 2 });
    const b = copy.apply(video, { horizon: 2 });
    expect(Array.from(await b.logits.data())).toEqual(Array.from(await a.logits.data()));
    tf.dispose([video, a.logits, a.predictions, b.logits, b.predictions]);
    model.dispose();
    copy.dispose();
  });

  it('ConvTTLSTMCell', async () => {
    const cell = new ConvTTLSTMCell({
      inputChannels: 2,
      hiddenChannels: 3,
      order: 2,
      steps: 3,
      ranks: 2,
      kernelSize: 3,
      seed: 5,
    });
    expect(serializeModule(cell)).toEqual({
      className: 'ConvTTLSTMCell',
      config: { inputChannels: 2, hiddenChannels: 3, order: 2, steps: 3, ranks: 2, kernelSize: [3, 3], bias: true },
    });
    const copy = await roundTrip(cell);
    const x = tf.tidy(() => tf.reshape(randomVideo([1, 1, 4, 4, 2], 6), [1, 4, 4, 2]) as tf.Tensor4D);
    const [a, b] = [cell, copy].map((c) => {
      const state = c.zeroState(x);
      return { state, result: c.step(x, state) };
    });
    expect(Array.from(await b!.result.output.data())).toEqual(Array.from(await a!.result.output.data()));
    for (const { state, result } of [a!, b!]) {
      cell.disposeState(state);
      cell.disposeState(result.state);
    }
    x.dispose();
    cell.dispose();
    copy.dispose();
  });

  it('leaks no tensor', async () => {
    const net = new ConvRecurrentNet({
      cell: 'convlstm',
      inputChannels: 1,
      layersPerBlock: [1],
      hiddenChannels: [2],
      kernelSize: 3,
    });
    await expectNoLeakedTensors(async () => (await roundTrip(net)).dispose(), 'round trip');
    net.dispose();
  });
});
