/**
 * Early activity recognition: classify a video from its first p% of frames only, as in the
 * Something-Something V2 experiment of Su et al. 2020, "Convolutional Tensor-Train LSTM for
 * Spatio-Temporal Learning" (NeurIPS), section 5, which follows the protocol of Wang et al. 2019,
 * "Eidetic 3D LSTM" (ICLR), section 4.3: a recurrent video-prediction network (Conv-TT-LSTM,
 * ConvLSTM, E3D-LSTM) reads the observed frames; a classifier on its final hidden states predicts
 * the action; predicting the next frames is kept as an auxiliary, self-supervised objective
 * (L = L_ce + λ·L_frames, λ annealed during training).
 *
 * The recurrent part is any stack of cells that follows the `RecurrentCell` contract of
 * `@vid/cells` on NHWC frames: `ConvLSTMCell`, `ConvGRUCell`, the Conv-TT-LSTM cell of
 * `@vid/tensor-train`, or your own.
 *
 * Porting notes: the papers' networks are 4-block encoders with 3×3 or 5×5 kernels on 224×224
 * frames and a classifier on the features (their exact head is not given); here frames are
 * optionally patched space-to-depth (as Shi et al. 2015), the classifier is global average pooling
 * of the final hidden state of every layer, concatenated, then a linear layer, and the frame
 * predictor is a 1×1 convolution of the top layer's output.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type AnyRecurrentModule, ConvLSTM, StackedRNN } from '@vid/cells';
import {
  ConfigError,
  Conv2d,
  Linear,
  Module,
  type Rng,
  ShapeError,
  assertKnownKeys,
  bool,
  finiteNumber,
  formatShape,
  pairOf,
  positiveInteger,
  resolveRng,
  softmaxCrossEntropy,
} from '@vid/core';
import { type ModuleConfig, type SerializedModule, configOf, registerClass, resolveModule } from '@vid/core';

import { depthToSpace, spaceToDepth } from '../prediction/patches.js';
import { type VideoClassification, type VideoClassifier, evaluateAccuracy } from './classifier.js';
import { checkLabels, checkVideo } from './internal.js';

/**
 * The number of frames in the first `percent`% of `total`: ⌈total · percent / 100⌉, at least 1
 * (the same rule as `observedFrameCount` of `@vid/datasets`' Something-Something V2 loader).
 */
export function observedFrames(total: number, percent: number): number {
  positiveInteger(total, 'total', 'observedFrames');
  finiteNumber(percent, 'percent', 'observedFrames', { min: 0, max: 100 });
  return Math.max(1, Math.min(total, Math.ceil((total * percent) / 100)));
}

/**
 * The first `percent`% of each video's frames.
 *
 * video: `[batch, time, ...]` → `[batch, observedFrames(time, percent), ...]`.
 */
export function observeFirst(video: tf.Tensor, percent: number): tf.Tensor {
  if (!(video instanceof tf.Tensor) || video.rank < 2) {
    throw new ShapeError(
      'video',
      '[batch, time, ...]',
      video instanceof tf.Tensor ? formatShape(video.shape) : typeof video,
      'observeFirst',
    );
  }
  const frames = observedFrames(video.shape[1] as number, percent);
  return tf.slice(
    video,
    video.shape.map(() => 0),
    video.shape.map((d, i) => (i === 1 ? frames : d)),
  );
}

