/**
 * An image stream and an optical-flow stream, fused late: Ng et al. 2015, "Beyond Short Snippets",
 * section 3 (optical flow; after Simonyan and Zisserman 2014's two-stream networks). The flow
 * stream is the same kind of network run on the dense optical flow between consecutive frames
 * (here {@link hornSchunck}); each stream is trained on the labels on its own, and their class
 * probabilities are combined by a weighted average.
 *
 * Porting note: the paper stores flow as images (horizontal, vertical components, and optionally
 * the magnitude, as 3 channels); here the flow stays in pixels, `[u, v]` or `[u, v, |(u, v)|]`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, Module, ShapeError, assertKnownKeys, bool, finiteNumber, formatShape } from '@vid/core';
import { type ModuleConfig, type SerializedModule, configOf, registerClass, resolveModule } from '@vid/core';

import { type HornSchunckOptions, videoFlow } from '../flow/horn-schunck.js';
import type { VideoClassification, VideoClassifier } from './classifier.js';
import { checkLabels, checkVideo } from './internal.js';

/** Options of {@link TwoStreamNet}. */
export interface TwoStreamNetOptions<I extends VideoClassification, F extends VideoClassification> {
  /** The image stream, on the frames (or its `{className, config}`). */
  readonly image: VideoClassifier<I> | SerializedModule;
  /** The flow stream, on `[batch, time − 1, height, width, 2 or 3]` flow fields (`frameChannels` 2, or 3 with `flowMagnitude`). */
  readonly flow: VideoClassifier<F> | SerializedModule;
  /** The weight of the flow stream in the fused probabilities, (1 − w)·p_image + w·p_flow. @default 0.5 */
  readonly flowWeight?: number;
  /** Add the flow magnitude as a third channel. @default false */
  readonly flowMagnitude?: boolean;
  /** Options of the optical flow. @default hornSchunck's defaults */
  readonly flowOptions?: HornSchunckOptions;
}

/** What {@link TwoStreamNet.apply} returns. The caller owns every tensor. */
export interface TwoStreamResult<
  I extends VideoClassification,
  F extends VideoClassification,
> extends VideoClassification {
  readonly image: I;
  readonly flow: F;
  /** (1 − w)·p_image + w·p_flow, each stream's scores normalised to sum to 1: `[batch, classes]`. */
  readonly probabilities: tf.Tensor2D;
}

const OPTION_KEYS = ['image', 'flow', 'flowWeight', 'flowMagnitude', 'flowOptions'] as const;

/**
 * Two streams with late fusion. Parameters: `image.*` and `flow.*` (the streams' own, when they
 * are modules).
 */
export class TwoStreamNet<
  I extends VideoClassification = VideoClassification,
  F extends VideoClassification = VideoClassification,
