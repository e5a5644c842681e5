/**
 * The soft visual attention LSTM of Sharma, Kiros and Salakhutdinov 2015, "Action Recognition
 * using Visual Attention" (arXiv:1511.04119), section 3.
 *
 * Each frame is a K×K×D cube of convolutional features X_t (the last convolutional layer of a CNN);
 * X_{t,i} is the D-vector of region i ∈ 1…K². At every step the LSTM looks at a soft mixture of the
 * regions, chosen from its previous hidden state:
 *
 *   l_{t,i} = exp(W_iᵀ h_{t−1}) / Σ_j exp(W_jᵀ h_{t−1})                   (eq. 4, the location softmax)
 *   x_t     = Σ_i l_{t,i} X_{t,i}                                         (eq. 5, the attended input)
 *   i, f, o, g = σ, σ, σ, tanh of an affine map of (h_{t−1}, x_t);  c_t = f ∘ c_{t−1} + i ∘ g;
 *   h_t = o ∘ tanh(c_t)                                                   (eqs. 1–3)
 *   c_0 = f_init,c( (1/T) Σ_t (1/K²) Σ_i X_{t,i} ),  h_0 = f_init,h( … )     (eqs. 6–7, the mean of the features)
 *   ŷ_t = softmax(W_y h_t + b_y)                                          (a class at every step)
 *   L = −Σ_t Σ_c y_{t,c} log ŷ_{t,c} + λ Σ_i (1 − Σ_t l_{t,i})²  (+ γ Σ θ², weight decay)   (eq. 8)
 *
 * The second term of eq. 8 is the attention regularisation: it pushes the model to look at every
 * region at some point of the video.
 *
 * Porting notes. The official code (kracwarlock/action-recognition-visual-attention,
 * `src/actrec.py`) scores regions with an additive (Bahdanau-style) attention on the features
 * and `h_{t−1}` rather than eq. 4; `attention: 'additive'` is that variant. It also puts a `tanh`
 * layer before the classifier (`ff_logit_lstm`), averages its regulariser over regions and sums
 * its loss over the batch; vid follows the paper here (one linear classifier; Σ over regions;
 * the loss averaged over the batch). Dropout is left to the caller.
 */
import * as tf from '@tensorflow/tfjs-core';
import { LSTMCell, type LSTMState } from '@vid/cells';
import {
  ConfigError,
  Linear,
  Module,
  ModuleList,
  type Rng,
  ShapeError,
  assertFinite,
  assertKnownKeys,
  assertTensor,
  bool,
  finiteNumber,
  formatShape,
  nonNegativeInteger,
  oneOf,
  pairOf,
  positiveInteger,
  resolveRng,
  softmaxCrossEntropy,
} from '@vid/core';
import { type ModuleConfig, configOf, registerClass } from '@vid/core';

import { stackTime, timeSteps } from './internal.js';

/** How regions are scored: the paper's location softmax, or the official code's additive attention. */
export type VisualAttentionScore = 'location' | 'additive';

/** Options of {@link SoftAttentionLSTM}. */
export interface SoftAttentionLSTMOptions {
  /** D: channels of the feature cube of each frame. */
  readonly featureChannels: number;
  /** K: the feature grid, `K` (K×K, the paper's 7×7) or `[rows, columns]`. */
  readonly gridSize: number | readonly [number, number];
  /** Features of the LSTM's hidden and cell states. */
  readonly hiddenSize: number;
  /** Classes predicted at every step. */
  readonly numClasses: number;
  /**
   * `'location'`: the paper's location softmax `softmax(W h_{t−1})` (eq. 4), one weight vector
   * per region, blind to the features; `'additive'`: the official code's
   * `softmax(uᵀ tanh(X_{t,i} W_c + b + h_{t−1} W_h))`, which also sees the features.
   * @default 'location'
   */
  readonly attention?: VisualAttentionScore;
  /** Features of the additive attention's hidden layer (`'additive'` only). @default featureChannels */
  readonly attentionSize?: number;
  /**
   * A bias in the location softmax (`softmax(W h + b)`; the paper has none).
   * @default false
   */
  readonly attentionBias?: boolean;
  /**
   * Hidden ReLU layers (D → D) before the `tanh` layers of f_init,c and f_init,h (the official
   * `n_layers_init − 1`); 0 makes each a single `tanh` layer.
   * @default 0
   */
  readonly initLayers?: number;
  /** Seed or generator of the initial weights (PyTorch's defaults for every layer). @default 0 */
  readonly seed?: number | Rng;
}

