/**
 * Training presets. The paper's configurations follow NVlabs/conv-tt-lstm `code/model_train.py`
 * (argparse defaults: batch 16, Adam lr 1e-3, L1 + MSE, 10 → 10 with all 19 one-step outputs in
 * the loss, 400 epochs of 10,000 sequences, 3,000 validation sequences, plateau window 20 epochs,
 * scheduled-sampling decay 4e-3 per epoch, learning-rate decay 0.98 every 5 epochs) and
 * `code/README.md` (kernel 5, order 3, steps 3, rank 8, `--gradient-clipping --clipping-threshold 3`),
 * with the network of Su et al. 2020 (4 blocks × 3 layers, hidden 32-48-48-32, skip stride 2).
 *
 * Porting note: `model_train.py` declares `--gradient-clipping` but sets the default of a
 * different name (`use_clipping`), so clipping is off unless the flag is given; its README's
 * command gives it, and so do these presets (`train.gradientClipping: false` turns it off).
 */

import { PREDICTION_PROTOCOLS, paperNetwork } from '@vid/models';

/** A preset: a partial configuration with a description. */
export interface Preset {
  readonly description: string;
  readonly config: Record<string, unknown>;
}

const PAPER_TRAIN = {
  batchSize: 16,
  epochs: 400,
  learningRate: 1e-3,
  loss: 'l1+mse',
  gradientClipping: true,
  clippingThreshold: 3,
  scheduledSamplingRatio: 1,
  ssrDecayEpochs: 1,
  ssrDecayRatio: 4e-3,
  lrDecayEpochs: 5,
  lrDecayRate: 0.98,
  plateauEpochs: 20,
};

// The paper's network (Su et al. 2020), from @vid/models, in the training config's terms.
const { layersPerBlock, hiddenChannels, skipStride, order, steps, ranks, kernelSize, outputSigmoid } = paperNetwork();
const PAPER_NETWORK = {
  type: 'convttlstm-net',
  layersPerBlock,
  hiddenChannels,
  skipStride,
  order,
  steps,
  ranks,
  kernelSize,
  outputSigmoid,
  patchSize: 1,
};

// The dataset protocols (@vid/models' one registry of them): the paper trains 10 → 10.
const protocolData = (name: 'mmnist-10-10' | 'kth-10-20') => {
  const { dataset, inputFrames, frameSize, channels } = PREDICTION_PROTOCOLS[name];
  return { dataset, inputFrames, futureFrames: 10, frameSize: [frameSize, frameSize], channels };
};

const MMNIST_DATA = { ...protocolData('mmnist-10-10'), numDigits: 2, trainSamples: 10000, validSamples: 3000 };

const KTH_DATA = { ...protocolData('kth-10-20'), trainSamples: 10000, validSamples: 448, kthProtocol: 'conv-tt-lstm' };

/**
 * The CPU recipe of the shipped weights (see the README's "Trained weights"): the paper's cells in
 * a small network on 4×4 patches, trained without teacher forcing so that the rollout the model is
 * evaluated on is the one it learns; validation every 250 steps on 256 sequences.
 */
const CPU_RECIPE = (cell: 'convlstm' | 'convttlstm') => ({
  data: { ...MMNIST_DATA, trainSamples: 2000, validSamples: 256 },
  model: {
    ...PAPER_NETWORK,
    cell,
    layersPerBlock: [1, 1],
    hiddenChannels: [32, 32],
    skipStride: null,
    kernelSize: 3,
    patchSize: 4,
  },
  train: { ...PAPER_TRAIN, batchSize: 8, epochs: 400, loss: 'mse', learningRate: 1e-3, scheduledSamplingRatio: 0 },
  validation: { batchSize: 16, everyEpochs: 1 },
  evaluation: { futureFrames: 10, samples: 256, protocol: 'convttlstm', gifSamples: 4 },
  checkpoint: { everySteps: 100, keepLast: 200, keepBest: true },
});

