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

/** Whether `value` is a plain object (a record of tensors), not a class instance. */
function isRecord(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** The tensors of a structure (nested arrays and plain objects), depth first, in key order. */
function leavesOf(value: unknown, out: tf.Tensor[] = []): tf.Tensor[] {
  if (value instanceof tf.Tensor) out.push(value);
  else if (Array.isArray(value)) for (const item of value) leavesOf(item, out);
  else if (isRecord(value)) for (const item of Object.values(value)) leavesOf(item, out);
  return out;
}

/** The same structure with each tensor replaced by `replace(tensor)`, visited in the order of {@link leavesOf}. */
function mapLeaves<T>(value: T, replace: (tensor: tf.Tensor) => tf.Tensor): T {
  if (value instanceof tf.Tensor) return replace(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => mapLeaves(item, replace)) as T;
  if (isRecord(value))
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapLeaves(item, replace)])) as T;
  return value;
}

/**
 * Calls `fn(inputs)` as one recorded operation whose backward pass recomputes `fn` (gradient
 * checkpointing). `inputs` and what `fn` returns are structures: a tensor, or arrays and plain
 * objects of them, nested (a time step's `{ x, state }` and its `{ output, state }`).
 * `variables` are the trainable variables `fn` reads: they get their gradients through the
 * recomputation.
 *
 * What comes back has `fn`'s structure. A returned tensor that is one of the inputs (a state
 * passed through unchanged) comes back as that very tensor, and a new tensor returned in several
 * places (an LSTM's `output`, which is its `state.h`) comes back as one tensor in all of them.
 * The new tensors are packed once each into one flat tensor for the recorded operation, then
 * split apart again (a split saves nothing for its gradient, so the packed tensor is freed at
 * once).
 *
 * Outside a gradient this is `fn(inputs)` with a copy more; use it where memory matters.
 *
 * The contract, as PyTorch's: `fn` must give the same result when it runs again (no randomness
 * drawn inside it), and `variables` must list every trainable variable `fn` reads (one left out
 * silently gets no gradient through this call). New tensors must be float32 (a `ConfigError`
 * says which is not).
 */
export function gradientCheckpoint<I, O>(fn: (inputs: I) => O, inputs: I, variables: readonly tf.Variable[]): O {
  // A tensor given twice is one input of the recorded operation.
  const unique = [...new Set(leavesOf(inputs))];
  const count = unique.length;
  const call = (values: readonly tf.Tensor[]): O =>
    fn(mapLeaves(inputs, (t) => values[unique.indexOf(t)] as tf.Tensor));
  // What the first call returned: its structure, and by leaf position the input it passes
  // through (≥ 0) or −1 − k for the k-th new tensor; the new tensors' shapes.
  let structure: O;
  let sources: number[] = [];
  let freshShapes: number[][] = [];
  const pack = (values: readonly tf.Tensor[], record: boolean): tf.Tensor => {
    const result = call(values);
    const leaves = leavesOf(result);
    const fresh: tf.Tensor[] = [];
    const positions = leaves.map((leaf) => {
      const input = values.indexOf(leaf);
      if (input >= 0) return input;
      let k = fresh.indexOf(leaf);
      if (k < 0) k = fresh.push(leaf) - 1;
      return -1 - k;
    });
    if (record) {
      structure = result;
      sources = positions;
      freshShapes = fresh.map((t) => t.shape);
    }
    const odd = fresh.find((t) => t.dtype !== 'float32');
    if (odd)
      throw new ConfigError(
        'fn',
        'new tensors of dtype float32',
        `a tensor of dtype ${odd.dtype}`,
        'gradientCheckpoint',
      );
    // Each new tensor flattened, one after the other: contiguous blocks (one alone: a reshape).
    const flat = fresh.map((t) => tf.reshape(t, [-1]));
    // (None: every returned tensor is an input passed through; the recorded value is empty.)
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
  const packed = recorded(...unique, ...variables);
  const pieces: tf.Tensor[] =
    freshShapes.length === 0
      ? []
      : tf.tidy(() => {
          // One new tensor: its packed form is itself, flattened (tfjs's gradient of a one-part split
          // is broken: it hands `concat` a tensor where it expects a list).
          const flat =
            freshShapes.length <= 1
              ? [packed]
              : tf.split(
                  packed,
                  freshShapes.map((shape) => shape.reduce((a, b) => a * b, 1)),
                  0,
                );
          return flat.map((piece, k) => tf.reshape(piece, freshShapes[k] as number[]));
        });
  packed.dispose();
  let position = 0;
  return mapLeaves(structure!, () => {
    const source = sources[position++] as number;
    return source >= 0 ? (unique[source] as tf.Tensor) : (pieces[-1 - source] as tf.Tensor);
  });
}
