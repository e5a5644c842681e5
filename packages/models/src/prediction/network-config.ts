/**
 * Network configurations: vid's options ({@link ConvRecurrentNetOptions}) and the official
 * constructor arguments of `ConvLSTMNet` (NVlabs/conv-tt-lstm `code/convlstmnet.py`) as JSON
 * ({@link OfficialNetConfig}), resolved and validated once into a {@link NetConfig}.
 */
import type { Rng } from '@vid/core';
import { ConfigError, assertKnownKeys, bool, formatValue, oneOf, positiveInteger } from '@vid/core';
import { oddKernel } from '@vid/tensor-train';

/**
 * The recurrent cell of every layer: the paper's Conv-TT-LSTM (`@vid/tensor-train`
 * `ConvTTLSTMCell`), its ConvLSTM baseline (`@vid/cells` `ConvLSTMCell`, gate order `'ifog'`), or
 * a ConvGRU (`@vid/cells` `ConvGRUCell`; no official counterpart, so no official config or
 * checkpoint).
 */
export type CellType = 'convttlstm' | 'convlstm' | 'convgru';

export const CELL_TYPES: readonly CellType[] = ['convttlstm', 'convlstm', 'convgru'];

/** The cells of the official `ConvLSTMNet` (what its checkpoints and config can hold). */
export const OFFICIAL_CELL_TYPES: readonly CellType[] = ['convttlstm', 'convlstm'];

/** Options of {@link ConvRecurrentNet} (the official `ConvLSTMNet` arguments, in camelCase). */
export interface ConvRecurrentNetOptions {
  /** Channels of each frame (1 for grayscale). */
  readonly inputChannels: number;
  /** Layers in each block, e.g. `[3, 3, 3, 3]`. */
  readonly layersPerBlock: readonly number[];
  /** Hidden channels of the layers of each block, e.g. `[32, 48, 48, 32]`; one per block. */
  readonly hiddenChannels: readonly number[];
  /**
   * Every `skipStride` blocks, a block's output is concatenated (on channels, after it) with the
   * output of the block `skipStride` before; `null` for no skip connections.
   * @default null
   */
  readonly skipStride?: number | null;
  /**
   * The cell of every layer.
   * @default 'convttlstm'
   */
  readonly cell?: CellType;
  /**
   * Tensor-train order of the Conv-TT-LSTM cells (`1 ≤ order ≤ steps`).
   * @default 3
   */
  readonly order?: number;
  /**
   * Past hidden states each Conv-TT-LSTM cell keeps.
   * @default 3
   */
  readonly steps?: number;
  /**
   * Tensor-train rank of the Conv-TT-LSTM cells.
   * @default 8
   */
  readonly ranks?: number;
  /**
   * Odd kernel size of every recurrent convolution, square or `[kh, kw]`.
   * @default 5
   */
  readonly kernelSize?: number | readonly [number, number];
  /**
   * Biases in the recurrent convolutions (the output convolution always has one).
   * @default true
   */
  readonly bias?: boolean;
  /**
   * A sigmoid after the output convolution.
   * @default false
   */
  readonly outputSigmoid?: boolean;
  /**
   * Seed or generator of the initial weights (PyTorch's default initialisation formulas).
   * @default 0
   */
  readonly seed?: number | Rng;
}

/**
 * The official constructor arguments of `ConvLSTMNet`, exactly as passed to the PyTorch code
 * (and as the reference fixtures' `__metadata__.config` holds them). Missing fields take the
 * official defaults: `cell: "convlstm"`, `skip_stride: null`, `kernel_size: 3`, `bias: true`,
 * `output_sigmoid: false`.
 */
