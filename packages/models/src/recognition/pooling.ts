/**
 * Feature pooling over time: Ng et al. 2015, "Beyond Short Snippets: Deep Networks for Video
 * Classification", section 3.1 (fig. 2). A CNN runs on every frame; its features are pooled over
 * time by max-pooling at one of several places, then fully connected layers and a softmax classify
 * the video:
 *
 * - **conv pooling**: max over all frames of the last convolutional maps, then the FC layers (the
 *   best of the paper's pooling variants);
 * - **late pooling**: the FC layers on every frame first, then max over the frames of their outputs;
 * - **slow pooling**: max over local windows of frames (10 frames, stride 5 in the paper) of the
 *   convolutional maps, an FC layer shared by the windows, then a second max over the windows;
 * - **local pooling**: the same local max and shared FC layer, without the second max: the softmax
 *   reads all windows at once (their outputs concatenated), keeping their order;
 * - **time-domain convolution**: a convolution across frames (3×3 kernels over 10 frames, stride
 *   5, in the paper) on the convolutional maps, then max over time, then the FC layers.
 *
 * Porting notes: the paper's FC layers are two of 4096 on GoogLeNet/AlexNet features; here one FC
 * layer of `hiddenSize` (ReLU) on a {@link ConvStack} trunk by default, and any {@link ConvTrunk}
 * is accepted. The temporal convolution is a 3-D convolution, computed as a 2-D convolution of the
 * window's frames stacked along channels (the same sums; XNNPACK runs it on wasm, and it avoids
 * tfjs-backend-wasm 4.22's Conv3D backprop kernels, whose gradients are wrong); its weight is kept
 * in the 3-D layout `[frames, kh, kw, in, out]` (`torch.nn.Conv3d` `[out, in, frames, kh, kw]`).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  Layouts,
  Linear,
  Module,
  type Rng,
  ShapeError,
  assertKnownKeys,
  assertTensor,
  biasUniform,
  formatShape,
  kaimingUniform,
  oneOf,
  pairOf,
  positiveInteger,
  resolveRng,
  softmaxCrossEntropy,
} from '@vid/core';
import { type ModuleConfig, type SerializedModule, configOf, registerClass, resolveModule } from '@vid/core';

import type { VideoClassification, VideoClassifier } from './classifier.js';
import { ConvStack, type ConvStackOptions, type ConvTrunk, applyToFrames } from './encoder.js';
import { checkLabels, checkVideo } from './internal.js';

/** Where the features are pooled over time (Ng et al. 2015, section 3.1). */
export type FeaturePooling = 'conv' | 'late' | 'slow' | 'local' | 'time-conv';

export const FEATURE_POOLINGS: readonly FeaturePooling[] = ['conv', 'late', 'slow', 'local', 'time-conv'];

/**
 * Max over all time steps. x: `[batch, time, ...]` → `[batch, ...]` (conv pooling on conv maps,
 * late pooling on FC outputs).
 */
export function maxOverTime(x: tf.Tensor): tf.Tensor {
  assertTensor(x, 'x', 'maxOverTime');
  if (x.rank < 2) throw new ShapeError('x', 'rank ≥ 2: [batch, time, ...]', formatShape(x.shape), 'maxOverTime');
  // [batch, time, ...rest] → [batch, time, size]: a rank-3 reduction (and gradient) is faster on wasm.
  if (x.rank <= 3) return tf.max(x, 1);
  return tf.tidy(() =>
    tf.reshape(tf.max(tf.reshape(x, [x.shape[0] as number, x.shape[1] as number, -1]), 1), [
      x.shape[0] as number,
      ...x.shape.slice(2),
    ]),
  );
}

/** The number of windows of `window` frames, `stride` apart, in `time` frames: ⌊(time − window) / stride⌋ + 1. */
export function temporalWindows(time: number, window: number, stride: number): number {
  return time < window ? 0 : Math.floor((time - window) / stride) + 1;
}

/**
 * Max over local windows of frames (the first stage of slow and local pooling): window k covers
 * frames k·stride … k·stride + window − 1.
 *
 * x: `[batch, time, ...]` → `[batch, windows, ...]`.
 */
