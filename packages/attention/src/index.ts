/**
 * @vid/attention: dot-product and multi-head attention, MultiLSTM (Yeung et al.) and the soft
 * visual attention LSTM (Sharma et al. 2015) for recurrent video models.
 */

// Attention
export { type AttentionOptions, type AttentionResult, attention } from './dot-product.js';
export { type MultiHeadApplyOptions, MultiHeadAttention, type MultiHeadAttentionOptions, type MultiHeadResult } from './multi-head.js';
