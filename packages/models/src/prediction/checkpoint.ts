/**
 * Official checkpoints: reading the `state_dict` of NVlabs/conv-tt-lstm's `ConvLSTMNet` from
 * safetensors or from `torch.save` files (`{"epoch", "model_state_dict"}` as `eval_paper/test.py`
 * loads them, or a bare state dict as `code/model_train.py` saves it), inferring the constructor
 * arguments from the tensor shapes, and checking a configuration against a checkpoint with
 * errors that name every key.
 */
import {
  ConfigError,
  FileFormatError,
  type HostTensor,
  StateDictError,
  extractStateDict,
  formatShape,
  parseSafetensors,
  readFileBytes,
  readTorchCheckpoint,
} from '@vid/core';

import { officialParameterShapes } from './complexity.js';
import { type CellType, type NetConfig, type OfficialNetConfig, toOfficialConfig } from './network-config.js';

/** Options of {@link readOfficialCheckpoint}. */
export interface ReadCheckpointOptions {
  /**
   * The file format; by default detected from the first bytes (a zip archive or a pickle stream
   * is a `torch.save` file, anything else is read as safetensors).
   */
  readonly format?: 'safetensors' | 'pt';
  /**
   * The top-level key of a `.pt` file that holds the state dict. By default the file itself when
   * it is a state dict, else `model_state_dict`, `state_dict`, `model` or `net`.
   */
  readonly key?: string;
  /** Name of the source for messages when it is given as bytes. */
  readonly name?: string;
}

/** A state dict read from a checkpoint, with what else the file says. */
export interface OfficialCheckpoint {
  /** The parameters by official name, in PyTorch layout (a DDP `module.` prefix removed). */
  readonly stateDict: Map<string, HostTensor>;
  /** The file, for messages. */
  readonly file: string;
  readonly format: 'safetensors' | 'pt';
  /** Safetensors `__metadata__` (empty for `.pt`). */
  readonly metadata: Readonly<Record<string, string>>;
  /** The `epoch` of a training checkpoint, when present. */
  readonly epoch?: number;
}

/**
 * Whether bytes are a `torch.save` file, by their first bytes: a zip archive (`PK\x03\x04`, the
 * format since PyTorch 1.6) or a bare pickle stream (`\x80` and a protocol byte, the legacy
 * format). A safetensors file starts with its header's length (u64, little-endian) and then the
 * header's `{` at byte 8, so a header length whose low byte is 0x80 (128, 384, 640, …) is not
 * taken for a pickle. Anything else is read as safetensors.
 */
export function isTorchCheckpoint(bytes: Uint8Array): boolean {
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) return true;
  if (bytes[8] === 0x7b) return false;
  return bytes[0] === 0x80;
}

/** Reads the parameters of an official checkpoint (safetensors or `.pt`) from a path or bytes. */
export async function readOfficialCheckpoint(
  source: string | Uint8Array,
  options: ReadCheckpointOptions = {},
): Promise<OfficialCheckpoint> {
  const file = options.name ?? (typeof source === 'string' ? source : '<checkpoint bytes>');
  // A plain Uint8Array view: core's readers copy misaligned storages with `.slice()`, which on a
  // Node Buffer (`fs.readFileSync`) is a view of the whole pool, not a copy.
  const bytes =
    typeof source === 'string'
      ? await readFileBytes(source)
      : new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  if (bytes.byteLength === 0)
    throw new FileFormatError(file, 'the file is empty (expected a safetensors or PyTorch checkpoint)');
  const format = options.format ?? (isTorchCheckpoint(bytes) ? 'pt' : 'safetensors');
  let stateDict: Map<string, HostTensor>;
  let metadata: Readonly<Record<string, string>> = {};
  let epoch: number | undefined;
  if (format === 'pt') {
    const checkpoint = await readTorchCheckpoint(bytes, file);
    stateDict = extractStateDict(checkpoint, { file, ...(options.key !== undefined ? { key: options.key } : {}) });
    if (checkpoint instanceof Map && typeof checkpoint.get('epoch') === 'number')
      epoch = checkpoint.get('epoch') as number;
  } else {
    const contents = parseSafetensors(bytes, file);
    stateDict = new Map(contents.tensors);
    metadata = contents.metadata;
  }
  // A model wrapped in DistributedDataParallel saves every name under `module.`.
  const keys = [...stateDict.keys()];
  if (keys.length > 0 && keys.every((k) => k.startsWith('module.'))) {
    stateDict = new Map([...stateDict].map(([k, v]) => [k.slice('module.'.length), v]));
  }
  return { stateDict, file, format, metadata, ...(epoch !== undefined ? { epoch } : {}) };
}

