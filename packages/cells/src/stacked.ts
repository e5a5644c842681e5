/**
 * Stacked (multi-layer) recurrent runners: layer `l + 1` reads the outputs of layer `l`, each
 * layer runs forward, in reverse or both ways (bidirectional, merged by concatenation or sum),
 * and a stateful runner carries its final states into the next call, for streaming long videos
 * chunk by chunk. The time loop itself is {@link rnn}.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  ModuleList,
  Module,
  type Rng,
  ShapeError,
  assertKnownKeys,
  bool,
  formatShape,
  oneOf,
} from '@vid/core';
import { type ModuleConfig, type SerializedModule, resolveModule, registerClass, serializeModule } from '@vid/core';

import { rnn } from './rnn.js';
import { disposeState, mapState, stateTensors } from './state.js';
import type { AnyRecurrentCell, RecurrentState, StateOf } from './types.js';

/** Which way each layer runs over time. */
export type Direction = 'forward' | 'reverse' | 'bidirectional';

/** How a bidirectional layer merges its two directions: concatenation on the last axis (forward first) or sum. */
export type MergeMode = 'concat' | 'sum';

/** Options shared by the stacked runners. */
export interface StackOptions {
  /**
   * Layers, when the per-layer options are single numbers.
   * @default the length of the per-layer lists, else 1
   */
  readonly numLayers?: number;
  /** @default 'forward' */
  readonly direction?: Direction;
  /** How a bidirectional layer merges its directions. @default 'concat' */
  readonly merge?: MergeMode;
  /** Carry final states into the next call (forward only; see {@link StackedRNN}). @default false */
  readonly stateful?: boolean;
  /** Seed or generator of the initial weights (each cell gets its own fork). @default 0 */
  readonly seed?: number | Rng;
}

export const STACK_KEYS = ['numLayers', 'direction', 'merge', 'stateful', 'seed'] as const;

/** A recurrent cell that owns parameters (any state). */
export type AnyRecurrentModule = Module & AnyRecurrentCell;

/** Options of {@link StackedRNN}. */
export interface StackedRNNOptions<C extends AnyRecurrentModule> {
  /**
   * The cells of the layers, first layer first (the forward direction, or the only one); each a
   * cell or its `{className, config}` (as {@link StackedRNN.getConfig} writes them).
   */
  readonly cells: ReadonlyArray<C | SerializedModule>;
  /** Bidirectional only: the cells that run in reverse, one per layer (cells or `{className, config}`). */
  readonly reverseCells?: ReadonlyArray<C | SerializedModule>;
  /** @default 'forward' */
  readonly direction?: Direction;
  /** Bidirectional only. @default 'concat' */
  readonly merge?: MergeMode;
  /**
   * Carry the final states of one call into the next ({@link StackedRNN.resetStates} to start
   * over). Forward direction only. Gradients do not flow into earlier calls (truncated BPTT).
   * @default false
   */
  readonly stateful?: boolean;
}

/** Options of {@link StackedRNN.apply}. */
export interface StackedApplyOptions<S> {
  /** The initial state of every layer (the forward or only direction). Not disposed. @default zeros, or the carried states when stateful */
  readonly initialStates?: readonly S[];
  /** Bidirectional only: the initial state of every layer's reverse direction. Not disposed. @default zeros */
  readonly initialReverseStates?: readonly S[];
  /** Also return every layer's outputs. @default false */
  readonly returnAllLayers?: boolean;
  /**
   * Gradient checkpointing per time step and layer ({@link RnnOptions.checkpointing}): for
   * training sequences that do not fit in memory otherwise (the wasm heap stops at 4 GiB).
   * @default false
   */
  readonly checkpointing?: boolean;
}

/** What {@link StackedRNN.apply} returns. The caller owns every tensor (dispose with {@link disposeStackedResult}). */
export interface StackedResult<S> {
  /** The last layer's outputs (merged when bidirectional): `[batch, time, ...spatial, outputSize]`. */
  readonly output: tf.Tensor;
  /** With `returnAllLayers`: every layer's (merged) outputs, the last one being `output`; otherwise null. */
  readonly layerOutputs: tf.Tensor[] | null;
  /** The final state of every layer: the forward pass's, or for `direction: 'reverse'` the reverse pass's (after time step 0). */
  readonly states: S[];
  /** Bidirectional: the final state of every layer's reverse pass (after time step 0); otherwise null. */
  readonly reverseStates: S[] | null;
}

