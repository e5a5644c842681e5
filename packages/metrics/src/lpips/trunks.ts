/**
 * The LPIPS trunks: torchvision's AlexNet, VGG16 and SqueezeNet 1.1 `features`, cut into the
 * slices of richzhang/PerceptualSimilarity `lpips/pretrained_networks.py` (`alexnet`, `vgg16`,
 * `squeezenet`), whose outputs LPIPS compares. Layer lists follow torchvision
 * `models/alexnet.py`, `models/vgg.py` (configuration "D") and `models/squeezenet.py`
 * (version 1.1).
 *
 * Parameter names mirror `lpips.LPIPS.net`'s state dict: `slice{k}.{index}.weight`, where
 * `index` is the layer's position in torchvision's `features` (a Fire module adds
 * `.squeeze`, `.expand1x1`, `.expand3x3`). Activations are NHWC and kernels `[kh, kw, in, out]`;
 * PyTorch weights load through `Layouts.conv2d`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Conv2d, Module, ModuleDict, type Rng, resolveRng, uniform } from '@vid/core';

/** The trunk networks of LPIPS. */
export type LpipsNet = 'alex' | 'vgg' | 'squeeze';

/** One layer of torchvision's `features`. */
export type TrunkLayer =
  | {
      readonly kind: 'conv';
      readonly inChannels: number;
      readonly outChannels: number;
      readonly kernel: number;
      readonly stride: number;
      readonly padding: number;
    }
  | { readonly kind: 'relu' }
  | { readonly kind: 'maxpool'; readonly size: number; readonly stride: number; readonly ceil: boolean }
  | {
      readonly kind: 'fire';
      readonly inChannels: number;
      readonly squeeze: number;
      readonly expand1x1: number;
      readonly expand3x3: number;
    };

/** A trunk: torchvision's layer list, the LPIPS slices over it, and each slice's output channels. */
export interface TrunkDefinition {
  /** torchvision `features`, by index. */
  readonly features: readonly TrunkLayer[];
  /** `[start, end)` feature indices of each slice (`lpips/pretrained_networks.py`). */
  readonly slices: ReadonlyArray<readonly [number, number]>;
  /** Output channels of each slice (`LPIPS.chns` in `lpips/lpips.py`). */
  readonly channels: readonly number[];
  /** torchvision's pretrained weight file for the trunk (names `features.{index}.*`). */
  readonly torchvisionWeights: string;
}

const conv = (inChannels: number, outChannels: number, kernel: number, stride = 1, padding = 0): TrunkLayer => ({
  kind: 'conv',
  inChannels,
  outChannels,
  kernel,
  stride,
  padding,
});
const relu: TrunkLayer = { kind: 'relu' };
const pool = (size: number, stride: number, ceil = false): TrunkLayer => ({ kind: 'maxpool', size, stride, ceil });
const fire = (inChannels: number, squeeze: number, expand1x1: number, expand3x3: number): TrunkLayer => ({
  kind: 'fire',
  inChannels,
  squeeze,
  expand1x1,
  expand3x3,
});

