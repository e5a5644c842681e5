/**
 * MultiLSTM: Yeung, Russakovsky, Jin, Andriluka, Mori and Fei-Fei, "Every Moment Counts: Dense
 * Detailed Labeling of Actions in Complex Videos" (IJCV 2018; arXiv:1507.05738), section 4.
 *
 * An LSTM for dense (per-frame, multi-label) action labelling, whose temporal receptive field is a
 * window of the N most recent frames at both ends:
 *
 * - multiple inputs: at step t the LSTM reads a soft-attention mixture of the window's frame
 *   features, x̃_t = Σ_{i=1..N} α_t^i x_{t−N+i}, with weights chosen from the previous hidden
 *   state h_{t−1};
 * - multiple outputs: from h_t it predicts the labels of each frame of the window, ŷ_t^i for frame
 *   t − N + i;
 * - every frame is thus predicted N times (at steps t … t + N − 1); the dense labels average them.
 *
 * The attention is scaled dot-product attention (Vaswani et al. 2017, eq. 1) with query
 * q_t = W_q h_{t−1} + b_q, and keys and values the frame features themselves:
 * α_t = softmax(q_t · x_{t−N+i} / √D), i = 1…N. Window positions before the first frame are masked.
 *
 * Porting note: the paper learns the weights α_t from the LSTM state over the input window but
 * does not fix a scoring function; the dot-product form is vid's choice (one projection, and the
 * weights stay interpretable as similarity to a learned query).
 */
import * as tf from '@tensorflow/tfjs-core';
import { LSTMCell, type LSTMState } from '@vid/cells';
import {
  Linear,
  Module,
  type Rng,
  ShapeError,
  assertFinite,
  assertKnownKeys,
  assertTensor,
  formatShape,
  oneOf,
  positiveInteger,
  resolveRng,
  sigmoidCrossEntropy,
  softmaxCrossEntropy,
} from '@vid/core';
import { type ModuleConfig, configOf, registerClass } from '@vid/core';

import { attention } from './dot-product.js';
import { stackTime } from './internal.js';

/** Labels per frame: several at once (MultiTHUMOS: sigmoid outputs) or exactly one (softmax). */
export type LabelMode = 'multilabel' | 'multiclass';

/** Options of {@link MultiLSTM}. */
export interface MultiLSTMOptions {
  /** D: features of each frame (e.g. a CNN's fc7). */
  readonly inputSize: number;
  /** Features of the LSTM's hidden and cell states. */
  readonly hiddenSize: number;
  /** Action classes predicted for every frame. */
  readonly numClasses: number;
  /** N: frames in the input and output windows. @default 5 */
  readonly window?: number;
  /**
   * `'multilabel'`: independent sigmoid outputs per class (the paper's MultiTHUMOS setting);
   * `'multiclass'`: one softmax over the classes per frame.
   * @default 'multilabel'
   */
  readonly labels?: LabelMode;
  /** Seed or generator of the initial weights (PyTorch's defaults). @default 0 */
  readonly seed?: number | Rng;
}

const OPTION_KEYS = ['inputSize', 'hiddenSize', 'numClasses', 'window', 'labels', 'seed'] as const;

/** What {@link MultiLSTM.apply} returns. The caller owns every tensor. */
export interface MultiLSTMResult {
  /**
   * The multiple outputs, `[batch, time, window, classes]`: `windowLogits[:, t, i]` is step t's
   * prediction for frame t − N + 1 + i (i = N − 1 is frame t itself). Entries for frames before
   * the first are computed but meaningless (the loss ignores them).
   */
  readonly windowLogits: tf.Tensor4D;
  /**
   * The dense labels, `[batch, time, classes]`: for each frame, the mean of the probabilities
   * (sigmoid or softmax) of the N predictions made for it (fewer near the end of the video).
   */
  readonly framePredictions: tf.Tensor3D;
  /**
   * The input attention, `[batch, time, window]`: `attention[:, t, i]` is α_t on frame
   * t − N + 1 + i (rows sum to 1; 0 before the first frame).
   */
  readonly attention: tf.Tensor3D;
  /** The final LSTM state, `h`, `c` `[batch, hiddenSize]`. */
  readonly state: LSTMState;
}

/**
 * MultiLSTM (Yeung et al.): attention over the last N frames as the input of an LSTM, N outputs per
 * step, and per-frame predictions combined from them.
 *
 * Parameters: `query.weight` `[hidden, D]`, `query.bias` `[D]`, `lstm.weight_ih`, `lstm.weight_hh`,
 * `lstm.bias_ih`, `lstm.bias_hh` (`torch.nn.LSTMCell`), `output.weight` `[hidden, window·classes]`
 * (column block i holds the outputs for window position i), `output.bias`. Weights in vid layout
 * `[in, out]`.
 */
