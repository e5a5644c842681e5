/**
 * The paper's network: `ConvLSTMNet` in NVlabs/conv-tt-lstm `code/convlstmnet.py` (commit
 * 1220ff4), with its rollout (test mode, teacher forcing and scheduled sampling) and its
 * training loss (`code/model_train.py`: L1 + MSE, both means).
 *
 * Layout: videos are `[batch, time, height, width, channels]` (vid's), frames NHWC; PyTorch's
 * `[batch, time, channels, height, width]` appears only in checkpoints.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  Conv2d,
  type HostTensor,
  Module,
  ModuleDict,
  Rng,
  ShapeError,
  assertFinite,
  assertKnownKeys,
  accurateMean,
  assertRank,
  finiteNumber,
  formatShape,
  positiveInteger,
  resolveRng,
  sliceFrames,
  stackFrames,
  writeSafetensors,
} from '@vid/core';

import { createBaselineCell } from './baseline-cell.js';
import { type ReadCheckpointOptions, checkStateDict, inferOfficialConfig, metadataConfig, readOfficialCheckpoint } from './checkpoint.js';
import {
  type ConvTTLSTMNetOptions,
  type NetConfig,
  type NetConfigInput,
  layerPlan,
  outputLayerChannels,
  resolveNetConfig,
  resolveNetOptions,
  toOfficialConfig,
} from './config.js';
import { ConvTTLSTMCell } from './conv-tt-lstm-cell.js';
import { convSame } from './ops.js';
import { type ConvRecurrentCell, disposeDropped, layerStateTensors, mapLayerStates } from './recurrent-cell.js';

/** A layer of the network: a Conv-TT-LSTM cell or the ConvLSTM baseline. */
export type NetworkCell = Module & ConvRecurrentCell<unknown>;

/** Options of {@link ConvTTLSTMNet.forward}: the official `forward` arguments. */
export interface RolloutOptions {
  /** Frames fed from `inputs` before the model predicts (the context). */
  readonly inputFrames: number;
  /** Frames predicted after the context. The rollout runs `inputFrames + futureFrames − 1` steps. */
  readonly futureFrames: number;
  /**
   * How many of the last step outputs to return (at most `inputFrames + futureFrames − 1`).
   * @default futureFrames
   */
  readonly outputFrames?: number;
  /**
   * Training mode: at future steps, feed the ground truth `inputs[:, t]` where the scheduled
   * sampling mask is 1 and the previous prediction where it is 0. `inputs` must then hold
   * `inputFrames + futureFrames − 1` frames. Off: feed back the predictions (test mode).
   * @default false
   */
  readonly teacherForcing?: boolean;
  /**
   * Probability that a future step of a sample gets the ground truth, in `[0, 1]`. As in the
   * official code, a ratio ≤ 1e-6 turns teacher forcing off.
   * @default 0
   */
  readonly scheduledSamplingRatio?: number;
  /**
   * Generator (or seed) of the scheduled-sampling mask: one Bernoulli draw per sample and future
   * step, `[batch, futureFrames − 1]` in row-major order. Required when `0 < ratio < 1`.
   */
  readonly rng?: Rng | number;
  /**
   * An explicit mask instead of drawn ones: `[batch, futureFrames − 1]` of 0 and 1 (1 = ground
   * truth), a tensor or a row-major array. Needs `teacherForcing`.
   */
  readonly teacherForcingMask?: tf.Tensor | ArrayLike<number>;
  /**
   * Gradient checkpointing per time step (the official `code_opt/` network's `checkpointing`):
   * under a gradient, each step keeps only its inputs (frame and states) and is recomputed in
   * the backward pass. Memory falls from every activation of every step to the states of every
   * step, for about one more forward pass of time. Same numbers either way.
   * @default false
   */
  readonly checkpointing?: boolean;
}

