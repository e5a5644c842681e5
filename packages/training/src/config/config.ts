/**
 * The training configuration: its schema (every field typed, documented and defaulted), the
 * presets, loading from JSON or YAML files, CLI overrides and the cross-field checks that run
 * before any work starts.
 */
import { ConfigError } from '@vid/core';

import { PRESETS, type PresetName } from './presets.js';
import {
  type Schema,
  array,
  boolean,
  deepMerge,
  describeSchema,
  jsonSchema,
  nullable,
  number,
  object,
  oneOf,
  string,
} from './schema.js';

const positiveInt = (doc: string, value?: number) =>
  number({ doc, integer: true, min: 1, ...(value !== undefined ? { default: value } : {}) });

/** The schema of a training configuration. The defaults are the official conv-tt-lstm training script's. */
export const TRAIN_CONFIG_SCHEMA = object(
  {
    preset: nullable(string({ doc: '' }), {
      doc: "Preset the file starts from (its fields are overridden by the file's); see `vid train --list-presets`.",
      default: null,
    }),
    name: nullable(string({ doc: '' }), {
      doc: 'Run name: the run directory is `<runsDir>/<name>`. Default: `<preset>-<date>-<time>`.',
      default: null,
    }),
    seed: number({
      doc: 'Seed of the weights, the data order and the scheduled-sampling draws.',
      integer: true,
      min: 0,
      default: 0,
    }),
    backend: oneOf(['auto', 'gpu', 'node', 'wasm', 'cpu'] as const, {
      doc: 'TensorFlow.js backend (auto: the fastest that loads; `VID_BACKEND` also sets it).',
      default: 'auto',
    }),
    data: object(
      {
        dataset: oneOf(['moving-mnist', 'moving-mnist-file', 'kth'] as const, {
          doc: 'moving-mnist: sequences generated on the fly from MNIST digits (seeded); moving-mnist-file: an .npy/.npz file; kth: a KTH Action folder.',
          default: 'moving-mnist',
        }),
        path: nullable(string({ doc: '' }), {
          doc: 'Training data: the Moving MNIST .npy/.npz file, or the KTH folder (required for those datasets).',
          default: null,
        }),
        validPath: nullable(string({ doc: '' }), {
          doc: 'Validation file (moving-mnist-file); default: the last `validSamples` sequences of `path`. KTH validates on its test persons.',
          default: null,
        }),
        layout: nullable(oneOf(['time-major', 'sequence-major'] as const, { doc: '' }), {
          doc: 'moving-mnist-file: axis order of an .npy (time-major: [time, sequences, height, width], as mnist_test_seq.npy; sequence-major: [sequences, time, height, width, channels]); null: time-major, and a 5-D .npy must state it.',
          default: null,
        }),
        inputFrames: positiveInt('Context frames fed to the model (official --input-frames).', 10),
        futureFrames: positiveInt('Frames predicted during training (official --future-frames).', 10),
        frameSize: array(positiveInt(''), {
          doc: 'Frame `[height, width]` the model runs at.',
          length: 2,
          default: [64, 64],
        }),
        channels: positiveInt('Channels per frame (1: grayscale).', 1),
        numDigits: positiveInt('Digits per Moving MNIST sequence.', 2),
        digitSize: positiveInt('Side of the MNIST digits in pixels (28 is the original size).', 28),
        trainSamples: positiveInt('Sequences per training epoch (official --train-samples).', 10000),
        validSamples: positiveInt('Validation sequences evaluated after every epoch (official --valid-samples).', 3000),
        kthProtocol: oneOf(['conv-tt-lstm', 'predrnn'] as const, {
          doc: 'How KTH clips are cut and resized (see @vid/datasets).',
          default: 'conv-tt-lstm',
        }),
      },
      { doc: 'The data.' },
    ),
    model: object(
      {
        type: oneOf(['convttlstm-net', 'encoder-forecaster'] as const, {
          doc: "convttlstm-net: the paper's network (NVlabs ConvLSTMNet); encoder-forecaster: Shi et al. 2015.",
          default: 'convttlstm-net',
        }),
        cell: oneOf(['convttlstm', 'convlstm'] as const, {
          doc: 'convttlstm-net: the recurrent cell of every layer.',
          default: 'convttlstm',
        }),
        layersPerBlock: array(positiveInt(''), {
          doc: 'convttlstm-net: layers in each block.',
          minLength: 1,
          default: [3, 3, 3, 3],
        }),
        hiddenChannels: array(positiveInt(''), {
          doc: 'Hidden channels: per block (convttlstm-net) or per layer (encoder-forecaster).',
          minLength: 1,
          default: [32, 48, 48, 32],
        }),
        skipStride: nullable(positiveInt(''), {
          doc: 'convttlstm-net: skip connection every this many blocks (null: none).',
          default: 2,
        }),
        order: positiveInt('convttlstm-net: tensor-train order of the Conv-TT-LSTM cells.', 3),
        steps: positiveInt('convttlstm-net: past hidden states each Conv-TT-LSTM cell keeps.', 3),
        ranks: positiveInt('convttlstm-net: tensor-train rank.', 8),
        kernelSize: positiveInt('Odd kernel size of the recurrent convolutions.', 5),
        outputSigmoid: boolean({
          doc: 'convttlstm-net: a sigmoid after the output convolution (the released checkpoints have none).',
          default: false,
        }),
        patchSize: positiveInt('Space-to-depth patch side (1: none; 4 turns 64×64×1 frames into 16×16×16).', 1),
        init: nullable(string({ doc: '' }), {
          doc: 'Initial weights instead of the seeded ones: an official PyTorch checkpoint (.pt, e.g. NVlabs/conv-tt-lstm ConvLSTMNet) or a vid .safetensors, with the names and shapes of this model (`vid train --init <file>`).',
          default: null,
        }),
        forecasterInput: oneOf(['none', 'previous-frame'] as const, {
          doc: 'encoder-forecaster: what the forecaster reads (none: the paper).',
          default: 'none',
        }),
        peephole: oneOf(['spatial', 'channel', 'none'] as const, {
          doc: 'encoder-forecaster: ConvLSTM peepholes (spatial: Shi et al. eq. 3).',
          default: 'spatial',
        }),
      },
      { doc: 'The model.' },
    ),
    train: object(
      {
        batchSize: positiveInt('Sequences per training step (official --batch-size).', 16),
        epochs: positiveInt('Epochs (official --num-epochs).', 400),
        stepsPerEpoch: nullable(positiveInt(''), {
          doc: 'Steps per epoch; null: trainSamples / batchSize, rounded down (the official drop_last loader).',
          default: null,
        }),
        maxSteps: nullable(positiveInt(''), {
          doc: 'Stop after this many steps in all, even inside an epoch (null: epochs × stepsPerEpoch).',
          default: null,
        }),
        loss: oneOf(['l1+mse', 'mse', 'l1', 'bce'] as const, {
          doc: 'Training loss: l1+mse is the official one (both means); bce needs a model with logits (encoder-forecaster).',
          default: 'l1+mse',
        }),
        outputFrames: nullable(positiveInt(''), {
          doc: 'One-step outputs of the rollout the loss compares; null: all of them, inputFrames + futureFrames − 1 (official --output-frames 19).',
          default: null,
        }),
        learningRate: number({
          doc: 'Initial Adam learning rate (official --learning-rate).',
          min: 0,
          exclusiveMin: true,
          default: 1e-3,
        }),
        betas: array(number({ doc: '', min: 0, max: 0.999999 }), {
          doc: 'Adam betas.',
          length: 2,
          default: [0.9, 0.999],
        }),
        eps: number({ doc: 'Adam epsilon.', min: 0, default: 1e-8 }),
        weightDecay: number({ doc: 'Adam L2 penalty (PyTorch weight_decay).', min: 0, default: 0 }),
        gradientClipping: boolean({
          doc: 'Clip the gradients by their global norm (official --gradient-clipping).',
          default: true,
        }),
        clippingThreshold: number({
          doc: 'Maximum global gradient norm (official --clipping-threshold).',
          min: 0,
          exclusiveMin: true,
          default: 3,
        }),
        scheduledSamplingRatio: number({
          doc: 'Initial probability of feeding the ground truth at future steps (official: 1).',
          min: 0,
          max: 1,
          default: 1,
        }),
        ssrDecayEpochs: positiveInt(
          'Once validation plateaus, decay the scheduled-sampling ratio every this many epochs (official --ssr-decay-epoch).',
          1,
        ),
        ssrDecayRatio: number({
          doc: 'Amount subtracted from the ratio at each decay (official --ssr-decay-ratio).',
          min: 0,
          max: 1,
          default: 4e-3,
        }),
        lrDecayEpochs: positiveInt(
          'Once validation plateaus again, multiply the learning rate every this many epochs (official --lr-decay-epoch).',
          5,
        ),
        lrDecayRate: number({
          doc: 'Learning-rate factor at each decay (official --lr-decay-rate).',
          min: 0,
          max: 1,
          exclusiveMin: true,
          default: 0.98,
        }),
        plateauEpochs: positiveInt(
          'Epochs without a new best validation loss that count as a plateau (official --decay-log-epochs).',
          20,
        ),
        replay: nullable(string({ doc: '' }), {
          doc: 'Replay a recorded run (e.g. a PyTorch one): a JSON file {"batches": [[clip indices of step 1], …], "masks": [[batch × (futureFrames − 1) teacher-forcing values of step 1], …] (optional)}. Indices are into the whole data.path file; the run stops when the batches run out.',
          default: null,
        }),
      },
      { doc: 'Optimisation and schedules.' },
    ),
    validation: object(
      {
        batchSize: positiveInt('Sequences per validation batch.', 16),
        everyEpochs: positiveInt('Validate after every this many epochs (the schedules count validations).', 1),
      },
      { doc: 'Validation after each epoch (test-mode rollout, loss on all outputs, as the official script).' },
    ),
    evaluation: object(
      {
        futureFrames: positiveInt('Frames predicted at evaluation (the paper: 30 for Moving MNIST, 20 for KTH).', 10),
        samples: positiveInt(
          'Validation sequences of the final evaluation (MSE/PSNR/SSIM next to the copy-last-frame baseline).',
          256,
        ),
        protocol: oneOf(['convttlstm', 'standard', 'predrnn', 'skimage'] as const, {
          doc: "Metric conventions (see @vid/metrics): convttlstm reproduces the paper's evaluation; skimage is scikit-image's default SSIM (7×7 uniform window, sample covariance, data range 1).",
          default: 'convttlstm',
        }),
        gifSamples: positiveInt('Validation sequences shown in samples.gif / samples.png.', 4),
      },
      { doc: 'The evaluation at the end of training.' },
    ),
    checkpoint: object(
      {
        everySteps: positiveInt('Write a checkpoint every this many steps (and at the end, and on SIGINT).', 500),
        keepLast: positiveInt('Checkpoints kept (the best one is kept besides).', 3),
        keepBest: boolean({ doc: 'Keep the checkpoint of the best validation loss.', default: true }),
      },
      { doc: 'Checkpoints.' },
    ),
    output: object(
      {
        runsDir: string({
          doc: 'Folder of the run directories (relative paths: to the repository root when run inside the vid repository, else to the working directory).',
          default: 'runs',
        }),
        progress: oneOf(['auto', 'bar', 'lines', 'none'] as const, {
          doc: 'auto: a progress bar on a TTY, plain lines otherwise and when CI=true.',
          default: 'auto',
        }),
        logEverySteps: positiveInt('Plain progress line (and JSONL training record) every this many steps.', 10),
      },
      { doc: 'Outputs.' },
    ),
  },
  { doc: 'A vid training configuration.' },
);

