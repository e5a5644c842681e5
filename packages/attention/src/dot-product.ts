/**
 * Scaled dot-product attention: Vaswani et al. 2017, "Attention Is All You Need", eq. (1):
 *
 *   Attention(Q, K, V) = softmax(Q Kᵀ / √d_k) V
 *
 * with PyTorch's masks: a key padding mask (`[batch, keys]`, true = a padding key that no query
 * may attend to, as `torch.nn.MultiheadAttention`'s `key_padding_mask`), an attention mask
 * (`[queries, keys]` or batched, true = not allowed, as its boolean `attn_mask`) and a causal mask
 * (query i sees keys j ≤ i, as `scaled_dot_product_attention(is_causal=True)`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError, assertFinite, assertTensor, formatShape } from '@vid/core';

/** Options of {@link attention}. */
export interface AttentionOptions {
  /**
   * The factor on the logits `Q Kᵀ`: `true` is 1/√d_k (Vaswani et al. 2017, eq. 1), `false` is 1
   * (plain dot-product attention, Luong et al. 2015's "dot" score), a number is used as is.
   * @default true
   */
  readonly scale?: boolean | number;
  /**
   * `[batch, keys]` (`[keys]` for unbatched input): true or nonzero marks a padding key that no
   * query attends to (PyTorch's `key_padding_mask` convention). Any dtype. Not disposed.
   */
  readonly keyPaddingMask?: tf.Tensor;
  /**
   * `[queries, keys]`, or with the leading axes of `query` (`[...batch, queries, keys]`): true or
   * nonzero forbids query i to attend to key j (PyTorch's boolean `attn_mask` of
   * `nn.MultiheadAttention`). Any dtype. Not disposed.
   */
  readonly attentionMask?: tf.Tensor;
  /**
   * Forbid attending to later keys: query i sees keys j ≤ i (top-left aligned, as PyTorch's
   * `is_causal`).
   * @default false
   */
  readonly causal?: boolean;
}

/** What {@link attention} returns. The caller owns both tensors. */
export interface AttentionResult {
  /** `[...batch, queries, valueSize]`. */
  readonly output: tf.Tensor;
  /**
   * `[...batch, queries, keys]`: each query's distribution over the keys (rows sum to 1; masked
   * keys get exactly 0; a query whose every key is masked gets all zeros and a zero output).
   */
  readonly weights: tf.Tensor;
}

/**
 * A logit that `exp` takes to exactly 0 after the softmax subtracts the row maximum, for any row
 * with at least one allowed key (PyTorch uses −∞; a finite value keeps fully masked rows and
 * their gradients free of NaN).
 */
const MASKED_LOGIT = -1e30;

/**
 * Scaled dot-product attention, `softmax(Q Kᵀ · scale + masks) V` (Vaswani et al. 2017, eq. 1).
 *
 * query: `[...batch, queries, keySize]`, key: `[...batch, keys, keySize]`, value:
 * `[...batch, keys, valueSize]` (the same leading axes, any number of them, e.g. `[batch]` or
 * `[batch, heads]`) → `{ output: [...batch, queries, valueSize], weights: [...batch, queries, keys] }`.
 * Runs in one `tf.tidy`; nothing given is disposed.
 */