/** Options of {@link ConvTTLSTMNet.trainingLoss}: the official training script's protocol. */
export interface TrainingLossOptions {
  /** Context frames. */
  readonly inputFrames: number;
  /** Predicted frames. `frames` holds `inputFrames + futureFrames` frames. */
  readonly futureFrames: number;
  /**
   * Frames the loss compares: the last `outputFrames` of the rollout against the last
   * `outputFrames` of `frames`.
   * @default inputFrames + futureFrames − 1 (every step, as the official script's default 19 for 10 → 10)
   */
  readonly outputFrames?: number;
  /**
   * Scheduled-sampling ratio (see {@link RolloutOptions.scheduledSamplingRatio}); the official
   * script starts at 1 (full teacher forcing) and decays it.
   * @default 1
   */
  readonly scheduledSamplingRatio?: number;
  /** See {@link RolloutOptions.rng}. */
  readonly rng?: Rng | number;
  /** See {@link RolloutOptions.teacherForcingMask}. */
  readonly teacherForcingMask?: tf.Tensor | ArrayLike<number>;
  /** See {@link RolloutOptions.checkpointing}. @default false */
  readonly checkpointing?: boolean;
}

/** Options of {@link ConvTTLSTMNet.fromCheckpoint}. */
export interface FromCheckpointOptions extends ReadCheckpointOptions {
  /**
   * The output sigmoid, when the configuration is not given and is read from the file's metadata
   * or inferred from its shapes (a state dict cannot tell: the sigmoid has no parameter).
   * @default the metadata's output_sigmoid, else false (the released checkpoints have none)
   */
  readonly outputSigmoid?: boolean;
  /** Seed of the initial weights before loading (they are all overwritten). @default 0 */
  readonly seed?: number;
}

const ROLLOUT_KEYS = ['inputFrames', 'futureFrames', 'outputFrames', 'teacherForcing', 'scheduledSamplingRatio', 'rng', 'teacherForcingMask', 'checkpointing'] as const;
const LOSS_KEYS = ['inputFrames', 'futureFrames', 'outputFrames', 'scheduledSamplingRatio', 'rng', 'teacherForcingMask', 'checkpointing'] as const;

/**
 * The official training loss (`code/model_train.py`): `l1_loss(pred, target) + mse_loss(pred,
 * target)`, both with `reduction="mean"`. pred, target: the same shape (any).
 */
export function l1MseLoss(prediction: tf.Tensor, target: tf.Tensor): tf.Scalar {
  if (!tf.util.arraysEqual(prediction.shape, target.shape)) {
    throw new ShapeError('target', `the shape of prediction ${formatShape(prediction.shape)}`, formatShape(target.shape), 'l1MseLoss');
  }
  return tf.tidy(() => {
    const difference = tf.sub(prediction, target);
    return tf.add(accurateMean(tf.abs(difference)), accurateMean(tf.square(difference)));
  });
}

/**
 * Convolutional Tensor-Train LSTM network (Su et al., NeurIPS 2020), the official
 * `ConvLSTMNet`: blocks of recurrent layers (`cell: 'convttlstm'`, or the ConvLSTM baseline
 * `'convlstm'`), skip connections every `skipStride` blocks, and a 1×1 output convolution
 * (optionally followed by a sigmoid).
 *
 * Parameters carry the official `state_dict` names: `layers.b{block}l{layer}.…` and
 * `layers.output.{weight,bias}`; see {@link ConvTTLSTMNet.fromCheckpoint} to load the official
 * checkpoints and `saveSafetensors` (in `checkpoint.ts`) to export for PyTorch.
 */
export class ConvTTLSTMNet extends Module {
  /** The resolved configuration. */
  readonly config: NetConfig;
  /** `layers`: the recurrent cells by id (`b0l0`, …) and the output convolution (`output`). */
  readonly layers: ModuleDict<Module>;
  readonly cells: ReadonlyArray<{ readonly id: string; readonly block: number; readonly cell: NetworkCell }>;
  readonly output: Conv2d;

  constructor(options: ConvTTLSTMNetOptions) {
    super();
    this.config = resolveNetOptions(options);
    const rng = resolveRng(options.seed, 'seed', 'ConvTTLSTMNet');
    const { config } = this;
    const cells: Array<{ id: string; block: number; cell: NetworkCell }> = [];
    for (const layer of layerPlan(config)) {
      const cell =
        config.cell === 'convttlstm'
          ? new ConvTTLSTMCell({
              inputChannels: layer.inputChannels,
              hiddenChannels: layer.hiddenChannels,
              order: config.order,
              steps: config.steps,
              ranks: config.ranks,
              kernelSize: config.kernelSize,
              bias: config.bias,
              seed: rng,
            })
          : createBaselineCell({ inputChannels: layer.inputChannels, hiddenChannels: layer.hiddenChannels, kernelSize: config.kernelSize, bias: config.bias, seed: rng });
      cells.push({ id: layer.id, block: layer.block, cell: cell as NetworkCell });
    }
    // The official output layer: Conv2d(channels, input_channels, kernel_size=1, bias=True).
    this.output = new Conv2d({ inChannels: outputLayerChannels(config), outChannels: config.inputChannels, kernelSize: 1, bias: true, seed: rng });
    this.cells = cells;
    this.layers = this.registerModule('layers', new ModuleDict<Module>([...cells.map(({ id, cell }) => [id, cell] as [string, Module]), ['output', this.output]]));
  }

