/**
 * CNN → LSTM video classifiers that predict at every frame:
 *
 * - {@link LRCN}: Donahue et al. 2015, "Long-term Recurrent Convolutional Networks for Visual
 *   Recognition and Description", section 4.1 (activity recognition): a CNN encodes each frame,
 *   an LSTM runs over the features, a softmax predicts the class at every step (the video's label
 *   is the target of each), and the video's prediction is the average of the per-frame predictions.
 * - {@link DeepLSTMNet}: the "deep LSTM" of Ng et al. 2015, "Beyond Short Snippets: Deep Networks
 *   for Video Classification", section 3.2: stacked LSTMs on the CNN's features, a softmax at every
 *   step, per-step losses weighted by g = t / T, and the answer aggregated over time by max, sum,
 *   the last step or the linear weighting g ({@link aggregatePredictions}).
 *
 * Porting notes: the papers use ImageNet CNNs (CaffeNet, GoogLeNet) and 256–512 LSTM cells
 * (5 layers in Ng et al.); the defaults here are a {@link SmallCnn} and one or two small layers,
 * for tests and toy data — give `encoder`, `hiddenSize` to scale up. Dropout is left out.
 */
import * as tf from '@tensorflow/tfjs-core';
import { LSTM } from '@vid/cells';
import {
  ConfigError,
  Linear,
  Module,
  type Rng,
  assertKnownKeys,
  oneOf,
  pairOf,
  positiveInteger,
  resolveRng,
  softmaxCrossEntropy,
} from '@vid/core';
import { type ModuleConfig, type SerializedModule, configOf, registerClass, resolveModule } from '@vid/core';

import {
  PREDICTION_AGGREGATIONS,
  type PredictionAggregation,
  aggregatePredictions,
  linearTimeWeights,
} from './aggregate.js';
import type { VideoClassification, VideoClassifier } from './classifier.js';
import { type FrameEncoder, SmallCnn, type SmallCnnOptions, applyToFrames } from './encoder.js';
import { checkLabels, checkVideo } from './internal.js';

/** How the per-step losses are weighted: equally, or by Ng et al.'s g_t = t / T. */
export type StepWeighting = 'uniform' | 'linear';

/** Options of {@link LRCN} and {@link DeepLSTMNet}. */
export interface FrameLSTMOptions {
  /** `[height, width]` of the frames (or one number). */
  readonly frameSize: number | readonly [number, number];
  /** Channels of the frames. @default 1 */
  readonly frameChannels?: number;
  readonly numClasses: number;
  /**
   * LSTM hidden features: one number (one layer), or one per layer.
   * @default LRCN 32; DeepLSTMNet [32, 32]
   */
  readonly hiddenSize?: number | readonly number[];
  /**
   * The per-frame encoder: any {@link FrameEncoder} (a {@link Module} trains with the model).
   * @default a SmallCnn built from `cnn`
   */
  readonly encoder?: FrameEncoder | SerializedModule;
  /** Options of the default {@link SmallCnn} (frame size, channels and seed come from the model). */
  readonly cnn?: Omit<SmallCnnOptions, 'frameSize' | 'inputChannels' | 'seed'>;
  /** How per-frame predictions become the video's. @default LRCN 'mean'; DeepLSTMNet 'weighted' */
  readonly aggregation?: PredictionAggregation;
  /** Weights of the per-step losses. @default LRCN 'uniform'; DeepLSTMNet 'linear' */
  readonly stepWeights?: StepWeighting;
  /** Seed or generator of the initial weights. @default 0 */
  readonly seed?: number | Rng;
}

const OPTION_KEYS = [
  'frameSize',
  'frameChannels',
  'numClasses',
  'hiddenSize',
  'encoder',
  'cnn',
  'aggregation',
  'stepWeights',
  'seed',
] as const;

/** What {@link LRCN.apply} and {@link DeepLSTMNet.apply} return. The caller owns every tensor. */
export interface FrameLSTMResult extends VideoClassification {
  /** The class scores at every frame, `[batch, time, classes]`. */
  readonly frameLogits: tf.Tensor3D;
  /** The per-frame softmax, aggregated over time: `[batch, classes]`. */
  readonly probabilities: tf.Tensor2D;
}

/**
 * A CNN encoder, a (stacked) LSTM and a per-step linear classifier.
 *
 * Parameters: `encoder.*` (the default: `encoder.convs.layers.<l>.weight`, …, `encoder.fc.weight`),
 * `lstm.cells.<layer>.weight_ih`, … (`torch.nn.LSTMCell` names), `classifier.weight`, `classifier.bias`.
 */
export class FrameLSTMClassifier extends Module implements VideoClassifier<FrameLSTMResult> {
  readonly frameSize: readonly [number, number];
  readonly frameChannels: number;
  readonly numClasses: number;
  readonly aggregation: PredictionAggregation;
  readonly stepWeights: StepWeighting;
  readonly encoder: FrameEncoder;
  readonly lstm: LSTM;
  readonly classifier: Linear;

  readonly #options: object;