/** What {@link StackedRNN.step} returns. The caller owns every tensor. */
export interface StackedStepResult<S> {
  /** The last layer's output, `[batch, ...spatial, outputSize]`. */
  readonly output: tf.Tensor;
  /** Every layer's output (the last one is `output`). */
  readonly layerOutputs: tf.Tensor[];
  /** The new state of every layer. */
  readonly states: S[];
}

/** Disposes every tensor of a {@link StackedResult} or {@link StackedStepResult} (each once). */
export function disposeStackedResult<S extends RecurrentState>(result: StackedResult<S> | StackedStepResult<S>): void {
  const tensors = new Set<tf.Tensor>([result.output, ...(result.layerOutputs ?? [])]);
  const reverse = 'reverseStates' in result ? (result.reverseStates ?? []) : [];
  for (const state of [...result.states, ...reverse]) for (const t of stateTensors(state)) tensors.add(t);
  for (const t of tensors) t.dispose();
}

const OPTION_KEYS = ['cells', 'reverseCells', 'direction', 'merge', 'stateful'] as const;

/**
 * A stack of recurrent cells run over `[batch, time, ...spatial, features]` sequences.
 *
 * Parameters: `cells.<layer>.<cell parameter>`, and `cells_reverse.<layer>.…` for the reverse
 * direction of a bidirectional stack (PyTorch's `_reverse` suffix, as a module name).
 */
export class StackedRNN<C extends AnyRecurrentModule = AnyRecurrentModule> extends Module {
  static readonly className: string = 'StackedRNN';
  readonly cells: ModuleList<C>;
  readonly reverseCells: ModuleList<C> | null;
  readonly direction: Direction;
  readonly merge: MergeMode;
  readonly stateful: boolean;
  /** Channels or features of the first layer's input. */
  readonly inputSize: number;
  /** Channels or features of each layer's (merged) output. */
  readonly layerOutputSizes: readonly number[];
  #carried: Array<StateOf<C>> | null = null;

  constructor(options: StackedRNNOptions<C>) {
    super();
    const context = this.constructor.name;
    assertKnownKeys(options, OPTION_KEYS, context);
    this.direction = oneOf(
      options.direction ?? 'forward',
      ['forward', 'reverse', 'bidirectional'] as const,
      'direction',
      context,
    );
    this.merge = oneOf(options.merge ?? 'concat', ['concat', 'sum'] as const, 'merge', context);
    this.stateful = bool(options.stateful ?? false, 'stateful', context);
    if (this.stateful && this.direction !== 'forward') {
      throw new ConfigError(
        'stateful',
        "false unless direction is 'forward' (a reverse pass cannot stream)",
        true,
        context,
      );
    }
    if (!Array.isArray(options.cells) || options.cells.length === 0)
      throw new ConfigError('cells', 'at least one cell', options.cells, context);
    const cells = options.cells.map((cell) => resolveModule<C>(cell));
    const bidirectional = this.direction === 'bidirectional';
    const reverse = options.reverseCells?.map((cell) => resolveModule<C>(cell));
    if (bidirectional && (!reverse || reverse.length !== cells.length)) {
      throw new ConfigError(
        'reverseCells',
        `one cell per layer (${cells.length}) for a bidirectional stack`,
        reverse ? `${reverse.length} cells` : undefined,
        context,
      );
    }
    if (!bidirectional && reverse) {
      throw new ConfigError(
        'reverseCells',
        "nothing unless direction is 'bidirectional'",
        `${reverse.length} cells`,
        context,
      );
    }
    // Each layer reads the (merged) output of the one below.
    const sizes: number[] = [];
    let inputSize = (cells[0] as C).inputSize;
    cells.forEach((cell, layer) => {
      if (cell.inputSize !== inputSize) {
        throw new ConfigError(
          `cells[${layer}].inputSize`,
          `${inputSize} (the output size of layer ${layer - 1})`,
          cell.inputSize,
          context,
        );
      }
      let size = cell.outputSize;
      if (bidirectional) {
        const back = (reverse as readonly C[])[layer] as C;
        if (back.inputSize !== inputSize || back.outputSize !== cell.outputSize) {
          throw new ConfigError(
            `reverseCells[${layer}]`,
            `input ${inputSize} and output ${cell.outputSize}, as cells[${layer}]`,
            `input ${back.inputSize}, output ${back.outputSize}`,
            context,
          );
        }
        size = this.merge === 'concat' ? 2 * cell.outputSize : cell.outputSize;
      }
      sizes.push(size);
      inputSize = size;
    });
    this.inputSize = (cells[0] as C).inputSize;
    this.layerOutputSizes = sizes;
    this.cells = this.registerModule('cells', new ModuleList(cells));
    this.reverseCells = bidirectional
      ? this.registerModule('cells_reverse', new ModuleList(reverse as readonly C[]))
      : null;
  }

