/**
 * Parity helpers of the encoder-forecaster test (moved from `@vid/cells` with the model, same
 * tolerances): local fixtures made by `tooling/fixtures/cells`, PyTorch ↔ vid video layouts, and
 * gradient comparison by PyTorch parameter name. Not exported by the package.
 */
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';
import { type HostTensor, type SafetensorsContents, hostToTensor, readSafetensors } from '@vid/core';
import { type CloseReport, assertClose } from '@vid/core/testing';

export { tensorsWithPrefix as withPrefix, torchGradients } from '@vid/core/testing';
export { initTestBackend } from '../../__fixtures__/helpers.js';

/** Forward parity: relative to the largest expected magnitude. */
export const FORWARD_TOLERANCE = 1e-5;
/** Gradient parity: relative to the largest expected magnitude. */
export const GRADIENT_TOLERANCE = 1e-4;

/** Loads a fixture beside this file (`src/prediction/__fixtures__/<name>`). */
export function loadLocalFixture(name: string): Promise<SafetensorsContents> {
  return readSafetensors(fileURLToPath(new URL(`./${name}`, import.meta.url)));
}

export function get(tensors: ReadonlyMap<string, HostTensor>, name: string): HostTensor {
  const tensor = tensors.get(name);
  if (!tensor) throw new Error(`fixture has no tensor "${name}" (has: ${[...tensors.keys()].join(', ')})`);
  return tensor;
}

/** PyTorch `[batch, time, channels, height, width]` → vid `[batch, time, height, width, channels]`. */
export function videoFromTorch(host: HostTensor): tf.Tensor5D {
  return tf.tidy(() => tf.transpose(hostToTensor(host), [0, 1, 3, 4, 2])) as tf.Tensor5D;
}

/** vid `[batch, time, height, width, channels]` → PyTorch `[batch, time, channels, height, width]`. */
export function videoToTorch(x: tf.Tensor): tf.Tensor {
  return tf.transpose(x, [0, 1, 4, 2, 3]);
}

/**
 * Compares gradients by name with `grad.<torchName>` in `expected`; `names` maps the module's
 * names to the fixture's (identity when absent). Disposes `grads`.
 */
export function expectGradients(
  grads: Map<string, tf.Tensor>,
  expected: ReadonlyMap<string, HostTensor>,
  names: Readonly<Record<string, string>> = {},
  label = '',
): void {
  try {
    for (const [name, grad] of grads) {
      const torchName = names[name] ?? name;
      log(
        assertClose(grad, get(expected, `grad.${torchName}`), {
          relativeToMax: GRADIENT_TOLERANCE,
          name: `${label}grad.${torchName}`,
        }),
      );
    }
  } finally {
    for (const grad of grads.values()) grad.dispose();
  }
}

/** Forward comparison at the package's tolerance. */
export function expectForward(actual: tf.Tensor | number, expected: HostTensor, name: string): void {
  log(
    assertClose(typeof actual === 'number' ? [actual] : actual, expected, { relativeToMax: FORWARD_TOLERANCE, name }),
  );
}

/** With `VID_PARITY_LOG=1`, prints each parity comparison's worst error relative to the largest expected magnitude. */
function log(report: CloseReport): void {
  if (process.env.VID_PARITY_LOG === '1')
    console.log(`parity ${report.message.split(':')[0]}: ${report.maxRelativeToMax.toExponential(2)}`);
}