  /** The options given to the constructor (the seed only when it was a number). */
  override getConfig(): ModuleConfig {
    return configOf(this.#options, [], this.constructor.name);
  }

  protected constructor(
    options: FrameLSTMOptions,
    defaults: {
      hiddenSize: number | readonly number[];
      aggregation: PredictionAggregation;
      stepWeights: StepWeighting;
    },
    context: string,
  ) {
    super();
    this.#options = { ...options };
    assertKnownKeys(options, OPTION_KEYS, context);
    this.frameSize = pairOf(options.frameSize, 'frameSize', context);
    this.frameChannels = positiveInteger(options.frameChannels ?? 1, 'frameChannels', context);
    this.numClasses = positiveInteger(options.numClasses, 'numClasses', context);
    this.aggregation = oneOf(
      options.aggregation ?? defaults.aggregation,
      PREDICTION_AGGREGATIONS,
      'aggregation',
      context,
    );
    this.stepWeights = oneOf(
      options.stepWeights ?? defaults.stepWeights,
      ['uniform', 'linear'] as const,
      'stepWeights',
      context,
    );
    const rng = resolveRng(options.seed, 'seed', context);
    if (options.encoder && options.cnn)
      throw new ConfigError('cnn', 'nothing when an encoder is given', options.cnn, context);
    const encoder =
      resolveModule(options.encoder) ??
      new SmallCnn({
        ...(options.cnn ?? {}),
        frameSize: this.frameSize,
        inputChannels: this.frameChannels,
        seed: rng.fork('encoder'),
      });
    if (typeof encoder.apply !== 'function' || !Number.isInteger(encoder.outputSize) || encoder.outputSize < 1) {
      throw new ConfigError(
        'encoder',
        'a FrameEncoder: { outputSize: positive integer, apply(frames) }',
        encoder,
        context,
      );
    }
    this.encoder = encoder instanceof Module ? this.registerModule('encoder', encoder) : encoder;
    this.lstm = this.registerModule(
      'lstm',
      new LSTM({
        inputSize: encoder.outputSize,
        hiddenSize: options.hiddenSize ?? defaults.hiddenSize,
        seed: rng.fork('lstm'),
      }),
    );
    this.classifier = this.registerModule(
      'classifier',
      new Linear({ inFeatures: this.lstm.outputSize, outFeatures: this.numClasses, seed: rng.fork('classifier') }),
    );
  }

  /**
   * video: `[batch, time, height, width, frameChannels]` → per-frame class scores
   * `[batch, time, classes]` and the aggregated prediction `[batch, classes]`. Runs in one `tf.tidy`.
   */
  apply(video: tf.Tensor): FrameLSTMResult {
    const context = `${this.constructor.name}.apply`;
    checkVideo(video, { frameSize: this.frameSize, channels: this.frameChannels }, context);
    return tf.tidy(() => {
      const features = applyToFrames(video, (frames) => this.encoder.apply(frames)); // [batch, time, F]
      const { output } = this.lstm.apply(features); // [batch, time, hidden]
      const frameLogits = this.classifier.apply(output) as tf.Tensor3D;
      const probabilities = aggregatePredictions(tf.softmax(frameLogits), this.aggregation);
      return { frameLogits, probabilities };
    });
  }

  /**
   * The per-step cross-entropy against the video's label, Σ_t w_t CE_t / Σ_t w_t with w = 1
   * (`'uniform'`) or g_t = t / T (`'linear'`), averaged over the batch. labels: `[batch]`.
   */
  loss(result: FrameLSTMResult, labels: tf.Tensor): tf.Scalar {
    const context = `${this.constructor.name}.loss`;
    const [batch, time] = result.frameLogits.shape;
    checkLabels(labels, batch, context);
    return tf.tidy(() => {
      const perStep = softmaxCrossEntropy(result.frameLogits, tf.tile(tf.expandDims(labels, 1), [1, time]), context); // [batch, time]
      if (this.stepWeights === 'uniform') return tf.mean(perStep) as tf.Scalar;
      const g = linearTimeWeights(time);
      const total = g.reduce((a, b) => a + b, 0);
      return tf.div(tf.mean(tf.sum(tf.mul(perStep, tf.tensor2d(g, [1, time])), 1)), total) as tf.Scalar;
    });
  }
}

/**
 * LRCN for activity recognition (Donahue et al. 2015): per-frame CNN, LSTM, per-frame softmax,
 * predictions averaged over time. See {@link FrameLSTMOptions} (defaults: one 32-unit layer,
 * `aggregation: 'mean'`, `stepWeights: 'uniform'`).
 */
export class LRCN extends FrameLSTMClassifier {
  static readonly className = 'LRCN';
  constructor(options: FrameLSTMOptions) {
    super(options, { hiddenSize: 32, aggregation: 'mean', stepWeights: 'uniform' }, 'LRCN');
  }
}

/**
 * The deep LSTM of Ng et al. 2015 (section 3.2): per-frame CNN, stacked LSTMs, a softmax at every
 * step, losses weighted by g_t = t / T and predictions aggregated by `'weighted'` (default),
 * `'max'`, `'sum'` or `'last'`. Defaults: two 32-unit layers (the paper: five of 512).
 */
export class DeepLSTMNet extends FrameLSTMClassifier {
  static readonly className = 'DeepLSTMNet';
  constructor(options: FrameLSTMOptions) {
    super(options, { hiddenSize: [32, 32], aggregation: 'weighted', stepWeights: 'linear' }, 'DeepLSTMNet');
  }
}

registerClass(LRCN);
registerClass(DeepLSTMNet);
