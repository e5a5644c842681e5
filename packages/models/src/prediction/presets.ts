/**
 * The preset registries of video prediction, one per kind, with one key style (kebab-case):
 *
 * - {@link PREDICTOR_PRESETS}: model presets (architectures), for `createPredictor`;
 * - {@link PREDICTION_PROTOCOLS}: dataset protocols (frames, context and horizon, metric
 *   conventions), for evaluation and training.
 *
 * The paper's configurations follow Su et al., NeurIPS 2020, §5 and appendix, and NVlabs/conv-tt-lstm
 * `eval_paper/test.py` and `eval_paper/test.sh`, which evaluate the released checkpoints.
 */
import type { CellType, ConvRecurrentNetOptions } from './network-config.js';
import type { PredictorSpec } from './spec.js';

/**
 * The network of every experiment: 4 blocks × 3 layers, hidden channels (32, 48, 48, 32), skip
 * connections every 2 blocks, 5×5 kernels, order 3, steps 3, rank 8, one (grayscale) channel, no
 * output sigmoid (the released checkpoints were trained and are evaluated without one).
 * 2,687,281 parameters (Conv-TT-LSTM), 3,973,201 (`cell: 'convlstm'`).
 */
export function paperNetwork(cell: CellType = 'convttlstm'): ConvRecurrentNetOptions {
  return {
    cell,
    inputChannels: 1,
    layersPerBlock: [3, 3, 3, 3],
    hiddenChannels: [32, 48, 48, 32],
    skipStride: 2,
    kernelSize: 5,
    order: 3,
    steps: 3,
    ranks: 8,
    bias: true,
    outputSigmoid: false,
  };
}

/** A model preset: an architecture (a predictor spec) and what it is. */
export interface PredictorPreset {
  readonly description: string;
  readonly spec: PredictorSpec;
  /** The released checkpoints of this architecture, if any (NVlabs/conv-tt-lstm). */
  readonly checkpoints?: readonly string[];
}

/** Model presets (architectures only; the training presets add data and schedules). */
export const PREDICTOR_PRESETS = {
  /** Su et al. 2020: Conv-TT-LSTM, 4 blocks × 3 layers, 32-48-48-32, skip 2, order 3, steps 3, rank 8, 5×5 (2,687,281 parameters). */
  'convttlstm-paper': {
    description: "Su et al. 2020: the paper's Conv-TT-LSTM network (NVlabs/conv-tt-lstm ConvLSTMNet)",
    spec: { type: 'conv-recurrent-net', network: { ...paperNetwork('convttlstm') } },
    checkpoints: ['convttlstm-mnist.pt', 'convttlstm-kth.pt'],
  },
  /** The paper's ConvLSTM baseline: the same network with ConvLSTM cells (3,973,201 parameters). */
  'convlstm-paper': {
    description: 'Su et al. 2020: the ConvLSTM baseline (same network, ConvLSTM cells)',
    spec: { type: 'conv-recurrent-net', network: { ...paperNetwork('convlstm') } },
  },
  /** Shi et al. 2015, Moving MNIST: 3 layers 128-64-64, 5×5, 4×4 patches, forecaster without input. */
  'encoder-forecaster-shi2015': {
    description: 'Shi et al. 2015: encoder-forecaster, ConvLSTM 128-64-64, 5×5 kernels, 4×4 patches of 64×64 frames',
    spec: {
      type: 'encoder-forecaster',
      options: {
        frameSize: [64, 64],
        frameChannels: 1,
        patchSize: 4,
        hiddenChannels: [128, 64, 64],
        kernelSize: 5,
        peephole: 'spatial',
        forecasterInput: 'none',
      },
    },
  },
  /** A small ConvLSTM on 4×4 patches of 64×64 frames: trains on a CPU in minutes. */
  'convlstm-small': {
    description: 'A small ConvLSTM (one 32-channel layer, 3×3) on 4×4 patches of 64×64 frames',
    spec: {
      type: 'conv-recurrent-net',
      patchSize: 4,
      network: {
        cell: 'convlstm',
        inputChannels: 16,
        layersPerBlock: [1],
        hiddenChannels: [32],
        skipStride: null,
        kernelSize: 3,
        bias: true,
        outputSigmoid: false,
      },
    },
  },
  /** The copy-last-frame baseline. */
  'copy-last-frame': {
    description: 'Baseline: every future frame is the last context frame',
    spec: { type: 'copy-last-frame', channels: 1 },
  },
} as const satisfies Record<string, PredictorPreset>;