function vgg16Features(): TrunkLayer[] {
  const layers: TrunkLayer[] = [];
  let channels = 3;
  for (const v of [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'] as const) {
    if (v === 'M') {
      layers.push(pool(2, 2));
    } else {
      layers.push(conv(channels, v, 3, 1, 1), relu);
      channels = v;
    }
  }
  return layers;
}

/** The three trunks of LPIPS. */
export const LPIPS_TRUNKS: Readonly<Record<LpipsNet, TrunkDefinition>> = {
  alex: {
    features: [
      conv(3, 64, 11, 4, 2),
      relu,
      pool(3, 2),
      conv(64, 192, 5, 1, 2),
      relu,
      pool(3, 2),
      conv(192, 384, 3, 1, 1),
      relu,
      conv(384, 256, 3, 1, 1),
      relu,
      conv(256, 256, 3, 1, 1),
      relu,
      pool(3, 2),
    ],
    slices: [
      [0, 2],
      [2, 5],
      [5, 8],
      [8, 10],
      [10, 12],
    ],
    channels: [64, 192, 384, 256, 256],
    torchvisionWeights: 'alexnet-owt-7be5be79.pth',
  },
  vgg: {
    features: vgg16Features(),
    slices: [
      [0, 4],
      [4, 9],
      [9, 16],
      [16, 23],
      [23, 30],
    ],
    channels: [64, 128, 256, 512, 512],
    torchvisionWeights: 'vgg16-397923af.pth',
  },
  squeeze: {
    features: [
      conv(3, 64, 3, 2, 0),
      relu,
      pool(3, 2, true),
      fire(64, 16, 64, 64),
      fire(128, 16, 64, 64),
      pool(3, 2, true),
      fire(128, 32, 128, 128),
      fire(256, 32, 128, 128),
      pool(3, 2, true),
      fire(256, 48, 192, 192),
      fire(384, 48, 192, 192),
      fire(384, 64, 256, 256),
      fire(512, 64, 256, 256),
    ],
    slices: [
      [0, 2],
      [2, 5],
      [5, 8],
      [8, 10],
      [10, 11],
      [11, 12],
      [12, 13],
    ],
    channels: [64, 128, 256, 384, 384, 512, 512],
    torchvisionWeights: 'squeezenet1_1-b8a52dc0.pth',
  },
};

/** The slice (1-based, as in `net.slice{k}`) that holds torchvision feature `index`, or null. */
export function sliceOfFeature(net: LpipsNet, index: number): number | null {
  const k = LPIPS_TRUNKS[net].slices.findIndex(([start, end]) => index >= start && index < end);
  return k < 0 ? null : k + 1;
}

/**
 * SqueezeNet's Fire module (Iandola et al. 2016): a 1×1 squeeze, then 1×1 and 3×3 expands whose
 * ReLU outputs are concatenated. Names as torchvision's `Fire`.
 */
export class Fire extends Module {
  readonly squeeze: Conv2d;
  readonly expand1x1: Conv2d;
  readonly expand3x3: Conv2d;

  constructor(layer: Extract<TrunkLayer, { kind: 'fire' }>, rng: Rng) {
    super();
    this.squeeze = this.registerModule(
      'squeeze',
      new Conv2d({ inChannels: layer.inChannels, outChannels: layer.squeeze, kernelSize: 1, padding: 0, seed: rng }),
    );
    this.expand1x1 = this.registerModule(
      'expand1x1',
      new Conv2d({ inChannels: layer.squeeze, outChannels: layer.expand1x1, kernelSize: 1, padding: 0, seed: rng }),
    );
    this.expand3x3 = this.registerModule(
      'expand3x3',
      new Conv2d({ inChannels: layer.squeeze, outChannels: layer.expand3x3, kernelSize: 3, padding: 1, seed: rng }),
    );
  }

  /** x: `[n, h, w, in]` → `[n, h, w, expand1x1 + expand3x3]`. */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const s = tf.relu(this.squeeze.apply(x));
      // [n, h, w, e1] ++ [n, h, w, e3] → [n, h, w, e1 + e3], torch.cat(dim=1) order
      return tf.concat([tf.relu(this.expand1x1.apply(s)), tf.relu(this.expand3x3.apply(s))], 3) as tf.Tensor4D;
    });
  }
}

/**
 * `nn.MaxPool2d(size, stride)` on NHWC. With `ceil` (SqueezeNet's `ceil_mode=True`) the output
 * has `⌈(H − size)/stride⌉ + 1` rows, dropping a last window that would start past the input as
 * PyTorch does; the missing bottom/right cells are padding that never wins the maximum.
 */
export function maxPool2d(x: tf.Tensor4D, size: number, stride: number, ceil: boolean): tf.Tensor4D {
  if (!ceil) return tf.maxPool(x, size, stride, 'valid');
  const extra = (length: number): number => {
    let out = Math.ceil((length - size) / stride) + 1;
    if ((out - 1) * stride >= length) out -= 1;
    return Math.max(0, (out - 1) * stride + size - length);
  };
  const [, height, width] = x.shape;
  const bottom = extra(height);
  const right = extra(width);
  if (bottom === 0 && right === 0) return tf.maxPool(x, size, stride, 'valid');
  return tf.tidy(() => {
    // [n, h, w, c] → [n, h + bottom, w + right, c], padded with −∞
    const padded = tf.pad(
      x,
      [
        [0, 0],
        [0, bottom],
        [0, right],
        [0, 0],
      ],
      -Infinity,
    );
    return tf.maxPool(padded as tf.Tensor4D, size, stride, 'valid');
  });
}

/**
 * The `[height, width]` of each slice's output for an input of `height × width` (PyTorch's output
 * size rules; a size below 1 means the input is too small).
 */