const LAYER_KEY = /^layers\.b(\d+)l(\d+)\./;

/**
 * Infers the official constructor arguments from the parameter shapes of a `ConvLSTMNet` state
 * dict: the cell type, blocks, layers, channels, skip stride, order, steps, rank, kernel and
 * bias. `output_sigmoid` has no parameter and cannot be inferred: it is `false` (as in
 * `eval_paper/`, which evaluates the released checkpoints).
 */
export function inferOfficialConfig(
  stateDict: ReadonlyMap<string, { readonly shape: readonly number[] }>,
  file = '<state dict>',
): Required<Omit<OfficialNetConfig, 'scope' | 'scope_params'>> {
  const shape = (key: string): readonly number[] => {
    const tensor = stateDict.get(key);
    if (!tensor)
      throw new StateDictError(
        `${file}: cannot infer the configuration: no "${key}" (keys: ${[...stateDict.keys()].slice(0, 12).join(', ')}${stateDict.size > 12 ? ', …' : ''})`,
        [key],
      );
    return tensor.shape;
  };
  const layers = new Map<number, number>();
  for (const key of stateDict.keys()) {
    const match = LAYER_KEY.exec(key);
    if (match) layers.set(Number(match[1]), Math.max(layers.get(Number(match[1])) ?? 0, Number(match[2]) + 1));
  }
  const numBlocks = layers.size === 0 ? 0 : Math.max(...layers.keys()) + 1;
  if (numBlocks === 0)
    throw new StateDictError(
      `${file}: cannot infer the configuration: no "layers.b{block}l{layer}.*" keys (is this a ConvLSTMNet state dict?)`,
    );
  const layersPerBlock = Array.from({ length: numBlocks }, (_, b) => layers.get(b) ?? 0);
  const cell: CellType = stateDict.has('layers.b0l0.conv.weight') ? 'convlstm' : 'convttlstm';
  let order = 3;
  let ranks = 8;
  let steps = 3;
  let kernel: readonly number[];
  const bias =
    cell === 'convlstm' ? stateDict.has('layers.b0l0.conv.bias') : stateDict.has('layers.b0l0.layers.0.bias');
  const hiddenChannels: number[] = [];
  const blockInput: number[] = [];
  if (cell === 'convttlstm') {
    order = 0;
    while (stateDict.has(`layers.b0l0.layers_.${order}.weight`)) order++;
    if (order === 0)
      throw new StateDictError(
        `${file}: cannot infer the configuration: neither "layers.b0l0.conv.weight" (ConvLSTM) nor "layers.b0l0.layers_.0.weight" (Conv-TT-LSTM)`,
      );
    const window = shape('layers.b0l0.layers_.0.weight'); // [ranks, hidden, kh, kw, lags]
    ranks = window[0] as number;
    steps = (window[4] as number) + order - 1;
    kernel = [window[2] as number, window[3] as number];
    for (let b = 0; b < numBlocks; b++) {
      const gates = shape(`layers.b${b}l0.layers.${order - 1}.weight`); // [4·hidden, ranks + in, kh, kw]
      hiddenChannels.push((gates[0] as number) / 4);
      blockInput.push((gates[1] as number) - ranks);
    }
  } else {
    const first = shape('layers.b0l0.conv.weight');
    kernel = [first[2] as number, first[3] as number];
    for (let b = 0; b < numBlocks; b++) {
      const gates = shape(`layers.b${b}l0.conv.weight`); // [4·hidden, in + hidden, kh, kw]
      const hidden = (gates[0] as number) / 4;
      hiddenChannels.push(hidden);
      blockInput.push((gates[1] as number) - hidden);
    }
  }
  const output = shape('layers.output.weight'); // [input_channels, channels, 1, 1]
  const inputChannels = output[0] as number;
  const outputIn = output[1] as number;
  // The skip stride whose channel arithmetic (official constructor) matches every block input.
  const fits = (skip: number): boolean => {
    for (let b = 1; b < numBlocks; b++) {
      const expected = (hiddenChannels[b - 1] as number) + (b > skip ? (hiddenChannels[b - 1 - skip] as number) : 0);
      if (blockInput[b] !== expected) return false;
    }
    const last = hiddenChannels[numBlocks - 1] as number;
    return outputIn === (numBlocks > skip ? last + (hiddenChannels[numBlocks - 1 - skip] as number) : last);
  };
  let skipStride: number | null = null;
  if (!fits(numBlocks + 1)) {
    for (let s = 1; s < numBlocks; s++) {
      if (fits(s)) {
        skipStride = s;
        break;
      }
    }
  }
  return {
    cell,
    input_channels: inputChannels,
    layers_per_block: layersPerBlock,
    hidden_channels: hiddenChannels,
    skip_stride: skipStride,
    cell_params: { order, steps, rank: ranks },
    kernel_size: kernel[0] === kernel[1] ? (kernel[0] as number) : [kernel[0] as number, kernel[1] as number],
    bias,
    output_sigmoid: false,
  };
}

