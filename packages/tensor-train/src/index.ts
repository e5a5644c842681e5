/**
 * @vid/tensor-train: the Convolutional Tensor-Train LSTM (Su et al., NeurIPS 2020), numerically
 * the same model as NVlabs/conv-tt-lstm, with its network, rollout, training loss, checkpoint
 * import/export, the paper's presets and complexity utilities.
 */

// Cell
export {
  ConvTTLSTMCell,
  type ConvTTLSTMCellOptions,
  type ConvTTLSTMState,
  LagWindowConv,
  type LagWindowConvOptions,
  lagWindowLayout,
} from './conv-tt-lstm-cell.js';
export { type ConvRecurrentCell, disposeDropped } from './recurrent-cell.js';

// Network, rollout and loss
export {
  ConvTTLSTMNet,
  type FromCheckpointOptions,
  type NetworkCell,
  type RolloutOptions,
  type TrainingLossOptions,
  l1MseLoss,
} from './network.js';

// Configuration
export {
  CELL_TYPES,
  type CellType,
  type ConvTTLSTMNetOptions,
  type NetConfig,
  type NetConfigInput,
  type OfficialNetConfig,
  fromOfficialConfig,
  isOfficialConfig,
  resolveNetConfig,
  toOfficialConfig,
} from './config.js';

// Checkpoints
export {
  type OfficialCheckpoint,
  type ReadCheckpointOptions,
  checkStateDict,
  inferOfficialConfig,
  readOfficialCheckpoint,
} from './checkpoint.js';

// Presets and complexity
export { PAPER_PRESETS, type PaperPreset, type PaperPresetName, paperNetwork } from './presets.js';
export { type FlopsReport, type LayerFlops, countParameters, flopsPerStep, officialParameterShapes } from './complexity.js';
