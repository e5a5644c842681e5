/**
 * Adapts convolutional cells written against the official NVlabs/conv-tt-lstm interface
 * (`initialState(batch, height, width)`, `step(x, state)`, `inputChannels`, `hiddenChannels`; the
 * interface of `@vid/tensor-train`'s cells) to the `RecurrentCell` contract of `@vid/cells`, so
 * that `rnn`, `StackedRNN` and {@link EarlyRecognizer} run them.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { RecurrentCell, RecurrentState, StepResult } from '@vid/cells';
import { ConfigError, Module, ShapeError, formatShape } from '@vid/core';

/** A convolutional cell with the official interface (e.g. `ConvTTLSTMCell` of `@vid/tensor-train`). */
export interface ConvCell<S> {
  readonly inputChannels: number;
  readonly hiddenChannels: number;
  /** The zero state for frames of `height × width`. */
  initialState(batch: number, height: number, width: number): S;
  /** x: `[batch, height, width, inputChannels]` → output `[batch, height, width, hiddenChannels]`. Disposes nothing. */
  step(x: tf.Tensor4D, state: S): { output: tf.Tensor4D; state: S };
}

/**
 * A {@link ConvCell} as a `RecurrentCell` on NHWC frames. The wrapped cell is its child module
 * `cell` (its parameters are `cell.<name>`), disposed with it.
 */
export class ConvCellAdapter<S extends RecurrentState> extends Module implements RecurrentCell<S> {
  readonly cell: ConvCell<S>;

  constructor(cell: ConvCell<S>) {
    super();
    const context = 'ConvCellAdapter';
    const ok = cell && typeof cell.step === 'function' && typeof cell.initialState === 'function' && Number.isInteger(cell.inputChannels) && Number.isInteger(cell.hiddenChannels);
    if (!ok) throw new ConfigError('cell', 'a cell with inputChannels, hiddenChannels, initialState(batch, height, width) and step(x, state)', cell, context);
    this.cell = cell instanceof Module ? this.registerModule('cell', cell) : cell;
  }

  get inputSize(): number {
    return this.cell.inputChannels;
  }

  get outputSize(): number {
    return this.cell.hiddenChannels;
  }

  get inputRank(): number {
    return 4;
  }

  /** The cell's initial state for `x: [batch, height, width, inputChannels]`. */
  zeroState(x: tf.Tensor): S {
    if (x.rank !== 4 || x.shape[3] !== this.inputSize) {
      throw new ShapeError('x', `[batch, height, width, ${this.inputSize}] (inputChannels)`, formatShape(x.shape), 'ConvCellAdapter.zeroState');
    }
    const [batch, height, width] = x.shape as [number, number, number, number];
    return this.cell.initialState(batch, height, width);
  }

  step(x: tf.Tensor, state: S): StepResult<S> {
    const result = this.cell.step(x as tf.Tensor4D, state);
    return { output: result.output, state: result.state };
  }
}

/** Wraps a cell with the official interface as a `RecurrentCell` (see {@link ConvCellAdapter}). */
export function asRecurrentCell<S extends RecurrentState>(cell: ConvCell<S>): ConvCellAdapter<S> {
  return new ConvCellAdapter(cell);
}