  /** Builds a network from vid options or the official constructor arguments (object or JSON). */
  static fromConfig(config: NetConfigInput, options: { readonly seed?: number | Rng } = {}): ConvTTLSTMNet {
    const resolved = resolveNetConfig(config);
    return new ConvTTLSTMNet({ ...resolved, ...(options.seed !== undefined ? { seed: options.seed } : {}) });
  }

  /**
   * Loads an official checkpoint into a ready model, in one call: a safetensors file or a
   * `torch.save` file (`{"epoch", "model_state_dict"}` as the released `convttlstm-mnist.pt` and
   * `convttlstm-kth.pt`, or a bare state dict), from a path or bytes.
   *
   * `config` is vid's options or the official constructor arguments (an object or JSON, exactly
   * what was passed to `ConvLSTMNet(...)`). Without it, the configuration comes from the file's
   * `__metadata__.config` (files written by {@link ConvTTLSTMNet.saveSafetensors}) or is inferred
   * from the tensor shapes. Missing, unexpected and mis-shaped keys are all listed in one
   * `StateDictError`, with the configuration the checkpoint implies where it differs.
   */
  static async fromCheckpoint(source: string | Uint8Array, config?: NetConfigInput, options: FromCheckpointOptions = {}): Promise<ConvTTLSTMNet> {
    const checkpoint = await readOfficialCheckpoint(source, options);
    const { file, stateDict } = checkpoint;
    let input: NetConfigInput;
    if (config !== undefined) {
      if (options.outputSigmoid !== undefined) {
        throw new ConfigError('outputSigmoid', 'no outputSigmoid option when a config is given (set it in the config)', options.outputSigmoid, 'ConvTTLSTMNet.fromCheckpoint');
      }
      input = config;
    } else {
      const stored = metadataConfig(checkpoint.metadata, file) ?? inferOfficialConfig(stateDict, file);
      input = options.outputSigmoid === undefined ? stored : { ...stored, output_sigmoid: options.outputSigmoid };
    }
    const resolved = resolveNetConfig(input, `ConvTTLSTMNet.fromCheckpoint(${file})`);
    checkStateDict(stateDict, resolved, file);
    const model = new ConvTTLSTMNet({ ...resolved, seed: options.seed ?? 0 });
    try {
      model.loadStateDict(stateDict, { layout: 'torch', source: file });
    } catch (error) {
      model.dispose();
      throw error;
    }
    return model;
  }

  /**
   * The parameters with their official names in PyTorch layouts, on the host: what
   * `ConvLSTMNet.state_dict()` holds.
   */
  exportOfficialStateDict(): Promise<Map<string, HostTensor>> {
    return this.exportStateDict({ layout: 'torch' });
  }

  /**
   * Writes the parameters to a safetensors file with the official names and layouts, and the
   * official constructor arguments in `__metadata__.config`. In PyTorch:
   * `model = ConvLSTMNet(**json.loads(metadata["config"]))`,
   * `model.load_state_dict(safetensors.torch.load_file(path))`.
   */
  async saveSafetensors(path: string, metadata: Readonly<Record<string, string>> = {}): Promise<void> {
    const tensors = await this.exportOfficialStateDict();
    await writeSafetensors(path, tensors, {
      format: 'pt',
      source: '@vid/tensor-train ConvTTLSTMNet (NVlabs/conv-tt-lstm ConvLSTMNet state_dict)',
      config: JSON.stringify(this.officialConfig()),
      ...metadata,
    });
  }