  /** `{cells, reverseCells?, direction, merge, stateful}`, each cell as `{className, config}`. */
  override getConfig(): ModuleConfig {
    return {
      cells: this.cells.items.map((cell) => serializeModule(cell)),
      ...(this.reverseCells ? { reverseCells: this.reverseCells.items.map((cell) => serializeModule(cell)) } : {}),
      direction: this.direction,
      merge: this.merge,
      stateful: this.stateful,
    };
  }

  /** Number of layers. */
  get numLayers(): number {
    return this.cells.length;
  }

  /** Channels or features of the last layer's (merged) output. */
  get outputSize(): number {
    return this.layerOutputSizes[this.layerOutputSizes.length - 1] as number;
  }

  /** Stateful mode: the states carried into the next call (owned by this module; null before the first call). */
  get carriedStates(): ReadonlyArray<StateOf<C>> | null {
    return this.#carried;
  }

  /** Stateful mode: forgets the carried states, so the next call starts from zeros. */
  resetStates(): void {
    if (this.#carried) for (const state of this.#carried) disposeState(state);
    this.#carried = null;
  }

  /**
   * Runs every layer over the whole sequence.
   *
   * x: `[batch, time, ...spatial, inputSize]` → `output` `[batch, time, ...spatial, outputSize]`,
   * each layer's final state and (with `returnAllLayers`) each layer's outputs. Stateful mode
   * starts from the carried states (unless `initialStates` are given) and carries the final ones.
   */
  apply(x: tf.Tensor, options: StackedApplyOptions<StateOf<C>> = {}): StackedResult<StateOf<C>> {
    const context = `${this.constructor.name}.apply`;
    if (x.rank < 3) {
      throw new ShapeError(
        'x',
        'rank ≥ 3: [batch, time, ...spatial, features]',
        `rank ${x.rank} ${formatShape(x.shape)}`,
        context,
      );
    }
    const stepRank = this.cells.at(0).inputRank;
    if (stepRank !== undefined && x.rank !== stepRank + 1) {
      throw new ShapeError(
        'x',
        `rank ${stepRank + 1} ([batch, time] and a step of rank ${stepRank})`,
        `rank ${x.rank} ${formatShape(x.shape)}`,
        context,
      );
    }
    if (x.shape[x.rank - 1] !== this.inputSize) {
      throw new ShapeError(
        'x',
        `[batch, time, ...spatial, ${this.inputSize}] (inputSize of layer 0 = ${this.inputSize})`,
        formatShape(x.shape),
        context,
      );
    }
    const initial = this.#initialStates(options.initialStates, x.shape[0] as number, 'initialStates', context);
    const initialReverse = options.initialReverseStates;
    if (initialReverse) {
      if (this.direction !== 'bidirectional')
        throw new ConfigError(
          'initialReverseStates',
          "nothing unless direction is 'bidirectional'",
          `${initialReverse.length} states`,
          context,
        );
      this.#checkCount(initialReverse, 'initialReverseStates', context);
    }
    const returnAll = options.returnAllLayers ?? false;
    const checkpointing = options.checkpointing ?? false;
    const layers: tf.Tensor[] = [];
    const states: Array<StateOf<C>> = [];
    const reverseStates: Array<StateOf<C>> = [];
    // The tidy frees every intermediate but what it returns: the outputs and states handed back.
    tf.tidy(() => {
      let input = x;
      this.cells.items.forEach((cell, layer) => {
        const init = initial?.[layer];
        const ahead = rnn(cell, input, {
          ...(init ? { initialState: init } : {}),
          reverse: this.direction === 'reverse',
          checkpointing,
        });
        states.push(ahead.state);
        let output = ahead.outputs;
        if (this.reverseCells) {
          const back = this.reverseCells.at(layer);
          const initBack = initialReverse?.[layer];
          const behind = rnn(back, input, {
            ...(initBack ? { initialState: initBack } : {}),
            reverse: true,
            checkpointing,
          });
          reverseStates.push(behind.state);
          // concat: [..., hidden] ⧺ [..., hidden] → [..., 2·hidden] (forward first)
          output = this.merge === 'concat' ? tf.concat([output, behind.outputs], -1) : tf.add(output, behind.outputs);
        }
        layers.push(output);
        input = output;
      });
      const keep: tf.Tensor[] = [...(returnAll ? layers : [layers[layers.length - 1] as tf.Tensor])];
      for (const state of [...states, ...reverseStates]) keep.push(...stateTensors(state));
      return keep;
    });
    if (this.stateful) this.#carry(states);
    return {
      output: layers[layers.length - 1] as tf.Tensor,
      layerOutputs: returnAll ? layers : null,
      states,
      reverseStates: this.reverseCells ? reverseStates : null,
    };
  }

  /**
   * One time step through every layer (forward direction only), for rollouts that feed back
   * their own predictions. x: `[batch, ...spatial, inputSize]`; `states` per layer (zeros, or the
   * carried states when stateful, when omitted). Not disposed.
   */
  step(x: tf.Tensor, states?: ReadonlyArray<StateOf<C>>): StackedStepResult<StateOf<C>> {
    const context = `${this.constructor.name}.step`;
    if (this.direction !== 'forward') {
      throw new ConfigError('direction', "'forward' to step one time step at a time", this.direction, context);
    }
    const initial = this.#initialStates(states, x.shape[0] as number, 'states', context);
    const outputs: tf.Tensor[] = [];
    const next: Array<StateOf<C>> = [];
    tf.tidy(() => {
      let input = x;
      this.cells.items.forEach((cell, layer) => {
        const init = initial?.[layer];
        const result = init ? cell.step(input, init) : cell.step(input, cell.zeroState(input));
        outputs.push(result.output);
        next.push(result.state as StateOf<C>);
        input = result.output;
      });
      const keep: tf.Tensor[] = [...outputs];
      for (const state of next) keep.push(...stateTensors(state));
      return keep;
    });
    if (this.stateful) this.#carry(next);
    return { output: outputs[outputs.length - 1] as tf.Tensor, layerOutputs: outputs, states: next };
  }

  override dispose(): void {
    this.resetStates();
    super.dispose();
  }

  #initialStates(
    given: ReadonlyArray<StateOf<C>> | undefined,
    batch: number,
    argument: string,
    context: string,
  ): ReadonlyArray<StateOf<C>> | null {
    if (given) {
      this.#checkCount(given, argument, context);
      return given;
    }
    if (!this.stateful || !this.#carried) return null;
    const carriedBatch = (stateTensors(this.#carried[0] as StateOf<C>)[0] as tf.Tensor).shape[0];
    if (carriedBatch !== batch) {
      throw new ShapeError(
        'x',
        `batch ${carriedBatch} (the batch of the carried states; call resetStates() to start a new stream)`,
        `batch ${batch}`,
        context,
      );
    }
    return this.#carried;
  }

  #checkCount(states: ReadonlyArray<unknown>, argument: string, context: string): void {
    if (!Array.isArray(states) || states.length !== this.numLayers) {
      throw new ConfigError(
        argument,
        `one state per layer (${this.numLayers})`,
        Array.isArray(states) ? `${states.length} states` : states,
        context,
      );
    }
  }

  #carry(states: ReadonlyArray<StateOf<C>>): void {
    const next = states.map((state) => mapState(state, (t) => tf.keep(tf.clone(t))));
    this.resetStates();
    this.#carried = next;
  }
}

registerClass(StackedRNN);