>
  extends Module
  implements VideoClassifier<TwoStreamResult<I, F>>
{
  static readonly className: string = 'TwoStreamNet';
  readonly image: VideoClassifier<I>;
  readonly flow: VideoClassifier<F>;
  readonly flowWeight: number;
  readonly flowMagnitude: boolean;
  readonly flowOptions: HornSchunckOptions;

  readonly #options: object;

  /** The options given to the constructor (the seed only when it was a number). */
  override getConfig(): ModuleConfig {
    return configOf(this.#options, [], 'TwoStreamNet');
  }

  constructor(options: TwoStreamNetOptions<I, F>) {
    super();
    this.#options = { ...options };
    const context = 'TwoStreamNet';
    assertKnownKeys(options, OPTION_KEYS, context);
    this.flowWeight = finiteNumber(options.flowWeight ?? 0.5, 'flowWeight', context, { min: 0, max: 1 });
    this.flowMagnitude = bool(options.flowMagnitude ?? false, 'flowMagnitude', context);
    this.flowOptions = options.flowOptions ?? {};
    const image = resolveModule(options.image) as VideoClassifier<I>;
    const flow = resolveModule(options.flow) as VideoClassifier<F>;
    if (!image || typeof image.apply !== 'function')
      throw new ConfigError('image', 'a VideoClassifier', image, context);
    if (!flow || typeof flow.apply !== 'function') throw new ConfigError('flow', 'a VideoClassifier', flow, context);
    const channels = this.flowMagnitude ? 3 : 2;
    if (flow.frameChannels !== channels) {
      throw new ConfigError(
        'flow.frameChannels',
        `${channels} (u, v${this.flowMagnitude ? ', magnitude' : ''})`,
        flow.frameChannels,
        context,
      );
    }
    if (!tf.util.arraysEqual([...flow.frameSize], [...image.frameSize])) {
      throw new ConfigError(
        'flow.frameSize',
        `${formatShape([...image.frameSize])} (the image stream's)`,
        flow.frameSize,
        context,
      );
    }
    if (flow.numClasses !== image.numClasses)
      throw new ConfigError('flow.numClasses', `${image.numClasses} (the image stream's)`, flow.numClasses, context);
    this.image = image instanceof Module ? this.registerModule('image', image) : image;
    this.flow = flow instanceof Module ? this.registerModule('flow', flow) : flow;
  }

  get numClasses(): number {
    return this.image.numClasses;
  }

  get frameSize(): readonly [number, number] {
    return this.image.frameSize;
  }

  get frameChannels(): number {
    return this.image.frameChannels;
  }

  /**
   * The flow stream's input: the optical flow between consecutive frames.
   *
   * video: `[batch, time ≥ 2, height, width, channels]` → `[batch, time − 1, height, width, 2 or 3]`.
   */
  computeFlow(video: tf.Tensor): tf.Tensor5D {
    checkVideo(
      video,
      { frameSize: this.frameSize, channels: this.frameChannels, minFrames: 2, why: 'flow needs pairs of frames' },
      'TwoStreamNet.computeFlow',
    );
    return tf.tidy(() => {
      const flow = videoFlow(video, this.flowOptions);
      if (!this.flowMagnitude) return flow;
      // [..., 2] → [..., 3]: u, v, √(u² + v²)
      return tf.concat([flow, tf.sqrt(tf.sum(tf.square(flow), 4, true))], 4) as tf.Tensor5D;
    });
  }

  /**
   * Both streams and their fusion. video: `[batch, time, height, width, channels]`; `flow`, when
   * given, is the precomputed {@link TwoStreamNet.computeFlow} of `video` (not disposed).
   */
  apply(video: tf.Tensor, options: { readonly flow?: tf.Tensor } = {}): TwoStreamResult<I, F> {
    const context = 'TwoStreamNet.apply';
    checkVideo(
      video,
      { frameSize: this.frameSize, channels: this.frameChannels, minFrames: 2, why: 'flow needs pairs of frames' },
      context,
    );
    if (options.flow !== undefined) {
      const [batch, time, height, width] = video.shape as number[];
      const expected = [
        batch as number,
        (time as number) - 1,
        height as number,
        width as number,
        this.flow.frameChannels,
      ];
      if (!(options.flow instanceof tf.Tensor) || !tf.util.arraysEqual(options.flow.shape, expected)) {
        throw new ShapeError(
          'flow',
          `${formatShape(expected)} (computeFlow of video)`,
          options.flow instanceof tf.Tensor ? formatShape(options.flow.shape) : typeof options.flow,
          context,
        );
      }
    }
    const imageResult = this.image.apply(video);
    const flowInput = options.flow ?? this.computeFlow(video);
    try {
      const flowResult = this.flow.apply(flowInput);
      const probabilities = tf.tidy(() => {
        const normalise = (p: tf.Tensor) => tf.div(p, tf.sum(p, 1, true));
        return tf.add(
          tf.mul(normalise(imageResult.probabilities), 1 - this.flowWeight),
          tf.mul(normalise(flowResult.probabilities), this.flowWeight),
        ) as tf.Tensor2D;
      });
      return { image: imageResult, flow: flowResult, probabilities };
    } finally {
      if (flowInput !== options.flow) flowInput.dispose();
    }
  }

  /** Each stream's own loss against the labels, summed (the streams train separately). labels: `[batch]`. */
  loss(result: TwoStreamResult<I, F>, labels: tf.Tensor): tf.Scalar {
    checkLabels(labels, result.probabilities.shape[0], 'TwoStreamNet.loss');
    return tf.tidy(
      () => tf.add(this.image.loss(result.image, labels), this.flow.loss(result.flow, labels)) as tf.Scalar,
    );
  }
}

registerClass(TwoStreamNet);
