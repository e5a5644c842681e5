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
 * (scheduled sampling, Bengio et al. 2015), mixed by the one teacher-forcing mixer of vid
 * (`teacher-forcing.ts`, shared with `ConvRecurrentNet`'s rollout).
 *
 * Porting note: the paper trains with cross-entropy on sigmoid outputs; `apply` returns both
 * the logits and the sigmoid predictions, so either loss can be used.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  Conv2d,
  Module,
  type ModuleConfig,
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
  registerClass,
  resolveRng,
  sliceFrames,
  stackFrames,
} from '@vid/core';
import { ConvLSTM, type ConvLSTMPeephole, type KernelSize, type LSTMState, layerSizes } from '@vid/cells';

import { depthToSpace, spaceToDepth } from './patches.js';
import { TeacherForcing, type TeacherForcingOptions } from './teacher-forcing.js';

/** What the forecaster reads at each step. */
export type ForecasterInput = 'none' | 'previous-frame';

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
  'frameSize',
  'frameChannels',
  'patchSize',
  'hiddenChannels',
  'numLayers',
  'kernelSize',
  'peephole',
  'fused',
  'bias',
  'forgetBias',
  'forecasterInput',
  'seed',
] as const;

/** Options of {@link EncoderForecaster.apply}. */
/**
 * Options of {@link EncoderForecaster.apply}. Teacher forcing (`forecasterInput:
 * 'previous-frame'` only; see {@link TeacherForcingOptions}) feeds forecast step `s` (1 … N−1) the
 * ground truth `targets[:, s − 1]` where the mask `[batch, horizon − 1]` is 1, and the model's
 * previous prediction where it is 0. `rng` defaults to the model's own `samplingRng` (seeded
 * from `seed`; it advances from call to call).
 */
export interface ForecastOptions extends TeacherForcingOptions {
  /** N, the number of frames to predict. */
  readonly horizon: number;
  /**
   * The ground-truth future frames `[batch, ≥ horizon − 1, height, width, channels]`, needed with
   * teacher forcing. Not disposed.
   */
  readonly targets?: tf.Tensor;
}