export function temporalMaxPool(x: tf.Tensor, window: number, stride: number): tf.Tensor {
  const context = 'temporalMaxPool';
  assertTensor(x, 'x', context);
  positiveInteger(window, 'window', context);
  positiveInteger(stride, 'stride', context);
  const time = x.shape[1] as number;
  const count = temporalWindows(time, window, stride);
  if (x.rank < 2 || count < 1)
    throw new ShapeError('x', `[batch, time ≥ ${window} (window), ...]`, formatShape(x.shape), context);
  return tf.tidy(() => {
    const batch = x.shape[0] as number;
    const rest = x.shape.slice(2);
    const size = rest.reduce((a, b) => a * b, 1);
    // [batch, time, ...rest] → [batch, time, size]: rank-3 slices and reductions (faster on wasm).
    const flat = tf.reshape(x, [batch, time, size]);
    // windows × [batch, size] → [batch, windows, size] → [batch, windows, ...rest]
    const windows = Array.from({ length: count }, (_, k) =>
      tf.max(tf.slice(flat, [0, k * stride, 0], [batch, window, size]), 1),
    );
    return tf.reshape(tf.stack(windows, 1), [batch, count, ...rest]);
  });
}

/**
 * A 3-D convolution across frames ("valid" in time, "same" in space): output window k reads
 * frames k·stride … k·stride + L − 1.
 *
 * x: `[batch, time, height, width, in]`, weight: `[L, kh, kw, in, out]`, bias: `[out]` or null
 * → `[batch, windows, height, width, out]`. Equal to `tf.conv3d(x, weight, [stride, 1, 1], …)`.
 */
export function temporalConv(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | null, stride: number): tf.Tensor5D {
  const context = 'temporalConv';
  assertTensor(x, 'x', context);
  assertTensor(weight, 'weight', context);
  if (weight.rank !== 5)
    throw new ShapeError('weight', '[frames, kh, kw, in, out]', formatShape(weight.shape), context);
  const [L, kh, kw, inChannels, outChannels] = weight.shape as [number, number, number, number, number];
  if (x.rank !== 5 || x.shape[4] !== inChannels)
    throw new ShapeError('x', `[batch, time, height, width, ${inChannels}]`, formatShape(x.shape), context);
  const [batch, time, height, width] = x.shape as [number, number, number, number, number];
  const count = temporalWindows(time, L, stride);
  if (count < 1) throw new ShapeError('x', `at least ${L} frames (the temporal kernel)`, formatShape(x.shape), context);
  return tf.tidy(() => {
    // [L, kh, kw, in, out] → [kh, kw, L, in, out] → [kh, kw, L·in, out] (frame-major channels)
    const kernel = tf.reshape(tf.transpose(weight, [1, 2, 0, 3, 4]), [
      kh,
      kw,
      L * inChannels,
      outChannels,
    ]) as tf.Tensor4D;
    const frames = tf.unstack(x, 1); // time × [batch, H, W, in]
    // Each window's frames stacked along channels: windows × [batch, H, W, L·in] → [windows·batch, H, W, L·in]
    const windows = Array.from({ length: count }, (_, k) => tf.concat(frames.slice(k * stride, k * stride + L), 3));
    const stacked = tf.concat(windows, 0) as tf.Tensor4D;
    let y = tf.conv2d(stacked, kernel, 1, 'same');
    if (bias) y = tf.add(y, bias);
    // [windows·batch, H, W, out] → [windows, batch, H, W, out] → [batch, windows, H, W, out]
    const byWindow = tf.reshape(y, [count, batch, height * width * outChannels]);
    return tf.reshape(tf.transpose(byWindow, [1, 0, 2]), [batch, count, height, width, outChannels]) as tf.Tensor5D;
  });
}

/** Options of {@link TemporalConv}. */
export interface TemporalConvOptions {
  readonly inChannels: number;
  readonly outChannels: number;
  /** L: frames covered by the kernel. */
  readonly frames: number;
  /** Spatial kernel (square), "same" padded. @default 3 */
  readonly kernelSize?: number;
  /** Frames between outputs. @default 1 */
  readonly stride?: number;
  /** Seed or generator (PyTorch's `nn.Conv3d` initialisation). @default 0 */
  readonly seed?: number | Rng;
}

/**
 * The time-domain convolution of Ng et al.: a 3-D convolution over `[time, height, width]`,
 * "valid" in time with a stride, "same" in space ({@link temporalConv}).
 *
 * Parameters: `weight` `[L, kh, kw, in, out]` (PyTorch `nn.Conv3d` `[out, in, L, kh, kw]`), `bias` `[out]`.
 */
