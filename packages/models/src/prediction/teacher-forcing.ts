/**
 * Teacher forcing and scheduled sampling (Bengio et al. 2015), the one mixer of every video
 * predictor: at a future step of a rollout, each sample reads the ground truth where its mask is
 * 1 and the model's previous prediction where it is 0. NVlabs/conv-tt-lstm `code/convlstmnet.py`
 * draws the mask as `torch.bernoulli(ratio · ones(batch, future_frames − 1))` and mixes
 * `inputs[:, t] · mask[:, t'] + prediction · (1 − mask[:, t'])`; so does vid.
 *
 * One name for the probability, `scheduledSamplingRatio` (the official `scheduled_sampling_ratio`),
 * and one mask type, {@link TeacherForcingMask}.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, Rng, ShapeError, finiteNumber, formatShape } from '@vid/core';

/**
 * A teacher-forcing mask: `[batch, futureSteps]` of 0 and 1 (1 = the ground truth), as a tensor or
 * as row-major values; column `j` is the `j`-th step that may read the ground truth.
 */
export type TeacherForcingMask = tf.Tensor | ArrayLike<number>;

/** The teacher-forcing options shared by every rollout (network, encoder-forecaster, predictors). */
export interface TeacherForcingOptions {
  /**
   * Training mode: at future steps, feed the ground truth where the mask is 1 and the previous
   * prediction where it is 0. Off: feed back the predictions (test mode).
   * @default false
   */
  readonly teacherForcing?: boolean;
  /**
   * Probability that a future step of a sample gets the ground truth, in `[0, 1]` (the official
   * `scheduled_sampling_ratio`). As in the official code, a ratio ≤ 1e-6 without a mask turns
   * teacher forcing off.
   * @default 1
   */
  readonly scheduledSamplingRatio?: number;
  /**
   * Generator (or seed) of the drawn mask: one Bernoulli draw per sample and step, row-major.
   * Required when `0 < ratio < 1`.
   */
  readonly rng?: Rng | number;
  /** A given mask instead of drawn ones (needs `teacherForcing`). */
  readonly teacherForcingMask?: TeacherForcingMask;
}

/**
 * The resolved mask of one rollout: {@link TeacherForcing.mix} gives the input of each future
 * step. Columns where every sample reads the ground truth (always, at ratio 1) or none does need
 * no mixing and cost nothing.
 */
export class TeacherForcing {
  readonly batch: number;
  /** Mask columns: the future steps that may read the ground truth. */
  readonly steps: number;
  readonly #values: Float32Array | null;
  readonly #tensor: tf.Tensor | null;
  readonly #uniform: ReadonlyArray<0 | 1 | null>;

  private constructor(batch: number, steps: number, mask: Float32Array | tf.Tensor) {
    this.batch = batch;
    this.steps = steps;
    this.#values = mask instanceof Float32Array ? mask : null;
    this.#tensor = mask instanceof Float32Array ? null : mask;
    this.#uniform =
      mask instanceof Float32Array ? uniformColumns(mask, batch, steps) : new Array<null>(steps).fill(null);
  }

  /**
   * The mask of a rollout of `batch` samples with `steps` future steps that may read the ground
   * truth, or null in test mode (no teacher forcing, or a ratio ≤ 1e-6 without a mask). Validates
   * the options; draws from `rng` when the mask is not given.
   */
  static resolve(options: TeacherForcingOptions, batch: number, steps: number, context: string): TeacherForcing | null {
    const ratio = finiteNumber(options.scheduledSamplingRatio ?? 1, 'scheduledSamplingRatio', context, {
      min: 0,
      max: 1,
    });
    const given = options.teacherForcingMask;
    if (given !== undefined && !options.teacherForcing) {
      throw new ConfigError(
        'teacherForcingMask',
        'teacherForcing: true alongside a mask',
        'teacherForcing false',
        context,
      );
    }
    if (!options.teacherForcing || (given === undefined && ratio <= 1e-6)) return null;
    if (given !== undefined) return new TeacherForcing(batch, steps, checkMask(given, batch, steps, context));
    let rng = options.rng instanceof Rng ? options.rng : options.rng !== undefined ? new Rng(options.rng) : undefined;
    if (rng === undefined) {
      if (ratio < 1)
        throw new ConfigError(
          'rng',
          `an Rng or a seed for the scheduled-sampling mask (ratio ${ratio})`,
          undefined,
          context,
        );
      rng = new Rng(0); // ratio 1: every draw is 1
    }
    // torch.bernoulli(ratio · ones(batch, steps)): one draw per sample and step, row-major
    const values = new Float32Array(batch * steps);
    for (let i = 0; i < values.length; i++) values[i] = rng.bernoulli(ratio) ? 1 : 0;
    return new TeacherForcing(batch, steps, values);
  }

