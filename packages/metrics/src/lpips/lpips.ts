/**
 * LPIPS (Zhang et al. 2018, "The Unreasonable Effectiveness of Deep Features as a Perceptual
 * Metric", eq. 1): a port of richzhang/PerceptualSimilarity `lpips/lpips.py` (`LPIPS`, version
 * 0.1, `lpips=True`, `spatial=False`, eval mode) to TensorFlow.js.
 *
 *     d(x0, x1) = Σ_l  mean_{h,w}  w_l · ( ŷ0_l − ŷ1_l )²
 *
 * with `ŷ_l` the unit-normalised (over channels) activations of trunk slice `l` of the scaled
 * input (`ScalingLayer`: `(x − shift) / scale`), and `w_l` the learned 1×1 linear weights.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  Module,
  type ParameterLayout,
  Rng,
  ShapeError,
  StateDictError,
  assertKnownKeys,
  bool,
  formatShape,
  oneOf,
} from '@vid/core';
import { type ModuleConfig, registerClass, seedConfig } from '@vid/core';

import { assertFramePair, debugCheckValues, flattenFrames, imageMean } from '../internal/frames.js';
import { type LpipsNet, LPIPS_TRUNKS, LpipsTrunk, NetLinLayer, trunkFeatureSizes } from './trunks.js';
import {
  LPIPS_SCALING,
  type LpipsWeightSource,
  type NameMapping,
  type WeightTensor,
  missingWeightsHint,
  normalizeLpipsNames,
  readWeightSource,
} from './weights.js';

/** The value range of the frames given to {@link LPIPS}. */
export type LpipsInputRange = '[0,1]' | '[-1,1]';

/** Named input conventions. */
export type LpipsInputPreset = 'official' | 'unit' | 'convttlstm' | 'predrnn';

/** How frames are fed to the network. */
export interface LpipsInputConvention {
  /** The range the frames are in. */
  readonly inputRange: LpipsInputRange;
  /**
   * For `[0,1]` frames: map them to [-1, 1] (`2x − 1`) first, as `lpips.LPIPS.forward(...,
   * normalize=True)` does. `false` feeds [0, 1] frames to a network that expects [-1, 1] — the
   * quirk of the conv-tt-lstm and PredRNN evaluations.
   * @default true
   */
  readonly rescale?: boolean;
}

/**
 * The input conventions of published evaluations:
 *
 * - `official`: frames in [-1, 1], what `lpips.LPIPS` expects.
 * - `unit`: frames in [0, 1], rescaled to [-1, 1] (`normalize=True`); also what
 *   chengtan9907/OpenSTL does (`lpips.im2tensor(img * 255)`).
 * - `convttlstm`: frames in [0, 1] fed as they are. NVlabs/conv-tt-lstm `code/model_test.py`
 *   calls `PerceptualLoss(model='net-lin', net='alex')(origin, pred)` on [0, 1] frames without
 *   `normalize=True` (grayscale repeated to 3 channels).
 * - `predrnn`: the same quirk in thuml/predrnn-pytorch `core/trainer.py`
 *   (`loss_fn_alex(img_x, img_gx)` on [0, 1] frames).
 */
export const LPIPS_INPUT_PRESETS: Readonly<Record<LpipsInputPreset, Required<LpipsInputConvention>>> = {
  official: { inputRange: '[-1,1]', rescale: false },
  unit: { inputRange: '[0,1]', rescale: true },
  convttlstm: { inputRange: '[0,1]', rescale: false },
  predrnn: { inputRange: '[0,1]', rescale: false },
};

/** Options of {@link LPIPS}. */
export interface LpipsOptions {
  /** The trunk. @default 'alex' */
  readonly net?: LpipsNet;
  /**
   * A named input convention ({@link LPIPS_INPUT_PRESETS}). Give this or `inputRange`: LPIPS
   * numbers depend on it, so there is no default.
   */
  readonly preset?: LpipsInputPreset;
  /** The range of the frames (instead of, or overriding, `preset`). */
  readonly inputRange?: LpipsInputRange;
  /** See {@link LpipsInputConvention.rescale}. @default true for `[0,1]` without a preset */
  readonly rescale?: boolean;
  /**
   * Seed of the random initial weights. An LPIPS with random weights is not a perceptual metric:
   * use {@link LPIPS.load}, or `loadWeights`, for real numbers. Random weights serve tests and
   * benchmarks.
   * @default 0
   */
  readonly seed?: number;
}