const OPTION_KEYS = [
  'featureChannels',
  'gridSize',
  'hiddenSize',
  'numClasses',
  'attention',
  'attentionSize',
  'attentionBias',
  'initLayers',
  'seed',
] as const;

/** What {@link SoftAttentionLSTM.apply} returns. The caller owns every tensor. */
export interface SoftAttentionResult {
  /** Class scores at every step, `[batch, time, numClasses]` (ŷ_t = softmax of these). */
  readonly logits: tf.Tensor3D;
  /** The location weights l_t, `[batch, time, rows, columns]`: each map sums to 1; draw them over the frames. */
  readonly attention: tf.Tensor4D;
  /** The final LSTM state, `h`, `c` `[batch, hiddenSize]`. */
  readonly state: LSTMState;
}

/** Options of {@link SoftAttentionLSTM.loss}. */
export interface SoftAttentionLossOptions {
  /**
   * λ of the attention regularisation λ Σ_i (1 − Σ_t l_{t,i})² (eq. 8). The paper tunes it
   * (e.g. 1 on UCF-11 and HMDB-51, 0 elsewhere).
   * @default 0
   */
  readonly attentionPenalty?: number;
}

/**
 * Soft visual attention over K×K×D feature cubes, then an LSTM that predicts a class at every step
 * (Sharma et al. 2015).
 *
 * Parameters: `init_layers.<n>.weight`/`.bias` (optional ReLU layers), `init_h.weight`, `init_h.bias`,
 * `init_c.weight`, `init_c.bias` (`[D, hidden]`), `attention.weight` `[hidden, K²]` (+ `attention.bias`)
 * — or, additive: `attention_hidden.weight` `[hidden, A]`, `attention_features.weight` `[D, A]`,
 * `attention_features.bias`, `attention_score.weight` `[A, 1]` —,
 * `lstm.weight_ih`, `lstm.weight_hh`, `lstm.bias_ih`, `lstm.bias_hh` (`torch.nn.LSTMCell`),
 * `classifier.weight` `[hidden, classes]`, `classifier.bias`. Weights in vid layout `[in, out]`.
 */
export class SoftAttentionLSTM extends Module {
  static readonly className: string = 'SoftAttentionLSTM';
  readonly featureChannels: number;
  readonly gridSize: readonly [number, number];
  readonly regions: number;
  readonly hiddenSize: number;
  readonly numClasses: number;
  readonly attentionScore: VisualAttentionScore;
  readonly attentionSize: number;
  readonly initLayers: readonly Linear[];
  readonly initH: Linear;
  readonly initC: Linear;
  /** Location softmax weights (`'location'`), else null. */
  readonly locationAttention: Linear | null = null;
  /** Additive attention layers (`'additive'`), else null. */
  readonly additiveAttention: { readonly hidden: Linear; readonly features: Linear; readonly score: Linear } | null =
    null;
  readonly lstm: LSTMCell;
  readonly classifier: Linear;

  readonly #options: object;

