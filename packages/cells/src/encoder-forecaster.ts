/**
 * The encoder-forecaster of Shi et al. 2015, sec. 3.3 and fig. 3: a stacked ConvLSTM encoder
 * reads M input frames; its final states (h and c of every layer) initialise a stacked ConvLSTM
 * forecaster, which unrolls N steps; at each step a 1×1 convolution over the concatenated
 * hidden states of every forecaster layer gives the predicted frame. Frames are patched
 * space-to-depth first (64×64×1 → 16×16×16 with 4×4 patches, sec. 4.1) and back at the end.
 *
 * In the paper the forecaster reads no input (`forecasterInput: 'none'`). Many later models
 * feed it the previous frame instead (`'previous-frame'`): the last input frame first, then
 * the ground truth (teacher forcing), its own prediction, or a per-example mix of both
 * (scheduled sampling, Bengio et al. 2015) — the hooks for training such a model.
 *
 * Porting note: the paper trains with cross-entropy on sigmoid outputs; `apply` returns both
 * the logits and the sigmoid predictions, so either loss can be used.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  Conv2d,
  Module,
  type Rng,
  ShapeError,
  assertFinite,
  assertKnownKeys,
  bool,
  finiteNumber,
  formatShape,
  oneOf,
  pairOf,
  positiveInteger,
  resolveRng,
} from '@vid/core';

import { ConvLSTM } from './conv-stacks.js';
import type { ConvLSTMPeephole } from './convlstm-cell.js';
import { type KernelSize, layerSizes } from './internal.js';
import { depthToSpace, spaceToDepth } from './patches.js';
import type { LSTMState } from './types.js';

/** What the forecaster reads at each step. */
export type ForecasterInput = 'none' | 'previous-frame';

/**
 * Which frame feeds the forecaster at steps 1 … N−1 (`'previous-frame'` only): `true` the
 * ground truth (teacher forcing), `false` its own prediction, a probability `p` the ground
 * truth for each example independently with probability `p` (scheduled sampling), or a hook
 * called per step that returns any of these or one boolean per example.
 */
export type TeacherForcing = boolean | number | TeacherForcingHook;

/** Decides, at forecast step `step` (1 … horizon−1), which examples read the ground truth. */
export type TeacherForcingHook = (context: { readonly step: number; readonly batchSize: number; readonly rng: Rng }) => boolean | number | readonly boolean[];

/** Options of {@link EncoderForecaster}. */
export interface EncoderForecasterOptions {
  /** `[height, width]` of the frames (divisible by `patchSize`). */
  readonly frameSize: readonly [number, number];
  /** Channels of the frames. @default 1 */
  readonly frameChannels?: number;
  /** Side of the square space-to-depth patches. @default 4 (Shi et al., Moving MNIST) */
  readonly patchSize?: number;
  /** Hidden channels of each layer (encoder and forecaster alike): one number per layer, or one for all with `numLayers`. */
  readonly hiddenChannels: number | readonly number[];
  /** Layers, when `hiddenChannels` is one number. @default the length of hiddenChannels, else 1 */
  readonly numLayers?: number;
  /** Kernel sizes: one number for every layer, or one entry per layer, each a number or `[kh, kw]`. */
  readonly kernelSize: number | readonly KernelSize[];
  /** Peepholes of every ConvLSTM cell. @default 'spatial' (the paper's eq. 3) */
  readonly peephole?: ConvLSTMPeephole;
  /** One convolution on `concat[x, h]` per cell. @default true */
  readonly fused?: boolean;
  /** Gate biases in the cells. @default true */
  readonly bias?: boolean;
  /** Constant added to the forget gates' pre-activations. @default 0 */
  readonly forgetBias?: number;
  /** What the forecaster reads: nothing (the paper), or the previous frame. @default 'none' */
  readonly forecasterInput?: ForecasterInput;
  /** Seed or generator of the initial weights. @default 0 */
  readonly seed?: number | Rng;
}

