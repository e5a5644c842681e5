/**
 * The ConvLSTM baseline of the paper: `ConvLSTMCell` in NVlabs/conv-tt-lstm
 * `code/convlstmcell.py` (Shi et al. 2015 without peepholes, one convolution on `[x, h]`, gates
 * in the order i, f, o, g) is `@vid/cells`' `ConvLSTMCell` with `gateOrder: 'ifog'`: the same
 * parameters (`conv.weight`, `conv.bias`) and the same numbers.
 */
import { ConvLSTMCell } from '@vid/cells';
import type { Rng } from '@vid/core';

/** Options of the baseline cell (the official `ConvLSTMCell` arguments). */
export interface BaselineCellOptions {
  readonly inputChannels: number;
  readonly hiddenChannels: number;
  readonly kernelSize: readonly [number, number];
  readonly bias: boolean;
  readonly seed: Rng;
}

/** Builds the paper's ConvLSTM baseline cell (the official `ConvLSTMCell`). */
export function createBaselineCell(options: BaselineCellOptions): ConvLSTMCell {
  return new ConvLSTMCell({ ...options, peephole: 'none', fused: true, gateOrder: 'ifog' });
}
