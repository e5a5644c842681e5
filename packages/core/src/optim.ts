/**
 * Adam with PyTorch's exact update (`torch.optim.Adam`, non-fused, `amsgrad` optional), and
 * gradient clipping by global norm (`torch.nn.utils.clip_grad_norm_`).
 *
 * Unlike `tf.train.adam`, the state is addressed by parameter name, exports to host tensors for
 * checkpoints and loads back exactly, so a resumed run continues bit for bit. (It also does not
 * leak: `tf.train.adam(...).dispose()` leaves a tensor behind in tfjs 4.22.)
 */
import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, StateDictError } from './errors.js';
import { type HostTensor, hostToTensor, tensorToHost } from './io/host-tensor.js';
import { finiteNumber } from './validate.js';

/** Options of {@link Adam}. */
export interface AdamOptions {
  /** Learning rate. @default 1e-3 */
  readonly lr?: number;
  /** Coefficients of the running averages of the gradient and its square. @default [0.9, 0.999] */
  readonly betas?: readonly [number, number];
  /** Added to the denominator. @default 1e-8 */
  readonly eps?: number;
  /** L2 penalty added to the gradient (PyTorch's `weight_decay`, not AdamW). @default 0 */
  readonly weightDecay?: number;
  /** Use the maximum of past squared-gradient averages (Reddi et al. 2018). @default false */
  readonly amsgrad?: boolean;
}

/** The serialisable state of an {@link Adam} optimizer. */
export interface AdamState {
  readonly step: number;
  readonly lr: number;
  /** `exp_avg.<name>`, `exp_avg_sq.<name>` (and `max_exp_avg_sq.<name>`). */
  readonly tensors: Map<string, HostTensor>;
}

interface Slot {
  readonly m: tf.Variable;
  readonly v: tf.Variable;
  readonly vMax: tf.Variable | null;
}

/** Adam, as `torch.optim.Adam` computes it. */
export class Adam {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly amsgrad: boolean;
  #step = 0;
  readonly #params: ReadonlyMap<string, tf.Variable>;
  readonly #slots = new Map<string, Slot>();