/** Options of {@link LPIPS.load}. */
export interface LpipsLoadOptions extends Omit<LpipsOptions, 'seed'> {
  /**
   * The weights: one source or several (e.g. torchvision's trunk `.pth` and the released
   * LPIPS `weights/v0.1/alex.pth`), merged in order. See {@link LpipsWeightSource}.
   */
  readonly weights: LpipsWeightSource | readonly LpipsWeightSource[];
}

/** What {@link LPIPS.loadWeights} mapped (see `normalizeLpipsNames`). */
export type LpipsLoadReport = NameMapping;

const LPIPS_KEYS = ['net', 'preset', 'inputRange', 'rescale', 'seed'] as const;

/** `scaling_layer.*`: PyTorch `[1, 3, 1, 1]`, vid `[3]` (broadcast over NHWC). */
const channelVector: ParameterLayout = {
  name: 'channel-vector',
  toTorch: (value) => tf.reshape(value, [1, -1, 1, 1]),
  fromTorch: (value) => tf.reshape(value, [-1]),
};

/** `lpips.ScalingLayer`: `(x − shift) / scale` per channel. */
class ScalingLayer extends Module {
  readonly shift: tf.Variable;
  readonly scale: tf.Variable;
  constructor() {
    super();
    this.shift = this.registerParameter('shift', tf.tensor1d([...LPIPS_SCALING.shift]), {
      layout: channelVector,
      trainable: false,
    });
    this.scale = this.registerParameter('scale', tf.tensor1d([...LPIPS_SCALING.scale]), {
      layout: channelVector,
      trainable: false,
    });
  }
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.div(tf.sub(x, this.shift), this.scale) as tf.Tensor4D;
  }
}

/** `lpips.normalize_tensor`: `x / (‖x‖₂ over channels + 1e-10)`. */
function normalizeChannels(x: tf.Tensor4D): tf.Tensor4D {
  const norm = tf.sqrt(tf.sum(tf.square(x), 3, true));
  return tf.div(x, tf.add(norm, 1e-10)) as tf.Tensor4D;
}

function resolveInput(
  options: Pick<LpipsOptions, 'preset' | 'inputRange' | 'rescale'>,
  context: string,
): Required<LpipsInputConvention> & { preset: LpipsInputPreset | 'custom' } {
  const preset =
    options.preset === undefined
      ? undefined
      : oneOf(options.preset, Object.keys(LPIPS_INPUT_PRESETS) as LpipsInputPreset[], 'preset', context);
  if (preset === undefined && options.inputRange === undefined) {
    throw new ConfigError(
      'inputRange',
      `the range of the frames, '[0,1]' or '[-1,1]' (or a preset: ${Object.keys(LPIPS_INPUT_PRESETS)
        .map((p) => `'${p}'`)
        .join(', ')}), because LPIPS values depend on it`,
      undefined,
      context,
    );
  }
  const base = preset ? LPIPS_INPUT_PRESETS[preset] : undefined;
  const inputRange = oneOf(options.inputRange ?? base?.inputRange, ['[0,1]', '[-1,1]'] as const, 'inputRange', context);
  const rescale =
    inputRange === '[-1,1]'
      ? false
      : bool(options.rescale ?? (base && base.inputRange === inputRange ? base.rescale : true), 'rescale', context);
  if (inputRange === '[-1,1]' && options.rescale === true) {
    throw new ConfigError('rescale', "false (or unset) for inputRange '[-1,1]'", true, context);
  }
  const same = base !== undefined && base.inputRange === inputRange && base.rescale === rescale;
  const named = same
    ? (preset as LpipsInputPreset)
    : (Object.entries(LPIPS_INPUT_PRESETS).find(
        ([, c]) => c.inputRange === inputRange && c.rescale === rescale,
      )?.[0] as LpipsInputPreset | undefined);
  return { inputRange, rescale, preset: named ?? 'custom' };
}

