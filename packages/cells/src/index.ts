/**
 * @vid/cells: recurrent cells for video (FC-LSTM with peepholes, ConvLSTM, ConvGRU), the runner
 * that loops them over time, and stacked multi-layer runners. Whole
 * models built from them (the video-prediction network, Shi et al.'s encoder-forecaster) live in
 * `@vid/models`.
 *
 * @module @vid/cells
 */

// The cell contract
export type {
  AnyRecurrentCell,
  GRUState,
  LSTMState,
  RecurrentCell,
  RecurrentModule,
  RecurrentState,
  StateOf,
  StepResult,
} from './types.js';

// Cells
export { ConvLSTMCell, type ConvLSTMCellOptions, type ConvLSTMPeephole, type GateOrder } from './convlstm-cell.js';
export { type ConvertConvLSTMOptions, convertConvLSTMStateDict } from './convert.js';
export { ConvGRUCell, type ConvGRUCellOptions } from './convgru-cell.js';
export { LSTMCell, type LSTMCellOptions, type LSTMPeephole } from './lstm-cell.js';

// Running over time
export { rnn, type RnnOptions, type RnnResult } from './rnn.js';
export {
  type AnyRecurrentModule,
  type Direction,
  type MergeMode,
  StackedRNN,
  type StackedApplyOptions,
  type StackedRNNOptions,
  type StackedResult,
  type StackOptions,
  type StackedStepResult,
  disposeStackedResult,
} from './stacked.js';
export { ConvGRU, type ConvGRUOptions, ConvLSTM, type ConvLSTMOptions } from './conv-stacks.js';
export { LSTM, type LSTMOptions } from './lstm.js';
export { disposeState, mapState, stateTensors } from './state.js';
export { type KernelSize, layerSizes } from './internal.js';
