/**
 * The two layers every package needs, with PyTorch's parameter names (`weight`, `bias`), layouts
 * (through {@link Layouts}) and default initialisation, so that their state dicts load from
 * `torch.nn.Linear` and `torch.nn.Conv2d` unchanged.
 */
import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, ShapeError, formatShape } from './errors.js';
import { type Initializer, biasUniform, kaimingUniform } from './init.js';
import { Layouts, Module } from './module.js';
import { type ModuleConfig, registerClass, seedConfig } from './registry.js';
import type { Rng } from './rng.js';
import { pairOf, positiveInteger, resolveRng } from './validate.js';

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Input features. */
  readonly inFeatures: number;
  /** Output features. */
  readonly outFeatures: number;
  /** @default true */
  readonly bias?: boolean;
  /** Seed or generator for the initial weights. @default 0 */
  readonly seed?: number | Rng;
  /** @default kaimingUniform() (PyTorch's default) */
  readonly weightInit?: Initializer;
  /** @default U(−1/√inFeatures, 1/√inFeatures) (PyTorch's default) */
  readonly biasInit?: Initializer;
}

/** `y = x W + b` over the last axis; `weight: [in, out]` (PyTorch `[out, in]`). */
export class Linear extends Module {
  static readonly className = 'Linear';
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;

  readonly #seed: number | Rng | undefined;

  constructor(options: LinearOptions) {
    super();
    this.#seed = options.seed;
    this.inFeatures = positiveInteger(options.inFeatures, 'inFeatures', 'Linear');
    this.outFeatures = positiveInteger(options.outFeatures, 'outFeatures', 'Linear');
    const rng = resolveRng(options.seed, 'seed', 'Linear');
    const shape = [this.inFeatures, this.outFeatures];
    this.weight = this.registerParameter('weight', (options.weightInit ?? kaimingUniform())(shape, rng), {
      layout: Layouts.linear,
    });
    this.bias =
      options.bias === false
        ? null
        : this.registerParameter('bias', (options.biasInit ?? biasUniform(this.inFeatures))([this.outFeatures], rng));
  }