export interface OfficialNetConfig {
  readonly cell?: 'convttlstm' | 'convlstm';
  readonly input_channels: number;
  readonly layers_per_block: readonly number[];
  readonly hidden_channels: readonly number[];
  readonly skip_stride?: number | null;
  /** Required for `cell: "convttlstm"`. `ranks` is accepted for `rank` (as in `eval_paper/`). */
  readonly cell_params?: {
    readonly order?: number;
    readonly steps?: number;
    readonly rank?: number;
    readonly ranks?: number;
  };
  readonly kernel_size?: number | readonly [number, number];
  readonly bias?: boolean;
  readonly output_sigmoid?: boolean;
  /** Accepted and unused, as in `code/convlstmnet.py`. */
  readonly scope?: string;
  /** Accepted and unused, as in `code/convlstmnet.py`. */
  readonly scope_params?: Readonly<Record<string, unknown>>;
}

/** Either form of configuration (an official one may also be given as its JSON text). */
export type NetConfigInput = ConvRecurrentNetOptions | OfficialNetConfig | string;

/** A resolved, validated configuration (what a {@link ConvRecurrentNet} holds). */
export interface NetConfig {
  readonly cell: CellType;
  readonly inputChannels: number;
  readonly layersPerBlock: readonly number[];
  readonly hiddenChannels: readonly number[];
  /** `null`: no skip connections. */
  readonly skipStride: number | null;
  readonly order: number;
  readonly steps: number;
  readonly ranks: number;
  readonly kernelSize: readonly [number, number];
  readonly bias: boolean;
  readonly outputSigmoid: boolean;
}

const VID_KEYS = [
  'inputChannels',
  'layersPerBlock',
  'hiddenChannels',
  'skipStride',
  'cell',
  'order',
  'steps',
  'ranks',
  'kernelSize',
  'bias',
  'outputSigmoid',
  'seed',
] as const;
const OFFICIAL_KEYS = [
  'cell',
  'input_channels',
  'layers_per_block',
  'hidden_channels',
  'skip_stride',
  'cell_params',
  'kernel_size',
  'bias',
  'output_sigmoid',
  'scope',
  'scope_params',
] as const;

function positiveList(value: unknown, field: string, context: string): number[] {
  if (!Array.isArray(value) || value.length === 0)
    throw new ConfigError(field, 'a non-empty array of positive integers', value, context);
  return value.map((v, i) => positiveInteger(v, `${field}[${i}]`, context));
}

/** Validates and resolves vid options (defaults filled in). */
export function resolveNetOptions(options: ConvRecurrentNetOptions, context = 'ConvRecurrentNet'): NetConfig {
  if (options === null || typeof options !== 'object')
    throw new ConfigError('options', 'an options object', options, context);
  assertKnownKeys(options, VID_KEYS, context);
  const inputChannels = positiveInteger(options.inputChannels, 'inputChannels', context);
  const layersPerBlock = positiveList(options.layersPerBlock, 'layersPerBlock', context);
  const hiddenChannels = positiveList(options.hiddenChannels, 'hiddenChannels', context);
  if (layersPerBlock.length !== hiddenChannels.length) {
    throw new ConfigError(
      'hiddenChannels',
      `one entry per block (${layersPerBlock.length}, the length of layersPerBlock)`,
      options.hiddenChannels,
      context,
    );
  }
  const numBlocks = layersPerBlock.length;
  const skipStride =
    options.skipStride === undefined || options.skipStride === null
      ? null
      : positiveInteger(options.skipStride, 'skipStride', context);
  if (skipStride === numBlocks) {
    // The official constructor indexes hidden_channels[-1 - skip_stride] for the output layer
    // when num_blocks >= skip_stride: an IndexError when they are equal.
    throw new ConfigError(
      'skipStride',
      `null, a stride < ${numBlocks} (the number of blocks) or one > ${numBlocks} (no skip); the official ConvLSTMNet fails (IndexError) when they are equal`,
      skipStride,
      context,
    );
  }
  const cell = oneOf(options.cell ?? 'convttlstm', CELL_TYPES, 'cell', context);
  const order = positiveInteger(options.order ?? 3, 'order', context);
  const steps = positiveInteger(options.steps ?? 3, 'steps', context);
  const ranks = positiveInteger(options.ranks ?? 8, 'ranks', context);
  if (cell === 'convttlstm' && order > steps) {
    throw new ConfigError('order', `an order ≤ steps (${steps})`, order, context);
  }
  return {
    cell,
    inputChannels,
    layersPerBlock,
    hiddenChannels,
    skipStride,
    order,
    steps,
    ranks,
    kernelSize: oddKernel(options.kernelSize ?? 5, 'kernelSize', context),
    bias: bool(options.bias ?? true, 'bias', context),
    outputSigmoid: bool(options.outputSigmoid ?? false, 'outputSigmoid', context),
  };
}

