/**
 * @vid/tensor-train: the Convolutional Tensor-Train LSTM cell (Su et al., NeurIPS 2020),
 * numerically the same as NVlabs/conv-tt-lstm's `ConvTTLSTMCell`, and its tensor-train maths.
 * The network that stacks it (the official `ConvLSTMNet`, with any cell), its rollout, loss,
 * checkpoints and presets live in `@vid/models`.
 *
 * @module @vid/tensor-train
 */

// Cell
export {
  ConvTTLSTMCell,
  type ConvTTLSTMCellOptions,
  type ConvTTLSTMState,
  LagWindowConv,
  type LagWindowConvOptions,
  lagWindowLayout,
  oddKernel,
} from './conv-tt-lstm-cell.js';