const OPTION_KEYS = [
  'frameSize', 'frameChannels', 'patchSize', 'hiddenChannels', 'numLayers', 'kernelSize', 'peephole', 'fused', 'bias', 'forgetBias', 'forecasterInput', 'seed',
] as const;

/** Options of {@link EncoderForecaster.apply}. */
export interface ForecastOptions {
  /** N, the number of frames to predict. */
  readonly horizon: number;
  /**
   * The ground-truth future frames `[batch, ≥ horizon − 1, height, width, channels]`, needed when
   * `teacherForcing` may choose them. Not disposed.
   */
  readonly targets?: tf.Tensor;
  /** @default false (the forecaster reads its own predictions) */
  readonly teacherForcing?: TeacherForcing;
  /**
   * Seed or generator of the scheduled-sampling draws.
   * @default the model's own `samplingRng` (seeded from `seed`; it advances from call to call)
   */
  readonly rng?: number | Rng;
}

/** What {@link EncoderForecaster.apply} returns; the caller disposes both. */
export interface ForecastResult {
  /** The predicted frames, sigmoid of the logits: `[batch, horizon, height, width, channels]`. */
  readonly predictions: tf.Tensor5D;
  /** The same before the sigmoid (for a cross-entropy loss): `[batch, horizon, height, width, channels]`. */
  readonly logits: tf.Tensor5D;
}

/**
 * Shi et al. 2015's encoder-forecaster over videos `[batch, time, height, width, channels]`.
 *
 * Parameters: `encoder.cells.<layer>.…`, `forecaster.cells.<layer>.…` (see {@link ConvLSTMCell})
 * and `output.weight` `[1, 1, Σ hidden, p²·channels]`, `output.bias`.
 */
export class EncoderForecaster extends Module {
  readonly frameSize: readonly [number, number];
  readonly frameChannels: number;
  readonly patchSize: number;
  readonly hiddenChannels: readonly number[];
  readonly forecasterInput: ForecasterInput;
  /** The stacked ConvLSTM that reads the input frames. */
  readonly encoder: ConvLSTM;
  /** The stacked ConvLSTM that unrolls the prediction, started from the encoder's states. */
  readonly forecaster: ConvLSTM;
  /** The 1×1 convolution from the concatenated forecaster states to a patched frame. */
  readonly output: Conv2d;
  /**
   * The generator of scheduled-sampling draws when `apply` is given no `rng`: it advances from
   * call to call, so each training step draws anew (save `getState()` with a checkpoint to resume).
   */
  readonly samplingRng: Rng;

  constructor(options: EncoderForecasterOptions) {
    super();
    const context = 'EncoderForecaster';
    assertKnownKeys(options, OPTION_KEYS, context);
    this.frameSize = pairOf(options.frameSize, 'frameSize', context);
    this.frameChannels = positiveInteger(options.frameChannels ?? 1, 'frameChannels', context);
    this.patchSize = positiveInteger(options.patchSize ?? 4, 'patchSize', context);
    const [height, width] = this.frameSize;
    if (height % this.patchSize !== 0 || width % this.patchSize !== 0) {
      throw new ConfigError('frameSize', `a height and width divisible by patchSize ${this.patchSize}`, [height, width], context);
    }
    this.hiddenChannels = layerSizes(options.hiddenChannels, options.numLayers, 'hiddenChannels', context);
    this.forecasterInput = oneOf(options.forecasterInput ?? 'none', ['none', 'previous-frame'] as const, 'forecasterInput', context);
    const patched = this.patchSize * this.patchSize * this.frameChannels;
    const rng = resolveRng(options.seed, 'seed', context);
    const cellOptions = {
      hiddenChannels: this.hiddenChannels,
      kernelSize: options.kernelSize,
      peephole: oneOf(options.peephole ?? 'spatial', ['none', 'channel', 'spatial'] as const, 'peephole', context),
      spatialSize: [height / this.patchSize, width / this.patchSize] as const,
      fused: bool(options.fused ?? true, 'fused', context),
      bias: bool(options.bias ?? true, 'bias', context),
      forgetBias: finiteNumber(options.forgetBias ?? 0, 'forgetBias', context),
    };
    this.encoder = this.registerModule('encoder', new ConvLSTM({ ...cellOptions, inputChannels: patched, seed: rng.fork('encoder') }));
    this.forecaster = this.registerModule(
      'forecaster',
      new ConvLSTM({ ...cellOptions, inputChannels: this.forecasterInput === 'none' ? 0 : patched, seed: rng.fork('forecaster') }),
    );
    const total = this.hiddenChannels.reduce((a, b) => a + b, 0);
    this.output = this.registerModule('output', new Conv2d({ inChannels: total, outChannels: patched, kernelSize: 1, seed: rng.fork('output') }));
    this.samplingRng = rng.fork('sampling');
  }