  /** The official constructor arguments of this network (`ConvLSTMNet(**config)` in PyTorch). */
  officialConfig(): ReturnType<typeof toOfficialConfig> {
    return toOfficialConfig(this.config);
  }

  /**
   * The official rollout (`ConvLSTMNet.forward`): `inputFrames + futureFrames − 1` steps; at
   * step t the input is `inputs[:, t]` while `t < inputFrames`, then the previous prediction
   * (test mode) or, with teacher forcing, the ground truth `inputs[:, t]` mixed with the previous
   * prediction by the scheduled-sampling mask. Every step runs all layers (resetting their states
   * at t = 0) and the output convolution; the last `outputFrames` outputs are returned.
   *
   * inputs: `[batch, time, height, width, inputChannels]` with `time ≥ inputFrames` (test mode)
   * or `time ≥ inputFrames + futureFrames − 1` (teacher forcing) →
   * `[batch, outputFrames, height, width, inputChannels]`.
   */
  forward(inputs: tf.Tensor5D, options: RolloutOptions): tf.Tensor5D {
    const plan = this.#planRollout(inputs, options);
    const [batch, , height, width] = inputs.shape;
    return tf.tidy(() => {
      // [B, T, H, W, C] → [T, B, H, W, C] → T × [B, H, W, C]
      const frames = tf.unstack(tf.transpose(inputs, [1, 0, 2, 3, 4])) as tf.Tensor4D[];
      const mask = plan.mask === null ? null : plan.mask instanceof tf.Tensor ? (tf.cast(plan.mask, 'float32') as tf.Tensor2D) : tf.tensor2d(plan.mask, [batch, plan.futureFrames - 1]);
      // A drawn mask's column that is all ones (every sample reads the ground truth: always, at
      // the default ratio 1) or all zeros needs no mixing.
      const uniform = plan.mask instanceof Float32Array ? uniformColumns(plan.mask, batch, plan.futureFrames - 1) : null;
      let states: unknown[] = this.cells.map(({ cell }, i) => cell.zeroState(i === 0 ? (frames[0] as tf.Tensor4D) : tf.zeros([batch, height, width, cell.inputSize])));
      // Split gate kernels once per rollout (not per step); a checkpointed step splits its own,
      // inside its recomputation, so that the gradients reach the parameters.
      const prepared = plan.checkpointing ? undefined : this.cells.map(({ cell }) => cell.prepare?.());
      const outputs: tf.Tensor4D[] = [];
      const firstKept = plan.totalSteps - plan.outputFrames;
      for (let t = 0; t < plan.totalSteps; t++) {
        let x: tf.Tensor4D;
        if (t < plan.inputFrames) x = frames[t] as tf.Tensor4D;
        else if (mask === null || uniform?.[t - plan.inputFrames] === 0) x = outputs[t - 1] as tf.Tensor4D;
        else if (uniform?.[t - plan.inputFrames] === 1) x = frames[t] as tf.Tensor4D;
        else {
          // mask[:, t − inputFrames]: [B] → [B, 1, 1, 1]; ground truth × m + prediction × (1 − m)
          const m = tf.reshape(tf.slice(mask, [0, t - plan.inputFrames], [batch, 1]), [batch, 1, 1, 1]);
          x = tf.add(tf.mul(frames[t] as tf.Tensor4D, m), tf.mul(outputs[t - 1] as tf.Tensor4D, tf.sub(1, m)));
        }
        const current = states;
        // One tidy per step frees its intermediates at once (the tape keeps what backprop needs).
        const result = plan.checkpointing
          ? this.#checkpointedStep(x, current)
          : (tf.tidy(() => this.#step(x, current, prepared) as unknown as tf.TensorContainer) as unknown as { output: tf.Tensor4D; states: unknown[] });
        disposeDropped(current, result.states);
        states = result.states;
        outputs.push(result.output);
        // The previous output is no longer needed unless it is returned.
        if (t >= 1 && t - 1 < firstKept) (outputs[t - 1] as tf.Tensor4D).dispose();
      }
      // outputFrames × [B, H, W, C] → [B, outputFrames, H, W, C]
      return stackFrames(outputs.slice(firstKept));
    });
  }

  /**
   * Test-mode prediction (the official evaluation): the whole `context` is fed, then
   * `futureFrames` frames are predicted from the model's own outputs.
   *
   * context: `[batch, inputFrames, height, width, inputChannels]` →
   * `[batch, futureFrames, height, width, inputChannels]`.
   */
  predict(context: tf.Tensor5D, futureFrames: number): tf.Tensor5D {
    assertRank(context, 5, 'context', 'ConvTTLSTMNet.predict', '[batch, time, height, width, channels]');
    return this.forward(context, { inputFrames: context.shape[1], futureFrames, outputFrames: futureFrames });
  }

  /**
   * The official training step's loss (`code/model_train.py`): the rollout on
   * `frames[:, :−1]` with teacher forcing and scheduled sampling, compared by {@link l1MseLoss}
   * with the last `outputFrames` of `frames`. Use it inside `Adam.computeGradients` /
   * `tf.variableGrads`.
   *
   * frames: `[batch, inputFrames + futureFrames, height, width, inputChannels]` → scalar.
   */
  trainingLoss(frames: tf.Tensor5D, options: TrainingLossOptions): tf.Scalar {
    const context = 'ConvTTLSTMNet.trainingLoss';
    assertKnownKeys(options, LOSS_KEYS, context);
    assertRank(frames, 5, 'frames', context, '[batch, time, height, width, channels]');
    const inputFrames = positiveInteger(options.inputFrames, 'inputFrames', context);
    const futureFrames = positiveInteger(options.futureFrames, 'futureFrames', context);
    const total = inputFrames + futureFrames;
    if (frames.shape[1] !== total) {
      throw new ShapeError('frames', `${total} frames (inputFrames ${inputFrames} + futureFrames ${futureFrames}) on axis 1`, formatShape(frames.shape), context);
    }
    const outputFrames = positiveInteger(options.outputFrames ?? total - 1, 'outputFrames', context);
    return tf.tidy(() => {
      // The rollout reads frames[:, :−1] (its last step is total − 2); target = frames[:, −outputFrames:]
      const target = sliceFrames(frames, total - outputFrames, outputFrames);
      const prediction = this.forward(frames, {
        inputFrames,
        futureFrames,
        outputFrames,
        teacherForcing: true,
        scheduledSamplingRatio: options.scheduledSamplingRatio ?? 1,
        ...(options.rng !== undefined ? { rng: options.rng } : {}),
        ...(options.teacherForcingMask !== undefined ? { teacherForcingMask: options.teacherForcingMask } : {}),
        checkpointing: options.checkpointing ?? false,
      });
      return l1MseLoss(prediction, target);
    });
  }

  /** One time step through every layer and the output convolution. */
  #step(input: tf.Tensor4D, states: readonly unknown[], prepared?: readonly unknown[]): { output: tf.Tensor4D; states: unknown[] } {
    const skip = this.config.skipStride ?? this.config.layersPerBlock.length + 1;
    const next: unknown[] = [];
    const queue: tf.Tensor4D[] = []; // outputs of the previous blocks, for the skip connections
    let x = input;
    let index = 0;
    for (let b = 0; b < this.config.layersPerBlock.length; b++) {
      for (let l = 0; l < (this.config.layersPerBlock[b] as number); l++) {
        const { cell } = this.cells[index] as { cell: NetworkCell };
        const result = cell.step(x, states[index], prepared?.[index]);
        next.push(result.state);
        x = result.output;
        index++;
      }
      queue.push(x);
      // [B, H, W, C_b] ++ [B, H, W, C_{b−skip}] → [B, H, W, C_b + C_{b−skip}]
      if (b >= skip) x = tf.concat([x, queue.shift() as tf.Tensor4D], 3);
    }
    let output = convSame(x, this.output.weight, this.output.bias); // [B, H, W, inputChannels]
    if (this.config.outputSigmoid) output = tf.sigmoid(output);
    return { output, states: next };
  }

  /**
   * One step as a single recorded operation whose backward pass recomputes the step (gradient
   * checkpointing). Its inputs are the frame, the state tensors and the trainable variables; its
   * one output packs the frame prediction and the state tensors the step creates, flattened
   * and concatenated, and is split apart again (a split saves nothing for its gradient, so the
   * packed tensor is freed at once).
   */
  #checkpointedStep(input: tf.Tensor4D, states: readonly unknown[]): { output: tf.Tensor4D; states: unknown[] } {
    const stateInputs = [...new Set(layerStateTensors(states))];
    const variables = this.trainableVariables();
    const count = stateInputs.length;
    const rebuild = (tensors: readonly tf.Tensor[]): unknown[] => mapLayerStates(states, (leaf) => tensors[stateInputs.indexOf(leaf)] as tf.Tensor);
    // Which leaves of the next state are new (packed into the output), by traversal position.
    let freshPositions: boolean[] = [];
    let nextStructure: unknown[] = [];
    const pack = (x: tf.Tensor4D, stateValues: readonly tf.Tensor[], record: boolean): tf.Tensor => {
      const given = new Set(stateValues);
      const result = this.#step(x, rebuild(stateValues));
      const leaves = layerStateTensors(result.states);
      if (record) {
        freshPositions = leaves.map((leaf) => !given.has(leaf));
        nextStructure = result.states;
      }
      const fresh = leaves.filter((_, i) => freshPositions[i]);
      // [B, H, W, C_out], new states [B, H, W, C] … → one flat [B·H·W·(C_out + Σ C)]: a
      // concatenation of contiguous blocks (on channels it would be a strided copy).
      return tf.concat([result.output, ...fresh].map((t) => tf.reshape(t, [-1])), 0);
    };
    const step = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const save = args[args.length - 1] as tf.GradSaveFunc;
      const x = args[0] as tf.Tensor4D;
      const stateValues = args.slice(1, 1 + count) as tf.Tensor[];
      save([x, ...stateValues]);
      return {
        value: pack(x, stateValues, true),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const all = [...saved, ...variables];
          // allowNoGradients: an input the step does not use (a state or a parameter) gets zeros,
          // where tf.grads would throw.
          const grads = recomputeGradients(() =>
            tf.tidy(() => tf.engine().gradients(() => pack(all[0] as tf.Tensor4D, all.slice(1, 1 + count), false), all, dy, true).grads),
          );
          return all.map((tensor, i) => grads[i] ?? tf.zerosLike(tensor));
        },
      };
    });
    return tf.tidy(() => {
      const packed = step(input, ...stateInputs, ...variables);
      const [batch, height, width] = input.shape;
      const shapes: number[][] = [[batch, height, width, this.config.inputChannels], ...layerStateTensors(nextStructure).filter((_, i) => freshPositions[i]).map((t) => t.shape)];
      // [B·H·W·(C_out + Σ C)] → the prediction [B, H, W, C_out] and each new state [B, H, W, C]
      const pieces = tf.split(packed, shapes.map((shape) => shape.reduce((a, b) => a * b, 1)), 0);
      const [output, ...fresh] = pieces.map((piece, i) => tf.reshape(piece, shapes[i] as number[]) as unknown as tf.Tensor4D);
      let next = 0;
      const previous = new Set(stateInputs);
      let position = 0;
      const rebuilt = mapLayerStates(nextStructure, (leaf) => {
        const isFresh = freshPositions[position++] as boolean;
        if (!isFresh && previous.has(leaf)) return leaf;
        return fresh[next++] as tf.Tensor;
      });
      return { output: output as tf.Tensor4D, states: rebuilt } as unknown as tf.TensorContainer;
    }) as unknown as { output: tf.Tensor4D; states: unknown[] };
  }

  #planRollout(
    inputs: tf.Tensor5D,
    options: RolloutOptions,
  ): { inputFrames: number; futureFrames: number; totalSteps: number; outputFrames: number; mask: tf.Tensor | Float32Array | null; checkpointing: boolean } {
    const context = 'ConvTTLSTMNet.forward';
    if (options === null || typeof options !== 'object') throw new ConfigError('options', '{ inputFrames, futureFrames, … }', options, context);
    assertKnownKeys(options, ROLLOUT_KEYS, context);
    assertRank(inputs, 5, 'inputs', context, '[batch, time, height, width, channels]');
    const [batch, time, , , channels] = inputs.shape;
    if (channels !== this.config.inputChannels) {
      throw new ShapeError('inputs', `[batch, time, height, width, ${this.config.inputChannels}] (inputChannels)`, formatShape(inputs.shape), context);
    }
    assertFinite(inputs, 'inputs', context);
    const inputFrames = positiveInteger(options.inputFrames, 'inputFrames', context);
    const futureFrames = positiveInteger(options.futureFrames, 'futureFrames', context);
    const totalSteps = inputFrames + futureFrames - 1;
    const outputFrames = positiveInteger(options.outputFrames ?? futureFrames, 'outputFrames', context);
    if (outputFrames > totalSteps) {
      throw new ConfigError('outputFrames', `at most inputFrames + futureFrames − 1 = ${totalSteps} (the steps of the rollout)`, outputFrames, context);
    }
    const ratio = finiteNumber(options.scheduledSamplingRatio ?? 0, 'scheduledSamplingRatio', context, { min: 0, max: 1 });
    const explicitMask = options.teacherForcingMask;
    if (explicitMask !== undefined && !options.teacherForcing) {
      throw new ConfigError('teacherForcingMask', 'teacherForcing: true alongside a mask', 'teacherForcing false', context);
    }
    // As in the official code: teacher forcing with a ratio ≤ 1e-6 is test mode.
    const teacherForcing = Boolean(options.teacherForcing) && (explicitMask !== undefined || ratio > 1e-6);
    const needed = teacherForcing ? totalSteps : inputFrames;
    if (time < needed) {
      throw new ShapeError(
        'inputs',
        `at least ${needed} frames on axis 1 (${teacherForcing ? `inputFrames + futureFrames − 1 with teacher forcing` : 'inputFrames'})`,
        formatShape(inputs.shape),
        context,
      );
    }
    let mask: tf.Tensor | Float32Array | null = null;
    if (teacherForcing) {
      const rows = futureFrames - 1;
      if (explicitMask !== undefined) {
        mask = maskTensor(explicitMask, batch, rows, context);
      } else {
        let rng: Rng | undefined = options.rng instanceof Rng ? options.rng : options.rng !== undefined ? new Rng(options.rng) : undefined;
        if (rng === undefined) {
          if (ratio < 1) throw new ConfigError('rng', `an Rng or a seed for the scheduled-sampling mask (ratio ${ratio})`, undefined, context);
          rng = new Rng(0); // ratio 1: every draw is 1
        }
        // torch.bernoulli(ratio · ones(batch, futureFrames − 1)): one draw per sample and step
        const values = new Float32Array(batch * rows);
        for (let i = 0; i < values.length; i++) values[i] = rng.bernoulli(ratio) ? 1 : 0;
        mask = values;
      }
    }
    return { inputFrames, futureFrames, totalSteps, outputFrames, mask, checkpointing: Boolean(options.checkpointing) };
  }
}