export function attention(
  query: tf.Tensor,
  key: tf.Tensor,
  value: tf.Tensor,
  options: AttentionOptions = {},
): AttentionResult {
  const context = 'attention';
  assertTensor(query, 'query', context);
  assertTensor(key, 'key', context);
  assertTensor(value, 'value', context);
  const rank = query.rank;
  if (rank < 2)
    throw new ShapeError(
      'query',
      'rank ≥ 2: [...batch, queries, keySize]',
      `rank ${rank} ${formatShape(query.shape)}`,
      context,
    );
  const lead = query.shape.slice(0, -2);
  const queries = query.shape[rank - 2] as number;
  const keySize = query.shape[rank - 1] as number;
  const leadText = lead.join(', ');
  const prefix = lead.length ? `${leadText}, ` : '';
  if (key.rank !== rank || !tf.util.arraysEqual(key.shape.slice(0, -2), lead) || key.shape[rank - 1] !== keySize) {
    throw new ShapeError(
      'key',
      `[${prefix}keys, ${keySize}] (the leading axes and keySize of query ${formatShape(query.shape)})`,
      formatShape(key.shape),
      context,
    );
  }
  const keys = key.shape[rank - 2] as number;
  if (value.rank !== rank || !tf.util.arraysEqual(value.shape.slice(0, -1), key.shape.slice(0, -1))) {
    throw new ShapeError(
      'value',
      `[${prefix}${keys}, valueSize] (the leading axes and keys of key ${formatShape(key.shape)})`,
      formatShape(value.shape),
      context,
    );
  }
  const scale = resolveScale(options.scale, keySize, context);
  const mask = buildMask(options, lead, queries, keys, context);
  assertFinite(query, 'query', context);
  assertFinite(key, 'key', context);
  assertFinite(value, 'value', context);
  try {
    return tf.tidy(() => {
      // Kᵀ by an explicit transpose: on wasm, matMul's transpose flags are much slower.
      // key: [...batch, keys, keySize] → [...batch, keySize, keys]
      const keyT = tf.transpose(key, [...lead.map((_, i) => i), rank - 1, rank - 2]);
      let logits = tf.matMul(query, keyT); // [...batch, queries, keys]
      if (scale !== 1) logits = tf.mul(logits, scale);
      let weights: tf.Tensor;
      if (mask) {
        // masked logits → MASKED_LOGIT; then zero the weights of fully masked rows.
        logits = tf.where(mask, tf.fill(logits.shape, MASKED_LOGIT), logits);
        weights = tf.mul(tf.softmax(logits), tf.cast(tf.logicalNot(mask), 'float32'));
      } else {
        weights = tf.softmax(logits);
      }
      const output = tf.matMul(weights, value); // [...batch, queries, valueSize]
      return { output, weights };
    });
  } finally {
    mask?.dispose();
  }
}

function resolveScale(scale: boolean | number | undefined, keySize: number, context: string): number {
  if (scale === undefined || scale === true) return 1 / Math.sqrt(keySize);
  if (scale === false) return 1;
  if (typeof scale !== 'number' || !Number.isFinite(scale))
    throw new ConfigError('scale', 'true, false or a finite number', scale, context);
  return scale;
}

/**
 * The combined boolean mask, true = not allowed, broadcast to `[...lead, queries, keys]`; null
 * without masks. The caller disposes it.
 */
function buildMask(
  options: AttentionOptions,
  lead: readonly number[],
  queries: number,
  keys: number,
  context: string,
): tf.Tensor | null {
  const { keyPaddingMask, attentionMask } = options;
  const causal = options.causal ?? false;
  if (typeof causal !== 'boolean') throw new ConfigError('causal', 'true or false', causal, context);
  if (keyPaddingMask !== undefined) {
    assertTensor(keyPaddingMask, 'keyPaddingMask', context);
    const expected = lead.length ? [lead[0] as number, keys] : [keys];
    if (!tf.util.arraysEqual(keyPaddingMask.shape, expected)) {
      throw new ShapeError(
        'keyPaddingMask',
        `${formatShape(expected)} (${lead.length ? 'batch, ' : ''}keys; true = padding)`,
        formatShape(keyPaddingMask.shape),
        context,
      );
    }
  }
  if (attentionMask !== undefined) {
    assertTensor(attentionMask, 'attentionMask', context);
    const full = [...lead, queries, keys];
    const ok =
      tf.util.arraysEqual(attentionMask.shape, [queries, keys]) || tf.util.arraysEqual(attentionMask.shape, full);
    if (!ok) {
      throw new ShapeError(
        'attentionMask',
        `[${queries}, ${keys}] or ${formatShape(full)} (queries, keys; true = not allowed)`,
        formatShape(attentionMask.shape),
        context,
      );
    }
  }
  if (!keyPaddingMask && !attentionMask && !causal) return null;
  return tf.tidy(() => {
    const parts: tf.Tensor[] = [];
    if (keyPaddingMask) {
      // [batch, keys] → [batch, 1, …, 1, keys] (one 1 per axis between batch and keys)
      const shape = lead.length ? [lead[0] as number, ...lead.slice(1).map(() => 1), 1, keys] : [1, keys];
      parts.push(tf.reshape(tf.cast(keyPaddingMask, 'bool'), shape));
    }
    if (attentionMask) parts.push(tf.cast(attentionMask, 'bool'));
    if (causal) {
      // [queries, keys]: true above the diagonal (key j > query i).
      const row = tf.reshape(tf.range(0, queries, 1, 'int32'), [queries, 1]);
      const column = tf.reshape(tf.range(0, keys, 1, 'int32'), [1, keys]);
      parts.push(tf.greater(column, row));
    }
    let mask = parts[0] as tf.Tensor;
    for (const part of parts.slice(1)) mask = tf.logicalOr(mask, part);
    return tf.broadcastTo(mask, [...lead, queries, keys]);
  });
}
