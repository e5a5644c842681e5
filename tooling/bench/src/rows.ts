/**
 * The rows of vid's benchmark (issue 15's table, plus the encoder-forecaster and ConvGRU rows),
 * and vid's side of each: the model built from vid's packages and one step of it.
 *
 * Every row is batch 8, 64×64×1 Moving-MNIST-shaped frames, 10 → 10 unless it says otherwise;
 * tooling/bench/pytorch_rows.py builds the same shapes in PyTorch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConvGRU, ConvLSTM } from '@vid/cells';
import { Adam, sliceFrames } from '@vid/core';
import { ConvRecurrentNet, type ConvRecurrentNetOptions, EncoderForecaster, flopsPerStep } from '@vid/models';

export interface NetworkSpec {
  readonly cell: 'convttlstm' | 'convlstm';
  readonly hiddenChannels: number[];
  readonly order: number;
  readonly steps: number;
  readonly ranks: number;
  readonly kernelSize: number;
}

export interface Row {
  readonly id: string;
  readonly title: string;
  readonly kind: 'network' | 'convlstm' | 'convgru' | 'encoder-forecaster';
  readonly mode: 'train' | 'infer';
  readonly batch: number;
  readonly size: number;
  readonly channels: number;
  readonly inputFrames: number;
  readonly futureFrames: number;
  readonly network?: NetworkSpec;
  readonly hiddenChannels?: number[];
  readonly kernelSize?: number;
  readonly patchSize?: number;
  /** Training rows of the network and the `@vid/cells` stacks: gradient checkpointing per time step (`--checkpointing`; vid only, PyTorch keeps every activation). */
  readonly checkpointing?: boolean;
}

/** The small preset of the table: 2 blocks × 1 layer, 8 hidden, order 3, steps 3, rank 4, 3×3. */
const small = (cell: NetworkSpec['cell']): NetworkSpec => ({
  cell,
  hiddenChannels: [8, 8],
  order: 3,
  steps: 3,
  ranks: 4,
  kernelSize: 3,
});
const frames64 = { batch: 8, size: 64, channels: 1, inputFrames: 10, futureFrames: 10 } as const;
/**
 * The network of `@vid/training`'s `mmnist-*-cpu` presets (the shipped weights): 2 blocks × 1
 * layer, 32 hidden, 3×3, order 3, steps 3, rank 8, on 4×4 space-to-depth patches, so the rows
 * feed 16×16×16 frames (the patching itself is a reshape, left out on both sides).
 */
const cpuRecipe = (cell: NetworkSpec['cell']): NetworkSpec => ({
  cell,
  hiddenChannels: [32, 32],
  order: 3,
  steps: 3,
  ranks: 8,
  kernelSize: 3,
});
const patches16 = { batch: 8, size: 16, channels: 16, inputFrames: 10, futureFrames: 10 } as const;

export const ROWS: readonly Row[] = [
  {
    id: 'convttlstm-train',
    title: 'Conv-TT-LSTM network (small), training step',
    kind: 'network',
    mode: 'train',
    network: small('convttlstm'),
    ...frames64,
  },
  {
    id: 'convttlstm-infer',
    title: 'Conv-TT-LSTM network (small), inference (test rollout)',
    kind: 'network',
    mode: 'infer',
    network: small('convttlstm'),
    ...frames64,
  },
  {
    id: 'convlstm-net-train',
    title: 'ConvLSTM network (small), training step',
    kind: 'network',
    mode: 'train',
    network: small('convlstm'),
    ...frames64,
  },
  {
    id: 'convlstm-net-infer',
    title: 'ConvLSTM network (small), inference',
    kind: 'network',
    mode: 'infer',
    network: small('convlstm'),
    ...frames64,
  },
  {
    id: 'convlstm-cpu-train',
    title: 'ConvLSTM network of the shipped CPU recipe (2 × 32, 3×3, 4×4 patches: 16×16×16), training step',
    kind: 'network',
    mode: 'train',
    network: cpuRecipe('convlstm'),
    ...patches16,
  },
  {
    id: 'convttlstm-cpu-train',
    title: 'Conv-TT-LSTM network of the shipped CPU recipe (2 × 32, 3×3, rank 8, 16×16×16), training step',
    kind: 'network',
    mode: 'train',
    network: cpuRecipe('convttlstm'),
    ...patches16,
  },
  {
    id: 'cells-convlstm-infer',
    title: '@vid/cells ConvLSTM 2 × 64, k5, 10 frames, inference',
    kind: 'convlstm',
    mode: 'infer',
    hiddenChannels: [64, 64],
    kernelSize: 5,
    ...frames64,
    futureFrames: 0,
  },
  {
    id: 'cells-convlstm-train',
    title: '@vid/cells ConvLSTM 2 × 64, k5, 10 frames, training step',
    kind: 'convlstm',
    mode: 'train',
    hiddenChannels: [64, 64],
    kernelSize: 5,
    ...frames64,
    futureFrames: 0,
  },
  {
    id: 'encoder-forecaster-train',
    title: 'encoder-forecaster 2 × 64, k5, 4×4 patches, training step',
    kind: 'encoder-forecaster',
    mode: 'train',
    hiddenChannels: [64, 64],
    kernelSize: 5,
    patchSize: 4,
    ...frames64,
  },
  {
    id: 'convgru-train',
    title: '@vid/cells ConvGRU 2 × 64, k5, 16×16×16, 10 frames, training step',
    kind: 'convgru',
    mode: 'train',
    hiddenChannels: [64, 64],
    kernelSize: 5,
    batch: 8,
    size: 16,
    channels: 16,
    inputFrames: 10,
    futureFrames: 0,
  },
];

