/**
 * Multi-head attention: Vaswani et al. 2017, "Attention Is All You Need", section 3.2.2:
 *
 *   MultiHead(Q, K, V) = Concat(head_1, …, head_h) W^O,  head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V)
 *
 * exactly as `torch.nn.MultiheadAttention(embed_dim, num_heads, batch_first=True)` computes it
 * (PyTorch 1.13 `torch/nn/functional.py` `multi_head_attention_forward`): one packed input
 * projection (`in_proj_weight` rows q, k, v; head i is the i-th block of `head_dim` features),
 * scaled dot-product attention per head, and the output projection `out_proj`. Its state dict
 * loads unchanged with `loadStateDict(dict, { layout: 'torch' })`.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  Layouts,
  Linear,
  Module,
  type Rng,
  ShapeError,
  assertKnownKeys,
  assertTensor,
  bool,
  formatShape,
  positiveInteger,
  resolveRng,
  xavierUniform,
  zeros,
} from '@vid/core';
import { type ModuleConfig, configOf, registerClass } from '@vid/core';

import { attention } from './dot-product.js';

/** Options of {@link MultiHeadAttention}. */
export interface MultiHeadAttentionOptions {
  /** Features of the query and of the output (`embed_dim`). */
  readonly embedDim: number;
  /** Parallel heads; must divide `embedDim` (each head has `embedDim / numHeads` features). */
  readonly numHeads: number;
  /**
   * Features of the key (`kdim`). When `keyDim` or `valueDim` differs from `embedDim`, the
   * projections are separate parameters `q_proj_weight`, `k_proj_weight`, `v_proj_weight`, as
   * in PyTorch.
   * @default embedDim
   */
  readonly keyDim?: number;
  /** Features of the value (`vdim`). @default embedDim */
  readonly valueDim?: number;
  /**
   * Biases on the input and output projections (`in_proj_bias`, `out_proj.bias`).
   * @default true
   */
  readonly bias?: boolean;
  /**
   * Seed or generator of the initial weights, with PyTorch's initialisation: Xavier-uniform
   * input projections, zero biases, and `nn.Linear`'s default for `out_proj.weight`.
   * @default 0
   */
  readonly seed?: number | Rng;
}

const OPTION_KEYS = ['embedDim', 'numHeads', 'keyDim', 'valueDim', 'bias', 'seed'] as const;

/** Options of {@link MultiHeadAttention.apply}. */
export interface MultiHeadApplyOptions {
  /** `[batch, keys]`: true or nonzero = a padding key, ignored by every query (`key_padding_mask`). Not disposed. */
  readonly keyPaddingMask?: tf.Tensor;
  /**
   * `[queries, keys]` or `[batch, numHeads, queries, keys]`: true or nonzero = not allowed (the
   * boolean `attn_mask`; PyTorch's batched form `[batch·heads, …]` is this one reshaped). Not disposed.
   */
  readonly attentionMask?: tf.Tensor;
  /** Query i attends to keys j ≤ i only. @default false */
  readonly causal?: boolean;
  /**
   * Average the weights over the heads (`average_attn_weights`, PyTorch's default); otherwise
   * return them per head.
   * @default true
   */
  readonly averageWeights?: boolean;
}

/** What {@link MultiHeadAttention.apply} returns. The caller owns both tensors. */
export interface MultiHeadResult {
  /** `[batch, queries, embedDim]`. */
  readonly output: tf.Tensor3D;
  /** `[batch, numHeads, queries, keys]`, or `[batch, queries, keys]` averaged over heads. */
  readonly weights: tf.Tensor;
}

/**
 * Multi-head attention with input and output projections, `torch.nn.MultiheadAttention` with
 * `batch_first=True`.
 *
 * Parameters (PyTorch names; vid layouts `[in, out]`, PyTorch `[out, in]` on import/export):
 * `in_proj_weight` `[embedDim, 3·embedDim]` (column blocks q, k, v) — or `q_proj_weight`
 * `[embedDim, embedDim]`, `k_proj_weight` `[keyDim, embedDim]`, `v_proj_weight`
 * `[valueDim, embedDim]` when the key or value size differs —, `in_proj_bias` `[3·embedDim]`,
 * `out_proj.weight` `[embedDim, embedDim]`, `out_proj.bias` `[embedDim]`.
 */