/** Options of {@link EarlyRecognizer}. */
export interface EarlyRecognizerOptions {
  /** `[height, width]` of the frames (or one number). */
  readonly frameSize: number | readonly [number, number];
  /** Channels of the frames. @default 1 */
  readonly frameChannels?: number;
  readonly numClasses: number;
  /**
   * Space-to-depth patch size applied to the frames before the recurrent network (Shi et al.
   * 2015's patching): the network reads `[H/p, W/p, p²·C]`.
   * @default 1
   */
  readonly patchSize?: number;
  /**
   * The recurrent video model: a {@link StackedRNN} (e.g. `new ConvLSTM({ … })`) or a list of
   * cells to stack, first layer first. Its first layer reads `p²·frameChannels` channels.
   * @default a ConvLSTM with `hiddenChannels` and `kernelSize`
   */
  readonly recurrent?: StackedRNN | ReadonlyArray<AnyRecurrentModule | SerializedModule> | SerializedModule;
  /** Default ConvLSTM only: hidden channels per layer. @default [16] */
  readonly hiddenChannels?: number | readonly number[];
  /** Default ConvLSTM only: kernel size. @default 3 */
  readonly kernelSize?: number;
  /** Add the auxiliary next-frame predictor (E3D-LSTM's self-supervised objective). @default true */
  readonly predictFrames?: boolean;
  /** λ of the frame-prediction loss; a field (`predictionWeight`) that a schedule may change. @default 1 */
  readonly predictionWeight?: number;
  /** Seed or generator of the initial weights. @default 0 */
  readonly seed?: number | Rng;
}

const OPTION_KEYS = [
  'frameSize',
  'frameChannels',
  'numClasses',
  'patchSize',
  'recurrent',
  'hiddenChannels',
  'kernelSize',
  'predictFrames',
  'predictionWeight',
  'seed',
] as const;

/** What {@link EarlyRecognizer.apply} returns. The caller owns every tensor. */
export interface EarlyRecognitionResult extends VideoClassification {
  /** `[batch, classes]`. */
  readonly logits: tf.Tensor2D;
  /** `softmax(logits)`. */
  readonly probabilities: tf.Tensor2D;
  /** Frames observed (after the `observedPercent` cut). */
  readonly observed: number;
  /** With `predictFrames`: the predicted frames 1 … observed − 1, `[batch, observed − 1, H, W, C]` (from frames 0 … observed − 2); else null. */
  readonly predictedFrames: tf.Tensor5D | null;
  /** With `predictFrames`: the frames they predict (the observed frames 1 …), else null. */
  readonly targetFrames: tf.Tensor5D | null;
}

/**
 * A recurrent video model that sees the first p% of a video, with a classifier on its final hidden
 * states and an auxiliary next-frame predictor.
 *
 * Parameters: `recurrent.cells.<layer>.…` (the cells' own names), `classifier.weight`
 * `[Σ hidden, classes]`, `classifier.bias`, and with `predictFrames` `predictor.weight`
 * `[1, 1, hidden, p²·C]`, `predictor.bias`.
 */
export class EarlyRecognizer extends Module implements VideoClassifier<EarlyRecognitionResult> {
  static readonly className: string = 'EarlyRecognizer';
  readonly frameSize: readonly [number, number];
  readonly frameChannels: number;
  readonly numClasses: number;
  readonly patchSize: number;
  readonly recurrent: StackedRNN;
  readonly classifier: Linear;
  readonly predictor: Conv2d | null;
  /** λ of the frame-prediction loss (mutable, to anneal it). */
  predictionWeight: number;

  readonly #options: object;