/** Checks an explicit mask: a `[batch, rows]` tensor (returned as is) or `batch · rows` row-major values. */
function maskTensor(mask: tf.Tensor | ArrayLike<number>, batch: number, rows: number, context: string): tf.Tensor | Float32Array {
  if (mask instanceof tf.Tensor) {
    if (!tf.util.arraysEqual(mask.shape, [batch, rows])) {
      throw new ShapeError('teacherForcingMask', `[${batch}, ${rows}] (batch, futureFrames − 1)`, formatShape(mask.shape), context);
    }
    return mask;
  }
  if (mask.length !== batch * rows) {
    throw new ShapeError('teacherForcingMask', `${batch * rows} values (batch ${batch} × futureFrames − 1 = ${rows}), row-major`, `${mask.length} values`, context);
  }
  return Float32Array.from(mask);
}

/**
 * Runs a nested `tf.grads` inside a gradient function. tfjs keeps one tape: a nested gradient
 * during the outer backward pass replaces it (and clears it when done), so the outer tape is
 * put back afterwards, for the outer pass to dispose its saved tensors.
 */
function recomputeGradients(fn: () => tf.Tensor[]): tf.Tensor[] {
  const state = tf.engine().state;
  const tape = state.activeTape;
  try {
    return fn();
  } finally {
    state.activeTape = tape;
  }
}

/**
 * Per column of a row-major `[rows, columns]` 0/1 mask: 1 when every row is 1, 0 when every row
 * is 0, else null.
 */
function uniformColumns(mask: Float32Array, rows: number, columns: number): Array<0 | 1 | null> {
  return Array.from({ length: columns }, (_, j) => {
    let ones = 0;
    for (let i = 0; i < rows; i++) ones += mask[i * columns + j] as number;
    return ones === rows ? 1 : ones === 0 ? 0 : null;
  });
}
