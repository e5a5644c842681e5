/**
 * The one video-prediction network of vid: `ConvLSTMNet` in NVlabs/conv-tt-lstm
 * `code/convlstmnet.py` (commit 1220ff4), with its rollout (test mode, teacher forcing and
 * scheduled sampling) and gradient checkpointing (the official `code_opt/` network), running any
 * convolutional `RecurrentCell` of `@vid/cells`' contract: Conv-TT-LSTM (`@vid/tensor-train`),
 * ConvLSTM and ConvGRU (`@vid/cells`). Its loss is `loss.ts`' `l1MseLoss` (`code/model_train.py`).
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
  type ModuleConfig,
  ModuleDict,
  type Rng,
  ShapeError,
  assertFinite,
  assertKnownKeys,
  assertRank,
  formatShape,
  gradientCheckpoint,
  positiveInteger,
  registerClass,
  resolveRng,
  sliceFrames,
  stackFrames,
  writeSafetensors,
} from '@vid/core';
import { ConvGRUCell, ConvLSTMCell, type RecurrentModule, type RecurrentState, stateTensors } from '@vid/cells';
import { ConvTTLSTMCell } from '@vid/tensor-train';

import {
  type ReadCheckpointOptions,
  checkStateDict,
  inferOfficialConfig,
  metadataConfig,
  readOfficialCheckpoint,
} from './checkpoint.js';
import { l1MseLoss } from './loss.js';
import {
  type ConvRecurrentNetOptions,
  type NetConfig,
  type NetConfigInput,
  layerPlan,
  outputLayerChannels,
  resolveNetConfig,
  resolveNetOptions,
  toOfficialConfig,
} from './network-config.js';
import { TeacherForcing, type TeacherForcingOptions } from './teacher-forcing.js';

/** A layer of the network: any recurrent cell of `@vid/cells`' contract on NHWC frames. */
export type NetworkCell = RecurrentModule<RecurrentState>;

/**
 * Options of {@link ConvRecurrentNet.forward}: the official `forward` arguments. With teacher
 * forcing (see {@link TeacherForcingOptions}; the mask is `[batch, futureFrames − 1]`), future
 * step `t` reads the ground truth `inputs[:, t]` where the mask is 1, and `inputs` must hold
 * `inputFrames + futureFrames − 1` frames.
 */
export interface RolloutOptions extends TeacherForcingOptions {
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
   * Gradient checkpointing per time step (the official `code_opt/` network's `checkpointing`):
   * under a gradient, each step keeps only its inputs (frame and states) and is recomputed in
   * the backward pass. Memory falls from every activation of every step to the states of every
   * step, for about one more forward pass of time. Same numbers either way.
   * @default false
   */
  readonly checkpointing?: boolean;
}

/** Options of {@link ConvRecurrentNet.trainingLoss}: the official training script's protocol. */
export interface TrainingLossOptions extends Omit<TeacherForcingOptions, 'teacherForcing'> {
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
  /** See {@link RolloutOptions.checkpointing}. @default false */
  readonly checkpointing?: boolean;
}

/** Options of {@link ConvRecurrentNet.fromCheckpoint}. */
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

const ROLLOUT_KEYS = [
  'inputFrames',
  'futureFrames',
  'outputFrames',
  'teacherForcing',
  'scheduledSamplingRatio',
  'rng',
  'teacherForcingMask',
  'checkpointing',
] as const;
const LOSS_KEYS = [
  'inputFrames',
  'futureFrames',
  'outputFrames',
  'scheduledSamplingRatio',
  'rng',
  'teacherForcingMask',
  'checkpointing',
] as const;

/**
 * A convolutional recurrent network for video prediction, the official `ConvLSTMNet` design
 * (Su et al., NeurIPS 2020; NVlabs/conv-tt-lstm `code/convlstmnet.py`): blocks of recurrent layers
 * of one cell type (`cell: 'convttlstm'`, the paper's Conv-TT-LSTM of `@vid/tensor-train`;
 * `'convlstm'`, `@vid/cells`' `ConvLSTMCell` with the official gate order `'ifog'`, the paper's
 * baseline; `'convgru'`, `@vid/cells`' `ConvGRUCell`, which has no official counterpart), skip
 * connections every `skipStride` blocks, and a 1×1 output convolution (optionally followed by a
 * sigmoid).
 *
 * Parameters carry the official `state_dict` names: `layers.b{block}l{layer}.…` and
 * `layers.output.{weight,bias}`; see {@link ConvRecurrentNet.fromCheckpoint} to load the official
 * checkpoints and {@link ConvRecurrentNet.saveSafetensors} to export for PyTorch.
 */
export class ConvRecurrentNet extends Module {
  static readonly className = 'ConvRecurrentNet';