  /** The options that rebuild this layer (initialisers are not recorded; weights come from the file). */
  override getConfig(): ModuleConfig {
    return {
      inFeatures: this.inFeatures,
      outFeatures: this.outFeatures,
      bias: this.bias !== null,
      ...seedConfig(this.#seed),
    };
  }

  /** x: `[..., inFeatures]` → `[..., outFeatures]`. */
  apply(x: tf.Tensor): tf.Tensor {
    const last = x.shape[x.shape.length - 1];
    if (last !== this.inFeatures) {
      throw new ShapeError('x', `[..., ${this.inFeatures}]`, formatShape(x.shape), 'Linear');
    }
    return tf.tidy(() => {
      // x: [..., in] → [n, in] for one matMul, then back.
      const flat = tf.reshape(x, [-1, this.inFeatures]);
      let y = tf.matMul(flat, this.weight);
      if (this.bias) y = tf.add(y, this.bias);
      return tf.reshape(y, [...x.shape.slice(0, -1), this.outFeatures]);
    });
  }
}

/**
 * Explicit `[top, bottom, left, right]` padding for a stride-1 "same" convolution, as PyTorch's
 * `padding='same'` and TensorFlow's `SAME` both compute it: total `d·(k−1)`, the extra pixel of
 * an even kernel at the bottom/right.
 */
export function samePadding(
  kernel: readonly [number, number],
  dilation: readonly [number, number] = [1, 1],
): [number, number, number, number] {
  const totalH = dilation[0] * (kernel[0] - 1);
  const totalW = dilation[1] * (kernel[1] - 1);
  const top = Math.floor(totalH / 2);
  const left = Math.floor(totalW / 2);
  return [top, totalH - top, left, totalW - left];
}

/** Padding of {@link Conv2d}: `'same'`, `'valid'`, a number, or explicit `[top, bottom, left, right]`. */
export type Conv2dPadding = 'same' | 'valid' | number | readonly [number, number, number, number];

/**
 * A stride-1 "same" convolution, NHWC, with the bias fused in (`FusedConv2D`: on wasm the bias is
 * added inside XNNPACK's convolution): the path of {@link Conv2d.apply} at stride 1 with `'same'`
 * padding, for modules whose kernel has another parameter layout (e.g. Conv-TT-LSTM's Conv3d over
 * lags held as a 2-D kernel). TensorFlow's `SAME` puts the extra row/column of an even kernel at
 * the bottom/right, as PyTorch's `padding='same'` does.
 *
 * x: `[batch, height, width, in]`, weight: `[kh, kw, in, out]`, bias: `[out]` → `[batch, height, width, out]`.
 */
export function convSame(
  x: tf.Tensor4D,
  weight: tf.Tensor,
  bias: tf.Tensor | null,
  dilation: readonly [number, number] = [1, 1],
): tf.Tensor4D {
  const dilations = [dilation[0], dilation[1]] as [number, number];
  if (bias) return tf.fused.conv2d({ x, filter: weight as tf.Tensor4D, strides: 1, pad: 'same', dilations, bias });
  return tf.conv2d(x, weight as tf.Tensor4D, 1, 'same', 'NHWC', dilations);
}

/** A kernel `[kh, kw, in, n]` and bias `[n]` (or null) applied by {@link Conv2d.apply} in place of the module's own. */
export interface ConvBlock {
  readonly weight: tf.Tensor;
  readonly bias: tf.Tensor | null;
}

/** Options of {@link Conv2d}. */
export interface Conv2dOptions {
  readonly inChannels: number;
  readonly outChannels: number;
  /** Kernel size, square or `[kh, kw]`. */
  readonly kernelSize: number | readonly [number, number];
  /** @default 1 */
  readonly stride?: number | readonly [number, number];
  /**
   * `'same'` (PyTorch's `padding='same'`, also for even kernels), `'valid'`, a symmetric number
   * (PyTorch's `padding=p`), or `[top, bottom, left, right]`.
   * @default 'same'
   */
  readonly padding?: Conv2dPadding;
  /** @default 1 */
  readonly dilation?: number | readonly [number, number];
  /** @default true */
  readonly bias?: boolean;
  /** @default 0 */
  readonly seed?: number | Rng;
  /** @default kaimingUniform() (PyTorch's default) */
  readonly weightInit?: Initializer;
  /** @default U(−1/√fanIn, 1/√fanIn) (PyTorch's default) */
  readonly biasInit?: Initializer;
}

/** A 2-D convolution on NHWC input; `weight: [kh, kw, in, out]` (PyTorch `[out, in, kh, kw]`). */
export class Conv2d extends Module {
  static readonly className = 'Conv2d';
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly dilation: readonly [number, number];
  readonly padding: 'valid' | readonly [number, number, number, number];
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;

  readonly #seed: number | Rng | undefined;

  constructor(options: Conv2dOptions) {
    super();
    this.#seed = options.seed;
    const context = 'Conv2d';
    this.inChannels = positiveInteger(options.inChannels, 'inChannels', context);
    this.outChannels = positiveInteger(options.outChannels, 'outChannels', context);
    this.kernelSize = pairOf(options.kernelSize, 'kernelSize', context);
    this.stride = pairOf(options.stride ?? 1, 'stride', context);
    this.dilation = pairOf(options.dilation ?? 1, 'dilation', context);
    const padding = options.padding ?? 'same';
    if (padding === 'same') {
      if (this.stride[0] !== 1 || this.stride[1] !== 1) {
        throw new ConfigError('padding', "'valid', a number or explicit padding when stride > 1", padding, context);
      }
      this.padding = samePadding(this.kernelSize, this.dilation);
    } else if (padding === 'valid') {
      this.padding = 'valid';
    } else if (typeof padding === 'number') {
      if (!Number.isInteger(padding) || padding < 0)
        throw new ConfigError('padding', 'a non-negative integer', padding, context);
      this.padding = [padding, padding, padding, padding];
    } else {
      if (padding.length !== 4 || !padding.every((p) => Number.isInteger(p) && p >= 0)) {
        throw new ConfigError('padding', '[top, bottom, left, right] of non-negative integers', padding, context);
      }
      this.padding = [...padding] as [number, number, number, number];
    }
    const rng = resolveRng(options.seed, 'seed', context);
    const shape = [this.kernelSize[0], this.kernelSize[1], this.inChannels, this.outChannels];
    this.weight = this.registerParameter('weight', (options.weightInit ?? kaimingUniform())(shape, rng), {
      layout: Layouts.conv2d,
    });
    const fanIn = this.inChannels * this.kernelSize[0] * this.kernelSize[1];
    this.bias =
      options.bias === false
        ? null
        : this.registerParameter('bias', (options.biasInit ?? biasUniform(fanIn))([this.outChannels], rng));
  }

