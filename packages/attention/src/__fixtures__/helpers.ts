/**
 * Test helpers: the test backend, local fixtures and parity comparisons. Used by the tests only
 * (not exported by the package).
 */
import { fileURLToPath } from 'node:url';

import type * as tf from '@tensorflow/tfjs-core';
import { type BackendName, type HostTensor, type SafetensorsContents, initBackend, readSafetensors } from '@vid/core';
import { type CloseReport, assertClose } from '@vid/core/testing';

export { tensorsWithPrefix as withPrefix, torchGradients } from '@vid/core/testing';

/** The tests' backend: wasm, or `VID_TEST_BACKEND` (e.g. `cpu`). */
export async function initTestBackend(): Promise<void> {
  await initBackend({ backend: (process.env.VID_TEST_BACKEND as BackendName | undefined) ?? 'wasm', log: false });
}

/** Forward parity: relative to the largest expected magnitude. */
export const FORWARD_TOLERANCE = 1e-5;
/** Gradient parity: relative to the largest expected magnitude. */
export const GRADIENT_TOLERANCE = 1e-4;

/** Loads a fixture of this package (`src/__fixtures__/<name>`), made by `tooling/fixtures/attention`. */
export function loadLocalFixture(name: string): Promise<SafetensorsContents> {
  return readSafetensors(fileURLToPath(new URL(`./${name}`, import.meta.url)));
}

export function get(tensors: ReadonlyMap<string, HostTensor>, name: string): HostTensor {
  const tensor = tensors.get(name);
  if (!tensor) throw new Error(`fixture has no tensor "${name}" (has: ${[...tensors.keys()].join(', ')})`);
  return tensor;
}

/** Forward comparison at the package's tolerance. */
export function expectForward(actual: tf.Tensor | number, expected: HostTensor, name: string): void {
  log(
    assertClose(typeof actual === 'number' ? [actual] : actual, expected, { relativeToMax: FORWARD_TOLERANCE, name }),
  );
}

/** Gradient comparison at the package's tolerance. */
export function expectGradient(actual: tf.Tensor, expected: HostTensor, name: string): void {
  log(assertClose(actual, expected, { relativeToMax: GRADIENT_TOLERANCE, name }));
}

/** With `VID_PARITY_LOG=1`, prints each parity comparison's worst error relative to the largest expected magnitude. */
function log(report: CloseReport): void {
  if (process.env.VID_PARITY_LOG === '1')
    console.log(`parity ${report.message.split(':')[0]}: ${report.maxRelativeToMax.toExponential(2)}`);
}

/** Compares gradients by name with `grad.<name>` in `expected`, then disposes them. */
export function expectGradients(
  grads: Map<string, tf.Tensor>,
  expected: ReadonlyMap<string, HostTensor>,
  label = '',
): void {
  try {
    for (const [name, grad] of grads) expectGradient(grad, get(expected, `grad.${name}`), `${label}grad.${name}`);
  } finally {
    for (const grad of grads.values()) grad.dispose();
  }
}

/** The parameters among a fixture's tensors: everything but activations and `grad.*`. */
export function parametersOf(
  tensors: ReadonlyMap<string, HostTensor>,
  activations: readonly string[],
): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [name, tensor] of tensors)
    if (!name.startsWith('grad.') && !activations.includes(name)) out.set(name, tensor);
  return out;
}