/**
 * The LPIPS distance with an AlexNet, VGG16 or SqueezeNet trunk, batched over any leading
 * dimensions. Parameter names are `lpips.LPIPS`'s (`net.slice1.0.weight`,
 * `lin0.model.1.weight`, `scaling_layer.shift`, …) in vid layouts; `loadStateDict(map,
 * { layout: 'torch' })` takes the official state dict directly.
 *
 * Weights cannot ship with vid (the ImageNet trunks and the released linear layers have their own
 * licences); see the package README for where to get them, and {@link LPIPS.load}.
 */
export class LPIPS extends Module {
  static readonly className = 'LPIPS';
  readonly net: LpipsNet;
  readonly inputRange: LpipsInputRange;
  readonly rescale: boolean;
  /** The named input convention this instance follows, or `'custom'`. */
  readonly inputPreset: LpipsInputPreset | 'custom';
  readonly scalingLayer: ScalingLayer;
  readonly trunk: LpipsTrunk;
  readonly lins: readonly NetLinLayer[];

  readonly #seed: number | undefined;

  /** `{net, inputRange, rescale, seed?}`, resolved (a preset is recorded as what it means). */
  override getConfig(): ModuleConfig {
    return { net: this.net, inputRange: this.inputRange, rescale: this.rescale, ...seedConfig(this.#seed) };
  }

  constructor(options: LpipsOptions) {
    super();
    const context = 'LPIPS';
    if (typeof options !== 'object' || options === null)
      throw new ConfigError('options', 'an options object', options, context);
    assertKnownKeys(options, LPIPS_KEYS, context);
    this.net = oneOf(options.net ?? 'alex', ['alex', 'vgg', 'squeeze'] as const, 'net', context);
    const input = resolveInput(options, context);
    this.inputRange = input.inputRange;
    this.rescale = input.rescale;
    this.inputPreset = input.preset;
    this.#seed = options.seed;
    const rng = new Rng(options.seed ?? 0);
    this.scalingLayer = this.registerModule('scaling_layer', new ScalingLayer());
    this.trunk = this.registerModule('net', new LpipsTrunk(this.net, rng.fork('trunk')));
    const linRng = rng.fork('lin');
    this.lins = LPIPS_TRUNKS[this.net].channels.map((channels, k) =>
      this.registerModule(`lin${k}`, new NetLinLayer(channels, linRng)),
    );
    this.freeze();
  }

  /**
   * Builds an LPIPS and loads its weights from files or tensors (see {@link LpipsWeightSource}
   * and `normalizeLpipsNames` for the accepted names). Every trunk and linear weight must be
   * found; the scaling layer may be absent (its constants are filled in).
   */
  static async load(options: LpipsLoadOptions): Promise<LPIPS> {
    if (typeof options !== 'object' || options === null)
      throw new ConfigError('options', 'an options object with weights', options, 'LPIPS.load');
    const { weights, ...rest } = options;
    if (weights === undefined)
      throw new ConfigError(
        'weights',
        'a file path, file bytes or a map of tensors (or a list of them)',
        undefined,
        'LPIPS.load',
      );
    const model = new LPIPS(rest);
    try {
      await model.loadWeights(weights);
    } catch (error) {
      model.dispose();
      throw error;
    }
    return model;
  }

  /** Loads weights from files or tensors into this instance (all or nothing). */
  async loadWeights(weights: LpipsWeightSource | readonly LpipsWeightSource[]): Promise<LpipsLoadReport> {
    const sources = Array.isArray(weights) ? (weights as readonly LpipsWeightSource[]) : [weights as LpipsWeightSource];
    const merged = new Map<string, WeightTensor>();
    for (const source of sources) for (const [name, tensor] of await readWeightSource(source)) merged.set(name, tensor);
    const { tensors, mapping } = normalizeLpipsNames(this.net, merged);
    const label = sources
      .map((s) => (typeof s === 'string' ? s : s instanceof Uint8Array ? '<bytes>' : '<tensors>'))
      .join(' + ');
    try {
      this.loadStateDict(tensors, { layout: 'torch', source: label });
    } catch (error) {
      if (error instanceof StateDictError && error.missing.length > 0) {
        throw new StateDictError(
          `${error.message}. Hint: ${missingWeightsHint(this.net, error.missing)}`,
          error.missing,
          error.unexpected,
          error.mismatched,
        );
      }
      throw error;
    }
    return mapping;
  }

  /** A one-line description, for result tables. */
  describe(): string {
    const input =
      this.inputRange === '[-1,1]'
        ? 'frames in [-1, 1]'
        : this.rescale
          ? 'frames in [0, 1] rescaled to [-1, 1]'
          : 'frames in [0, 1] fed unscaled (the network expects [-1, 1])';
    return `LPIPS v0.1 [${this.net}, ${this.inputPreset}]: ${input}, grayscale repeated to 3 channels`;
  }

  /** `[..., h, w, 1 | 3]` → `[n, h, w, 3]` in [-1, 1] after the scaling layer. Inside a tidy. */
  #prepare(x: tf.Tensor): { frames: tf.Tensor4D; leading: number[] } {
    const { frames, leading } = flattenFrames(x);
    // Grayscale: [n, h, w, 1] → [n, h, w, 3] (the channel repeated, as the papers' evaluations do)
    let rgb = frames.shape[3] === 1 ? (tf.tile(frames, [1, 1, 1, 3]) as tf.Tensor4D) : frames;
    if (this.inputRange === '[0,1]' && this.rescale) rgb = tf.sub(tf.mul(rgb, 2), 1) as tf.Tensor4D;
    return { frames: this.scalingLayer.apply(rgb), leading };
  }

  #check(x0: tf.Tensor, x1: tf.Tensor, context: string): void {
    assertFramePair(x0, x1, context);
    const channels = x0.shape[x0.rank - 1];
    if (channels !== 1 && channels !== 3) {
      throw new ShapeError(
        'prediction',
        '[..., height, width, 1 or 3] (grayscale or RGB)',
        formatShape(x0.shape),
        context,
      );
    }
    const [height, width] = x0.shape.slice(-3) as [number, number];
    const sizes = trunkFeatureSizes(this.net, height, width);
    if (sizes.some(([h, w]) => h < 1 || w < 1)) {
      throw new ShapeError(
        'prediction',
        `frames large enough for every ${this.net} slice (feature maps ${sizes.map(([h, w]) => `${h}×${w}`).join(', ')})`,
        formatShape(x0.shape),
        context,
      );
    }
    debugCheckValues(x0, x1, context, { interval: this.inputRange === '[0,1]' ? [0, 1] : [-1, 1] });
  }

