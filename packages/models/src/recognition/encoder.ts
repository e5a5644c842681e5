/**
 * Per-frame CNN encoders for the recognition models: a small default CNN, and the contracts that
 * any user model meets to take its place.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  Conv2d,
  Linear,
  Module,
  ModuleList,
  type Rng,
  ShapeError,
  assertKnownKeys,
  formatShape,
  pairOf,
  positiveInteger,
  resolveRng,
} from '@vid/core';
import { type ModuleConfig, configOf, registerClass } from '@vid/core';

/**
 * Maps frames to feature vectors: the per-frame CNN of LRCN and of the LSTM of Ng et al. Any
 * object with these members works; a {@link Module} is registered as a child (`encoder.*`), so its
 * parameters train with the model.
 */
export interface FrameEncoder {
  /** Features per frame. */
  readonly outputSize: number;
  /** frames: `[n, height, width, channels]` → `[n, outputSize]`. Must not dispose its input. */
  apply(frames: tf.Tensor4D): tf.Tensor;
}

/**
 * Maps frames to convolutional feature maps: the trunk below the feature pooling of Ng et al.
 * A {@link Module} is registered as a child (`trunk.*`).
 */
export interface ConvTrunk {
  /** `[height, width, channels]` of the output maps. */
  readonly outputShape: readonly [number, number, number];
  /** frames: `[n, height, width, channels]` → `[n, ...outputShape]`. Must not dispose its input. */
  apply(frames: tf.Tensor4D): tf.Tensor;
}

/** Options of {@link ConvStack}. */
export interface ConvStackOptions {
  /** `[height, width]` of the frames (or one number for square frames). */
  readonly frameSize: number | readonly [number, number];
  /** Channels of the frames. @default 1 */
  readonly inputChannels?: number;
  /** Output channels of each convolution, one layer each. @default [8, 16] */
  readonly channels?: readonly number[];
  /** Kernel size of every convolution ("same" padding). @default 3 */
  readonly kernelSize?: number;
  /** Seed or generator of the initial weights (PyTorch's `nn.Conv2d` defaults). @default 0 */
  readonly seed?: number | Rng;
}

const STACK_KEYS = ['frameSize', 'inputChannels', 'channels', 'kernelSize', 'seed'] as const;

/**
 * A small convolutional trunk: per layer a "same" convolution, ReLU and 2×2 max pooling (as the
 * conv blocks of AlexNet/CaffeNet, in miniature). Parameters: `<layer>.weight`, `<layer>.bias`.
 */
export class ConvStack extends Module implements ConvTrunk {
  static readonly className: string = 'ConvStack';
  readonly frameSize: readonly [number, number];
  readonly inputChannels: number;
  readonly outputShape: readonly [number, number, number];
  readonly layers: readonly Conv2d[];

  readonly #options: object;

