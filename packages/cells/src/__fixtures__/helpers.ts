/**
 * Test helpers: local fixtures, PyTorch ↔ vid activation layouts, and gradient comparison by
 * PyTorch parameter name. Used by the tests only (not exported by the package).
 */
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';
import {
  type BackendName,
  type HostTensor,
  type SafetensorsContents,
  hostToTensor,
  initBackend,
  readSafetensors,
} from '@vid/core';
import { type CloseReport, assertClose, fixtureTensor } from '@vid/core/testing';

export { tensorsWithPrefix as withPrefix, torchGradients } from '@vid/core/testing';

/** The tests' backend: wasm, or `VID_TEST_BACKEND` (e.g. `cpu`). */
export async function initTestBackend(): Promise<void> {
  await initBackend({ backend: (process.env.VID_TEST_BACKEND as BackendName | undefined) ?? 'wasm', log: false });
}

/** Forward parity: relative to the largest expected magnitude. */
export const FORWARD_TOLERANCE = 1e-5;
/** Gradient parity: relative to the largest expected magnitude. */
export const GRADIENT_TOLERANCE = 1e-4;

/** Loads a fixture of this package (`src/__fixtures__/<name>`), made by `tooling/fixtures/cells`. */
export function loadLocalFixture(name: string): Promise<SafetensorsContents> {
  return readSafetensors(fileURLToPath(new URL(`./${name}`, import.meta.url)));
}

/** The parameters (no `grad.*`, no activations) among `tensors`. */
export function parametersOf(
  tensors: ReadonlyMap<string, HostTensor>,
  activations: readonly string[],
): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [name, tensor] of tensors) {
    if (name.startsWith('grad.') || activations.includes(name) || name.includes('.grad.')) continue;
    out.set(name, tensor);
  }
  return out;
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

/** PyTorch `[batch, channels, height, width]` → vid `[batch, height, width, channels]`. */
export function frameFromTorch(host: HostTensor): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(hostToTensor(host), [0, 2, 3, 1])) as tf.Tensor4D;
}

/** vid `[batch, height, width, channels]` → PyTorch `[batch, channels, height, width]`. */
export function frameToTorch(x: tf.Tensor): tf.Tensor {
  return tf.transpose(x, [0, 3, 1, 2]);
}

/** `mean(x²)`, the loss of every fixture. */
export function meanSquare(x: tf.Tensor): tf.Scalar {
  return tf.mean(tf.square(x));
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

export { fixtureTensor };