  /** The options given to the constructor (the seed only when it was a number). */
  override getConfig(): ModuleConfig {
    return configOf(this.#options, [], this.constructor.name);
  }

  constructor(options: SoftAttentionLSTMOptions) {
    super();
    this.#options = { ...options };
    const context = 'SoftAttentionLSTM';
    assertKnownKeys(options, OPTION_KEYS, context);
    this.featureChannels = positiveInteger(options.featureChannels, 'featureChannels', context);
    this.gridSize = pairOf(options.gridSize, 'gridSize', context);
    this.regions = this.gridSize[0] * this.gridSize[1];
    this.hiddenSize = positiveInteger(options.hiddenSize, 'hiddenSize', context);
    this.numClasses = positiveInteger(options.numClasses, 'numClasses', context);
    this.attentionScore = oneOf(
      options.attention ?? 'location',
      ['location', 'additive'] as const,
      'attention',
      context,
    );
    this.attentionSize = positiveInteger(options.attentionSize ?? this.featureChannels, 'attentionSize', context);
    const attentionBias = bool(options.attentionBias ?? false, 'attentionBias', context);
    if (this.attentionScore === 'additive' && options.attentionBias !== undefined) {
      throw new ConfigError(
        'attentionBias',
        "nothing with attention: 'additive' (it scores with its own layers)",
        options.attentionBias,
        context,
      );
    }
    if (this.attentionScore === 'location' && options.attentionSize !== undefined) {
      throw new ConfigError(
        'attentionSize',
        "nothing with attention: 'location' (it has no hidden layer)",
        options.attentionSize,
        context,
      );
    }
    const initLayers = nonNegativeInteger(options.initLayers ?? 0, 'initLayers', context);
    const rng = resolveRng(options.seed, 'seed', context);
    const D = this.featureChannels;
    const H = this.hiddenSize;
    const layers = Array.from({ length: initLayers }, () => new Linear({ inFeatures: D, outFeatures: D, seed: rng }));
    this.initLayers = layers.length ? this.registerModule('init_layers', new ModuleList(layers)).items : [];
    this.initH = this.registerModule('init_h', new Linear({ inFeatures: D, outFeatures: H, seed: rng }));
    this.initC = this.registerModule('init_c', new Linear({ inFeatures: D, outFeatures: H, seed: rng }));
    if (this.attentionScore === 'location') {
      this.locationAttention = this.registerModule(
        'attention',
        new Linear({ inFeatures: H, outFeatures: this.regions, bias: attentionBias, seed: rng }),
      );
    } else {
      const A = this.attentionSize;
      this.additiveAttention = {
        hidden: this.registerModule(
          'attention_hidden',
          new Linear({ inFeatures: H, outFeatures: A, bias: false, seed: rng }),
        ),
        features: this.registerModule('attention_features', new Linear({ inFeatures: D, outFeatures: A, seed: rng })),
        // No bias on the score: the softmax over regions is blind to it (the official `c_tt` never learns).
        score: this.registerModule(
          'attention_score',
          new Linear({ inFeatures: A, outFeatures: 1, bias: false, seed: rng }),
        ),
      };
    }
    this.lstm = this.registerModule('lstm', new LSTMCell({ inputSize: D, hiddenSize: H, seed: rng }));
    this.classifier = this.registerModule(
      'classifier',
      new Linear({ inFeatures: H, outFeatures: this.numClasses, seed: rng }),
    );
  }

  /**
   * The initial state from the mean of the features over time and regions (eqs. 6–7):
   * `h_0 = tanh(init_h(m))`, `c_0 = tanh(init_c(m))`, m = (1/T) Σ_t (1/K²) Σ_i X_{t,i}.
   *
   * features: `[batch, time, rows, columns, D]` → `h`, `c` `[batch, hiddenSize]`.
   */
  initialState(features: tf.Tensor): LSTMState {
    this.#checkFeatures(features, 'SoftAttentionLSTM.initialState');
    return tf.tidy(() => {
      let mean: tf.Tensor = tf.mean(features, [1, 2, 3]); // [batch, D]
      for (const layer of this.initLayers) mean = tf.relu(layer.apply(mean));
      return { h: tf.tanh(this.initH.apply(mean)), c: tf.tanh(this.initC.apply(mean)) };
    });
  }

  /**
   * The location weights l_t for one step, `[batch, K²]` (rows sum to 1).
   *
   * regions: `[batch, K², D]` (one frame's features, regions in row-major order), h: `[batch, hiddenSize]`.
   */
  locationWeights(regions: tf.Tensor, h: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => {
      if (this.locationAttention) return tf.softmax(this.locationAttention.apply(h)) as tf.Tensor2D; // eq. 4
      const { hidden, features, score } = this.additiveAttention!;
      const batch = regions.shape[0] as number;
      // [batch, K², A] + [batch, 1, A] → tanh → [batch, K², 1] → [batch, K²]
      const projected = tf.add(features.apply(regions), tf.expandDims(hidden.apply(h), 1));
      const scores = tf.reshape(score.apply(tf.tanh(projected)), [batch, this.regions]);
      return tf.softmax(scores) as tf.Tensor2D;
    });
  }