export class MultiLSTM extends Module {
  static readonly className: string = 'MultiLSTM';
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numClasses: number;
  readonly window: number;
  readonly labels: LabelMode;
  readonly query: Linear;
  readonly lstm: LSTMCell;
  readonly output: Linear;

  readonly #options: object;

  /** The options given to the constructor (the seed only when it was a number). */
  override getConfig(): ModuleConfig {
    return configOf(this.#options, [], this.constructor.name);
  }

  constructor(options: MultiLSTMOptions) {
    super();
    this.#options = { ...options };
    const context = 'MultiLSTM';
    assertKnownKeys(options, OPTION_KEYS, context);
    this.inputSize = positiveInteger(options.inputSize, 'inputSize', context);
    this.hiddenSize = positiveInteger(options.hiddenSize, 'hiddenSize', context);
    this.numClasses = positiveInteger(options.numClasses, 'numClasses', context);
    this.window = positiveInteger(options.window ?? 5, 'window', context);
    this.labels = oneOf(options.labels ?? 'multilabel', ['multilabel', 'multiclass'] as const, 'labels', context);
    const rng = resolveRng(options.seed, 'seed', context);
    this.query = this.registerModule(
      'query',
      new Linear({ inFeatures: this.hiddenSize, outFeatures: this.inputSize, seed: rng }),
    );
    this.lstm = this.registerModule(
      'lstm',
      new LSTMCell({ inputSize: this.inputSize, hiddenSize: this.hiddenSize, seed: rng }),
    );
    this.output = this.registerModule(
      'output',
      new Linear({ inFeatures: this.hiddenSize, outFeatures: this.window * this.numClasses, seed: rng }),
    );
  }

  /**
   * Runs the model over a sequence of frame features.
   *
   * features: `[batch, time, inputSize]` → the window outputs `[batch, time, window, classes]`,
   * the dense per-frame predictions `[batch, time, classes]`, the attention `[batch, time, window]`
   * and the final state. `initialState` defaults to zeros (not disposed when given). Runs in one
   * `tf.tidy`.
   */
  apply(features: tf.Tensor, options: { readonly initialState?: LSTMState } = {}): MultiLSTMResult {
    const context = 'MultiLSTM.apply';
    assertTensor(features, 'features', context);
    if (features.rank !== 3 || features.shape[2] !== this.inputSize || (features.shape[1] as number) < 1) {
      throw new ShapeError(
        'features',
        `[batch, time ≥ 1, ${this.inputSize}] (inputSize)`,
        formatShape(features.shape),
        context,
      );
    }
    assertFinite(features, 'features', context);
    const [batch, time] = features.shape as [number, number];
    const N = this.window;
    const C = this.numClasses;
    return tf.tidy(() => {
      // Zero frames before the first, so that every step has a full window:
      // [batch, time, D] → [batch, N − 1 + time, D]
      const padded =
        N > 1
          ? tf.pad(features, [
              [0, 0],
              [N - 1, 0],
              [0, 0],
            ])
          : features;
      let state: LSTMState = options.initialState ?? this.lstm.zeroState(tf.zeros([batch, this.inputSize]));
      const outputs: tf.Tensor[] = [];
      const weights: tf.Tensor[] = [];
      for (let t = 0; t < time; t++) {
        // The window of step t: frames t − N + 1 … t, [batch, N, D].
        const windowFeatures = tf.slice(padded, [0, t, 0], [batch, N, this.inputSize]);
        // Window positions before frame 0 are padding: [batch, N], 1 = ignore.
        const missing = Math.max(0, N - 1 - t);
        const keyPaddingMask =
          missing > 0
            ? tf.tile(tf.tensor2d([Array.from({ length: N }, (_, i) => (i < missing ? 1 : 0))]), [batch, 1])
            : undefined;
        // q_t = W_q h_{t−1} + b_q: [batch, D] → [batch, 1, D]
        const query = tf.expandDims(this.query.apply(state.h), 1);
        const attended = attention(query, windowFeatures, windowFeatures, keyPaddingMask ? { keyPaddingMask } : {});
        const x = tf.reshape(attended.output, [batch, this.inputSize]); // x̃_t
        state = this.lstm.step(x, state).state;
        outputs.push(tf.reshape(this.output.apply(state.h), [batch, N, C])); // ŷ_t^i
        weights.push(tf.reshape(attended.weights, [batch, N]));
      }
      const windowLogits = stackTime(outputs) as tf.Tensor4D; // [batch, time, N, C]
      const framePredictions = this.combine(windowLogits);
      return {
        windowLogits,
        framePredictions,
        attention: stackTime(weights) as tf.Tensor3D,
        state: { h: state.h, c: state.c },
      };
    });
  }

  /**
   * The dense per-frame predictions from the multiple outputs: frame j's N predictions are made at
   * steps j … j + N − 1 (window position N − 1 − k at step j + k); their probabilities are averaged
   * (over the min(N, time − j) that exist).
   *
   * windowLogits: `[batch, time, window, classes]` → `[batch, time, classes]`.
   */
  combine(windowLogits: tf.Tensor): tf.Tensor3D {
    const context = 'MultiLSTM.combine';
    assertTensor(windowLogits, 'windowLogits', context);
    const N = this.window;
    if (windowLogits.rank !== 4 || windowLogits.shape[2] !== N || windowLogits.shape[3] !== this.numClasses) {
      throw new ShapeError(
        'windowLogits',
        `[batch, time, ${N}, ${this.numClasses}] (window, numClasses)`,
        formatShape(windowLogits.shape),
        context,
      );
    }
    const [batch, time] = windowLogits.shape as [number, number];
    const C = this.numClasses;
    return tf.tidy(() => {
      const probabilities = this.labels === 'multilabel' ? tf.sigmoid(windowLogits) : tf.softmax(windowLogits);
      // Steps after the last frame predict nothing: pad time at the end, [batch, time + N − 1, N, C].
      const padded =
        N > 1
          ? tf.pad(probabilities, [
              [0, 0],
              [0, N - 1],
              [0, 0],
              [0, 0],
            ])
          : probabilities;
      let sum: tf.Tensor | null = null;
      for (let k = 0; k < N; k++) {
        // Step j + k's prediction for frame j sits at window position N − 1 − k: [batch, time, C].
        const part = tf.reshape(tf.slice(padded, [0, k, N - 1 - k, 0], [batch, time, 1, C]), [batch, time, C]);
        sum = sum ? tf.add(sum, part) : part;
      }
      const counts = tf.tensor(
        Array.from({ length: time }, (_, j) => Math.min(N, time - j)),
        [1, time, 1],
      );
      return tf.div(sum as tf.Tensor, counts) as tf.Tensor3D;
    });
  }

  /**
   * The training loss of the multiple outputs: every window output ŷ_t^i against the labels of
   * frame t − N + 1 + i (frames before the first are skipped), averaged over those outputs.
   * Sigmoid cross-entropy summed over classes (`'multilabel'`) or softmax cross-entropy
   * (`'multiclass'`).
   *
   * labels: `[batch, time, classes]` in {0, 1} (`'multilabel'`) or `[batch, time]` class indices
   * (`'multiclass'`).
   */
  loss(result: MultiLSTMResult, labels: tf.Tensor): tf.Scalar {
    const context = 'MultiLSTM.loss';
    assertTensor(labels, 'labels', context);
    const [batch, time] = result.windowLogits.shape;
    const N = this.window;
    const C = this.numClasses;
    const expected = this.labels === 'multilabel' ? [batch, time, C] : [batch, time];
    if (!tf.util.arraysEqual(labels.shape, expected)) {
      throw new ShapeError(
        'labels',
        `${formatShape(expected)} (${this.labels === 'multilabel' ? '0/1 per class' : 'class indices'})`,
        formatShape(labels.shape),
        context,
      );
    }
    return tf.tidy(() => {
      // The label of frame t − N + 1 + i for every (t, i): pad N − 1 frames in front, slice per i.
      const withClasses =
        this.labels === 'multilabel' ? tf.cast(labels, 'float32') : tf.expandDims(tf.cast(labels, 'float32'), 2);
      const width = withClasses.shape[2] as number;
      const padded =
        N > 1
          ? tf.pad(withClasses, [
              [0, 0],
              [N - 1, 0],
              [0, 0],
            ])
          : withClasses;
      // N × [batch, time, width] → [batch, time, N, width]
      const targets = tf.stack(
        Array.from({ length: N }, (_, i) => tf.slice(padded, [0, i, 0], [batch, time, width])),
        2,
      );
      // Valid outputs: frame t − N + 1 + i ≥ 0, [1, time, N].
      const validFlags: number[] = Array.from({ length: time * N }, (_, index) =>
        Math.floor(index / N) - N + 1 + (index % N) >= 0 ? 1 : 0,
      );
      const valid = tf.tensor(validFlags, [1, time, N]);
      const validCount = validFlags.reduce((a, b) => a + b, 0);
      let perOutput: tf.Tensor; // [batch, time, N]
      if (this.labels === 'multilabel') {
        perOutput = tf.sum(sigmoidCrossEntropy(result.windowLogits, targets, context), -1);
      } else {
        perOutput = softmaxCrossEntropy(result.windowLogits, tf.reshape(targets, [batch, time, N]), context);
      }
      const total = tf.sum(tf.mul(perOutput, valid));
      return tf.div(total, batch * validCount) as tf.Scalar;
    });
  }
}

registerClass(MultiLSTM);