  /** Number of ConvLSTM layers in the encoder (and in the forecaster). */
  get numLayers(): number {
    return this.hiddenChannels.length;
  }

  /**
   * Predicts `horizon` frames after `frames`.
   *
   * frames: `[batch, M, height, width, channels]` → predictions and logits `[batch, horizon,
   * height, width, channels]`. Runs in one `tf.tidy`; use it inside `tf.variableGrads` (or
   * `Adam.computeGradients`) to train.
   */
  apply(frames: tf.Tensor, options: ForecastOptions): ForecastResult {
    const context = 'EncoderForecaster.apply';
    const [height, width] = this.frameSize;
    const expected = `[batch, time, ${height}, ${width}, ${this.frameChannels}]`;
    if (frames.rank !== 5 || frames.shape[2] !== height || frames.shape[3] !== width || frames.shape[4] !== this.frameChannels) {
      throw new ShapeError('frames', `${expected} (frameSize, frameChannels)`, formatShape(frames.shape), context);
    }
    const horizon = positiveInteger(options.horizon, 'horizon', context);
    const batch = frames.shape[0] as number;
    const forcing = options.teacherForcing ?? false;
    if (this.forecasterInput === 'none' && forcing !== false) {
      throw new ConfigError('teacherForcing', "false when forecasterInput is 'none' (the forecaster reads no frames)", typeof forcing === 'function' ? 'a hook' : forcing, context);
    }
    if (typeof forcing === 'number') finiteNumber(forcing, 'teacherForcing', context, { min: 0, max: 1 });
    const needsTargets = forcing !== false && horizon > 1;
    const targets = options.targets;
    if (targets) {
      if (targets.rank !== 5 || targets.shape[0] !== batch || (targets.shape[1] as number) < horizon - 1 || targets.shape[2] !== height || targets.shape[3] !== width || targets.shape[4] !== this.frameChannels) {
        throw new ShapeError('targets', `[${batch}, ≥ ${horizon - 1}, ${height}, ${width}, ${this.frameChannels}] (batch of frames, horizon − 1 future frames)`, formatShape(targets.shape), context);
      }
    } else if (needsTargets) {
      throw new ConfigError('targets', 'the ground-truth future frames when teacherForcing is not false', undefined, context);
    }
    assertFinite(frames, 'frames', context);
    const rng = options.rng === undefined ? this.samplingRng : resolveRng(options.rng, 'rng', context);

    return tf.tidy(() => {
      const p = this.patchSize;
      // [batch, M, H, W, C] → [batch, M, H/p, W/p, p²·C]
      const patched = spaceToDepth(frames, p);
      const encoded = this.encoder.apply(patched);
      let states: Array<LSTMState> = encoded.states;
      const [, , h, w, depth] = patched.shape as [number, number, number, number, number];
      let logits: tf.Tensor;
      if (this.forecasterInput === 'none') {
        // The forecaster reads nothing: a zero-channel sequence only gives batch, horizon and size.
        const nothing = tf.zeros([batch, horizon, h, w, 0]);
        const run = this.forecaster.apply(nothing, { initialStates: states, returnAllLayers: true });
        // [batch, N, h, w, Σ hidden] → [batch·N, h, w, Σ hidden] for the 1×1 convolution.
        const all = tf.concat(run.layerOutputs as tf.Tensor[], -1);
        const flat = tf.reshape(all, [batch * horizon, h, w, -1]) as tf.Tensor4D;
        logits = tf.reshape(this.output.apply(flat), [batch, horizon, h, w, depth]);
      } else {
        const truth = targets && needsTargets ? spaceToDepth(targets, p) : null;
        // [batch, h, w, p²·C]: the last input frame.
        let previous = tf.squeeze(tf.slice(patched, [0, (patched.shape[1] as number) - 1, 0, 0, 0], [batch, 1, h, w, depth]), [1]);
        const steps: tf.Tensor[] = [];
        for (let step = 0; step < horizon; step++) {
          if (step > 0) previous = this.#feed(step, batch, forcing, rng, truth, previous);
          const result = this.forecaster.step(previous, states);
          states = result.states;
          // [batch, h, w, Σ hidden] → [batch, h, w, p²·C]
          const stepLogits = this.output.apply(tf.concat(result.layerOutputs, -1) as tf.Tensor4D);
          steps.push(stepLogits);
          previous = tf.sigmoid(stepLogits);
        }
        logits = tf.stack(steps, 1);
      }
      // [batch, N, h, w, p²·C] → [batch, N, H, W, C]
      const imageLogits = depthToSpace(logits, p) as tf.Tensor5D;
      return { predictions: tf.sigmoid(imageLogits), logits: imageLogits };
    });
  }