  /** The options that rebuild this layer (padding resolved; initialisers are not recorded). */
  override getConfig(): ModuleConfig {
    return {
      inChannels: this.inChannels,
      outChannels: this.outChannels,
      kernelSize: [...this.kernelSize],
      stride: [...this.stride],
      padding: this.padding === 'valid' ? 'valid' : [...this.padding],
      dilation: [...this.dilation],
      bias: this.bias !== null,
      ...seedConfig(this.#seed),
    };
  }

  /**
   * x: `[batch, height, width, inChannels]` → `[batch, height', width', outChannels]`.
   *
   * The one convolution path of vid's cells and networks. At stride 1 with "same" padding (the
   * recurrent cells' case) it is one fused kernel, bias included (`FusedConv2D`: on wasm the bias
   * is added inside XNNPACK's convolution); TensorFlow's `SAME` puts the extra row/column of an
   * even kernel at the bottom/right, as {@link samePadding} and PyTorch's `padding='same'` do.
   *
   * `block`: a kernel and bias to use instead of the module's own, from
   * {@link Conv2d.splitOutputBlocks} (a block of the output channels, e.g. one gate).
   */
  apply(x: tf.Tensor4D, block?: ConvBlock): tf.Tensor4D {
    if (x.rank !== 4 || x.shape[3] !== this.inChannels) {
      throw new ShapeError('x', `[batch, height, width, ${this.inChannels}]`, formatShape(x.shape), 'Conv2d');
    }
    const weight = (block?.weight ?? this.weight) as tf.Tensor4D;
    const bias = block === undefined ? this.bias : block.bias;
    return tf.tidy(() => {
      if (this.#isSame()) {
        return convSame(x, weight, bias, this.dilation);
      }
      const pad =
        this.padding === 'valid'
          ? 'valid'
          : ([
              [0, 0],
              [this.padding[0], this.padding[1]],
              [this.padding[2], this.padding[3]],
              [0, 0],
            ] as tf.backend_util.ExplicitPadding);
      const y = tf.conv2d(x, weight, this.stride as [number, number], pad, 'NHWC', this.dilation as [number, number]);
      return bias ? tf.add(y, bias) : y;
    });
  }

  /**
   * The kernel and bias split into `parts` equal blocks of output channels (e.g. the four gates
   * of an LSTM): `[kh, kw, in, out/parts]` and `[out/parts]` each, for {@link Conv2d.apply}.
   * Several convolutions on blocks cost less on wasm than one convolution and a strided split of
   * its channels (and a concat in the backward pass). Under a gradient tape the split is
   * recorded, so gradients reach the parameters; the caller disposes the blocks (a tidy does).
   */
  splitOutputBlocks(parts: number): ConvBlock[] {
    if (!Number.isInteger(parts) || parts < 1 || this.outChannels % parts !== 0) {
      throw new ConfigError('parts', `a divisor of outChannels ${this.outChannels}`, parts, 'Conv2d.splitOutputBlocks');
    }
    // [kh, kw, in, parts·n] → parts × [kh, kw, in, n]; [parts·n] → parts × [n]
    const weights = tf.split(this.weight, parts, 3);
    const biases = this.bias === null ? null : tf.split(this.bias, parts, 0);
    return weights.map((weight, k) => ({ weight, bias: biases?.[k] ?? null }));
  }

  /** Stride 1 and the padding of `'same'`: one `SAME` kernel. */
  #isSame(): boolean {
    if (this.padding === 'valid' || this.stride[0] !== 1 || this.stride[1] !== 1) return false;
    const same = samePadding(this.kernelSize, this.dilation);
    return same.every((p, i) => p === (this.padding as readonly number[])[i]);
  }
}

registerClass(Linear);
registerClass(Conv2d);