  /** The options given to the constructor (the seed only when it was a number). */
  override getConfig(): ModuleConfig {
    return configOf(this.#options, [], 'EarlyRecognizer');
  }

  constructor(options: EarlyRecognizerOptions) {
    super();
    this.#options = { ...options };
    const context = 'EarlyRecognizer';
    assertKnownKeys(options, OPTION_KEYS, context);
    this.frameSize = pairOf(options.frameSize, 'frameSize', context);
    this.frameChannels = positiveInteger(options.frameChannels ?? 1, 'frameChannels', context);
    this.numClasses = positiveInteger(options.numClasses, 'numClasses', context);
    this.patchSize = positiveInteger(options.patchSize ?? 1, 'patchSize', context);
    const p = this.patchSize;
    if (this.frameSize[0] % p !== 0 || this.frameSize[1] % p !== 0) {
      throw new ConfigError('patchSize', `a divisor of the frame size ${formatShape([...this.frameSize])}`, p, context);
    }
    this.predictionWeight = finiteNumber(options.predictionWeight ?? 1, 'predictionWeight', context, { min: 0 });
    const predictFrames = bool(options.predictFrames ?? true, 'predictFrames', context);
    const rng = resolveRng(options.seed, 'seed', context);
    const inputChannels = p * p * this.frameChannels;
    let recurrent: StackedRNN;
    const recurrentOption = resolveModule(options.recurrent);
    if (recurrentOption === undefined) {
      recurrent = new ConvLSTM({
        inputChannels,
        hiddenChannels: options.hiddenChannels ?? [16],
        kernelSize: options.kernelSize ?? 3,
        seed: rng.fork('recurrent'),
      });
    } else {
      for (const field of ['hiddenChannels', 'kernelSize'] as const) {
        if (options[field] !== undefined)
          throw new ConfigError(field, 'nothing when a recurrent network is given', options[field], context);
      }
      recurrent =
        recurrentOption instanceof StackedRNN
          ? recurrentOption
          : new StackedRNN({ cells: recurrentOption as ReadonlyArray<AnyRecurrentModule | SerializedModule> });
      if (recurrent.direction !== 'forward' || recurrent.stateful) {
        throw new ConfigError(
          'recurrent',
          'a forward, non-stateful stack (the classifier reads the state after the last observed frame)',
          `${recurrent.direction}${recurrent.stateful ? ', stateful' : ''}`,
          context,
        );
      }
    }
    if (recurrent.inputSize !== inputChannels) {
      throw new ConfigError(
        'recurrent',
        `a first layer that reads patchSize² · frameChannels = ${inputChannels} channels`,
        `inputSize ${recurrent.inputSize}`,
        context,
      );
    }
    const stepRank = recurrent.cells.at(0).inputRank;
    if (stepRank !== undefined && stepRank !== 4) {
      throw new ConfigError(
        'recurrent',
        'convolutional cells (a step is [batch, height, width, channels])',
        `cells whose step has rank ${stepRank}`,
        context,
      );
    }
    this.recurrent = this.registerModule('recurrent', recurrent);
    const readout = recurrent.layerOutputSizes.reduce((a, b) => a + b, 0);
    this.classifier = this.registerModule(
      'classifier',
      new Linear({ inFeatures: readout, outFeatures: this.numClasses, seed: rng.fork('classifier') }),
    );
    this.predictor = predictFrames
      ? this.registerModule(
          'predictor',
          new Conv2d({
            inChannels: recurrent.outputSize,
            outChannels: inputChannels,
            kernelSize: 1,
            seed: rng.fork('predictor'),
          }),
        )
      : null;
  }

  /**
   * Classifies each video from its first `observedPercent`% of frames.
   *
   * video: `[batch, time, height, width, frameChannels]` → logits `[batch, classes]` (and the
   * next-frame predictions). Runs in one `tf.tidy`.
   */
  apply(video: tf.Tensor, options: { readonly observedPercent?: number } = {}): EarlyRecognitionResult {
    const context = 'EarlyRecognizer.apply';
    checkVideo(video, { frameSize: this.frameSize, channels: this.frameChannels }, context);
    const percent = finiteNumber(options.observedPercent ?? 100, 'observedPercent', context, { min: 0, max: 100 });
    const observed = observedFrames(video.shape[1] as number, percent);
    const p = this.patchSize;
    const tensors = tf.tidy(() => {
      const seen = observeFirst(video, percent) as tf.Tensor5D; // [batch, observed, H, W, C]
      const input = p > 1 ? spaceToDepth(seen, p) : seen; // [batch, observed, H/p, W/p, p²C]
      const run = this.recurrent.apply(input, { returnAllLayers: true });
      const layers = run.layerOutputs as tf.Tensor[];
      const batch = video.shape[0] as number;
      // Readout: every layer's output after the last observed frame, averaged over space, concatenated.
      const pooled = layers.map((output) => {
        const [, time, h, w, c] = output.shape as [number, number, number, number, number];
        return tf.mean(tf.reshape(tf.slice(output, [0, time - 1, 0, 0, 0], [batch, 1, h, w, c]), [batch, h * w, c]), 1); // [batch, c]
      });
      const logits = this.classifier.apply(
        pooled.length === 1 ? (pooled[0] as tf.Tensor) : tf.concat(pooled, 1),
      ) as tf.Tensor2D;
      const out: { logits: tf.Tensor2D; predictedFrames?: tf.Tensor5D; targetFrames?: tf.Tensor5D } = { logits };
      if (this.predictor && observed > 1) {
        // Frames 1 … observed − 1 from the top layer's outputs at 0 … observed − 2.
        const top = run.output;
        const [, , h, w, c] = top.shape as [number, number, number, number, number];
        const steps = tf.reshape(tf.slice(top, [0, 0, 0, 0, 0], [batch, observed - 1, h, w, c]), [
          batch * (observed - 1),
          h,
          w,
          c,
        ]) as tf.Tensor4D;
        const patched = tf.reshape(this.predictor.apply(steps), [
          batch,
          observed - 1,
          h,
          w,
          p * p * this.frameChannels,
        ]);
        out.predictedFrames = (p > 1 ? depthToSpace(patched, p) : patched) as tf.Tensor5D;
        const [, , height, width, channels] = seen.shape;
        out.targetFrames = tf.slice(
          seen,
          [0, 1, 0, 0, 0],
          [batch, observed - 1, height, width, channels],
        ) as tf.Tensor5D;
      }
      return out;
    });
    return {
      logits: tensors.logits,
      probabilities: tf.softmax(tensors.logits) as tf.Tensor2D,
      observed,
      predictedFrames: tensors.predictedFrames ?? null,
      targetFrames: tensors.targetFrames ?? null,
    };
  }

  /**
   * L = L_ce + λ·L_frames: softmax cross-entropy on the video's label, plus λ (`predictionWeight`)
   * times the mean squared error of the next-frame predictions (when the model has them and saw
   * more than one frame). labels: `[batch]`.
   */
  loss(result: EarlyRecognitionResult, labels: tf.Tensor): tf.Scalar {
    const context = 'EarlyRecognizer.loss';
    checkLabels(labels, result.logits.shape[0], context);
    return tf.tidy(() => {
      const crossEntropy = tf.mean(softmaxCrossEntropy(result.logits, labels, context));
      if (!result.predictedFrames || !result.targetFrames || this.predictionWeight === 0)
        return crossEntropy as tf.Scalar;
      const frames = tf.mean(tf.square(tf.sub(result.predictedFrames, result.targetFrames)));
      return tf.add(crossEntropy, tf.mul(frames, this.predictionWeight)) as tf.Scalar;
    });
  }
}

/** Accuracy at one observation ratio (see {@link evaluateEarlyRecognition}). */
export interface EarlyAccuracy {
  readonly percent: number;
  /** Frames observed out of the video's. */
  readonly frames: number;
  readonly accuracy: number;
}

/**
 * The accuracy of a classifier that sees only the first p% of each video, for each p (the
 * early-recognition table of Su et al. 2020 / Wang et al. 2019 reports p = 25% and 50%).
 *
 * videos: `[count, time, height, width, channels]`, labels: `count` class indices.
 */
export async function evaluateEarlyRecognition(
  model: VideoClassifier,
  videos: tf.Tensor,
  labels: ArrayLike<number> | tf.Tensor,
  options: { readonly percents?: readonly number[]; readonly batchSize?: number } = {},
): Promise<EarlyAccuracy[]> {
  const percents = options.percents ?? [25, 50, 75, 100];
  const out: EarlyAccuracy[] = [];
  for (const percent of percents) {
    const frames = observedFrames(videos.shape[1] as number, percent);
    const accuracy = await evaluateAccuracy(model, videos, labels, {
      ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
      transform: (batch) => observeFirst(batch, percent) as tf.Tensor5D,
    });
    out.push({ percent, frames, accuracy });
  }
  return out;
}

registerClass(EarlyRecognizer);