  /** The forecaster's input at `step` ≥ 1: ground truth, own prediction, or a per-example mix. */
  #feed(step: number, batch: number, forcing: TeacherForcing, rng: Rng, truth: tf.Tensor | null, prediction: tf.Tensor): tf.Tensor {
    const context = 'EncoderForecaster.apply';
    let choice = typeof forcing === 'function' ? forcing({ step, batchSize: batch, rng }) : forcing;
    if (typeof choice === 'number') {
      const probability = finiteNumber(choice, 'teacherForcing', context, { min: 0, max: 1 });
      choice = Array.from({ length: batch }, () => rng.bernoulli(probability));
    }
    if (Array.isArray(choice)) {
      if (choice.length !== batch) throw new ConfigError('teacherForcing', `one boolean per example (${batch}) from the hook at step ${step}`, `${choice.length} values`, context);
      if (choice.every((c) => c === true)) choice = true;
      else if (choice.every((c) => c === false)) choice = false;
    }
    if (choice === false) return prediction;
    if (!truth) throw new ConfigError('targets', 'the ground-truth future frames when teacherForcing chooses them', undefined, context);
    // [batch, h, w, p²·C]: the ground truth of step − 1.
    const [, , h, w, depth] = truth.shape as [number, number, number, number, number];
    const frame = tf.squeeze(tf.slice(truth, [0, step - 1, 0, 0, 0], [batch, 1, h, w, depth]), [1]);
    if (choice === true) return frame;
    if (typeof choice !== 'object') throw new ConfigError('teacherForcing', 'a boolean, a probability or one boolean per example', choice, context);
    // [batch] → [batch, 1, 1, 1], broadcast over the frame.
    const mask = tf.reshape(tf.tensor1d((choice as readonly boolean[]).map((c) => (c ? 1 : 0)), 'bool'), [batch, 1, 1, 1]);
    return tf.where(tf.broadcastTo(mask, frame.shape), frame, prediction);
  }
}

/**
 * Scheduled-sampling schedules of Bengio et al. 2015 (sec. 2.4): the probability ε_i of feeding
 * the ground truth at training iteration `i`. Pass `teacherForcing: schedule(iteration)`.
 */
export const scheduledSampling = {
  /** ε_i = max(final, initial − slope·i). */
  linear(options: { readonly initial?: number; readonly final?: number; readonly slope: number }): (iteration: number) => number {
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