export class MultiHeadAttention extends Module {
  static readonly className: string = 'MultiHeadAttention';
  readonly embedDim: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly keyDim: number;
  readonly valueDim: number;
  readonly bias: boolean;
  /** Packed `[embedDim, 3·embedDim]` projection when key and value sizes equal `embedDim`, else null. */
  readonly inProjWeight: tf.Variable | null = null;
  /** Separate projections `[inSize, embedDim]` when they differ, else null. */
  readonly separateProjections: { readonly q: tf.Variable; readonly k: tf.Variable; readonly v: tf.Variable } | null =
    null;
  readonly inProjBias: tf.Variable | null = null;
  readonly outProj: Linear;

  readonly #options: object;

  /** The options given to the constructor (the seed only when it was a number). */
  override getConfig(): ModuleConfig {
    return configOf(this.#options, [], this.constructor.name);
  }

  constructor(options: MultiHeadAttentionOptions) {
    super();
    this.#options = { ...options };
    const context = 'MultiHeadAttention';
    assertKnownKeys(options, OPTION_KEYS, context);
    this.embedDim = positiveInteger(options.embedDim, 'embedDim', context);
    this.numHeads = positiveInteger(options.numHeads, 'numHeads', context);
    if (this.embedDim % this.numHeads !== 0) {
      throw new ConfigError('numHeads', `a divisor of embedDim (${this.embedDim})`, this.numHeads, context);
    }
    this.headDim = this.embedDim / this.numHeads;
    this.keyDim = positiveInteger(options.keyDim ?? this.embedDim, 'keyDim', context);
    this.valueDim = positiveInteger(options.valueDim ?? this.embedDim, 'valueDim', context);
    this.bias = bool(options.bias ?? true, 'bias', context);
    const rng = resolveRng(options.seed, 'seed', context);
    const E = this.embedDim;
    // PyTorch's _reset_parameters: xavier_uniform_ on the (packed or separate) input projections.
    if (this.keyDim === E && this.valueDim === E) {
      this.inProjWeight = this.registerParameter('in_proj_weight', xavierUniform()([E, 3 * E], rng), {
        layout: Layouts.linear,
      });
    } else {
      // Each drawn on its own shape, as PyTorch draws q_proj_weight, k_proj_weight, v_proj_weight.
      const q = this.registerParameter('q_proj_weight', xavierUniform()([E, E], rng), { layout: Layouts.linear });
      const k = this.registerParameter('k_proj_weight', xavierUniform()([this.keyDim, E], rng), {
        layout: Layouts.linear,
      });
      const v = this.registerParameter('v_proj_weight', xavierUniform()([this.valueDim, E], rng), {
        layout: Layouts.linear,
      });
      this.separateProjections = { q, k, v };
    }
    if (this.bias) this.inProjBias = this.registerParameter('in_proj_bias', zeros()([3 * E], rng));
    // out_proj: nn.Linear's default weight, then a zero bias.
    this.outProj = this.registerModule(
      'out_proj',
      new Linear({ inFeatures: E, outFeatures: E, bias: this.bias, seed: rng, biasInit: zeros() }),
    );
  }

  /**
   * Attends from `query` to `key`/`value`.
   *
   * query: `[batch, queries, embedDim]`, key: `[batch, keys, keyDim]`, value:
   * `[batch, keys, valueDim]` → output `[batch, queries, embedDim]` and the attention weights
   * (`[batch, numHeads, queries, keys]`, or averaged over heads). Nothing given is disposed.
   */
  apply(query: tf.Tensor, key: tf.Tensor, value: tf.Tensor, options: MultiHeadApplyOptions = {}): MultiHeadResult {
    const context = 'MultiHeadAttention.apply';
    assertTensor(query, 'query', context);
    assertTensor(key, 'key', context);
    assertTensor(value, 'value', context);
    if (query.rank !== 3 || query.shape[2] !== this.embedDim) {
      throw new ShapeError('query', `[batch, queries, ${this.embedDim}] (embedDim)`, formatShape(query.shape), context);
    }
    const [batch, queries] = query.shape as [number, number, number];
    if (key.rank !== 3 || key.shape[0] !== batch || key.shape[2] !== this.keyDim) {
      throw new ShapeError(
        'key',
        `[${batch}, keys, ${this.keyDim}] (batch of query; keyDim)`,
        formatShape(key.shape),
        context,
      );
    }
    const keys = key.shape[1] as number;
    if (value.rank !== 3 || value.shape[0] !== batch || value.shape[1] !== keys || value.shape[2] !== this.valueDim) {
      throw new ShapeError(
        'value',
        `[${batch}, ${keys}, ${this.valueDim}] (batch and keys of key; valueDim)`,
        formatShape(value.shape),
        context,
      );
    }
    const average = bool(options.averageWeights ?? true, 'averageWeights', context);
    if (options.attentionMask !== undefined) {
      assertTensor(options.attentionMask, 'attentionMask', context);
      const shape = options.attentionMask.shape;
      const ok =
        tf.util.arraysEqual(shape, [queries, keys]) ||
        tf.util.arraysEqual(shape, [batch, this.numHeads, queries, keys]);
      if (!ok) {
        throw new ShapeError(
          'attentionMask',
          `[${queries}, ${keys}] or [${batch}, ${this.numHeads}, ${queries}, ${keys}]`,
          formatShape(shape),
          context,
        );
      }
    }
    const E = this.embedDim;
    const H = this.numHeads;
    const D = this.headDim;
    return tf.tidy(() => {
      const [wq, wk, wv] = this.#projectionWeights();
      const [bq, bk, bv] = this.inProjBias
        ? [0, 1, 2].map((i) => tf.slice(this.inProjBias as tf.Tensor, [i * E], [E]))
        : [null, null, null];
      const project = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | null, length: number): tf.Tensor => {
        // x: [batch, length, in] → [batch·length, in] @ [in, E] → [batch, length, heads, D] → [batch, heads, length, D]
        let y = tf.matMul(tf.reshape(x, [batch * length, x.shape[2] as number]), w);
        if (b) y = tf.add(y, b);
        return tf.transpose(tf.reshape(y, [batch, length, H, D]), [0, 2, 1, 3]);
      };
      const q = project(query, wq, bq ?? null, queries);
      const k = project(key, wk, bk ?? null, keys);
      const v = project(value, wv, bv ?? null, keys);
      // Per head: [batch, heads, queries, D], weights [batch, heads, queries, keys].
      const heads = attention(q, k, v, {
        ...(options.keyPaddingMask !== undefined ? { keyPaddingMask: options.keyPaddingMask } : {}),
        ...(options.attentionMask !== undefined ? { attentionMask: options.attentionMask } : {}),
        ...(options.causal !== undefined ? { causal: options.causal } : {}),
      });
      // [batch, heads, queries, D] → [batch, queries, heads, D] → [batch, queries, E]
      const merged = tf.reshape(tf.transpose(heads.output, [0, 2, 1, 3]), [batch, queries, E]);
      const output = this.outProj.apply(merged) as tf.Tensor3D;
      const weights = average ? tf.mean(heads.weights, 1) : heads.weights;
      return { output, weights };
    });
  }

  /** The q, k, v projection weights, each `[inSize, embedDim]` (slices of the packed one). */
  #projectionWeights(): [tf.Tensor, tf.Tensor, tf.Tensor] {
    if (this.separateProjections) {
      const { q, k, v } = this.separateProjections;
      return [q, k, v];
    }
    const E = this.embedDim;
    const packed = this.inProjWeight as tf.Tensor;
    // [E, 3E] → 3 × [E, E] (column blocks q, k, v = PyTorch's row blocks)
    return [0, 1, 2].map((i) => tf.slice(packed, [0, i * E], [E, E])) as [tf.Tensor, tf.Tensor, tf.Tensor];
  }
}

registerClass(MultiHeadAttention);
