/** Small helpers shared by the cells. Not exported from the package. */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, type Rng, ShapeError, formatShape, resolveRng } from '@vid/core';

import type { AnyRecurrentModule, StackOptions, StackedRNNOptions } from './stacked.js';

/** Throws a {@link ShapeError} unless `tensor` has exactly `expected` as its shape. */
export function assertExactShape(
  tensor: tf.Tensor,
  expected: readonly number[],
  argument: string,
  context: string,
  names?: string,
): void {
  if (!tf.util.arraysEqual(tensor.shape, [...expected])) {
    throw new ShapeError(
      argument,
      `${formatShape(expected)}${names ? ` (${names})` : ''}`,
      formatShape(tensor.shape),
      context,
    );
  }
}

/** `[kh, kw]` from a kernel size option. Any size ≥ 1, odd or even. */
export function kernelPair(value: unknown, field: string, context: string): [number, number] {
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1;
  if (ok(value)) return [value, value];
  if (Array.isArray(value) && value.length === 2 && ok(value[0]) && ok(value[1])) return [value[0], value[1]];
  throw new ConfigError(field, 'a positive integer or a pair [kh, kw] of positive integers', value, context);
}

/** A kernel size: square or `[kh, kw]`. */
export type KernelSize = number | readonly [number, number];

/**
 * The number of layers and each layer's size from `sizes` (one number for every layer, or one
 * per layer) and an optional `numLayers`.
 */
export function layerSizes(sizes: unknown, numLayers: unknown, field: string, context: string): number[] {
  const isSize = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1;
  if (Array.isArray(sizes)) {
    if (sizes.length === 0 || !sizes.every(isSize))
      throw new ConfigError(field, 'a positive integer or a non-empty list of them (one per layer)', sizes, context);
    if (numLayers !== undefined && numLayers !== sizes.length) {
      throw new ConfigError('numLayers', `${sizes.length} (the length of ${field}) or nothing`, numLayers, context);
    }
    return [...sizes] as number[];
  }
  if (!isSize(sizes))
    throw new ConfigError(field, 'a positive integer or a non-empty list of them (one per layer)', sizes, context);
  const layers = numLayers === undefined ? 1 : numLayers;
  if (typeof layers !== 'number' || !Number.isInteger(layers) || layers < 1)
    throw new ConfigError('numLayers', 'a positive integer', numLayers, context);
  return new Array<number>(layers).fill(sizes);
}

/**
 * Each layer's kernel from a stack's `kernelSize`: one number for every layer, or a list with
 * one entry per layer, each a number or `[kh, kw]` (so a rectangular kernel for every layer is
 * `[[kh, kw], [kh, kw], …]`).
 */
export function layerKernels(
  value: unknown,
  numLayers: number,
  field: string,
  context: string,
): Array<[number, number]> {
  if (Array.isArray(value)) {
    if (value.length !== numLayers) {
      throw new ConfigError(
        field,
        `a number, or one entry per layer (${numLayers}), each a number or [kh, kw] (a rectangular kernel for every layer is [[kh, kw], …])`,
        value,
        context,
      );
    }
    return value.map((entry, layer) => kernelPair(entry, `${field}[${layer}]`, context));
  }
  const pair = kernelPair(value, field, context);
  return Array.from({ length: numLayers }, () => [...pair] as [number, number]);
}

/**
 * The options of a {@link StackedRNN} built from a stack's options, layer by layer: layer `l + 1`
 * reads layer `l`'s (merged) output. Seeds: one fork of the `seed` generator per cell, named by
 * its module path. `direction`, `merge` and `stateful` pass through: the runner validates them.
 */
export function buildStack<C extends AnyRecurrentModule>(
  options: StackOptions,
  inputSize: number,
  numLayers: number,
  context: string,
  make: (layer: number, inputSize: number, rng: Rng) => C,
): StackedRNNOptions<C> {
  const bidirectional = options.direction === 'bidirectional';
  const rng = resolveRng(options.seed, 'seed', context);
  const cells: C[] = [];
  const reverseCells: C[] = [];
  let size = inputSize;
  for (let layer = 0; layer < numLayers; layer++) {
    const cell = make(layer, size, rng.fork(`cells.${layer}`));
    cells.push(cell);
    if (bidirectional) reverseCells.push(make(layer, size, rng.fork(`cells_reverse.${layer}`)));
    size = bidirectional && (options.merge ?? 'concat') === 'concat' ? 2 * cell.outputSize : cell.outputSize;
  }
  return {
    cells,
    ...(bidirectional ? { reverseCells } : {}),
    direction: options.direction,
    merge: options.merge,
    stateful: options.stateful,
  };
}

/**
 * Splits the last axis into `parts` equal blocks with one `SplitV`, whose gradient is one
 * `Concat`. (Separate slices would each have a `PadV2` gradient, summed by `Add`s: on wasm,
 * where vid's `SplitV` and `Concat` copy inside the heap, that backward pass is several times
 * slower.)
 *
 * x: `[..., parts·n]` → `parts` × `[..., n]`.
 */
export function splitLast(x: tf.Tensor, parts: number): tf.Tensor[] {
  return tf.split(x, parts, x.rank - 1);
}