  /** The resolved configuration. */
  readonly config: NetConfig;
  /** `layers`: the recurrent cells by id (`b0l0`, …) and the output convolution (`output`). */
  readonly layers: ModuleDict<Module>;
  readonly cells: ReadonlyArray<{ readonly id: string; readonly block: number; readonly cell: NetworkCell }>;
  readonly output: Conv2d;

  constructor(options: ConvRecurrentNetOptions) {
    super();
    this.config = resolveNetOptions(options);
    const rng = resolveRng(options.seed, 'seed', 'ConvRecurrentNet');
    const { config } = this;
    const cells: Array<{ id: string; block: number; cell: NetworkCell }> = [];
    for (const layer of layerPlan(config)) {
      const common = {
        inputChannels: layer.inputChannels,
        hiddenChannels: layer.hiddenChannels,
        kernelSize: config.kernelSize,
        bias: config.bias,
        seed: rng,
      };
      let cell: NetworkCell;
      if (config.cell === 'convttlstm') {
        cell = new ConvTTLSTMCell({
          ...common,
          order: config.order,
          steps: config.steps,
          ranks: config.ranks,
        }) as unknown as NetworkCell;
      } else if (config.cell === 'convlstm') {
        // The official ConvLSTMCell (code/convlstmcell.py): Shi et al. without peepholes, one
        // convolution on [x, h] named `conv`, gates in the order i, f, o, g.
        cell = new ConvLSTMCell({
          ...common,
          peephole: 'none',
          fused: true,
          gateOrder: 'ifog',
        }) as unknown as NetworkCell;
      } else {
        cell = new ConvGRUCell(common) as unknown as NetworkCell;
      }
      cells.push({ id: layer.id, block: layer.block, cell });
    }
    // The official output layer: Conv2d(channels, input_channels, kernel_size=1, bias=True).
    this.output = new Conv2d({
      inChannels: outputLayerChannels(config),
      outChannels: config.inputChannels,
      kernelSize: 1,
      bias: true,
      seed: rng,
    });
    this.cells = cells;
    this.layers = this.registerModule(
      'layers',
      new ModuleDict<Module>([...cells.map(({ id, cell }) => [id, cell] as [string, Module]), ['output', this.output]]),
    );
  }

  /** Builds a network from vid options or the official constructor arguments (object or JSON). */
  static fromConfig(config: NetConfigInput, options: { readonly seed?: number | Rng } = {}): ConvRecurrentNet {
    const resolved = resolveNetConfig(config);
    return new ConvRecurrentNet({ ...resolved, ...(options.seed !== undefined ? { seed: options.seed } : {}) });
  }

  /**
   * The constructor options ({@link Module.getConfig}): the resolved configuration, without the
   * seed (a saved model carries its weights). `new ConvRecurrentNet(net.getConfig())` rebuilds
   * the architecture; `@vid/core`'s `deserializeModule` does so by class name.
   */
  override getConfig(): ModuleConfig {
    const { kernelSize, layersPerBlock, hiddenChannels, ...rest } = this.config;
    return {
      ...rest,
      layersPerBlock: [...layersPerBlock],
      hiddenChannels: [...hiddenChannels],
      kernelSize: [...kernelSize],
    };
  }