/** Every preset, by name. `quick` is the default. */
export const PRESETS = {
  quick: {
    description:
      'The default: a small ConvLSTM (ConvLSTMNet with one 32-channel layer, 3×3 kernels) on 4×4 space-to-depth patches of generated Moving MNIST (64×64, 10 → 10), 160 steps of batch 8: about 2 minutes of training on 2 CPU cores (3 with the build), up to twice that on busy ones.',
    config: {
      data: { ...MMNIST_DATA, trainSamples: 160, validSamples: 32 },
      model: {
        ...PAPER_NETWORK,
        cell: 'convlstm',
        layersPerBlock: [1],
        hiddenChannels: [32],
        skipStride: null,
        kernelSize: 3,
        patchSize: 4,
      },
      train: { ...PAPER_TRAIN, batchSize: 8, epochs: 8, learningRate: 2e-3, plateauEpochs: 2, ssrDecayRatio: 0.25 },
      validation: { batchSize: 16, everyEpochs: 1 },
      evaluation: { futureFrames: 10, samples: 64, protocol: 'convttlstm', gifSamples: 4 },
      checkpoint: { everySteps: 40, keepLast: 2, keepBest: true },
    },
  },
  'mmnist-convttlstm': {
    description:
      'The paper: Conv-TT-LSTM (order 3, steps 3, rank 8, 5×5) on Moving-MNIST-2, trained 10 → 10 on all 19 one-step outputs, evaluated 10 → 30 (Su et al. 2020, Table 1).',
    config: {
      data: MMNIST_DATA,
      model: { ...PAPER_NETWORK, cell: 'convttlstm' },
      train: PAPER_TRAIN,
      evaluation: { futureFrames: 30, samples: 3000, protocol: 'convttlstm' },
      checkpoint: { everySteps: 625 },
    },
  },
  'mmnist-convlstm': {
    description:
      "The paper's ConvLSTM baseline (same network with ConvLSTM cells) on Moving-MNIST-2, 10 → 10 training, 10 → 30 evaluation.",
    config: {
      data: MMNIST_DATA,
      model: { ...PAPER_NETWORK, cell: 'convlstm' },
      train: PAPER_TRAIN,
      evaluation: { futureFrames: 30, samples: 3000, protocol: 'convttlstm' },
      checkpoint: { everySteps: 625 },
    },
  },
  'kth-convttlstm': {
    description:
      'The paper: Conv-TT-LSTM on KTH actions, 128×128 grayscale, 10 → 10 training (batch 8, as code/scripts/train_convttlstm.sh), 10 → 20 evaluation (Table 2). Needs data.path (the KTH folder).',
    config: {
      data: KTH_DATA,
      model: { ...PAPER_NETWORK, cell: 'convttlstm' },
      train: { ...PAPER_TRAIN, batchSize: 8, epochs: 500 },
      validation: { batchSize: 8 },
      evaluation: { futureFrames: 20, samples: 448, protocol: 'convttlstm' },
      checkpoint: { everySteps: 1250 },
    },
  },
  'kth-convlstm': {
    description:
      "The paper's ConvLSTM baseline on KTH actions, 128×128, 10 → 10 training, 10 → 20 evaluation. Needs data.path.",
    config: {
      data: KTH_DATA,
      model: { ...PAPER_NETWORK, cell: 'convlstm' },
      train: { ...PAPER_TRAIN, batchSize: 8, epochs: 500 },
      validation: { batchSize: 8 },
      evaluation: { futureFrames: 20, samples: 448, protocol: 'convttlstm' },
      checkpoint: { everySteps: 1250 },
    },
  },
  'mmnist-encoder-forecaster': {
    description:
      'Shi et al. 2015 (sec. 4.1): encoder-forecaster with 3 ConvLSTM layers 128-64-64, 5×5 kernels, 4×4 patches, forecaster without input, cross-entropy loss, 10 → 10. Porting note: trained with Adam (Shi et al. used RMSProp, lr 1e-3, decay 0.9).',
    config: {
      data: MMNIST_DATA,
      model: {
        type: 'encoder-forecaster',
        hiddenChannels: [128, 64, 64],
        kernelSize: 5,
        patchSize: 4,
        forecasterInput: 'none',
        peephole: 'spatial',
      },
      train: { ...PAPER_TRAIN, loss: 'bce', outputFrames: null },
      evaluation: { futureFrames: 10, samples: 3000, protocol: 'standard' },
      checkpoint: { everySteps: 625 },
    },
  },
  'mmnist-convlstm-cpu': {
    description:
      'A CPU recipe (the shipped ConvLSTM weights): the network with two 32-channel ConvLSTM layers, 3×3 kernels, on 4×4 space-to-depth patches (64×64×1 → 16×16×16), MSE, Adam 1e-3, batch 8, trained free-running (scheduled-sampling ratio 0), 10 → 10 on Moving-MNIST-2; about 2 s a step on one core.',
    config: CPU_RECIPE('convlstm'),
  },
  'mmnist-convttlstm-cpu': {
    description:
      'The same CPU recipe with Conv-TT-LSTM cells (order 3, steps 3, rank 8), for the fair comparison: same data, steps and schedule as mmnist-convlstm-cpu (the shipped Conv-TT-LSTM weights).',
    config: CPU_RECIPE('convttlstm'),
  },
} as const satisfies Record<string, Preset>;

export type PresetName = keyof typeof PRESETS;

/** One line per preset, for `--list-presets`. */
export function describePresets(): string {
  return Object.entries(PRESETS)
    .map(([name, preset]) => `${name.padEnd(26)} ${preset.description}`)
    .join('\n');
}
