/**
 * Gradient checkpointing (Chen et al. 2016, "Training Deep Nets with Sublinear Memory Cost";
 * PyTorch's `torch.utils.checkpoint`): a function recorded as one operation that keeps only its
 * inputs for the backward pass and runs again there to get its gradients. Memory falls from
 * every intermediate of the function to its inputs, for one more forward pass of time. The
 * numbers are the same either way.
 *
 * The network of `@vid/models` checkpoints each time step of its rollout with it (the official
 * `code_opt/` network's `checkpointing`), and `@vid/cells`' `rnn` each step of a cell.
 */
import * as tf from '@tensorflow/tfjs-core';

import { ConfigError } from './errors.js';

/**
 * Runs a nested gradient inside a gradient function. tfjs keeps one tape: a nested gradient
 * during the outer backward pass replaces it (and clears it when done), so the outer tape is
 * put back afterwards, for the outer pass to dispose its saved tensors.
 */
function nestedGradients(fn: () => tf.Tensor[]): tf.Tensor[] {
  const state = tf.engine().state;
  const tape = state.activeTape;
  try {
    return fn();
  } finally {
    state.activeTape = tape;
  }
}

/**
 * Calls `fn(inputs)` as one recorded operation whose backward pass recomputes `fn` (gradient
 * checkpointing). `variables` are the trainable variables `fn` reads: they get their gradients
 * through the recomputation. Outputs that are one of the inputs (a state passed through
 * unchanged) come back as that very tensor; the new ones are float32 and are packed into one
 * flat tensor for the recorded operation, then split apart again (a split saves nothing for
 * its gradient, so the packed tensor is freed at once).
 *
 * Outside a gradient this is `fn(inputs)` with a copy more; use it where memory matters.
 *
 * The contract, as PyTorch's: `fn` must give the same result when it runs again (no randomness
 * drawn inside it), and `variables` must list every trainable variable `fn` reads (one left out
 * silently gets no gradient through this call). New outputs must be float32 (a `ConfigError`
 * says which is not).
 */
export function gradientCheckpoint(
  fn: (inputs: readonly tf.Tensor[]) => tf.Tensor[],
  inputs: readonly tf.Tensor[],
  variables: readonly tf.Variable[],
): tf.Tensor[] {
  // A tensor given twice is one input of the recorded operation.
  const unique = [...new Set(inputs)];
  const count = unique.length;
  const call = (values: readonly tf.Tensor[]): tf.Tensor[] =>
    fn(inputs.map((t) => values[unique.indexOf(t)] as tf.Tensor));
  // By output position: the input it passes through (≥ 0), or −1 for a new tensor; and shapes.
  let through: number[] = [];
  let shapes: number[][] = [];
  const pack = (values: readonly tf.Tensor[], record: boolean): tf.Tensor => {
    const outputs = call(values);
    if (record) {
      through = outputs.map((o) => values.indexOf(o));
      shapes = outputs.map((o) => o.shape);
    }
    const fresh = outputs.filter((_, i) => (through[i] as number) < 0);
    const odd = fresh.find((t) => t.dtype !== 'float32');
    if (odd)
      throw new ConfigError(
        'fn',
        'new outputs of dtype float32',
        `an output of dtype ${odd.dtype}`,
        'gradientCheckpoint',
      );
    // Each new output flattened, one after the other: contiguous blocks (one alone: a reshape).
    const flat = fresh.map((t) => tf.reshape(t, [-1]));
    // (None: every output is an input passed through, and the recorded value is empty.)
    if (flat.length === 0) return tf.zeros([0]);
    return flat.length === 1 ? (flat[0] as tf.Tensor) : tf.concat(flat, 0);
  };
  const recorded = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const values = args.slice(0, count) as tf.Tensor[];
    save(values);
    return {
      value: pack(values, true),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const all = [...saved, ...variables];
        // allowNoGradients: an input `fn` does not use gets zeros, where tf.grads would throw.
        const grads = nestedGradients(() =>
          tf.tidy(() => tf.engine().gradients(() => pack(all.slice(0, count), false), all, dy, true).grads),
        );
        return all.map((tensor, i) => grads[i] ?? tf.zerosLike(tensor));
      },
    };
  });
  return tf.tidy(() => {
    const packed = recorded(...unique, ...variables);
    const freshShapes = shapes.filter((_, i) => (through[i] as number) < 0);
    // One new output: its packed form is itself, flattened (tfjs's gradient of a one-part split
    // is broken: it hands `concat` a tensor where it expects a list).
    const pieces =
      freshShapes.length <= 1
        ? [packed]
        : tf.split(
            packed,
            freshShapes.map((shape) => shape.reduce((a, b) => a * b, 1)),
            0,
          );
    let next = 0;
    return through.map((input, i) =>
      input >= 0 ? (unique[input] as tf.Tensor) : tf.reshape(pieces[next++] as tf.Tensor, shapes[i] as number[]),
    );
  });
}
