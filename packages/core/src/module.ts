import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, StateDictError, formatShape } from './errors.js';
import { type HostTensor, hostToTensor, tensorToHost } from './io/host-tensor.js';
import type { ModuleConfig } from './registry.js';

/**
 * How a parameter's TensorFlow.js layout maps onto PyTorch's. vid keeps tensors in TensorFlow.js
 * layouts (NHWC activations, `[kh, kw, in, out]` kernels); PyTorch layouts appear only at the
 * checkpoint boundary, through these.
 */
export interface ParameterLayout {
  /** A short name for messages, e.g. `conv2d`. */
  readonly name: string;
  /** vid tensor → PyTorch tensor (a new tensor). */
  toTorch(value: tf.Tensor): tf.Tensor;
  /** PyTorch tensor → vid tensor (a new tensor). */
  fromTorch(value: tf.Tensor): tf.Tensor;
}

const permutation = (name: string, toTorch: number[], fromTorch: number[]): ParameterLayout => ({
  name,
  toTorch: (value) => tf.transpose(value, toTorch),
  fromTorch: (value) => tf.transpose(value, fromTorch),
});

/** The layouts of common parameters. */
export const Layouts = {
  /** Same layout in both (biases, peepholes, norms). */
  identity: {
    name: 'identity',
    toTorch: (value: tf.Tensor) => tf.clone(value),
    fromTorch: (value: tf.Tensor) => tf.clone(value),
  } satisfies ParameterLayout,
  /** `nn.Linear.weight`: PyTorch `[out, in]`, vid `[in, out]`. */
  linear: permutation('linear', [1, 0], [1, 0]),
  /** `nn.Conv2d.weight`: PyTorch `[out, in, kh, kw]`, vid `[kh, kw, in, out]`. */
  conv2d: permutation('conv2d', [3, 2, 0, 1], [2, 3, 1, 0]),
  /** `nn.Conv3d.weight`: PyTorch `[out, in, kd, kh, kw]`, vid `[kd, kh, kw, in, out]`. */
  conv3d: permutation('conv3d', [4, 3, 0, 1, 2], [2, 3, 4, 1, 0]),
  /** A spatial map: PyTorch `[C, H, W]`, vid `[H, W, C]`. */
  chw: permutation('chw', [2, 0, 1], [1, 2, 0]),
} as const;

interface ParameterEntry {
  readonly variable: tf.Variable;
  readonly layout: ParameterLayout;
}

/** Options of {@link Module.registerParameter}. */
export interface ParameterOptions {
  /**
   * How the value maps to PyTorch's layout.
   * @default Layouts.identity
   */
  readonly layout?: ParameterLayout;
  /**
   * Whether optimizers update it.
   * @default true
   */
  readonly trainable?: boolean;
}

/** Which layout a state dict is in. */
export type StateDictLayout = 'vid' | 'torch';

/** Options of {@link Module.loadStateDict}. */
export interface LoadStateDictOptions {
  /**
   * Fail on missing or unexpected keys. With `false`, they are returned instead.
   * @default true
   */
  readonly strict?: boolean;
  /**
   * The layout of the given tensors: `torch` transposes each through its parameter's layout.
   * @default 'vid'
   */
  readonly layout?: StateDictLayout;
  /** Name of the source, for errors (a file path). */
  readonly source?: string;
  /**
   * Keys of the given state dict to skip before matching (for files that hold more than this
   * module's parameters, such as a fixture with inputs and outputs).
   */
  readonly ignore?: (name: string) => boolean;
}

/** What {@link Module.loadStateDict} did not match (only non-empty when `strict` is false). */
export interface LoadStateDictResult {
  readonly missing: string[];
  readonly unexpected: string[];
}

/** A state dict to load: tensors or host tensors by dotted name. */
export type StateDictInput =
  ReadonlyMap<string, tf.Tensor | HostTensor> | Readonly<Record<string, tf.Tensor | HostTensor>>;

/**
 * A tree of named parameters, like `torch.nn.Module`: each module owns `tf.Variable`s under
 * names, and child modules under names, so every parameter has a dotted name that mirrors
 * PyTorch's `state_dict` (`layers.b0l0.conv.weight`). Importing a checkpoint is then a name
 * lookup plus the layout transpose in {@link ParameterLayout}.
 *
 * Modules hold no activations and no time loop; forward functions are plain methods.
 */
export abstract class Module {
  readonly #parameters = new Map<string, ParameterEntry>();
  readonly #children = new Map<string, Module>();
  #disposed = false;

