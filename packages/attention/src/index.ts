/**
 * @vid/attention: dot-product and multi-head attention, MultiLSTM (Yeung et al.) and the soft
 * visual attention LSTM (Sharma et al. 2015) for recurrent video models.
 *
 * @module @vid/attention
 */

// Attention
export { type AttentionOptions, type AttentionResult, attention } from './dot-product.js';
export {
  type MultiHeadApplyOptions,
  MultiHeadAttention,
  type MultiHeadAttentionOptions,
  type MultiHeadResult,
} from './multi-head.js';

// Recurrent attention models
export { type LabelMode, MultiLSTM, type MultiLSTMOptions, type MultiLSTMResult } from './multi-lstm.js';
export {
  SoftAttentionLSTM,
  type SoftAttentionLSTMOptions,
  type SoftAttentionLossOptions,
  type SoftAttentionResult,
  type VisualAttentionScore,
  attentionRegularizer,
} from './visual-attention.js';

// Losses
