/**
 * Parity with NVlabs/conv-tt-lstm `ConvLSTMNet` (code/convlstmnet.py, code/convlstmcell.py) on the
 * shared reference fixtures, on wasm and on cpu. Each fixture's `__metadata__.protocol` says what
 * was run:
 *   test:  model(frames[:, :input_frames], teacher_forcing=False) → output.test
 *   train: model(frames, teacher_forcing=True, ratio=1.0, output_frames=total−1) → output.train;
 *          loss.train = l1 + mse against frames[:, 1:]; grad.<param> = d loss / d param
 * Tolerances: outputs 1e-5, loss 1e-6 (absolute), gradients 1e-4 relative to the largest magnitude.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type BackendName, type SafetensorsContents, hostToTensor, initBackend } from '@vid/core';
import { assertClose, fixtureTensor, loadReferenceFixture } from '@vid/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { l1MseLoss } from '../loss.js';
import { ConvRecurrentNet } from '../network.js';
import { registerFastCpuConv2DBackpropFilter } from './cpu-kernels.js';
import { fixtureConfig, fixtureProtocol, fixtureStateDict, videoFromTorch } from './reference.js';

const FIXTURES = ['convttlstm-net.safetensors', 'convlstm-net.safetensors', 'convttlstm-lags.safetensors'] as const;

/** Defines the parity suites of every fixture on one backend (call at a test file's top level). */
export async function describeParity(backend: BackendName): Promise<void> {
  const loaded = new Map<string, SafetensorsContents | null>();
  for (const name of FIXTURES) loaded.set(name, await loadReferenceFixture(name));
  for (const name of FIXTURES) {
    const contents = loaded.get(name) ?? null;
    describe.runIf(contents !== null)(`${name} on ${backend}`, () => {
      const fixture = contents as SafetensorsContents;
      let model: ConvRecurrentNet;
      let frames: tf.Tensor5D;

      beforeAll(async () => {
        await initBackend({ backend, log: false });
        // tfjs-backend-cpu's filter gradient reads every element through TensorBuffer.get
        // (~400 s per fixture); the same sum over typed arrays (see cpu-kernels.ts).
        if (backend === 'cpu') registerFastCpuConv2DBackpropFilter();
        model = ConvRecurrentNet.fromConfig(fixtureConfig(fixture) as never);
        model.loadStateDict(fixtureStateDict(fixture), { layout: 'torch', source: name });
        frames = videoFromTorch(fixtureTensor(fixture, 'frames'));
      });

      afterAll(() => {
        model.dispose();
        frames.dispose();
      });

      it('has the parameter count of the official model', () => {
        expect(model.numParameters()).toBe(Number(fixture.metadata.parameter_count));
      });

      it('test mode: feeds back its own predictions (outputs to 1e-5)', () => {
        const { input_frames: inputFrames, future_frames: futureFrames } = fixtureProtocol(fixture);
        const expected = videoFromTorch(fixtureTensor(fixture, 'output.test'));
        const context = tf.slice(frames, [0, 0, 0, 0, 0], [-1, inputFrames, -1, -1, -1]);
        const output = model.forward(context, { inputFrames, futureFrames, outputFrames: futureFrames });
        try {
          assertClose(output, expected, { atol: 1e-5, name: `${name} output.test` });
        } finally {
          tf.dispose([expected, context, output]);
        }
      });

      it('training mode: teacher forcing (outputs to 1e-5), L1 + MSE loss (1e-6) and every gradient (1e-4 of the largest)', () => {
        const { input_frames: inputFrames, future_frames: futureFrames } = fixtureProtocol(fixture);
        const totalSteps = inputFrames + futureFrames - 1;
        const expected = videoFromTorch(fixtureTensor(fixture, 'output.train'));
        const target = tf.slice(frames, [0, 1, 0, 0, 0], [-1, totalSteps, -1, -1, -1]);
        let output: tf.Tensor | undefined;
        const variables = model.trainableVariables();
        const { value, grads } = tf.variableGrads(() => {
          // model(frames, teacher_forcing=True, scheduled_sampling_ratio=1.0, output_frames=total − 1)
          const prediction = model.forward(frames, {
            inputFrames,
            futureFrames,
            outputFrames: totalSteps,
            teacherForcing: true,
            scheduledSamplingRatio: 1,
          });
          output = tf.keep(prediction);
          return l1MseLoss(prediction, target);
        }, variables);
        try {
          assertClose(output as tf.Tensor, expected, { atol: 1e-5, name: `${name} output.train` });
          assertClose(value, fixtureTensor(fixture, 'loss.train'), {
            atol: 1e-6,
            name: `${name} loss.train`,
            checkShape: false,
          });
          const layouts = model.parameterLayouts();
          const names = model.namedParameters().map(([n]) => n);
          expect(Object.keys(grads)).toHaveLength(names.length);
          names.forEach((param, i) => {
            tf.tidy(() => {
              const grad = grads[(variables[i] as tf.Variable).name] as tf.Tensor;
              // vid layout → PyTorch layout, then against grad.<param>
              assertClose(layouts.get(param)!.toTorch(grad), hostToTensor(fixtureTensor(fixture, `grad.${param}`)), {
                relativeToMax: 1e-4,
                name: `${name} grad.${param}`,
              });
            });
          });
        } finally {
          tf.dispose([expected, target, output as tf.Tensor, value, ...Object.values(grads)]);
        }
      });
    });
  }
}