type SchemaValue<S> = S extends Schema<infer T> ? T : never;
/** A resolved, validated training configuration. */
export type TrainConfig = SchemaValue<typeof TRAIN_CONFIG_SCHEMA>;
/** A partial configuration, as written in files or built from flags. */
export type TrainConfigInput = {
  readonly [K in keyof TrainConfig]?: TrainConfig[K] extends object ? Partial<TrainConfig[K]> : TrainConfig[K];
} & Record<string, unknown>;

/** The Markdown table documenting every field. */
export function configDocumentation(): string {
  return describeSchema(TRAIN_CONFIG_SCHEMA);
}

/** The JSON Schema of a training configuration file (for editors: `"$schema"`, or `vid train --json-schema`). */
export function trainConfigJsonSchema(): Record<string, unknown> {
  return { title: 'vid training configuration', ...jsonSchema(TRAIN_CONFIG_SCHEMA) };
}

/** Options of {@link resolveConfigValues}. */
export interface ResolveConfigValuesOptions {
  /** A preset name (overridden by the values and the overrides). */
  readonly preset?: string;
  /** Configuration values, as a file holds them. */
  readonly values?: Record<string, unknown>;
  /** Where the values come from, for error messages. @default 'config' */
  readonly source?: string;
  /** Overrides, e.g. from CLI flags (applied last). */
  readonly overrides?: Record<string, unknown>;
}