const FORECAST_KEYS = [
  'horizon',
  'targets',
  'teacherForcing',
  'scheduledSamplingRatio',
  'rng',
  'teacherForcingMask',
] as const;

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
  static readonly className = 'EncoderForecaster';
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
      throw new ConfigError(
        'frameSize',
        `a height and width divisible by patchSize ${this.patchSize}`,
        [height, width],
        context,
      );
    }
    this.hiddenChannels = layerSizes(options.hiddenChannels, options.numLayers, 'hiddenChannels', context);
    this.forecasterInput = oneOf(
      options.forecasterInput ?? 'none',
      ['none', 'previous-frame'] as const,
      'forecasterInput',
      context,
    );
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
    this.encoder = this.registerModule(
      'encoder',
      new ConvLSTM({ ...cellOptions, inputChannels: patched, seed: rng.fork('encoder') }),
    );
    this.forecaster = this.registerModule(
      'forecaster',
      new ConvLSTM({
        ...cellOptions,
        inputChannels: this.forecasterInput === 'none' ? 0 : patched,
        seed: rng.fork('forecaster'),
      }),
    );
    const total = this.hiddenChannels.reduce((a, b) => a + b, 0);
    this.output = this.registerModule(
      'output',
      new Conv2d({ inChannels: total, outChannels: patched, kernelSize: 1, seed: rng.fork('output') }),
    );
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
    if (
      frames.rank !== 5 ||
      frames.shape[2] !== height ||
      frames.shape[3] !== width ||
      frames.shape[4] !== this.frameChannels
    ) {
      throw new ShapeError('frames', `${expected} (frameSize, frameChannels)`, formatShape(frames.shape), context);
    }
    assertKnownKeys(options, FORECAST_KEYS, context);
    const horizon = positiveInteger(options.horizon, 'horizon', context);
    const batch = frames.shape[0] as number;
    if (this.forecasterInput === 'none' && (options.teacherForcing || options.teacherForcingMask !== undefined)) {
      throw new ConfigError(
        'teacherForcing',
        "false when forecasterInput is 'none' (the forecaster reads no frames)",
        true,
        context,
      );
    }
    // [batch, horizon − 1]: forecast steps 1 … horizon − 1 may read the ground truth.
    const mask = TeacherForcing.resolve(
      { ...options, rng: options.rng ?? this.samplingRng },
      batch,
      horizon - 1,
      context,
    );
    const needsTargets = mask !== null && horizon > 1;
    const targets = options.targets;
    if (targets) {
      if (
        targets.rank !== 5 ||
        targets.shape[0] !== batch ||
        (targets.shape[1] as number) < horizon - 1 ||
        targets.shape[2] !== height ||
        targets.shape[3] !== width ||
        targets.shape[4] !== this.frameChannels
      ) {
        throw new ShapeError(
          'targets',
          `[${batch}, ≥ ${horizon - 1}, ${height}, ${width}, ${this.frameChannels}] (batch of frames, horizon − 1 future frames)`,
          formatShape(targets.shape),
          context,
        );
      }
    } else if (needsTargets) {
      throw new ConfigError('targets', 'the ground-truth future frames with teacher forcing', undefined, context);
    }
    assertFinite(frames, 'frames', context);

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
        const truth = targets && needsTargets ? (spaceToDepth(targets, p) as tf.Tensor5D) : null;
        // [batch, h, w, p²·C]: the last input frame.
        let previous = tf.squeeze(sliceFrames(patched, (patched.shape[1] as number) - 1, 1), [1]) as tf.Tensor4D;
        const steps: tf.Tensor4D[] = [];
        for (let step = 0; step < horizon; step++) {
          if (step > 0 && mask !== null && truth !== null) {
            // [batch, h, w, p²·C]: the ground truth of step − 1, mixed with the prediction.
            previous = mask.mix(step - 1, tf.squeeze(sliceFrames(truth, step - 1, 1), [1]) as tf.Tensor4D, previous);
          }
          const result = this.forecaster.step(previous, states);
          states = result.states;
          // [batch, h, w, Σ hidden] → [batch, h, w, p²·C]
          const stepLogits = this.output.apply(tf.concat(result.layerOutputs, -1) as tf.Tensor4D);
          steps.push(stepLogits);
          previous = tf.sigmoid(stepLogits);
        }
        // horizon × [batch, h, w, p²·C] → [batch, horizon, h, w, p²·C]
        logits = stackFrames(steps);
      }
      // [batch, N, h, w, p²·C] → [batch, N, H, W, C]
      const imageLogits = depthToSpace(logits, p) as tf.Tensor5D;
      return { predictions: tf.sigmoid(imageLogits), logits: imageLogits };
    });
  }

  /**
   * Test-mode prediction, as `ConvRecurrentNet.predict`: the whole `context` is encoded, then
   * `futureFrames` frames are forecast (the forecaster reads its own previous prediction when
   * `forecasterInput` is `'previous-frame'`). What `EncoderForecasterPredictor.predict` returns.
   *
   * context: `[batch, time, height, width, channels]` → `[batch, futureFrames, height, width, channels]`.
   */
  predict(context: tf.Tensor5D, futureFrames: number): tf.Tensor5D {
    return tf.tidy(() => this.apply(context, { horizon: futureFrames }).predictions);
  }

  /** The constructor options ({@link Module.getConfig}), without the seed (a saved model carries its weights). */
  override getConfig(): ModuleConfig {
    const cell = this.encoder.cells.at(0);
    return {
      frameSize: [...this.frameSize],
      frameChannels: this.frameChannels,
      patchSize: this.patchSize,
      hiddenChannels: [...this.hiddenChannels],
      kernelSize: this.encoder.cells.items.map((c) => [...c.kernelSize]),
      peephole: cell.peephole,
      fused: cell.fused,
      bias: cell.bias,
      forgetBias: cell.forgetBias,
      forecasterInput: this.forecasterInput,
    };
  }
}

registerClass(EncoderForecaster);
