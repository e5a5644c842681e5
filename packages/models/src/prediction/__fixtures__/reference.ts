/**
 * Test helpers: the reference fixtures of NVlabs/conv-tt-lstm's `ConvLSTMNet` (see
 * `shared/fixtures/reference/README.md`), converted to vid's layouts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type HostTensor, type SafetensorsContents, hostToTensor } from '@vid/core';
import { fixtureMetadata, fixtureTensor } from '@vid/core/testing';

/** What the fixtures' `__metadata__.protocol` says was run. */
export interface FixtureProtocol {
  readonly input_frames: number;
  readonly future_frames: number;
}

/** The parameters of a fixture (every tensor but the data and the gradients), PyTorch layouts. */
export function fixtureStateDict(contents: SafetensorsContents): Map<string, HostTensor> {
  const data = new Set(['frames', 'output.test', 'output.train', 'loss.train', 'mask']);
  return new Map([...contents.tensors].filter(([name]) => !name.startsWith('grad.') && !data.has(name)));
}

/** A PyTorch video `[batch, time, channels, height, width]` as a vid video `[batch, time, height, width, channels]`. */
export function videoFromTorch(tensor: HostTensor): tf.Tensor5D {
  return tf.tidy(() => tf.transpose(hostToTensor(tensor), [0, 1, 3, 4, 2]) as tf.Tensor5D);
}

export function fixtureConfig(contents: SafetensorsContents): Record<string, unknown> {
  return fixtureMetadata<Record<string, unknown>>(contents, 'config');
}

export function fixtureProtocol(contents: SafetensorsContents): FixtureProtocol {
  return fixtureMetadata<FixtureProtocol>(contents, 'protocol');
}

export { fixtureTensor };