  /**
   * The constructor options that rebuild this module (JSON-serialisable; nested modules as
   * `{className, config}` through `serializeModule`), as tfjs-layers' `getConfig`. With the
   * class registered (`registerClass`), `loadModel` rebuilds the architecture from a saved file.
   * Modules that cannot be rebuilt from options keep this default, which throws.
   */
  getConfig(): ModuleConfig {
    throw new ConfigError(
      'getConfig',
      `an implementation in ${this.constructor.name} (without it the module cannot be saved with its architecture)`,
      'none',
      this.constructor.name,
    );
  }

  /**
   * Adds a parameter. The module takes ownership of `initial` (it is disposed once copied into
   * the variable) and disposes the variable in {@link Module.dispose}.
   */
  protected registerParameter(name: string, initial: tf.Tensor, options: ParameterOptions = {}): tf.Variable {
    assertName(name, this.#parameters, this.#children);
    const variable = tf.variable(initial, options.trainable ?? true, undefined, initial.dtype);
    initial.dispose();
    this.#parameters.set(name, { variable, layout: options.layout ?? Layouts.identity });
    return variable;
  }

  /** Adds a child module under `name` and returns it. */
  protected registerModule<M extends Module>(name: string, module: M): M {
    assertName(name, this.#parameters, this.#children);
    this.#children.set(name, module);
    return module;
  }

  /** Direct children, in registration order. */
  children(): Array<[string, Module]> {
    return [...this.#children.entries()];
  }

  /** Every parameter with its dotted name: own parameters first, then children's, in order. */
  namedParameters(prefix = ''): Array<[string, tf.Variable]> {
    return this.#namedEntries(prefix).map(([name, entry]) => [name, entry.variable]);
  }

  #namedEntries(prefix: string): Array<[string, ParameterEntry]> {
    const out: Array<[string, ParameterEntry]> = [];
    for (const [name, entry] of this.#parameters) out.push([prefix + name, entry]);
    for (const [name, child] of this.#children) out.push(...child.#namedEntries(`${prefix}${name}.`));
    return out;
  }

  /** All parameters, in `namedParameters` order. */
  parameters(): tf.Variable[] {
    return this.namedParameters().map(([, v]) => v);
  }

  /** The parameters an optimizer should update (pass them as its `varList`). */
  trainableVariables(): tf.Variable[] {
    return this.parameters().filter((v) => v.trainable);
  }

  /** The total number of parameter elements (or only trainable ones). */
  numParameters(options: { readonly trainableOnly?: boolean } = {}): number {
    return this.parameters()
      .filter((v) => !options.trainableOnly || v.trainable)
      .reduce((n, v) => n + v.size, 0);
  }

  /** Freezes parameters (all, or those whose dotted name starts with one of `prefixes`). */
  freeze(prefixes?: readonly string[]): this {
    this.#setTrainable(false, prefixes);
    return this;
  }

  /** Unfreezes parameters (all, or those whose dotted name starts with one of `prefixes`). */
  unfreeze(prefixes?: readonly string[]): this {
    this.#setTrainable(true, prefixes);
    return this;
  }

  #setTrainable(trainable: boolean, prefixes?: readonly string[]): void {
    for (const [name, variable] of this.namedParameters()) {
      if (!prefixes || prefixes.some((p) => name === p || name.startsWith(p.endsWith('.') ? p : `${p}.`))) {
        variable.trainable = trainable;
      }
    }
  }

  /**
   * The live parameters by dotted name, in vid layout. These are the module's own variables:
   * do not dispose them.
   */
  stateDict(): Map<string, tf.Variable> {
    return new Map(this.namedParameters());
  }

  /** The layout of each parameter, by dotted name. */
  parameterLayouts(): Map<string, ParameterLayout> {
    return new Map(this.#namedEntries('').map(([name, entry]) => [name, entry.layout]));
  }

  /**
   * Copies the parameters to host memory, in vid layout or in PyTorch layout (ready for
   * `writeSafetensors` and for `torch.load_state_dict` after reading them with safetensors).
   */
  async exportStateDict(options: { readonly layout?: StateDictLayout } = {}): Promise<Map<string, HostTensor>> {
    const out = new Map<string, HostTensor>();
    for (const [name, entry] of this.#namedEntries('')) {
      if (options.layout === 'torch') {
        const torch = entry.layout.toTorch(entry.variable);
        try {
          out.set(name, await tensorToHost(torch));
        } finally {
          torch.dispose();
        }
      } else {
        out.set(name, await tensorToHost(entry.variable));
      }
    }
    return out;
  }

  /**
   * Loads parameter values by dotted name. Shapes must match exactly (after the layout
   * transpose for `layout: 'torch'`); every mismatch, missing and unexpected key is listed in
   * one {@link StateDictError}. Nothing is assigned unless everything checks.
   */
  loadStateDict(stateDict: StateDictInput, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = options.strict ?? true;
    const layout = options.layout ?? 'vid';
    const source = options.source ? `${options.source}: ` : '';
    const all = stateDict instanceof Map ? [...stateDict.entries()] : Object.entries(stateDict);
    const given = new Map(options.ignore ? all.filter(([name]) => !options.ignore!(name)) : all);
    const entries = new Map(this.#namedEntries(''));
    const missing = [...entries.keys()].filter((k) => !given.has(k));
    const unexpected = [...given.keys()].filter((k) => !entries.has(k));
    if (strict && (missing.length > 0 || unexpected.length > 0)) {
      const parts = [];
      if (missing.length) parts.push(`missing keys (${missing.length}): ${missing.join(', ')}`);
      if (unexpected.length) parts.push(`unexpected keys (${unexpected.length}): ${unexpected.join(', ')}`);
      throw new StateDictError(
        `${source}state dict does not match ${this.constructor.name}: ${parts.join('; ')}`,
        missing,
        unexpected,
      );
    }
    const converted = new Map<string, tf.Tensor>();
    const mismatched: string[] = [];
    try {
      for (const [name, entry] of entries) {
        const value = given.get(name);
        if (value === undefined) continue;
        const tensor = tf.tidy(() => {
          const raw = value instanceof tf.Tensor ? value : hostToTensor(value, name);
          const oriented = layout === 'torch' ? entry.layout.fromTorch(raw) : tf.clone(raw);
          return oriented.dtype === entry.variable.dtype ? oriented : tf.cast(oriented, entry.variable.dtype);
        });
        converted.set(name, tensor);
        if (!tf.util.arraysEqual(tensor.shape, entry.variable.shape)) {
          const rawShape = value instanceof tf.Tensor ? value.shape : value.shape;
          mismatched.push(
            `${name}: expected ${formatShape(entry.variable.shape)}${layout === 'torch' ? ` (vid layout; ${entry.layout.name})` : ''}, received ${formatShape(rawShape)}`,
          );
        }
      }
      if (mismatched.length > 0) {
        throw new StateDictError(
          `${source}shape mismatch in ${this.constructor.name}: ${mismatched.join('; ')}`,
          [],
          [],
          mismatched,
        );
      }
      for (const [name, tensor] of converted) (entries.get(name) as ParameterEntry).variable.assign(tensor);
    } finally {
      for (const tensor of converted.values()) tensor.dispose();
    }
    return { missing, unexpected };
  }

  /** Disposes every parameter of this module and its children. Safe to call twice. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const entry of this.#parameters.values()) entry.variable.dispose();
    for (const child of this.#children.values()) child.dispose();
  }

  get isDisposed(): boolean {
    return this.#disposed;
  }
}

function assertName(name: string, parameters: Map<string, unknown>, children: Map<string, unknown>): void {
  if (name.length === 0 || name.includes('.')) {
    throw new ConfigError('name', 'a non-empty name without dots', name, 'Module.register');
  }
  if (parameters.has(name) || children.has(name)) {
    throw new ConfigError('name', 'a name not yet registered in this module', name, 'Module.register');
  }
}

/** A list of modules named `0`, `1`, … like `torch.nn.ModuleList`. */
export class ModuleList<M extends Module = Module> extends Module {
  readonly items: readonly M[];
  constructor(items: readonly M[]) {
    super();
    this.items = items.map((item, i) => this.registerModule(String(i), item));
  }
  get length(): number {
    return this.items.length;
  }
  at(index: number): M {
    const item = this.items[index];
    if (item === undefined)
      throw new ConfigError('index', `an index in [0, ${this.items.length})`, index, 'ModuleList.at');
    return item;
  }
}

/** A module with named children, like `torch.nn.ModuleDict`. */
export class ModuleDict<M extends Module = Module> extends Module {
  readonly items: ReadonlyMap<string, M>;
  constructor(items: Iterable<[string, M]>) {
    super();
    const map = new Map<string, M>();
    for (const [name, item] of items) map.set(name, this.registerModule(name, item));
    this.items = map;
  }
  get(name: string): M {
    const item = this.items.get(name);
    if (item === undefined)
      throw new ConfigError('name', `one of ${[...this.items.keys()].join(', ')}`, name, 'ModuleDict.get');
    return item;
  }
}