/**
 * Builds the configuration: preset (from the option, else the overrides' or the values'
 * `preset`, else `quick`), then the values, then the overrides; validates the result against
 * the schema and the cross-field rules. Throws a `ConfigError` naming the field before any work
 * starts. Browser-safe; `@vid/training/node`'s `resolveConfig` also reads files and checks paths.
 */
export function resolveConfigValues(options: ResolveConfigValuesOptions = {}): TrainConfig {
  const fromFile = options.values ?? {};
  const context = options.source ?? 'config';
  const presetName =
    options.preset ??
    (options.overrides?.preset as string | undefined) ??
    (fromFile.preset as string | undefined) ??
    'quick';
  if (typeof presetName !== 'string' || !(presetName in PRESETS)) {
    throw new ConfigError('preset', `one of ${Object.keys(PRESETS).join(', ')}`, presetName, context);
  }
  const preset = PRESETS[presetName as PresetName];
  const merged = deepMerge(deepMerge(preset.config, fromFile), options.overrides ?? {}) as Record<string, unknown>;
  merged.preset = presetName;
  const config = TRAIN_CONFIG_SCHEMA.parse(merged, '', context) as TrainConfig;
  checkConfig(config, context);
  return config;
}

/** Cross-field rules: frame counts, sizes (the data paths are checked by the Node entry's `resolveConfig`). */
export function checkConfig(config: TrainConfig, context = 'config'): void {
  const { data, model, train, evaluation } = config;
  const total = data.inputFrames + data.futureFrames;
  if (train.outputFrames !== null && train.outputFrames > total - 1) {
    throw new ConfigError(
      'train.outputFrames',
      `at most inputFrames + futureFrames − 1 = ${total - 1} (the one-step outputs of the rollout)`,
      train.outputFrames,
      context,
    );
  }
  if (model.type === 'encoder-forecaster' && train.outputFrames !== null && train.outputFrames > data.futureFrames) {
    throw new ConfigError(
      'train.outputFrames',
      `at most futureFrames = ${data.futureFrames} (the encoder-forecaster outputs only future frames)`,
      train.outputFrames,
      context,
    );
  }
  const [height, width] = data.frameSize as [number, number];
  if (height % model.patchSize !== 0 || width % model.patchSize !== 0) {
    throw new ConfigError(
      'model.patchSize',
      `a divisor of the frame size ${height}×${width}`,
      model.patchSize,
      context,
    );
  }
  if (model.kernelSize % 2 !== 1)
    throw new ConfigError('model.kernelSize', 'an odd kernel size', model.kernelSize, context);
  if (data.dataset === 'moving-mnist' && (data.digitSize > height || data.digitSize > width)) {
    throw new ConfigError('data.digitSize', `at most the frame size ${height}×${width}`, data.digitSize, context);
  }
  if (data.dataset !== 'kth' && data.channels !== 1 && data.dataset === 'moving-mnist') {
    throw new ConfigError('data.channels', '1 for Moving MNIST (grayscale)', data.channels, context);
  }
  if (model.type === 'convttlstm-net') {
    if (model.hiddenChannels.length !== model.layersPerBlock.length) {
      throw new ConfigError(
        'model.hiddenChannels',
        `one entry per block (${model.layersPerBlock.length}, as layersPerBlock)`,
        model.hiddenChannels,
        context,
      );
    }
    if (model.cell === 'convttlstm' && model.order > model.steps) {
      throw new ConfigError('model.order', `at most model.steps = ${model.steps}`, model.order, context);
    }
  }
  if (train.loss === 'bce' && model.type !== 'encoder-forecaster') {
    throw new ConfigError(
      'train.loss',
      '"l1+mse", "mse" or "l1" (bce needs logits: model.type "encoder-forecaster")',
      train.loss,
      context,
    );
  }
  if (
    model.type === 'encoder-forecaster' &&
    model.forecasterInput === 'none' &&
    train.scheduledSamplingRatio !== 1 &&
    train.scheduledSamplingRatio !== 0
  ) {
    // Harmless but meaningless: say so rather than silently ignore it.
    throw new ConfigError(
      'train.scheduledSamplingRatio',
      '1 (unused) when model.forecasterInput is "none": the forecaster reads no frames',
      train.scheduledSamplingRatio,
      context,
    );
  }
  if (data.validSamples < config.validation.batchSize && data.dataset === 'moving-mnist') {
    throw new ConfigError(
      'data.validSamples',
      `at least validation.batchSize = ${config.validation.batchSize}`,
      data.validSamples,
      context,
    );
  }
  if (evaluation.gifSamples > evaluation.samples) {
    throw new ConfigError(
      'evaluation.gifSamples',
      `at most evaluation.samples = ${evaluation.samples}`,
      evaluation.gifSamples,
      context,
    );
  }
  if (data.dataset !== 'moving-mnist') {
    if (data.path === null)
      throw new ConfigError(
        'data.path',
        `a ${data.dataset === 'kth' ? 'KTH folder' : '.npy/.npz file'} for dataset "${data.dataset}"`,
        null,
        context,
      );
  }
}