function networkOptions(row: Row): ConvRecurrentNetOptions {
  const n = row.network as NetworkSpec;
  return {
    cell: n.cell,
    inputChannels: row.channels,
    layersPerBlock: n.hiddenChannels.map(() => 1),
    hiddenChannels: n.hiddenChannels,
    order: n.order,
    steps: n.steps,
    ranks: n.ranks,
    kernelSize: n.kernelSize,
  };
}

/**
 * Floating-point operations of one step (2 per multiply-add, convolutions only: they are
 * nearly all of it). A training step counts 3× the forward pass (forward, input and filter
 * gradients). The same count divides both sides' times.
 */
export function flops(row: Row): number {
  const forward = ((): number => {
    const pixels = row.size * row.size * row.batch;
    if (row.kind === 'network') {
      const steps = row.inputFrames + row.futureFrames - 1;
      return (
        2 * flopsPerStep(networkOptions(row), { height: row.size, width: row.size }).multiplications * row.batch * steps
      );
    }
    const hidden = row.hiddenChannels as number[];
    const k2 = (row.kernelSize as number) ** 2;
    if (row.kind === 'convlstm' || row.kind === 'convgru') {
      let inputs = row.channels;
      let macs = 0;
      for (const h of hidden) {
        macs += row.kind === 'convlstm' ? (inputs + h) * 4 * h * k2 : (inputs * 3 * h + h * 3 * h) * k2;
        inputs = h;
      }
      return 2 * macs * pixels * row.inputFrames;
    }
    // encoder-forecaster on patches.
    const p = row.patchSize as number;
    const patchedPixels = pixels / (p * p);
    const patchChannels = row.channels * p * p;
    let encoder = 0;
    let forecaster = 0;
    hidden.forEach((h, i) => {
      const below = i === 0 ? patchChannels : (hidden[i - 1] as number);
      encoder += (below + h) * 4 * h * k2;
      forecaster += ((i === 0 ? 0 : below) + h) * 4 * h * k2;
    });
    const output = hidden.reduce((a, b) => a + b, 0) * patchChannels;
    return 2 * patchedPixels * (encoder * row.inputFrames + (forecaster + output) * row.futureFrames);
  })();
  return row.mode === 'train' ? 3 * forward : forward;
}

/** Builds vid's model of a row and returns one step (which waits for its result). */
export function buildVidStep(row: Row): () => Promise<void> {
  const total = row.inputFrames + row.futureFrames;
  const frames = tf.randomUniform(
    [row.batch, total, row.size, row.size, row.channels],
    0,
    1,
    'float32',
    7,
  ) as tf.Tensor5D;
  let loss: () => tf.Scalar;
  let infer: () => tf.Tensor;
  let parameters: Array<[string, tf.Variable]>;
  if (row.kind === 'network') {
    const model = new ConvRecurrentNet({ ...networkOptions(row), seed: 1 });
    parameters = model.namedParameters();
    const context = sliceFrames(frames, 0, row.inputFrames) as tf.Tensor5D;
    loss = () =>
      model.trainingLoss(frames, {
        inputFrames: row.inputFrames,
        futureFrames: row.futureFrames,
        scheduledSamplingRatio: 1,
        checkpointing: row.checkpointing ?? false,
      });
    infer = () => model.predict(context, row.futureFrames);
  } else if (row.kind === 'convlstm' || row.kind === 'convgru') {
    const options = {
      inputChannels: row.channels,
      hiddenChannels: row.hiddenChannels as number[],
      kernelSize: row.kernelSize as number,
      seed: 1,
    };
    const model = row.kind === 'convlstm' ? new ConvLSTM({ ...options, peephole: 'none' }) : new ConvGRU(options);
    parameters = model.namedParameters();
    const input = sliceFrames(frames, 0, row.inputFrames);
    const run = (): tf.Tensor => {
      const result = model.apply(input, { checkpointing: row.checkpointing ?? false });
      tf.dispose(result.states as unknown as tf.TensorContainer);
      return result.output;
    };
    loss = () => tf.tidy(() => tf.mean(tf.square(run())) as tf.Scalar);
    infer = run;
  } else {
    const model = new EncoderForecaster({
      frameSize: [row.size, row.size],
      patchSize: row.patchSize as number,
      hiddenChannels: row.hiddenChannels as number[],
      kernelSize: row.kernelSize as number,
      peephole: 'none',
      seed: 1,
    });
    parameters = model.namedParameters();
    const context = sliceFrames(frames, 0, row.inputFrames);
    const targets = sliceFrames(frames, row.inputFrames, row.futureFrames);
    loss = () =>
      tf.tidy(
        () =>
          tf.mean(
            tf.squaredDifference(model.apply(context, { horizon: row.futureFrames }).predictions, targets),
          ) as tf.Scalar,
      );
    infer = () => {
      const result = model.apply(context, { horizon: row.futureFrames });
      result.logits.dispose();
      return result.predictions;
    };
  }
  if (row.mode === 'infer') {
    return async () => {
      const out = infer();
      await out.data();
      out.dispose();
    };
  }
  const adam = new Adam(parameters, { lr: 1e-4 });
  return async () => {
    const { value, grads } = adam.computeGradients(loss);
    adam.applyGradients(grads);
    await value.data();
    value.dispose();
    grads.forEach((g) => g.dispose());
  };
}