  /**
   * Runs the model over a video's feature cubes.
   *
   * features: `[batch, time, rows, columns, D]` (NHWC per frame) → per-step class logits
   * `[batch, time, classes]`, the attention maps `[batch, time, rows, columns]` and the final
   * state. `initialState` defaults to eqs. 6–7 (not disposed when given). Runs in one `tf.tidy`.
   */
  apply(features: tf.Tensor, options: { readonly initialState?: LSTMState } = {}): SoftAttentionResult {
    const context = 'SoftAttentionLSTM.apply';
    this.#checkFeatures(features, context);
    assertFinite(features, 'features', context);
    const [batch, time] = features.shape as [number, number];
    const [rows, columns] = this.gridSize;
    return tf.tidy(() => {
      let state = options.initialState ?? this.initialState(features);
      // [batch, time, rows, columns, D] → time × [batch, K², D] (regions in row-major order)
      const steps = timeSteps(tf.reshape(features, [batch, time, this.regions, this.featureChannels]));
      const maps: tf.Tensor[] = [];
      const hidden: tf.Tensor[] = [];
      for (const regions of steps) {
        const l = this.locationWeights(regions, state.h); // [batch, K²]
        // eq. 5: [batch, 1, K²] @ [batch, K², D] → [batch, 1, D] → [batch, D]
        const x = tf.reshape(tf.matMul(tf.expandDims(l, 1), regions), [batch, this.featureChannels]);
        state = this.lstm.step(x, state).state;
        maps.push(l);
        hidden.push(state.h);
      }
      const h = stackTime(hidden); // [batch, time, hidden]
      const logits = this.classifier.apply(h) as tf.Tensor3D;
      const attention = tf.reshape(stackTime(maps), [batch, time, rows, columns]) as tf.Tensor4D;
      return { logits, attention, state: { h: state.h, c: state.c } };
    });
  }

  /**
   * Eq. 8 without the weight decay (use Adam's `weightDecay` for γ): the per-step cross-entropy
   * summed over time, plus λ Σ_i (1 − Σ_t l_{t,i})², averaged over the batch.
   *
   * labels: `[batch]` (one class per video, the target of every step) or `[batch, time]`.
   */
  loss(result: SoftAttentionResult, labels: tf.Tensor, options: SoftAttentionLossOptions = {}): tf.Scalar {
    const context = 'SoftAttentionLSTM.loss';
    const lambda = finiteNumber(options.attentionPenalty ?? 0, 'attentionPenalty', context, { min: 0 });
    const [batch, time] = result.logits.shape;
    assertTensor(labels, 'labels', context);
    if (!tf.util.arraysEqual(labels.shape, [batch]) && !tf.util.arraysEqual(labels.shape, [batch, time])) {
      throw new ShapeError(
        'labels',
        `[${batch}] or [${batch}, ${time}] (class indices)`,
        formatShape(labels.shape),
        context,
      );
    }
    return tf.tidy(() => {
      const perStep = labels.rank === 1 ? tf.tile(tf.expandDims(labels, 1), [1, time]) : labels;
      const crossEntropy = tf.sum(softmaxCrossEntropy(result.logits, perStep, context), 1); // [batch]
      let perExample = crossEntropy;
      if (lambda > 0) perExample = tf.add(perExample, tf.mul(attentionRegularizer(result.attention), lambda));
      return tf.mean(perExample) as tf.Scalar;
    });
  }

  #checkFeatures(features: tf.Tensor, context: string): void {
    assertTensor(features, 'features', context);
    const [rows, columns] = this.gridSize;
    const ok =
      features.rank === 5 &&
      features.shape[2] === rows &&
      features.shape[3] === columns &&
      features.shape[4] === this.featureChannels;
    if (!ok) {
      throw new ShapeError(
        'features',
        `[batch, time, ${rows}, ${columns}, ${this.featureChannels}] (gridSize, featureChannels)`,
        formatShape(features.shape),
        context,
      );
    }
    if ((features.shape[1] as number) < 1)
      throw new ShapeError('features', 'at least one time step', formatShape(features.shape), context);
  }
}

/**
 * The attention regularisation of Sharma et al. 2015, eq. 8, per example: Σ_i (1 − Σ_t l_{t,i})²
 * (multiply by λ). It is small when every region receives a total weight of about 1 over the
 * video, that is, when the model has looked at every region.
 *
 * weights: `[batch, time, ...regions]` (e.g. `[batch, time, K, K]`, each step summing to 1) → `[batch]`.
 */
export function attentionRegularizer(weights: tf.Tensor): tf.Tensor1D {
  assertTensor(weights, 'weights', 'attentionRegularizer');
  if (weights.rank < 3) {
    throw new ShapeError(
      'weights',
      'rank ≥ 3: [batch, time, ...regions]',
      `rank ${weights.rank} ${formatShape(weights.shape)}`,
      'attentionRegularizer',
    );
  }
  return tf.tidy(() => {
    const [batch, time] = weights.shape as [number, number];
    const flat = tf.reshape(weights, [batch, time, -1]); // [batch, time, regions]
    return tf.sum(tf.square(tf.sub(1, tf.sum(flat, 1))), 1) as tf.Tensor1D; // Σ_i (1 − Σ_t l_{t,i})²
  });
}

registerClass(SoftAttentionLSTM);