/**
 * Steps per epoch: the explicit value, or the epoch's sequences / batchSize rounded down (at
 * least 1), where an epoch is min(trainLength, trainSamples) sequences: the length of a file or
 * KTH split, capped by `data.trainSamples` (as the official `MNIST_Dataset`, and a generator's
 * `trainSamples`).
 */
export function stepsPerEpoch(config: TrainConfig, trainLength = Infinity): number {
  return (
    config.train.stepsPerEpoch ??
    Math.max(1, Math.floor(Math.min(trainLength, config.data.trainSamples) / config.train.batchSize))
  );
}

/** Total training steps of a configuration (`trainLength`: see {@link stepsPerEpoch}). */
export function totalSteps(config: TrainConfig, trainLength = Infinity): number {
  const all = config.train.epochs * stepsPerEpoch(config, trainLength);
  return config.train.maxSteps === null ? all : Math.min(all, config.train.maxSteps);
}

/** The plan of a run in words, e.g. `160 steps (8 epochs × 20 steps, batch 8)`, or with a maxSteps cap `20 steps (train.maxSteps; an epoch is 20 steps, 8 epochs would be 160), batch 8`. */
export function describePlan(config: TrainConfig, trainLength = Infinity): string {
  const spe = stepsPerEpoch(config, trainLength);
  const total = totalSteps(config, trainLength);
  const all = config.train.epochs * spe;
  const epochs = `${config.train.epochs} epoch${config.train.epochs === 1 ? '' : 's'}`;
  if (total === all) return `${total} steps (${epochs} × ${spe} steps), batch ${config.train.batchSize}`;
  return `${total} steps (train.maxSteps ${config.train.maxSteps}; an epoch is ${spe} steps, ${epochs} would be ${all}), batch ${config.train.batchSize}`;
}

/** One-step outputs the loss compares. */
export function lossOutputFrames(config: TrainConfig): number {
  if (config.train.outputFrames !== null) return config.train.outputFrames;
  return config.model.type === 'encoder-forecaster'
    ? config.data.futureFrames
    : config.data.inputFrames + config.data.futureFrames - 1;
}