export type PredictorPresetName = keyof typeof PREDICTOR_PRESETS;

const MNIST_NOTES =
  'Moving-MNIST-2 (two digits, 64×64, values in [0, 1]). The official evaluation clamps predictions to [0, 1] before the metrics.';
const KTH_NOTES =
  'KTH actions: the official evaluation averages the RGB channels to grayscale, resizes each 120×120 frame to 128×128 (skimage.transform.resize) and clamps predictions to [0, 1].';

/** A dataset protocol of video prediction: what a paper evaluated on, and how. */
export interface PredictionProtocol {
  /** What it is, in words. */
  readonly description: string;
  readonly dataset: 'moving-mnist' | 'kth';
  /** Side of the square frames the models run at. */
  readonly frameSize: number;
  /** Channels of the frames (1: grayscale). */
  readonly channels: number;
  /** Context frames. */
  readonly inputFrames: number;
  /** Predicted frames. */
  readonly futureFrames: number;
  /** The metric conventions (`@vid/metrics`' evaluation protocol). */
  readonly metrics: 'convttlstm';
  /** How the official evaluation prepares frames and predictions. */
  readonly notes: string;
  /** The released checkpoint evaluated with this protocol, if any. */
  readonly checkpoint?: string;
}

/** Dataset protocols (Su et al. 2020, Tables 1 and 2). */
export const PREDICTION_PROTOCOLS = {
  /** Moving-MNIST-2, 10 → 10 (the official training protocol, Table 1's 10 → 10 column). */
  'mmnist-10-10': {
    description: 'Moving-MNIST-2, 64×64 grayscale, 10 → 10, conv-tt-lstm metric conventions (Su et al. 2020, Table 1)',
    dataset: 'moving-mnist',
    frameSize: 64,
    channels: 1,
    inputFrames: 10,
    futureFrames: 10,
    metrics: 'convttlstm',
    notes: MNIST_NOTES,
  },
  /** Moving-MNIST-2, 10 → 30 (Table 1; `convttlstm-mnist.pt`). */
  'mmnist-10-30': {
    description: 'Moving-MNIST-2, 64×64 grayscale, 10 → 30, conv-tt-lstm metric conventions (Su et al. 2020, Table 1)',
    dataset: 'moving-mnist',
    frameSize: 64,
    channels: 1,
    inputFrames: 10,
    futureFrames: 30,
    metrics: 'convttlstm',
    notes: MNIST_NOTES,
    checkpoint: 'convttlstm-mnist.pt',
  },
  /** KTH, 10 → 20 (Table 2; `convttlstm-kth.pt`). */
  'kth-10-20': {
    description: 'KTH actions, 128×128 grayscale, 10 → 20, conv-tt-lstm protocol (Su et al. 2020, Table 2)',
    dataset: 'kth',
    frameSize: 128,
    channels: 1,
    inputFrames: 10,
    futureFrames: 20,
    metrics: 'convttlstm',
    notes: KTH_NOTES,
    checkpoint: 'convttlstm-kth.pt',
  },
  /** KTH, 10 → 40 (Table 2; `eval_paper/test.sh` runs `convttlstm-kth.pt` with 40 future frames). */
  'kth-10-40': {
    description: 'KTH actions, 128×128 grayscale, 10 → 40, conv-tt-lstm protocol (Su et al. 2020, Table 2)',
    dataset: 'kth',
    frameSize: 128,
    channels: 1,
    inputFrames: 10,
    futureFrames: 40,
    metrics: 'convttlstm',
    notes: KTH_NOTES,
    checkpoint: 'convttlstm-kth.pt',
  },
} as const satisfies Record<string, PredictionProtocol>;

export type PredictionProtocolName = keyof typeof PREDICTION_PROTOCOLS;
