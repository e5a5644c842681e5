/**
 * The time loop. Every runner in the package (and the stacked modules) goes through {@link rnn},
 * as tfjs-layers keeps its loop in `rnn()`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, Module, ShapeError, formatShape, gradientCheckpoint } from '@vid/core';

import type { AnyRecurrentCell, RecurrentState, StateOf } from './types.js';

/** Options of {@link rnn}. */
export interface RnnOptions<S extends RecurrentState> {
  /**
   * The state before the first step the cell takes (the last time step when `reverse`). Not
   * disposed.
   * @default cell.zeroState(first step)
   */
  readonly initialState?: S;
  /**
   * Run from the last time step to the first. The outputs stay aligned with the input: output
   * `t` is the cell's output after it has read input steps `T−1 … t`.
   * @default false
   */
  readonly reverse?: boolean;
  /**
   * Gradient checkpointing per time step (`@vid/core`'s `gradientCheckpoint`): under a gradient,
   * each step keeps only its input and state and is recomputed in the backward pass. Memory
   * falls from every intermediate of every step to the states, for one more forward pass of
   * time (measured: 15–20% more per training step); the numbers are the same. The cell must be a `Module` (its trainable variables get
   * their gradients through the recomputation).
   * @default false
   */
  readonly checkpointing?: boolean;
}

/** What {@link rnn} returns. The caller owns (and disposes) every tensor. */
export interface RnnResult<S extends RecurrentState> {
  /** The output at every time step, `[batch, time, ...spatial, outputSize]`. */
  readonly outputs: tf.Tensor;
  /** The state after the last step taken (after time step 0 when `reverse`). */
  readonly state: S;
}

/**
 * Runs `cell` over a batch-major sequence.
 *
 * x: `[batch, time, ...spatial, inputSize]` → outputs `[batch, time, ...spatial, outputSize]`
 * and the final state. Runs in one `tf.tidy`; the cell's per-step intermediates are freed as it
 * goes (each `step` is its own tidy), so memory grows with the states and outputs only.
 */
export function rnn<C extends AnyRecurrentCell>(
  cell: C,
  x: tf.Tensor,
  options: RnnOptions<StateOf<C>> = {},
): RnnResult<StateOf<C>> {
  type S = StateOf<C>;
  const context = 'rnn';
  if (x.rank < 3) {
    throw new ShapeError(
      'x',
      'rank ≥ 3: [batch, time, ...spatial, channels]',
      `rank ${x.rank} ${formatShape(x.shape)}`,
      context,
    );
  }
  if (cell.inputRank !== undefined && x.rank !== cell.inputRank + 1) {
    throw new ShapeError(
      'x',
      `rank ${cell.inputRank + 1} ([batch, time] and a step of rank ${cell.inputRank})`,
      `rank ${x.rank} ${formatShape(x.shape)}`,
      context,
    );
  }
  if (options.checkpointing && !(cell instanceof Module)) {
    const received = (cell as object | null)?.constructor?.name ?? typeof cell;
    throw new ConfigError('checkpointing', 'a cell that is a Module (its variables are recomputed)', received, context);
  }
  if ((x.shape[1] as number) < 1) {
    throw new ShapeError('x', 'at least one time step on axis 1 ([batch, time, ...])', formatShape(x.shape), context);
  }
  return tf.tidy(() => {
    const [batch, time] = x.shape as [number, number];
    const stepShape = [batch, ...x.shape.slice(2)];
    const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
    // [batch, time, ...] → [batch, time, rest] → [time, batch, rest]: rank-3 transposes are several
    // times faster than rank-5 ones on wasm, and unstacking axis 0 is faster than axis 1.
    const unstacked = tf.unstack(tf.transpose(tf.reshape(x, [batch, time, size(x.shape.slice(2))]), [1, 0, 2]));
    // `map` makes a copy: tf.unstack returns the very array its tape node records as outputs, and
    // reversing that in place would send each step's gradient to the mirrored time step.
    const steps = unstacked.map((step) => tf.reshape(step, stepShape));
    if (options.reverse) steps.reverse();
    let state: S = options.initialState ?? (cell.zeroState(steps[0] as tf.Tensor) as S);
    const outputs: tf.Tensor[] = [];
    if (options.checkpointing) {
      const variables = (cell as unknown as Module).trainableVariables();
      for (const input of steps) {
        // A checkpointed step prepares for itself, inside its recomputation.
        const result = gradientCheckpoint(
          ({ x: step, state: before }) => cell.step(step, before),
          { x: input, state },
          variables,
        );
        outputs.push(result.output);
        state = result.state as S;
      }
    } else {
      // Once per sequence (e.g. a split gate kernel), under the tape, freed by this tidy.
      const prepared = cell.prepare?.();
      for (const input of steps) {
        const result = cell.step(input, state, prepared);
        outputs.push(result.output);
        state = result.state as S;
      }
    }
    if (options.reverse) outputs.reverse();
    // time × [batch, ...out] → [time, batch, rest] → [batch, time, rest] → [batch, time, ...out]
    const outShape = (outputs[0] as tf.Tensor).shape.slice(1);
    const stacked = tf.stack(outputs.map((output) => tf.reshape(output, [batch, size(outShape)])));
    const batchMajor = tf.reshape(tf.transpose(stacked, [1, 0, 2]), [batch, time, ...outShape]);
    return { outputs: batchMajor, state };
  });
}