  /**
   * Each slice's contribution, `[..., layers]` (`retPerLayer=True`); their sum is
   * {@link LPIPS.distance}.
   *
   * x0, x1: `[..., height, width, 1 | 3]`, large enough that every slice has a feature map
   * (AlexNet needs 31×31, VGG16 16×16, SqueezeNet 15×15).
   */
  layerDistances(x0: tf.Tensor, x1: tf.Tensor): tf.Tensor {
    const context = `LPIPS (${this.net})`;
    this.#check(x0, x1, context);
    return tf.tidy(() => {
      const a = this.#prepare(x0);
      const b = this.#prepare(x1);
      // Two trunk passes rather than one on concat([a, b]): on wasm the concat and the split of
      // every feature map copy more than the larger batch saves.
      const features0 = this.trunk.features(a.frames);
      const features1 = this.trunk.features(b.frames);
      const layers = features0.map((f0, k) => {
        // f0, f1: [n, h_k, w_k, c_k]
        const f1 = features1[k] as tf.Tensor4D;
        const d = tf.square(tf.sub(normalizeChannels(f0), normalizeChannels(f1))) as tf.Tensor4D;
        return imageMean((this.lins[k] as NetLinLayer).apply(d)); // [n]
      });
      // [n] × L → [n, L] → [...leading, L]
      const stacked = tf.stack(layers, 1);
      return tf.reshape(stacked, [...a.leading, layers.length]);
    });
  }

  /**
   * The LPIPS distance per image pair. Differentiable (a perceptual loss).
   *
   * x0, x1: `[..., height, width, 1 | 3]` in this instance's input range → `[...]`.
   * Grayscale frames are repeated to 3 channels (as the conv-tt-lstm and PredRNN evaluations
   * do). With debug checks on, NaN and values outside the input range throw; otherwise they are
   * computed as given.
   */
  distance(x0: tf.Tensor, x1: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.sum(this.layerDistances(x0, x1), -1));
  }
}

registerClass(LPIPS);
