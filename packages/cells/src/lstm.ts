/**
 * A multi-layer FC-LSTM over `[batch, time, features]`, with `torch.nn.LSTM`'s state dict names
 * on import and export (`weight_ih_l0`, `bias_hh_l1_reverse`, …).
 */
import type * as tf from '@tensorflow/tfjs-core';
import {
  type HostTensor,
  type LoadStateDictOptions,
  type LoadStateDictResult,
  type StateDictInput,
  assertKnownKeys,
} from '@vid/core';
import { type ModuleConfig, configOf, registerClass } from '@vid/core';

import { buildStack, layerSizes } from './internal.js';
import { LSTMCell, type LSTMCellOptions } from './lstm-cell.js';
import { STACK_KEYS, type StackOptions, StackedRNN } from './stacked.js';

/** Options of {@link LSTM}. */
export interface LSTMOptions extends StackOptions, Pick<LSTMCellOptions, 'bias' | 'peephole' | 'forgetBias'> {
  /** Features of the input (of layer 0). */
  readonly inputSize: number;
  /** Hidden features: one number for every layer (`torch.nn.LSTM`'s `hidden_size`), or one per layer. */
  readonly hiddenSize: number | readonly number[];
}

const OPTION_KEYS = [...STACK_KEYS, 'inputSize', 'hiddenSize', 'bias', 'peephole', 'forgetBias'] as const;

const TORCH_NAME = /^(weight_ih|weight_hh|bias_ih|bias_hh)_l(\d+)(_reverse)?$/;

/**
 * A stack of {@link LSTMCell}s over `[batch, time, features]` (batch-major, as `torch.nn.LSTM`
 * with `batch_first=True`). Without peepholes it is `torch.nn.LSTM`: load its state dict with
 * {@link LSTM.loadTorchStateDict}. A bidirectional stack concatenates the directions as PyTorch
 * does (`merge: 'concat'`, forward first).
 *
 * Parameters: `cells.<layer>.weight_ih`, … (and `cells_reverse.<layer>.…`).
 */
export class LSTM extends StackedRNN<LSTMCell> {
  static override readonly className = 'LSTM';
  readonly #options: object;

  constructor(options: LSTMOptions) {
    const context = 'LSTM';
    assertKnownKeys(options, OPTION_KEYS, context);
    const hidden = layerSizes(options.hiddenSize, options.numLayers, 'hiddenSize', context);
    super(
      buildStack(
        options,
        options.inputSize,
        hidden.length,
        context,
        (layer, inputSize, rng) =>
          new LSTMCell({
            inputSize,
            hiddenSize: hidden[layer] as number,
            bias: options.bias,
            peephole: options.peephole,
            forgetBias: options.forgetBias,
            seed: rng,
          }),
      ),
    );
    this.#options = { ...options };
  }

  /** The options given to the constructor (the seed only when it was a number). */
  override getConfig(): ModuleConfig {
    return configOf(this.#options, [], this.constructor.name);
  }

  /**
   * vid's name of a `torch.nn.LSTM` parameter (`weight_ih_l1_reverse` → `cells_reverse.1.weight_ih`);
   * other names are returned unchanged.
   */
  static fromTorchName(name: string): string {
    const match = TORCH_NAME.exec(name);
    if (!match) return name;
    return `${match[3] ? 'cells_reverse' : 'cells'}.${match[2]}.${match[1]}`;
  }

  /** `torch.nn.LSTM`'s name of a parameter (`cells.0.bias_hh` → `bias_hh_l0`); other names unchanged. */
  static toTorchName(name: string): string {
    const match = /^(cells|cells_reverse)\.(\d+)\.(weight_ih|weight_hh|bias_ih|bias_hh)$/.exec(name);
    if (!match) return name;
    return `${match[3]}_l${match[2]}${match[1] === 'cells_reverse' ? '_reverse' : ''}`;
  }

  /**
   * Loads a `torch.nn.LSTM` state dict (PyTorch names and layouts: `weight_ih_l0` `[4·hidden,
   * in]`, …). Peephole parameters, which PyTorch lacks, may be given under vid's names.
   */
  loadTorchStateDict(
    stateDict: StateDictInput,
    options: Omit<LoadStateDictOptions, 'layout'> = {},
  ): LoadStateDictResult {
    const entries: Array<[string, tf.Tensor | HostTensor]> =
      stateDict instanceof Map
        ? [...(stateDict as ReadonlyMap<string, tf.Tensor | HostTensor>)]
        : Object.entries(stateDict);
    const renamed = new Map(entries.map(([name, value]) => [LSTM.fromTorchName(name), value]));
    return this.loadStateDict(renamed, { ...options, layout: 'torch' });
  }

  /** The parameters under `torch.nn.LSTM`'s names and layouts, on the host (ready for `writeSafetensors`). */
  async exportTorchStateDict(): Promise<Map<string, HostTensor>> {
    const exported = await this.exportStateDict({ layout: 'torch' });
    return new Map([...exported].map(([name, value]) => [LSTM.toTorchName(name), value]));
  }
}

registerClass(LSTM);