  /** The options given to the constructor (the seed only when it was a number). */
  override getConfig(): ModuleConfig {
    return configOf(this.#options, [], 'ConvStack');
  }

  constructor(options: ConvStackOptions) {
    super();
    this.#options = { ...options };
    const context = 'ConvStack';
    assertKnownKeys(options, STACK_KEYS, context);
    this.frameSize = pairOf(options.frameSize, 'frameSize', context);
    this.inputChannels = positiveInteger(options.inputChannels ?? 1, 'inputChannels', context);
    const channels = options.channels ?? [8, 16];
    if (!Array.isArray(channels) || channels.length === 0)
      throw new ShapeError('channels', 'a non-empty list of channel counts', String(channels), context);
    channels.forEach((c, i) => positiveInteger(c, `channels[${i}]`, context));
    const kernelSize = positiveInteger(options.kernelSize ?? 3, 'kernelSize', context);
    const rng = resolveRng(options.seed, 'seed', context);
    let [height, width] = this.frameSize;
    let inChannels = this.inputChannels;
    const layers: Conv2d[] = [];
    for (const [i, outChannels] of channels.entries()) {
      if (height < 2 || width < 2) {
        throw new ShapeError(
          'frameSize',
          `at least 2^${channels.length} a side for ${channels.length} pooling layers`,
          formatShape([...this.frameSize]),
          `${context} (layer ${i})`,
        );
      }
      layers.push(new Conv2d({ inChannels, outChannels, kernelSize, seed: rng }));
      inChannels = outChannels;
      height = Math.floor(height / 2);
      width = Math.floor(width / 2);
    }
    this.layers = this.registerModule('layers', new ModuleList(layers)).items;
    this.outputShape = [height, width, inChannels];
  }

  /** frames: `[n, height, width, inputChannels]` → `[n, height / 2^L, width / 2^L, channels[L − 1]]`. */
  apply(frames: tf.Tensor4D): tf.Tensor4D {
    const [height, width] = this.frameSize;
    if (
      frames.rank !== 4 ||
      frames.shape[1] !== height ||
      frames.shape[2] !== width ||
      frames.shape[3] !== this.inputChannels
    ) {
      throw new ShapeError(
        'frames',
        `[n, ${height}, ${width}, ${this.inputChannels}] (frameSize, inputChannels)`,
        formatShape(frames.shape),
        'ConvStack',
      );
    }
    return tf.tidy(() => {
      let x: tf.Tensor4D = frames;
      for (const conv of this.layers) x = tf.maxPool(tf.relu(conv.apply(x)), 2, 2, 'valid');
      return x;
    });
  }
}

/** Options of {@link SmallCnn}. */
export interface SmallCnnOptions extends ConvStackOptions {
  /** Features of the fully connected layer on the flattened maps (the "fc6" of the model). @default 32 */
  readonly featureSize?: number;
}

/**
 * The default frame encoder: a {@link ConvStack}, flattened, then a fully connected layer with
 * ReLU — a miniature of the CaffeNet fc6 features that LRCN feeds its LSTM. The flattening keeps
 * where things are in the frame, which motion needs.
 *
 * Parameters: `convs.<layer>.weight`, `convs.<layer>.bias`, `fc.weight`, `fc.bias`.
 */
export class SmallCnn extends Module implements FrameEncoder {
  static readonly className: string = 'SmallCnn';
  readonly convs: ConvStack;
  readonly fc: Linear;
  readonly outputSize: number;

  readonly #options: object;

  /** The options given to the constructor (the seed only when it was a number). */
  override getConfig(): ModuleConfig {
    return configOf(this.#options, [], 'SmallCnn');
  }

  constructor(options: SmallCnnOptions) {
    super();
    this.#options = { ...options };
    const context = 'SmallCnn';
    const { featureSize, ...stack } = options;
    assertKnownKeys(options, [...STACK_KEYS, 'featureSize'], context);
    this.outputSize = positiveInteger(featureSize ?? 32, 'featureSize', context);
    const rng = resolveRng(stack.seed, 'seed', context);
    this.convs = this.registerModule('convs', new ConvStack({ ...stack, seed: rng }));
    const [h, w, c] = this.convs.outputShape;
    this.fc = this.registerModule('fc', new Linear({ inFeatures: h * w * c, outFeatures: this.outputSize, seed: rng }));
  }

  /** frames: `[n, height, width, channels]` → `[n, featureSize]`. */
  apply(frames: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      const maps = this.convs.apply(frames);
      // [n, h, w, c] → [n, h·w·c]
      const flat = tf.reshape(maps, [maps.shape[0], -1]);
      return tf.relu(this.fc.apply(flat)) as tf.Tensor2D;
    });
  }
}

/**
 * Applies a per-frame model to every frame of a batch of videos at once.
 *
 * video: `[batch, time, height, width, channels]` → `[batch, time, ...out]` where `fn` maps
 * `[batch·time, height, width, channels]` to `[batch·time, ...out]`.
 */
export function applyToFrames(video: tf.Tensor, fn: (frames: tf.Tensor4D) => tf.Tensor): tf.Tensor {
  const [batch, time, height, width, channels] = video.shape as [number, number, number, number, number];
  return tf.tidy(() => {
    // [batch, time, H, W, C] → [batch·time, H, W, C]
    const out = fn(tf.reshape(video, [batch * time, height, width, channels]) as tf.Tensor4D);
    // [batch·time, ...out] → [batch, time, ...out]
    return tf.reshape(out, [batch, time, ...out.shape.slice(1)]);
  });
}

registerClass(ConvStack);

registerClass(SmallCnn);
