/**
 * @vid/cells: recurrent cells for video (FC-LSTM with peepholes, ConvLSTM, ConvGRU), the runner
 * that loops them over time, stacked multi-layer runners and the encoder-forecaster.
 */

// The cell contract
export type { AnyRecurrentCell, GRUState, LSTMState, RecurrentCell, RecurrentModule, RecurrentState, StateOf, StepResult } from './types.js';

// Cells
export { ConvLSTMCell, type ConvLSTMCellOptions, type ConvLSTMPeephole, type GateOrder } from './convlstm-cell.js';

// Running over time
export { rnn, type RnnOptions, type RnnResult } from './rnn.js';
export { disposeState, mapState, stateTensors } from './state.js';