  /**
   * Loads an official checkpoint into a ready model, in one call: a safetensors file or a
   * `torch.save` file (`{"epoch", "model_state_dict"}` as the released `convttlstm-mnist.pt` and
   * `convttlstm-kth.pt`, or a bare state dict), from a path or bytes.
   *
   * `config` is vid's options or the official constructor arguments (an object or JSON, exactly
   * what was passed to `ConvLSTMNet(...)`). Without it, the configuration comes from the file's
   * `__metadata__.config` (files written by {@link ConvRecurrentNet.saveSafetensors}) or is inferred
   * from the tensor shapes. Missing, unexpected and mis-shaped keys are all listed in one
   * `StateDictError`, with the configuration the checkpoint implies where it differs.
   */
  static async fromCheckpoint(
    source: string | Uint8Array,
    config?: NetConfigInput,
    options: FromCheckpointOptions = {},
  ): Promise<ConvRecurrentNet> {
    const checkpoint = await readOfficialCheckpoint(source, options);
    const { file, stateDict } = checkpoint;
    let input: NetConfigInput;
    if (config !== undefined) {
      if (options.outputSigmoid !== undefined) {
        throw new ConfigError(
          'outputSigmoid',
          'no outputSigmoid option when a config is given (set it in the config)',
          options.outputSigmoid,
          'ConvRecurrentNet.fromCheckpoint',
        );
      }
      input = config;
    } else {
      const stored = metadataConfig(checkpoint.metadata, file) ?? inferOfficialConfig(stateDict, file);
      input = options.outputSigmoid === undefined ? stored : { ...stored, output_sigmoid: options.outputSigmoid };
    }
    const resolved = resolveNetConfig(input, `ConvRecurrentNet.fromCheckpoint(${file})`);
    checkStateDict(stateDict, resolved, file);
    const model = new ConvRecurrentNet({ ...resolved, seed: options.seed ?? 0 });
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
      source: '@vid/models ConvRecurrentNet (NVlabs/conv-tt-lstm ConvLSTMNet state_dict)',
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
      let states: RecurrentState[] = this.cells.map(({ cell }, i) =>
        cell.zeroState(i === 0 ? (frames[0] as tf.Tensor4D) : tf.zeros([batch, height, width, cell.inputSize])),
      );
      // Once per rollout (not per step): each cell's `prepare` (a split gate kernel); a
      // checkpointed step prepares its own, inside its recomputation, so that the gradients
      // reach the parameters.
      const prepared = plan.checkpointing ? undefined : this.cells.map(({ cell }) => cell.prepare?.());
      const outputs: tf.Tensor4D[] = [];
      const firstKept = plan.totalSteps - plan.outputFrames;
      for (let t = 0; t < plan.totalSteps; t++) {
        let x: tf.Tensor4D;
        if (t < plan.inputFrames) x = frames[t] as tf.Tensor4D;
        else if (plan.mask === null) x = outputs[t - 1] as tf.Tensor4D;
        else x = plan.mask.mix(t - plan.inputFrames, frames[t] as tf.Tensor4D, outputs[t - 1] as tf.Tensor4D);
        const current = states;
        // One tidy per step frees its intermediates at once (the tape keeps what backprop needs).
        const result = plan.checkpointing
          ? this.#checkpointedStep(x, current)
          : (tf.tidy(() => this.#step(x, current, prepared) as unknown as tf.TensorContainer) as unknown as {
              output: tf.Tensor4D;
              states: RecurrentState[];
            });
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
    assertRank(context, 5, 'context', 'ConvRecurrentNet.predict', '[batch, time, height, width, channels]');
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
    const context = 'ConvRecurrentNet.trainingLoss';
    assertKnownKeys(options, LOSS_KEYS, context);
    assertRank(frames, 5, 'frames', context, '[batch, time, height, width, channels]');
    const inputFrames = positiveInteger(options.inputFrames, 'inputFrames', context);
    const futureFrames = positiveInteger(options.futureFrames, 'futureFrames', context);
    const total = inputFrames + futureFrames;
    if (frames.shape[1] !== total) {
      throw new ShapeError(
        'frames',
        `${total} frames (inputFrames ${inputFrames} + futureFrames ${futureFrames}) on axis 1`,
        formatShape(frames.shape),
        context,
      );
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
  #step(
    input: tf.Tensor4D,
    states: readonly RecurrentState[],
    prepared?: readonly unknown[],
  ): { output: tf.Tensor4D; states: RecurrentState[] } {
    const skip = this.config.skipStride ?? this.config.layersPerBlock.length + 1;
    const next: RecurrentState[] = [];
    const queue: tf.Tensor4D[] = []; // outputs of the previous blocks, for the skip connections
    let x = input;
    let index = 0;
    for (let b = 0; b < this.config.layersPerBlock.length; b++) {
      for (let l = 0; l < (this.config.layersPerBlock[b] as number); l++) {
        const { cell } = this.cells[index] as { cell: NetworkCell };
        const result = cell.step(x, states[index] as RecurrentState, prepared?.[index]);
        next.push(result.state);
        x = result.output as tf.Tensor4D;
        index++;
      }
      queue.push(x);
      // [B, H, W, C_b] ++ [B, H, W, C_{b−skip}] → [B, H, W, C_b + C_{b−skip}]
      if (b >= skip) x = tf.concat([x, queue.shift() as tf.Tensor4D], 3);
    }
    let output = this.output.apply(x); // [B, H, W, inputChannels]
    if (this.config.outputSigmoid) output = tf.sigmoid(output);
    return { output, states: next };
  }

  /**
   * One step under gradient checkpointing (`@vid/core`'s `gradientCheckpoint`): recorded as one
   * operation on the frame, the state tensors and the trainable variables, recomputed in the
   * backward pass. States that the step passes through unchanged stay the same tensors.
   */
  #checkpointedStep(
    input: tf.Tensor4D,
    states: readonly RecurrentState[],
  ): { output: tf.Tensor4D; states: RecurrentState[] } {
    return gradientCheckpoint(
      ({ x, states: before }) => this.#step(x, before),
      { x: input, states },
      this.trainableVariables(),
    );
  }

  #planRollout(
    inputs: tf.Tensor5D,
    options: RolloutOptions,
  ): {
    inputFrames: number;
    futureFrames: number;
    totalSteps: number;
    outputFrames: number;
    mask: TeacherForcing | null;
    checkpointing: boolean;
  } {
    const context = 'ConvRecurrentNet.forward';
    if (options === null || typeof options !== 'object')
      throw new ConfigError('options', '{ inputFrames, futureFrames, … }', options, context);
    assertKnownKeys(options, ROLLOUT_KEYS, context);
    assertRank(inputs, 5, 'inputs', context, '[batch, time, height, width, channels]');
    const [batch, time, , , channels] = inputs.shape;
    if (channels !== this.config.inputChannels) {
      throw new ShapeError(
        'inputs',
        `[batch, time, height, width, ${this.config.inputChannels}] (inputChannels)`,
        formatShape(inputs.shape),
        context,
      );
    }
    assertFinite(inputs, 'inputs', context);
    const inputFrames = positiveInteger(options.inputFrames, 'inputFrames', context);
    const futureFrames = positiveInteger(options.futureFrames, 'futureFrames', context);
    const totalSteps = inputFrames + futureFrames - 1;
    const outputFrames = positiveInteger(options.outputFrames ?? futureFrames, 'outputFrames', context);
    if (outputFrames > totalSteps) {
      throw new ConfigError(
        'outputFrames',
        `at most inputFrames + futureFrames − 1 = ${totalSteps} (the steps of the rollout)`,
        outputFrames,
        context,
      );
    }
    // [batch, futureFrames − 1]: future steps 1 … futureFrames − 1 may read the ground truth.
    const mask = TeacherForcing.resolve(options, batch, futureFrames - 1, context);
    const needed = mask ? totalSteps : inputFrames;
    if (time < needed) {
      throw new ShapeError(
        'inputs',
        `at least ${needed} frames on axis 1 (${mask ? `inputFrames + futureFrames − 1 with teacher forcing` : 'inputFrames'})`,
        formatShape(inputs.shape),
        context,
      );
    }
    return { inputFrames, futureFrames, totalSteps, outputFrames, mask, checkpointing: Boolean(options.checkpointing) };
  }
}

registerClass(ConvRecurrentNet);

/** Every tensor of a list of per-layer states, layer by layer (`@vid/cells`' `stateTensors` of each). */
function layerStateTensors(states: readonly RecurrentState[]): tf.Tensor[] {
  return states.flatMap((state) => stateTensors(state));
}

/**
 * Disposes the tensors of the per-layer states `previous` that `next` no longer holds (states
 * share tensors: the window of a Conv-TT-LSTM keeps `steps − 1` of its hidden states from one
 * step to the next).
 */
function disposeDropped(previous: readonly RecurrentState[], next: readonly RecurrentState[]): void {
  const alive = new Set<tf.Tensor>(layerStateTensors(next));
  for (const tensor of layerStateTensors(previous)) {
    if (!alive.has(tensor) && !tensor.isDisposed) tensor.dispose();
  }
}
