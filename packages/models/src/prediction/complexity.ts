/**
 * Analytic sizes of a configuration, without building it: the official `state_dict` shapes,
 * the parameter count, and the multiplications of one prediction step.
 */
import { ConfigError, positiveInteger } from '@vid/core';

import {
  type NetConfig,
  type NetConfigInput,
  OFFICIAL_CELL_TYPES,
  layerPlan,
  outputLayerChannels,
  resolveNetConfig,
} from './network-config.js';

/**
 * Every parameter of the network with its official name and PyTorch shape, in `state_dict`
 * order: conv weights `[out, in, kh, kw]`, the Conv3d over lags `[ranks, hidden, kh, kw, lags]`.
 */
export function officialParameterShapes(config: NetConfigInput | NetConfig): Map<string, number[]> {
  const resolved = officialOnly(resolveNetConfig(config), 'officialParameterShapes');
  const [kh, kw] = resolved.kernelSize;
  const shapes = new Map<string, number[]>();
  const conv = (prefix: string, inChannels: number, outChannels: number): void => {
    shapes.set(`${prefix}.weight`, [outChannels, inChannels, kh, kw]);
    if (resolved.bias) shapes.set(`${prefix}.bias`, [outChannels]);
  };
  const lags = resolved.steps - resolved.order + 1;
  for (const layer of layerPlan(resolved)) {
    const prefix = `layers.${layer.id}`;
    if (resolved.cell === 'convlstm') {
      conv(`${prefix}.conv`, layer.inputChannels + layer.hiddenChannels, 4 * layer.hiddenChannels);
      continue;
    }
    for (let l = 0; l < resolved.order; l++) {
      const last = l === resolved.order - 1;
      conv(
        `${prefix}.layers.${l}`,
        last ? resolved.ranks + layer.inputChannels : resolved.ranks,
        last ? 4 * layer.hiddenChannels : resolved.ranks,
      );
    }
    for (let l = 0; l < resolved.order; l++) {
      shapes.set(`${prefix}.layers_.${l}.weight`, [resolved.ranks, layer.hiddenChannels, kh, kw, lags]);
      if (resolved.bias) shapes.set(`${prefix}.layers_.${l}.bias`, [resolved.ranks]);
    }
  }
  shapes.set('layers.output.weight', [resolved.inputChannels, outputLayerChannels(resolved), 1, 1]);
  shapes.set('layers.output.bias', [resolved.inputChannels]);
  return shapes;
}

/** The number of parameters of a configuration (the same as `sum(p.numel())` in PyTorch). */
export function countParameters(config: NetConfigInput | NetConfig): number {
  let total = 0;
  for (const shape of officialParameterShapes(config).values()) total += shape.reduce((a, b) => a * b, 1);
  return total;
}

/** The multiplications of one layer in one step. */
export interface LayerFlops {
  /** `b{block}l{layer}` or `output`. */
  readonly id: string;
  /** Multiply-accumulates of its convolutions (every tap at every pixel, zero padding included). */
  readonly convolution: number;
  /** Elementwise products of the LSTM update: `f ⊙ c`, `i ⊙ g`, `o ⊙ tanh(c)`. */
  readonly elementwise: number;
}

/** The multiplications of one prediction step for one sample (see {@link flopsPerStep}). */
export interface FlopsReport {
  readonly height: number;
  readonly width: number;
  /** Multiply-accumulates of every convolution. */
  readonly convolution: number;
  /** Elementwise products of the LSTM updates. */
  readonly elementwise: number;
  /** `convolution + elementwise`: the multiplications of one step. */
  readonly multiplications: number;
  readonly layers: readonly LayerFlops[];
}

/**
 * Multiplications of one-step prediction per sample (the measure of the paper's tables): every
 * convolution counts `height · width · kh · kw · in · out` multiply-accumulates (stride 1,
 * "same" size, border taps on the zero padding included), plus the three elementwise products
 * of each LSTM update. Additions, biases, activations, the skip concatenations and the
 * scheduled-sampling mix are not multiplications of a step and are not counted.
 */
export function flopsPerStep(
  config: NetConfigInput | NetConfig,
  frame: { readonly height: number; readonly width: number },
): FlopsReport {
  const resolved = officialOnly(resolveNetConfig(config), 'flopsPerStep');
  if (frame === null || typeof frame !== 'object')
    throw new ConfigError('frame', '{ height, width }', frame, 'flopsPerStep');
  const height = positiveInteger(frame.height, 'height', 'flopsPerStep');
  const width = positiveInteger(frame.width, 'width', 'flopsPerStep');
  const pixels = height * width;
  const [kh, kw] = resolved.kernelSize;
  const taps = kh * kw;
  const lags = resolved.steps - resolved.order + 1;
  const layers: LayerFlops[] = [];
  for (const layer of layerPlan(resolved)) {
    const hidden = layer.hiddenChannels;
    let perPixel: number;
    if (resolved.cell === 'convlstm') {
      perPixel = taps * (layer.inputChannels + hidden) * 4 * hidden;
    } else {
      const { ranks, order } = resolved;
      const windows = order * taps * lags * hidden * ranks; // the Conv3d over lags, once per order
      const cores = (order - 1) * taps * ranks * ranks; // the TT cores ranks → ranks
      const gates = taps * (ranks + layer.inputChannels) * 4 * hidden;
      perPixel = windows + cores + gates;
    }
    layers.push({ id: layer.id, convolution: perPixel * pixels, elementwise: 3 * hidden * pixels });
  }
  layers.push({
    id: 'output',
    convolution: outputLayerChannels(resolved) * resolved.inputChannels * pixels,
    elementwise: 0,
  });
  const convolution = layers.reduce((n, l) => n + l.convolution, 0);
  const elementwise = layers.reduce((n, l) => n + l.elementwise, 0);
  return { height, width, convolution, elementwise, multiplications: convolution + elementwise, layers };
}

/** The official network's cells only (the counts follow its parameter shapes). */
function officialOnly(config: NetConfig, context: string): NetConfig {
  if (!OFFICIAL_CELL_TYPES.includes(config.cell)) {
    throw new ConfigError(
      'cell',
      `one of ${OFFICIAL_CELL_TYPES.join(', ')} (the official ConvLSTMNet's cells; count a built network's parameters instead)`,
      config.cell,
      context,
    );
  }
  return config;
}