export function trunkFeatureSizes(net: LpipsNet, height: number, width: number): Array<[number, number]> {
  const definition = LPIPS_TRUNKS[net];
  const step = (length: number, layer: TrunkLayer): number => {
    if (layer.kind === 'conv') return Math.floor((length + 2 * layer.padding - layer.kernel) / layer.stride) + 1;
    if (layer.kind !== 'maxpool') return length;
    if (length < layer.size) return 0;
    if (!layer.ceil) return Math.floor((length - layer.size) / layer.stride) + 1;
    let out = Math.ceil((length - layer.size) / layer.stride) + 1;
    if ((out - 1) * layer.stride >= length) out -= 1;
    return out;
  };
  let size: [number, number] = [height, width];
  return definition.slices.map(([start, end]) => {
    for (let i = start; i < end; i++)
      size = [step(size[0], definition.features[i] as TrunkLayer), step(size[1], definition.features[i] as TrunkLayer)];
    return [...size] as [number, number];
  });
}

/** One LPIPS slice: a run of torchvision layers, parameterised ones registered by index. */
export class TrunkSlice extends Module {
  readonly #steps: Array<(x: tf.Tensor4D) => tf.Tensor4D> = [];

  constructor(features: readonly TrunkLayer[], start: number, end: number, rng: Rng) {
    super();
    const layers = new Map<string, Module>();
    for (let index = start; index < end; index++) {
      const layer = features[index] as TrunkLayer;
      switch (layer.kind) {
        case 'conv': {
          const module = new Conv2d({
            inChannels: layer.inChannels,
            outChannels: layer.outChannels,
            kernelSize: layer.kernel,
            stride: layer.stride,
            padding: layer.padding,
            seed: rng,
          });
          layers.set(String(index), module);
          this.#steps.push((x) => module.apply(x));
          break;
        }
        case 'fire': {
          const module = new Fire(layer, rng);
          layers.set(String(index), module);
          this.#steps.push((x) => module.apply(x));
          break;
        }
        case 'relu':
          this.#steps.push((x) => tf.relu(x));
          break;
        case 'maxpool':
          this.#steps.push((x) => maxPool2d(x, layer.size, layer.stride, layer.ceil));
          break;
      }
    }
    // Register each child under its torchvision index, so names read `slice2.3.weight`.
    for (const [name, module] of layers) this.registerModule(name, module);
  }

  /** x: `[n, h, w, c]` → the slice's output (inside the caller's tidy). */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    let h = x;
    for (const step of this.#steps) h = step(h);
    return h;
  }
}

/** A sliced trunk (`lpips.LPIPS.net`): returns every slice's output. */
export class LpipsTrunk extends Module {
  readonly net: LpipsNet;
  readonly definition: TrunkDefinition;
  readonly slices: readonly TrunkSlice[];

  constructor(net: LpipsNet, seed: number | Rng = 0) {
    super();
    this.net = net;
    this.definition = LPIPS_TRUNKS[net];
    const rng = resolveRng(seed, 'seed', 'LpipsTrunk');
    this.slices = this.definition.slices.map(([start, end], k) =>
      this.registerModule(`slice${k + 1}`, new TrunkSlice(this.definition.features, start, end, rng)),
    );
  }

  /** x: `[n, h, w, 3]` (after the scaling layer) → each slice's `[n, h_k, w_k, channels_k]`. */
  features(x: tf.Tensor4D): tf.Tensor4D[] {
    const outputs: tf.Tensor4D[] = [];
    let h = x;
    for (const slice of this.slices) {
      h = slice.apply(h);
      outputs.push(h);
    }
    return outputs;
  }
}

/**
 * `linN` of `lpips.LPIPS` (`NetLinLayer`): `model.1` is the 1×1 convolution to one channel, no
 * bias (`model.0` is the dropout, inactive in eval mode). Random weights are U(0, 0.1): the
 * released ones are non-negative.
 */
export class NetLinLayer extends Module {
  readonly conv: Conv2d;

  constructor(channels: number, rng: Rng) {
    super();
    this.conv = new Conv2d({
      inChannels: channels,
      outChannels: 1,
      kernelSize: 1,
      padding: 0,
      bias: false,
      seed: rng,
      weightInit: uniform(0, 0.1),
    });
    this.registerModule('model', new ModuleDict([['1', this.conv]]));
  }

  /** d: `[n, h, w, channels]` → `[n, h, w, 1]`. */
  apply(d: tf.Tensor4D): tf.Tensor4D {
    return this.conv.apply(d);
  }
}