/** Whether a configuration object is in the official (snake_case) form. */
export function isOfficialConfig(config: object): config is OfficialNetConfig {
  return [
    'input_channels',
    'layers_per_block',
    'hidden_channels',
    'cell_params',
    'kernel_size',
    'skip_stride',
    'output_sigmoid',
  ].some((k) => k in config);
}

/**
 * Converts the official constructor arguments (an object or its JSON text) to vid options,
 * with the official defaults for missing fields (see {@link OfficialNetConfig}).
 */
export function fromOfficialConfig(
  config: OfficialNetConfig | string,
  context = 'official config',
): ConvRecurrentNetOptions {
  let parsed: unknown = config;
  if (typeof config === 'string') {
    try {
      parsed = JSON.parse(config);
    } catch (error) {
      throw new ConfigError(
        'config',
        'JSON text of the official ConvLSTMNet arguments',
        `${config.slice(0, 80)}${config.length > 80 ? '…' : ''} (${(error as Error).message})`,
        context,
      );
    }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new ConfigError('config', 'an object of the official ConvLSTMNet arguments', parsed, context);
  const official = parsed as OfficialNetConfig;
  assertKnownKeys(official, OFFICIAL_KEYS, context);
  const cell = oneOf(official.cell ?? 'convlstm', OFFICIAL_CELL_TYPES, 'cell', context);
  const params = official.cell_params ?? {};
  if (params === null || typeof params !== 'object')
    throw new ConfigError('cell_params', 'an object {order, steps, rank}', params, context);
  assertKnownKeys(params, ['order', 'steps', 'rank', 'ranks'], `${context} cell_params`);
  if (params.rank !== undefined && params.ranks !== undefined && params.rank !== params.ranks) {
    throw new ConfigError(
      'cell_params.ranks',
      `the same value as cell_params.rank (${formatValue(params.rank)})`,
      params.ranks,
      context,
    );
  }
  const rank = params.rank ?? params.ranks;
  if (cell === 'convttlstm') {
    // The official constructor reads cell_params["order"], ["steps"] and ["rank"] (KeyError if absent).
    positiveInteger(params.order, 'cell_params.order', `${context} (required for cell "convttlstm")`);
    positiveInteger(params.steps, 'cell_params.steps', `${context} (required for cell "convttlstm")`);
    positiveInteger(rank, 'cell_params.rank', `${context} (required for cell "convttlstm")`);
  }
  const kernel = official.kernel_size ?? 3;
  oddKernel(kernel, 'kernel_size', context);
  const skipStride = official.skip_stride ?? null;
  if (skipStride !== null) positiveInteger(skipStride, 'skip_stride', context);
  if (official.bias !== undefined) bool(official.bias, 'bias', context);
  if (official.output_sigmoid !== undefined) bool(official.output_sigmoid, 'output_sigmoid', context);
  const layersPerBlock = positiveList(official.layers_per_block, 'layers_per_block', context);
  const hiddenChannels = positiveList(official.hidden_channels, 'hidden_channels', context);
  if (layersPerBlock.length !== hiddenChannels.length) {
    // The official constructor asserts this ("Invalid number of blocks.").
    throw new ConfigError(
      'hidden_channels',
      `one entry per block (${layersPerBlock.length}, the length of layers_per_block)`,
      official.hidden_channels,
      context,
    );
  }
  return {
    cell,
    inputChannels: positiveInteger(official.input_channels, 'input_channels', context),
    layersPerBlock,
    hiddenChannels,
    skipStride,
    ...(params.order !== undefined ? { order: params.order } : {}),
    ...(params.steps !== undefined ? { steps: params.steps } : {}),
    ...(rank !== undefined ? { ranks: rank } : {}),
    kernelSize: Array.isArray(kernel) ? ([kernel[0], kernel[1]] as const) : (kernel as number),
    bias: official.bias ?? true,
    outputSigmoid: official.output_sigmoid ?? false,
  };
}

/**
 * The official constructor arguments of a configuration, in the reference fixtures' form:
 * `ConvLSTMNet(**config)` in PyTorch builds the same network.
 */
export function toOfficialConfig(config: NetConfig): Required<Omit<OfficialNetConfig, 'scope' | 'scope_params'>> {
  if (config.cell === 'convgru') {
    throw new ConfigError(
      'cell',
      `one of ${OFFICIAL_CELL_TYPES.join(', ')} for the official ConvLSTMNet arguments (it has no ConvGRU)`,
      config.cell,
      'toOfficialConfig',
    );
  }
  const [kh, kw] = config.kernelSize;
  return {
    cell: config.cell,
    input_channels: config.inputChannels,
    layers_per_block: [...config.layersPerBlock],
    hidden_channels: [...config.hiddenChannels],
    skip_stride: config.skipStride,
    cell_params: { order: config.order, steps: config.steps, rank: config.ranks },
    kernel_size: kh === kw ? kh : [kh, kw],
    bias: config.bias,
    output_sigmoid: config.outputSigmoid,
  };
}

/** Resolves either form of configuration (an official one may be JSON text). */
export function resolveNetConfig(config: NetConfigInput, context = 'ConvRecurrentNet'): NetConfig {
  if (typeof config === 'string') return resolveNetOptions(fromOfficialConfig(config, context), context);
  if (config === null || typeof config !== 'object')
    throw new ConfigError('config', 'vid options or the official ConvLSTMNet arguments', config, context);
  return isOfficialConfig(config)
    ? resolveNetOptions(fromOfficialConfig(config, context), context)
    : resolveNetOptions(config, context);
}

/** Input channels of each layer, by layer id (`b{block}l{layer}`), as the official constructor computes them. */
export function layerPlan(config: NetConfig): Array<{
  readonly id: string;
  readonly block: number;
  readonly layer: number;
  readonly inputChannels: number;
  readonly hiddenChannels: number;
}> {
  const { layersPerBlock, hiddenChannels, inputChannels } = config;
  const skip = config.skipStride ?? layersPerBlock.length + 1;
  const plan = [];
  for (let b = 0; b < layersPerBlock.length; b++) {
    const hidden = hiddenChannels[b] as number;
    for (let l = 0; l < (layersPerBlock[b] as number); l++) {
      let channels: number;
      if (l > 0) channels = hidden;
      else if (b === 0) channels = inputChannels;
      else {
        channels = hiddenChannels[b - 1] as number;
        // The output of block b − 1 is concatenated with that of block b − 1 − skip when b − 1 ≥ skip.
        if (b > skip) channels += hiddenChannels[b - 1 - skip] as number;
      }
      plan.push({ id: `b${b}l${l}`, block: b, layer: l, inputChannels: channels, hiddenChannels: hidden });
    }
  }
  return plan;
}

/** Input channels of the 1×1 output convolution. */
export function outputLayerChannels(config: NetConfig): number {
  const { hiddenChannels } = config;
  const numBlocks = hiddenChannels.length;
  const skip = config.skipStride ?? numBlocks + 1;
  const last = hiddenChannels[numBlocks - 1] as number;
  return numBlocks > skip ? last + (hiddenChannels[numBlocks - 1 - skip] as number) : last;
}