  /**
   * The input of future step `column` (0-based): `truth · m + prediction · (1 − m)` per sample,
   * with `m = mask[:, column]`. truth, prediction: `[batch, height, width, channels]` → the same.
   * Returns one of its arguments when the column is uniform; call inside a tidy.
   */
  mix(column: number, truth: tf.Tensor4D, prediction: tf.Tensor4D): tf.Tensor4D {
    const uniform = this.#uniform[column];
    if (uniform === 1) return truth;
    if (uniform === 0) return prediction;
    // mask[:, column]: [B] → [B, 1, 1, 1]; ground truth × m + prediction × (1 − m)
    const m = this.#tensor
      ? tf.reshape(tf.cast(tf.slice(this.#tensor, [0, column], [this.batch, 1]), 'float32'), [this.batch, 1, 1, 1])
      : tf.tensor4d(
          Float32Array.from(
            { length: this.batch },
            (_, i) => (this.#values as Float32Array)[i * this.steps + column] as number,
          ),
          [this.batch, 1, 1, 1],
        );
    return tf.add(tf.mul(truth, m), tf.mul(prediction, tf.sub(1, m)));
  }
}

/** Checks a given mask: a `[batch, steps]` tensor (returned as is) or `batch · steps` row-major values. */
function checkMask(mask: TeacherForcingMask, batch: number, steps: number, context: string): tf.Tensor | Float32Array {
  if (mask instanceof tf.Tensor) {
    if (!tf.util.arraysEqual(mask.shape, [batch, steps])) {
      throw new ShapeError(
        'teacherForcingMask',
        `[${batch}, ${steps}] (batch, future steps)`,
        formatShape(mask.shape),
        context,
      );
    }
    return mask;
  }
  if (mask.length !== batch * steps) {
    throw new ShapeError(
      'teacherForcingMask',
      `${batch * steps} values (batch ${batch} × ${steps} future steps), row-major`,
      `${mask.length} values`,
      context,
    );
  }
  return Float32Array.from(mask);
}

/**
 * Per column of a row-major `[rows, columns]` 0/1 mask: 1 when every row is 1, 0 when every row
 * is 0, else null.
 */
function uniformColumns(mask: Float32Array, rows: number, columns: number): Array<0 | 1 | null> {
  return Array.from({ length: columns }, (_, j) => {
    let ones = 0;
    for (let i = 0; i < rows; i++) ones += mask[i * columns + j] as number;
    return ones === rows ? 1 : ones === 0 ? 0 : null;
  });
}

/**
 * Scheduled-sampling schedules of Bengio et al. 2015 (sec. 2.4): the probability ε_i of feeding
 * the ground truth at training iteration `i`. Pass `scheduledSamplingRatio: schedule(iteration)`.
 */
export const scheduledSampling = {
  /** ε_i = max(final, initial − slope·i). */
  linear(options: {
    readonly initial?: number;
    readonly final?: number;
    readonly slope: number;
  }): (iteration: number) => number {
    const initial = finiteNumber(options.initial ?? 1, 'initial', 'scheduledSampling.linear', { min: 0, max: 1 });
    const final = finiteNumber(options.final ?? 0, 'final', 'scheduledSampling.linear', { min: 0, max: 1 });
    const slope = finiteNumber(options.slope, 'slope', 'scheduledSampling.linear', { min: 0 });
    return (iteration) => Math.max(final, initial - slope * iteration);
  },
  /** ε_i = k^i, with k < 1. */
  exponential(k: number): (iteration: number) => number {
    finiteNumber(k, 'k', 'scheduledSampling.exponential', { min: 0, max: 1 });
    return (iteration) => k ** iteration;
  },
  /** ε_i = k / (k + exp(i / k)), with k ≥ 1. */
  inverseSigmoid(k: number): (iteration: number) => number {
    finiteNumber(k, 'k', 'scheduledSampling.inverseSigmoid', { min: 1 });
    return (iteration) => k / (k + Math.exp(iteration / k));
  },
} as const;