  /** `params`: named parameters (`module.namedParameters()`), only trainable ones are updated. */
  constructor(params: Iterable<[string, tf.Variable]>, options: AdamOptions = {}) {
    const context = 'Adam';
    this.lr = finiteNumber(options.lr ?? 1e-3, 'lr', context, { min: 0 });
    const [b1, b2] = options.betas ?? [0.9, 0.999];
    this.beta1 = finiteNumber(b1, 'betas[0]', context, { min: 0, max: 0.999999 });
    this.beta2 = finiteNumber(b2, 'betas[1]', context, { min: 0, max: 0.999999 });
    this.eps = finiteNumber(options.eps ?? 1e-8, 'eps', context, { min: 0 });
    this.weightDecay = finiteNumber(options.weightDecay ?? 0, 'weightDecay', context, { min: 0 });
    this.amsgrad = options.amsgrad ?? false;
    this.#params = new Map([...params].filter(([, v]) => v.trainable));
    if (this.#params.size === 0) throw new ConfigError('params', 'at least one trainable parameter', 0, context);
  }

  /** Number of steps taken. */
  get stepCount(): number {
    return this.#step;
  }

  /** The names of the parameters it updates. */
  parameterNames(): string[] {
    return [...this.#params.keys()];
  }

  #slot(name: string, variable: tf.Variable): Slot {
    let slot = this.#slots.get(name);
    if (!slot) {
      const zeros = (): tf.Variable => tf.tidy(() => tf.variable(tf.zerosLike(variable), false));
      slot = { m: zeros(), v: zeros(), vMax: this.amsgrad ? zeros() : null };
      this.#slots.set(name, slot);
    }
    return slot;
  }

  /**
   * Applies one update. `grads` maps parameter names to gradients (as returned by
   * {@link Adam.computeGradients}); parameters without a gradient are left alone. The caller
   * keeps ownership of `grads`.
   */
  applyGradients(grads: ReadonlyMap<string, tf.Tensor>): void {
    this.#step += 1;
    const t = this.#step;
    const biasCorrection1 = 1 - this.beta1 ** t;
    const biasCorrection2 = 1 - this.beta2 ** t;
    const stepSize = this.lr / biasCorrection1;
    const sqrtBias2 = Math.sqrt(biasCorrection2);
    for (const [name, variable] of this.#params) {
      const grad = grads.get(name);
      if (!grad) continue;
      const slot = this.#slot(name, variable);
      tf.tidy(() => {
        const g = this.weightDecay !== 0 ? tf.add(grad, tf.mul(variable, this.weightDecay)) : grad;
        const m = tf.add(tf.mul(slot.m, this.beta1), tf.mul(g, 1 - this.beta1));
        const v = tf.add(tf.mul(slot.v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        slot.m.assign(m);
        slot.v.assign(v);
        let second: tf.Tensor = v;
        if (slot.vMax) {
          second = tf.maximum(slot.vMax, v);
          slot.vMax.assign(second);
        }
        const denom = tf.add(tf.div(tf.sqrt(second), sqrtBias2), this.eps);
        variable.assign(tf.sub(variable, tf.mul(tf.div(m, denom), stepSize)));
      });
    }
  }

  /**
   * Gradients of `loss` with respect to every updated parameter, by name, and the loss value.
   * The caller disposes the returned tensors.
   */
  computeGradients(loss: () => tf.Scalar): { value: tf.Scalar; grads: Map<string, tf.Tensor> } {
    const names = [...this.#params.keys()];
    const { value, grads } = tf.variableGrads(loss, [...this.#params.values()]);
    const byName = new Map<string, tf.Tensor>();
    names.forEach((name, i) => {
      const variable = [...this.#params.values()][i] as tf.Variable;
      const grad = grads[variable.name];
      if (grad) byName.set(name, grad);
    });
    return { value, grads: byName };
  }

  /** Exports the state (moments and step) to host memory. */
  async exportState(): Promise<AdamState> {
    const tensors = new Map<string, HostTensor>();
    for (const [name, slot] of this.#slots) {
      tensors.set(`exp_avg.${name}`, await tensorToHost(slot.m));
      tensors.set(`exp_avg_sq.${name}`, await tensorToHost(slot.v));
      if (slot.vMax) tensors.set(`max_exp_avg_sq.${name}`, await tensorToHost(slot.vMax));
    }
    return { step: this.#step, lr: this.lr, tensors };
  }

  /** Restores a state from {@link Adam.exportState}. */
  loadState(state: AdamState): void {
    const unexpected: string[] = [];
    for (const key of state.tensors.keys()) {
      const name = key.replace(/^(exp_avg|exp_avg_sq|max_exp_avg_sq)\./, '');
      if (!this.#params.has(name)) unexpected.push(key);
    }
    if (unexpected.length) {
      throw new StateDictError(
        `optimizer state does not match the parameters: unexpected keys (${unexpected.length}): ${unexpected.join(', ')}`,
        [],
        unexpected,
      );
    }
    this.#disposeSlots();
    for (const [name, variable] of this.#params) {
      const m = state.tensors.get(`exp_avg.${name}`);
      const v = state.tensors.get(`exp_avg_sq.${name}`);
      if (!m || !v) continue;
      const vMax = state.tensors.get(`max_exp_avg_sq.${name}`);
      const slot = this.#slot(name, variable);
      tf.tidy(() => {
        slot.m.assign(hostToTensor(m, `exp_avg.${name}`));
        slot.v.assign(hostToTensor(v, `exp_avg_sq.${name}`));
        if (slot.vMax && vMax) slot.vMax.assign(hostToTensor(vMax, `max_exp_avg_sq.${name}`));
      });
    }
    this.#step = state.step;
    this.lr = state.lr;
  }

  #disposeSlots(): void {
    for (const slot of this.#slots.values()) {
      slot.m.dispose();
      slot.v.dispose();
      slot.vMax?.dispose();
    }
    this.#slots.clear();
  }

  dispose(): void {
    this.#disposeSlots();
  }
}

/**
 * Scales gradients in place of `torch.nn.utils.clip_grad_norm_`: the total 2-norm over all of
 * them is computed, and if it exceeds `maxNorm` every gradient is multiplied by
 * `maxNorm / (total + 1e-6)`. Returns new gradient tensors (the caller disposes both maps) and
 * the total norm before clipping.
 */
export function clipGradNorm(
  grads: ReadonlyMap<string, tf.Tensor>,
  maxNorm: number,
): { grads: Map<string, tf.Tensor>; totalNorm: number } {
  finiteNumber(maxNorm, 'maxNorm', 'clipGradNorm', { min: 0 });
  const totalNorm = tf.tidy(() => {
    const squares = [...grads.values()].map((g) => tf.sum(tf.square(g)));
    return squares.length ? (tf.sqrt(tf.addN(squares)).dataSync()[0] as number) : 0;
  });
  const coefficient = maxNorm / (totalNorm + 1e-6);
  const out = new Map<string, tf.Tensor>();
  for (const [name, grad] of grads) out.set(name, coefficient < 1 ? tf.mul(grad, coefficient) : tf.clone(grad));
  return { grads: out, totalNorm };
}
