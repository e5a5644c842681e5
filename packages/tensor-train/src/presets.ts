/**
 * The paper's configurations (Su et al., NeurIPS 2020, §5 and appendix; NVlabs/conv-tt-lstm
 * `eval_paper/test.py` and `eval_paper/test.sh`, which evaluate the released checkpoints).
 */
import type { CellType, ConvTTLSTMNetOptions } from './config.js';

/** One experiment of the paper: the network, the frames and the rollout. */
export interface PaperPreset {
  /** Short name, e.g. `moving-mnist-2`. */
  readonly name: string;
  /** What it is, in words. */
  readonly description: string;
  /** The network (Conv-TT-LSTM); `cell: 'convlstm'` in {@link paperNetwork} gives the baseline. */
  readonly network: ConvTTLSTMNetOptions;
  /** Frame size the network runs at: `[height, width]`. */
  readonly frameSize: readonly [number, number];
  /** Context frames. */
  readonly inputFrames: number;
  /** Predicted frames at test time. */
  readonly futureFrames: number;
  /** The released checkpoint evaluated with this preset, if any. */
  readonly checkpoint?: string;
  /** How the official evaluation prepares frames and predictions. */
  readonly notes: string;
}

/**
 * The network of every experiment: 4 blocks × 3 layers, hidden channels (32, 48, 48, 32), skip
 * connections every 2 blocks, 5×5 kernels, order 3, steps 3, rank 8, one (grayscale) channel, no
 * output sigmoid (the released checkpoints were trained and are evaluated without one).
 * 2,687,281 parameters (Conv-TT-LSTM), 3,973,201 (`cell: 'convlstm'`).
 */
export function paperNetwork(cell: CellType = 'convttlstm'): ConvTTLSTMNetOptions {
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

const MNIST_NOTES = 'Moving-MNIST-2 (two digits, 64×64, values in [0, 1]). The official evaluation clamps predictions to [0, 1] before the metrics.';
const KTH_NOTES =
  'KTH actions: the official evaluation averages the RGB channels to grayscale, resizes each 120×120 frame to 128×128 (skimage.transform.resize) and clamps predictions to [0, 1].';

/** The paper's experiments, by name. */
export const PAPER_PRESETS = {
  /** Moving-MNIST-2, 10 → 30 (the paper's Table 1; `convttlstm-mnist.pt`). */
  movingMnist2: {
    name: 'moving-mnist-2',
    description: 'Moving-MNIST-2, 64×64 grayscale, 10 context frames → 30 predicted',
    network: paperNetwork(),
    frameSize: [64, 64],
    inputFrames: 10,
    futureFrames: 30,
    checkpoint: 'convttlstm-mnist.pt',
    notes: MNIST_NOTES,
  },
  /** KTH, 10 → 20 (the paper's Table 2). */
  kth20: {
    name: 'kth-10-20',
    description: 'KTH actions, 128×128 grayscale, 10 context frames → 20 predicted',
    network: paperNetwork(),
    frameSize: [128, 128],
    inputFrames: 10,
    futureFrames: 20,
    checkpoint: 'convttlstm-kth.pt',
    notes: KTH_NOTES,
  },
  /** KTH, 10 → 40 (the paper's Table 2; `eval_paper/test.sh` runs `convttlstm-kth.pt` with 40 future frames). */
  kth40: {
    name: 'kth-10-40',
    description: 'KTH actions, 128×128 grayscale, 10 context frames → 40 predicted',
    network: paperNetwork(),
    frameSize: [128, 128],
    inputFrames: 10,
    futureFrames: 40,
    checkpoint: 'convttlstm-kth.pt',
    notes: KTH_NOTES,
  },
} as const satisfies Record<string, PaperPreset>;

export type PaperPresetName = keyof typeof PAPER_PRESETS;
