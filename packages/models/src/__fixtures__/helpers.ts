/** Test helpers of @vid/models (not exported by the package). */
import type * as tf from '@tensorflow/tfjs-core';
import { Adam, type BackendName, type Module, initBackend } from '@vid/core';

/** The tests' backend: wasm, or `VID_TEST_BACKEND` (e.g. `cpu`). */
export async function initTestBackend(): Promise<void> {
  await initBackend({ backend: (process.env.VID_TEST_BACKEND as BackendName | undefined) ?? 'wasm', log: false });
}

/** Runs `steps` Adam steps of `loss(step)` on `module`'s parameters; returns the losses. */
export async function trainSteps(
  module: Module,
  steps: number,
  lr: number,
  loss: (step: number) => tf.Scalar,
): Promise<number[]> {
  const adam = new Adam(module.namedParameters(), { lr });
  const losses: number[] = [];
  try {
    for (let step = 0; step < steps; step++) {
      const { value, grads } = adam.computeGradients(() => loss(step));
      adam.applyGradients(grads);
      losses.push((await value.data())[0]!);
      value.dispose();
      for (const grad of grads.values()) grad.dispose();
    }
  } finally {
    adam.dispose();
  }
  return losses;
}

/** With `VID_TEST_LOG=1`, prints a measured value (accuracies, errors) for the report. */
export function report(label: string, value: unknown): void {
  if (process.env.VID_TEST_LOG === '1')
    console.log(`[measure] ${label}: ${typeof value === 'number' ? value.toFixed(4) : JSON.stringify(value)}`);
}