export class TemporalConv extends Module {
  static readonly className: string = 'TemporalConv';
  readonly frames: number;
  readonly stride: number;
  readonly outChannels: number;
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  readonly #options: object;

  /** The options given to the constructor (the seed only when it was a number). */
  override getConfig(): ModuleConfig {
    return configOf(this.#options, [], 'TemporalConv');
  }

  constructor(options: TemporalConvOptions) {
    super();
    this.#options = { ...options };
    const context = 'TemporalConv';
    assertKnownKeys(options, ['inChannels', 'outChannels', 'frames', 'kernelSize', 'stride', 'seed'], context);
    const inChannels = positiveInteger(options.inChannels, 'inChannels', context);
    this.outChannels = positiveInteger(options.outChannels, 'outChannels', context);
    this.frames = positiveInteger(options.frames, 'frames', context);
    const kernel = positiveInteger(options.kernelSize ?? 3, 'kernelSize', context);
    this.stride = positiveInteger(options.stride ?? 1, 'stride', context);
    const rng = resolveRng(options.seed, 'seed', context);
    // PyTorch's nn.Conv3d default, with fan-in = in · L · kh · kw.
    const fanIn = inChannels * this.frames * kernel * kernel;
    this.weight = this.registerParameter(
      'weight',
      kaimingUniform({ fan: fanIn })([this.frames, kernel, kernel, inChannels, this.outChannels], rng),
      { layout: Layouts.conv3d },
    );
    this.bias = this.registerParameter('bias', biasUniform(fanIn)([this.outChannels], rng));
  }

  /** x: `[batch, time, height, width, in]` → `[batch, windows, height, width, out]`. */
  apply(x: tf.Tensor): tf.Tensor5D {
    return temporalConv(x, this.weight, this.bias, this.stride);
  }
}

/** Options of {@link FeaturePoolingNet}. */
export interface FeaturePoolingNetOptions {
  /** `[height, width]` of the frames (or one number). */
  readonly frameSize: number | readonly [number, number];
  /** Channels of the frames (2 or 3 for an optical-flow stream). @default 1 */
  readonly frameChannels?: number;
  readonly numClasses: number;
  /** Where to pool over time. @default 'conv' (the paper's best) */
  readonly pooling?: FeaturePooling;
  /**
   * Frames per video. Required by `'local'` (its softmax reads every window, so the number of
   * windows is part of the model, as the paper fixes its frame count); checked when given.
   */
  readonly numFrames?: number;
  /** Frames per local window (`'slow'`, `'local'`) or per temporal kernel (`'time-conv'`). @default 10 (the paper's) */
  readonly window?: number;
  /** Frames between windows. @default 5 (the paper's) */
  readonly stride?: number;
  /** Features of the fully connected layer (ReLU) before the softmax. @default 32 */
  readonly hiddenSize?: number;
  /** `'time-conv'`: output channels of the temporal convolution (the paper's 256). @default 16 */
  readonly timeConvChannels?: number;
  /** `'time-conv'`: spatial kernel of the temporal convolution (the paper's 3×3). @default 3 */
  readonly timeConvKernel?: number;
  /**
   * The per-frame convolutional trunk: any {@link ConvTrunk} (a {@link Module} trains with the model).
   * @default a ConvStack built from `convs`
   */
  readonly trunk?: ConvTrunk | SerializedModule;
  /** Options of the default {@link ConvStack} (frame size, channels and seed come from the model). */
  readonly convs?: Omit<ConvStackOptions, 'frameSize' | 'inputChannels' | 'seed'>;
  /** Seed or generator of the initial weights. @default 0 */
  readonly seed?: number | Rng;
}

const OPTION_KEYS = [
  'frameSize',
  'frameChannels',
  'numClasses',
  'pooling',
  'numFrames',
  'window',
  'stride',
  'hiddenSize',
  'timeConvChannels',
  'timeConvKernel',
  'trunk',
  'convs',
  'seed',
] as const;

/** What {@link FeaturePoolingNet.apply} returns. The caller owns both tensors. */
export interface FeaturePoolingResult extends VideoClassification {
  /** `[batch, classes]`. */
  readonly logits: tf.Tensor2D;
  /** `softmax(logits)`, `[batch, classes]`. */
  readonly probabilities: tf.Tensor2D;
}

/**
 * A CNN with its features pooled over time, in any of Ng et al.'s variants (section 3.1).
 *
 * Parameters: `trunk.*` (the default: `trunk.layers.<l>.weight`, `trunk.layers.<l>.bias`),
 * `time_conv.weight`, `time_conv.bias` (`'time-conv'` only; see {@link TemporalConv}), `fc.weight`
 * `[features, hidden]`, `fc.bias`, `classifier.weight` `[hidden (× windows for 'local'), classes]`,
 * `classifier.bias`.
 */
export class FeaturePoolingNet extends Module implements VideoClassifier<FeaturePoolingResult> {
  static readonly className: string = 'FeaturePoolingNet';
  readonly frameSize: readonly [number, number];
  readonly frameChannels: number;
  readonly numClasses: number;
  readonly pooling: FeaturePooling;
  readonly numFrames: number | null;
  readonly window: number;
  readonly stride: number;
  readonly hiddenSize: number;
  readonly trunk: ConvTrunk;
  readonly timeConv: TemporalConv | null = null;
  readonly fc: Linear;
  readonly classifier: Linear;