/**
 * Checks a state dict against a configuration before anything is built: every missing and
 * unexpected key, every shape difference (PyTorch layouts), and, when they differ, the
 * configuration the checkpoint's shapes imply, field by field. Throws a {@link StateDictError}.
 */
export function checkStateDict(
  stateDict: ReadonlyMap<string, { readonly shape: readonly number[] }>,
  config: NetConfig,
  file = '<state dict>',
): void {
  const expected = officialParameterShapes(config);
  const missing = [...expected.keys()].filter((k) => !stateDict.has(k));
  const unexpected = [...stateDict.keys()].filter((k) => !expected.has(k));
  const mismatched: string[] = [];
  for (const [key, shape] of expected) {
    const tensor = stateDict.get(key);
    if (tensor && !sameShape(tensor.shape, shape))
      mismatched.push(`${key}: checkpoint ${formatShape(tensor.shape)}, configuration ${formatShape(shape)}`);
  }
  if (missing.length === 0 && unexpected.length === 0 && mismatched.length === 0) return;
  const parts: string[] = [];
  if (missing.length) parts.push(`missing keys (${missing.length}): ${missing.join(', ')}`);
  if (unexpected.length) parts.push(`unexpected keys (${unexpected.length}): ${unexpected.join(', ')}`);
  if (mismatched.length)
    parts.push(`shape mismatches in PyTorch layout (${mismatched.length}): ${mismatched.join('; ')}`);
  let hint = '';
  try {
    const inferred = inferOfficialConfig(stateDict, file);
    const wanted = toOfficialConfig(config);
    const differences = (Object.keys(inferred) as Array<keyof typeof inferred>)
      .filter((k) => k !== 'output_sigmoid' && !(config.cell === 'convlstm' && k === 'cell_params'))
      .filter((k) => JSON.stringify(inferred[k]) !== JSON.stringify(wanted[k]))
      .map((k) => `${k}: configuration ${JSON.stringify(wanted[k])}, checkpoint ${JSON.stringify(inferred[k])}`);
    if (differences.length)
      hint = `. The checkpoint's shapes imply a different configuration: ${differences.join('; ')}`;
  } catch {
    // Not a ConvLSTMNet state dict at all: the key lists say enough.
  }
  throw new StateDictError(
    `${file}: the checkpoint does not match the ${config.cell} configuration: ${parts.join('; ')}${hint}`,
    missing,
    unexpected,
    mismatched,
  );
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The official configuration stored in a safetensors file's `__metadata__.config`, if any. */
export function metadataConfig(
  metadata: Readonly<Record<string, string>>,
  file: string,
): OfficialNetConfig | undefined {
  const raw = metadata.config;
  if (raw === undefined) return undefined;
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (parsed === null || typeof parsed !== 'object') throw new Error('not an object');
    return parsed as OfficialNetConfig;
  } catch (error) {
    throw new ConfigError(
      '__metadata__.config',
      'JSON of the official ConvLSTMNet arguments',
      raw.slice(0, 80),
      `${file} (${(error as Error).message})`,
    );
  }
}