  readonly #options: object;

  /** The options given to the constructor (the seed only when it was a number). */
  override getConfig(): ModuleConfig {
    return configOf(this.#options, [], 'FeaturePoolingNet');
  }

  constructor(options: FeaturePoolingNetOptions) {
    super();
    this.#options = { ...options };
    const context = 'FeaturePoolingNet';
    assertKnownKeys(options, OPTION_KEYS, context);
    this.frameSize = pairOf(options.frameSize, 'frameSize', context);
    this.frameChannels = positiveInteger(options.frameChannels ?? 1, 'frameChannels', context);
    this.numClasses = positiveInteger(options.numClasses, 'numClasses', context);
    this.pooling = oneOf(options.pooling ?? 'conv', FEATURE_POOLINGS, 'pooling', context);
    this.numFrames = options.numFrames === undefined ? null : positiveInteger(options.numFrames, 'numFrames', context);
    this.window = positiveInteger(options.window ?? 10, 'window', context);
    this.stride = positiveInteger(options.stride ?? 5, 'stride', context);
    this.hiddenSize = positiveInteger(options.hiddenSize ?? 32, 'hiddenSize', context);
    const global = this.pooling === 'conv' || this.pooling === 'late';
    for (const field of ['window', 'stride'] as const) {
      if (global && options[field] !== undefined)
        throw new ConfigError(
          field,
          `nothing with pooling '${this.pooling}' (it pools over all frames)`,
          options[field],
          context,
        );
    }
    if (this.pooling !== 'time-conv') {
      for (const field of ['timeConvChannels', 'timeConvKernel'] as const) {
        if (options[field] !== undefined)
          throw new ConfigError(field, "nothing unless pooling is 'time-conv'", options[field], context);
      }
    }
    if (this.pooling === 'local' && this.numFrames === null) {
      throw new ConfigError(
        'numFrames',
        "the number of frames per video with pooling 'local' (its softmax reads every window)",
        undefined,
        context,
      );
    }
    if (!global && this.numFrames !== null && temporalWindows(this.numFrames, this.window, this.stride) < 1) {
      throw new ConfigError('window', `at most numFrames (${this.numFrames})`, this.window, context);
    }
    const rng = resolveRng(options.seed, 'seed', context);
    if (options.trunk && options.convs)
      throw new ConfigError('convs', 'nothing when a trunk is given', options.convs, context);
    const trunk =
      resolveModule(options.trunk) ??
      new ConvStack({
        ...(options.convs ?? {}),
        frameSize: this.frameSize,
        inputChannels: this.frameChannels,
        seed: rng.fork('trunk'),
      });
    if (typeof trunk.apply !== 'function' || !Array.isArray(trunk.outputShape) || trunk.outputShape.length !== 3) {
      throw new ConfigError(
        'trunk',
        'a ConvTrunk: { outputShape: [height, width, channels], apply(frames) }',
        trunk,
        context,
      );
    }
    this.trunk = trunk instanceof Module ? this.registerModule('trunk', trunk) : trunk;
    const [h, w, c] = trunk.outputShape;
    let channels = c;
    if (this.pooling === 'time-conv') {
      const timeConv = new TemporalConv({
        inChannels: c,
        outChannels: options.timeConvChannels ?? 16,
        frames: this.window,
        kernelSize: options.timeConvKernel ?? 3,
        stride: this.stride,
        seed: rng.fork('time_conv'),
      });
      this.timeConv = this.registerModule('time_conv', timeConv);
      channels = timeConv.outChannels;
    }
    this.fc = this.registerModule(
      'fc',
      new Linear({ inFeatures: h * w * channels, outFeatures: this.hiddenSize, seed: rng.fork('fc') }),
    );
    const towers = this.pooling === 'local' ? temporalWindows(this.numFrames as number, this.window, this.stride) : 1;
    this.classifier = this.registerModule(
      'classifier',
      new Linear({ inFeatures: this.hiddenSize * towers, outFeatures: this.numClasses, seed: rng.fork('classifier') }),
    );
  }

  /** The fewest frames a video may have for this variant. */
  get minFrames(): number {
    return this.pooling === 'conv' || this.pooling === 'late' ? 1 : this.window;
  }

  /**
   * video: `[batch, time, height, width, frameChannels]` → class scores `[batch, classes]`. Runs in
   * one `tf.tidy`.
   */
  apply(video: tf.Tensor): FeaturePoolingResult {
    const context = 'FeaturePoolingNet.apply';
    checkVideo(
      video,
      {
        frameSize: this.frameSize,
        channels: this.frameChannels,
        minFrames: this.minFrames,
        why: this.pooling === 'conv' || this.pooling === 'late' ? undefined : `window = ${this.window}`,
      },
      context,
    );
    const time = video.shape[1] as number;
    if (this.numFrames !== null && time !== this.numFrames) {
      throw new ShapeError(
        'video',
        `${this.numFrames} frames (numFrames)`,
        `${time} in ${formatShape(video.shape)}`,
        context,
      );
    }
    const batch = video.shape[0] as number;
    return tf.tidy(() => {
      const maps = applyToFrames(video, (frames) => this.trunk.apply(frames)); // [batch, time, h, w, c]
      /** FC + ReLU on flattened maps: [..., h, w, c] → [..., hidden]. */
      const fc = (x: tf.Tensor, lead: number[]): tf.Tensor => tf.relu(this.fc.apply(tf.reshape(x, [...lead, -1])));
      let features: tf.Tensor; // [batch, hidden·towers]
      switch (this.pooling) {
        case 'conv': // max over time of the conv maps, then FC
          features = fc(maxOverTime(maps), [batch]);
          break;
        case 'late': // FC on every frame, then max over time
          features = maxOverTime(fc(maps, [batch, time]));
          break;
        case 'slow': {
          // local max, shared FC per window, then max over the windows
          const local = temporalMaxPool(maps, this.window, this.stride); // [batch, windows, h, w, c]
          features = maxOverTime(fc(local, [batch, local.shape[1] as number]));
          break;
        }
        case 'local': {
          // local max, shared FC per window, every window's output to the softmax: [batch, windows·hidden]
          const local = temporalMaxPool(maps, this.window, this.stride);
          features = tf.reshape(fc(local, [batch, local.shape[1] as number]), [batch, -1]);
          break;
        }
        case 'time-conv': {
          // temporal convolution (+ ReLU), max over time, then FC
          const convolved = tf.relu((this.timeConv as TemporalConv).apply(maps)); // [batch, windows, h, w, out]
          features = fc(maxOverTime(convolved), [batch]);
          break;
        }
      }
      const logits = this.classifier.apply(features) as tf.Tensor2D;
      return { logits, probabilities: tf.softmax(logits) as tf.Tensor2D };
    });
  }

  /** Softmax cross-entropy, averaged over the batch. labels: `[batch]` class indices. */
  loss(result: FeaturePoolingResult, labels: tf.Tensor): tf.Scalar {
    const context = 'FeaturePoolingNet.loss';
    checkLabels(labels, result.logits.shape[0], context);
    return tf.tidy(() => tf.mean(softmaxCrossEntropy(result.logits, labels, context)) as tf.Scalar);
  }
}

registerClass(TemporalConv);

registerClass(FeaturePoolingNet);
