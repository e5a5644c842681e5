/**
 * `fit`: one call that trains any {@link VideoPredictor} on any clip data with the official
 * recipe of NVlabs/conv-tt-lstm `code/model_train.py`:
 *
 * - loss: L1 + MSE (means) on every one-step output of the teacher-forced rollout (the official
 *   `--output-frames 19` for 10 → 10), through `@vid/models`' `predictionLoss`, with the
 *   scheduled-sampling ratio as the probability of feeding the ground truth at each future step;
 * - Adam (PyTorch's update), gradient clipping by global norm (`clip_grad_norm_`);
 * - after each epoch: the schedules and validation (see `schedule.ts`).
 *
 * Like tfjs `model.fit`, it takes callbacks (`onStepEnd`, `onEpochEnd`, `onCheckpoint`; any of
 * them may stop training), an `AbortSignal`, and returns a history. It touches no files and runs
 * in browsers; `@vid/training/node`'s `train` adds the run directory, checkpoints and resume.
 *
 * Everything is seeded, and the whole state (step, data position, schedules, scheduled-sampling
 * generator) is a plain object handed to `onCheckpoint` and accepted back as `resume`, so a
 * resumed run computes the same losses as an uninterrupted one.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Adam, ConfigError, Rng, type RngState, VidError, clipGradNorm, positiveInteger, sliceFrames } from '@vid/core';
import { type VideoBatch, type VideoClip, batchToTensor } from '@vid/datasets';
import { CopyLastFramePredictor, type VideoPredictor, predictionLoss, reconstructionLoss } from '@vid/models';

import { TRAIN_CONFIG_SCHEMA, type TrainConfig } from '../config/config.js';
import { type ClipSource, epochShuffled, readClips, toBatch } from './clips.js';
import { type Recipe, type ScheduleState, afterValidation, decaySchedules, initialSchedule } from './schedule.js';

/** Training data: a stream of batches addressed by position (sequences consumed so far), and optional validation clips. */
export interface TrainingData {
  /** The training batch that starts at stream position `position`. Float32 in [0, 1], `[batch, time, h, w, c]`. */
  trainBatch(position: number, batchSize: number): Promise<VideoBatch> | VideoBatch;
  /** Sequences of one epoch (Infinity for an endless generator). */
  readonly trainLength: number;
  /** Validation clips of `inputFrames + futureFrames` frames (none: no validation). */
  readonly validation?: ClipSource | null;
}

/** The complete state of a run between two steps (plain data: checkpoints store it as JSON). */
export interface FitState {
  /** Steps done. */
  step: number;
  /** Training sequences consumed. */
  position: number;
  schedule: ScheduleState;
  /** The scheduled-sampling generator. */
  rng: RngState;
  /** Validation MSE of the copy-last-frame baseline (the validation set is fixed: computed once). */
  baselineMse: number | null;
  /** Validations since the best one (early stopping). */
  validationsSinceBest: number;
}

/** One step of the history. */
export interface StepLog {
  /** 1-based step. */
  readonly step: number;
  /** 1-based epoch the step belongs to. */
  readonly epoch: number;
  readonly loss: number;
  readonly lr: number;
  /** The scheduled-sampling ratio the step used. */
  readonly ratio: number;
}

/** Validation after an epoch (test-mode rollout). */
export interface ValidationLog {
  /** The training loss kind on the compared outputs (l1+mse for bce). */
  readonly loss: number;
  /** MSE per pixel of the future frames (predictions clamped to [0, 1]). */
  readonly mse: number;
  /** The same for the copy-last-frame baseline. */
  readonly baselineMse: number;
}

/** One epoch of the history. */
export interface EpochLog {
  /** 1-based epoch. */
  readonly epoch: number;
  readonly step: number;
  /** Null when the epoch was not validated. */
  readonly validation: ValidationLog | null;
  /** A new best validation loss. */
  readonly best: boolean;
  /** Schedule events in order (decays, plateaus). */
  readonly events: readonly string[];
  readonly lr: number;
  readonly ratio: number;
}

/** What `onCheckpoint` receives: the state to save now (a copy). */
export interface FitCheckpoint {
  readonly step: number;
  /** Why now: the cadence, a new best validation loss, the end, or a stop. */
  readonly reason: 'interval' | 'best' | 'end' | 'stopped';
  readonly best: boolean;
  readonly validLoss?: number;
  readonly state: FitState;
  readonly predictor: VideoPredictor;
  readonly optimizer: Adam;
}

/** Given to every callback. */
export interface FitControl {
  /** Stops after the current step (like tfjs `model.stopTraining = true`). */
  stop(reason?: string): void;
  readonly predictor: VideoPredictor;
  readonly optimizer: Adam;
  /** Total steps of the run. */
  readonly totalSteps: number;
  /** The step the run starts from (0, or that of `resume`). */
  readonly initialStep: number;
  readonly stepsPerEpoch: number;
}

/** Callbacks of {@link fit}; each may be async (the loop waits). */
export interface FitCallbacks {
  onTrainBegin?(control: FitControl): void | Promise<void>;
  onStepEnd?(log: StepLog, control: FitControl): void | Promise<void>;
  onEpochEnd?(log: EpochLog, control: FitControl): void | Promise<void>;
  onCheckpoint?(checkpoint: FitCheckpoint, control: FitControl): void | Promise<void>;
  onTrainEnd?(history: FitHistory, control: FitControl): void | Promise<void>;
}

/** Options of {@link fit}. */
export interface FitOptions {
  /** Context frames. */
  readonly inputFrames: number;
  /** Predicted frames; clips hold `inputFrames + futureFrames` frames. */
  readonly futureFrames: number;
  /** Sequences per step. @default 16 */
  readonly batchSize?: number;
  /** Steps per epoch (schedules and validation run after each epoch). @default ⌊trainLength / batchSize⌋, or `maxSteps` for endless data */
  readonly stepsPerEpoch?: number;
  /** @default 1 */
  readonly epochs?: number;
  /** Stop after this many steps in all, even inside an epoch. @default epochs × stepsPerEpoch */
  readonly maxSteps?: number | null;
  /** The recipe; missing fields take the official values (`OFFICIAL_RECIPE`). */
  readonly recipe?: Partial<Recipe>;
  /** Seed of the scheduled-sampling draws. @default 0 */
  readonly seed?: number | string;
  /** Validation batch size. @default 16 */
  readonly validationBatchSize?: number;
  /** Validate after every this many epochs. @default 1 */
  readonly validateEveryEpochs?: number;
  /** Call `onCheckpoint` every this many steps (and at a new best, at the end, on a stop). @default never on a cadence */
  readonly checkpointEverySteps?: number;
  /** Call `onCheckpoint` at a new best validation loss. @default true */
  readonly checkpointBest?: boolean;
  /** Stop when validation has not improved (by more than `minDelta`) for `patience` validations. */
  readonly earlyStopping?: { readonly patience: number; readonly minDelta?: number };
  /** Stops cleanly after the current step (a final `onCheckpoint` with reason `'stopped'`). */
  readonly signal?: AbortSignal;
  readonly callbacks?: FitCallbacks | readonly FitCallbacks[];
  /** An optimizer to use (and keep: the caller disposes it), e.g. with a loaded state. @default a new Adam of the recipe */
  readonly optimizer?: Adam;
  /** Continue from a state that `onCheckpoint` gave (with the weights and optimizer loaded by the caller). */
  readonly resume?: FitState;
  /**
   * Recorded teacher-forcing masks, to replay another run exactly: for a 1-based step, the
   * `[batch, futureFrames − 1]` mask (row-major, 1 = ground truth) that replaces the drawn one,
   * or null to draw it. See also `recordedBatches` for a recorded batch order.
   */
  readonly teacherForcingMasks?: (step: number) => ArrayLike<number> | null;
}

/** What {@link fit} returns. */
export interface FitHistory {
  readonly steps: StepLog[];
  readonly epochs: EpochLog[];
  /** Steps done in all (with those before a resume). */
  readonly step: number;
  readonly totalSteps: number;
  /** Why training ended. */
  readonly stopped: 'completed' | 'aborted' | 'callback' | 'early-stopping';
  /** The reason given to `stop()`, or the early-stopping message. */
  readonly stopReason: string | null;
  /** The final state (resume from it). */
  readonly state: FitState;
}

/** Training diverged: the loss became NaN or infinite. */
export class TrainingDivergedError extends VidError {
  override readonly name = 'TrainingDivergedError';
  constructor(
    readonly step: number,
    readonly loss: number,
    hint = '',
  ) {
    super(
      `the training loss became ${loss} at step ${step}; lower train.learningRate or enable train.gradientClipping.${hint ? ` ${hint}` : ''}`,
    );
  }
}

let officialRecipe: Recipe | undefined;
/** The official recipe (NVlabs/conv-tt-lstm's defaults): the `train` section of the default configuration. */
export function officialRecipeDefaults(): Recipe {
  if (!officialRecipe) {
    const {
      batchSize: _b,
      epochs: _e,
      stepsPerEpoch: _s,
      maxSteps: _m,
      ...recipe
    } = (TRAIN_CONFIG_SCHEMA.parse({}, '', 'OFFICIAL_RECIPE') as TrainConfig).train;
    officialRecipe = Object.freeze(recipe) as Recipe;
  }
  return officialRecipe;
}

/** Options of {@link validatePredictor}. */
export interface ValidateOptions {
  readonly inputFrames: number;
  readonly futureFrames: number;
  /** Outputs the loss compares. @default every one-step output */
  readonly outputFrames?: number;
  readonly loss?: Recipe['loss'];
  /** @default 16 */
  readonly batchSize?: number;
  /** Known baseline MSE of this (fixed) set: skips the baseline. */
  readonly baselineMse?: number | null;
}

/**
 * Validation as the official script: test-mode rollout, loss on the last outputFrames outputs;
 * also the future-frame MSE, and that of `@vid/models`' copy-last-frame baseline.
 */
export async function validatePredictor(
  predictor: VideoPredictor,
  source: ClipSource,
  options: ValidateOptions,
): Promise<ValidationLog> {
  const { inputFrames, futureFrames } = options;
  const total = inputFrames + futureFrames;
  const batchSize = options.batchSize ?? 16;
  const lossKind = options.loss === 'bce' || options.loss === undefined ? 'l1+mse' : options.loss;
  const knownBaseline = options.baselineMse ?? undefined;
  const baseline = new CopyLastFramePredictor({ channels: predictor.channels });
  let lossSum = 0;
  let mseSum = 0;
  let baselineSum = 0;
  let count = 0;
  for (let start = 0; start < source.length; start += batchSize) {
    const clip = batchToTensor(await readClips(source, start, batchSize));
    const n = clip.shape[0];
    const values = tf.tidy(() => {
      const context = sliceFrames(clip, 0, inputFrames);
      const result = predictor.rollout(context, { inputFrames, futureFrames, outputs: 'all' });
      const available = result.predictions.shape[1];
      const used = Math.min(options.outputFrames ?? available, available);
      const outputs = sliceFrames(result.predictions, available - used, used);
      const target = sliceFrames(clip, total - used, used);
      const future = sliceFrames(result.predictions, available - futureFrames, futureFrames);
      const truth = sliceFrames(clip, inputFrames, futureFrames);
      const scalars = [
        reconstructionLoss(lossKind, outputs, target),
        reconstructionLoss('mse', tf.clipByValue(future, 0, 1), truth),
      ];
      if (knownBaseline === undefined)
        scalars.push(reconstructionLoss('mse', baseline.predict(context, futureFrames), truth));
      return tf.stack(scalars);
    });
    // One read-back per batch; batch means weighted by the batch size (the official script:
    // LOSS += loss · batch_size; LOSS /= valid_size).
    const [loss, mse, base] = (await values.data()) as Float32Array;
    tf.dispose([values, clip]);
    lossSum += (loss as number) * n;
    mseSum += (mse as number) * n;
    baselineSum += (base ?? 0) * n;
    count += n;
  }
  const mean = (sum: number): number => sum / Math.max(1, count);
  return { loss: mean(lossSum), mse: mean(mseSum), baselineMse: knownBaseline ?? mean(baselineSum) };
}

/** Trains `predictor` on `data`; see the module comment. The predictor is trained in place. */
export async function fit(predictor: VideoPredictor, data: TrainingData, options: FitOptions): Promise<FitHistory> {
  const context = 'fit';
  const module = predictor.module;
  if (!module) throw new ConfigError('predictor', 'a predictor with parameters', predictor.kind, context);
  const inputFrames = positiveInteger(options.inputFrames, 'inputFrames', context);
  const futureFrames = positiveInteger(options.futureFrames, 'futureFrames', context);
  const batchSize = positiveInteger(options.batchSize ?? 16, 'batchSize', context);
  const recipe: Recipe = { ...officialRecipeDefaults(), ...options.recipe };
  const epochs = positiveInteger(options.epochs ?? 1, 'epochs', context);
  const maxSteps = options.maxSteps ?? null;
  const spe =
    options.stepsPerEpoch !== undefined
      ? positiveInteger(options.stepsPerEpoch, 'stepsPerEpoch', context)
      : Number.isFinite(data.trainLength)
        ? Math.max(1, Math.floor(data.trainLength / batchSize))
        : maxSteps !== null
          ? positiveInteger(maxSteps, 'maxSteps', context)
          : (() => {
              throw new ConfigError(
                'stepsPerEpoch',
                'a number of steps (or maxSteps) for endless data',
                undefined,
                context,
              );
            })();
  const totalSteps = maxSteps === null ? epochs * spe : Math.min(epochs * spe, maxSteps);
  const callbacks: readonly FitCallbacks[] =
    options.callbacks === undefined
      ? []
      : Array.isArray(options.callbacks)
        ? options.callbacks
        : [options.callbacks as FitCallbacks];
  const ownOptimizer = options.optimizer === undefined;
  const optimizer =
    options.optimizer ??
    new Adam(module.namedParameters(), {
      lr: recipe.learningRate,
      betas: [...recipe.betas] as [number, number],
      eps: recipe.eps,
      weightDecay: recipe.weightDecay,
    });
  const rng = new Rng(`${options.seed ?? 0}:scheduled-sampling`);
  const state: FitState = options.resume
    ? { ...options.resume, schedule: { ...options.resume.schedule } }
    : {
        step: 0,
        position: 0,
        schedule: initialSchedule(recipe),
        rng: rng.getState(),
        baselineMse: null,
        validationsSinceBest: 0,
      };
  rng.setState(state.rng);
  let stopped: FitHistory['stopped'] = 'completed';
  let stopReason: string | null = null;
  let stopRequested = false;
  const control: FitControl = {
    stop: (reason?: string) => {
      stopRequested = true;
      if (stopped === 'completed') stopped = 'callback';
      stopReason = reason ?? stopReason;
    },
    predictor,
    optimizer,
    totalSteps,
    initialStep: state.step,
    stepsPerEpoch: spe,
  };
  const snapshot = (): FitState => ({ ...state, schedule: { ...state.schedule }, rng: rng.getState() });
  let lastCheckpointStep = -1;
  const checkpoint = async (reason: FitCheckpoint['reason'], best = false, validLoss?: number): Promise<void> => {
    lastCheckpointStep = state.step;
    const event: FitCheckpoint = {
      step: state.step,
      reason,
      best,
      ...(validLoss !== undefined ? { validLoss } : {}),
      state: snapshot(),
      predictor,
      optimizer,
    };
    for (const callback of callbacks) await callback.onCheckpoint?.(event, control);
  };
  const steps: StepLog[] = [];
  const epochLogs: EpochLog[] = [];
  const outputFrames = recipe.outputFrames ?? undefined;
  let nextBatch: Promise<VideoBatch> | null = null;
  try {
    for (const callback of callbacks) await callback.onTrainBegin?.(control);
    const read = (position: number): Promise<VideoBatch> =>
      Promise.resolve().then(() => data.trainBatch(position, batchSize));
    nextBatch = state.step < totalSteps ? read(state.position) : null;
    while (state.step < totalSteps) {
      if (options.signal?.aborted) {
        stopped = 'aborted';
        stopReason = String(options.signal.reason ?? 'aborted');
        break;
      }
      if (stopRequested) break;
      const batch = await (nextBatch as Promise<VideoBatch>);
      state.position += batchSize;
      // Read the next batch while this step runs (the generator is synchronous, files are async).
      nextBatch = state.step + 1 < totalSteps ? read(state.position) : null;
      const clip = batchToTensor(batch);
      optimizer.lr = state.schedule.lr;
      const mask = options.teacherForcingMasks?.(state.step + 1) ?? null;
      const ratio = state.schedule.ratio;
      const { value, grads } = optimizer.computeGradients(() =>
        predictionLoss(predictor, clip, {
          inputFrames,
          futureFrames,
          ...(outputFrames !== undefined ? { outputFrames } : {}),
          scheduledSamplingRatio: ratio,
          rng,
          loss: recipe.loss,
          ...(mask !== null ? { teacherForcingMask: mask } : {}),
        }),
      );
      const applied = recipe.gradientClipping ? clipGradNorm(grads, recipe.clippingThreshold).grads : grads;
      optimizer.applyGradients(applied);
      const loss = (await value.data())[0] as number;
      tf.dispose([value, clip, ...grads.values(), ...(applied === grads ? [] : applied.values())]);
      state.step++;
      if (!Number.isFinite(loss)) throw new TrainingDivergedError(state.step, loss);
      const epoch = Math.floor((state.step - 1) / spe);
      const log: StepLog = { step: state.step, epoch: epoch + 1, loss, lr: state.schedule.lr, ratio };
      steps.push(log);
      for (const callback of callbacks) await callback.onStepEnd?.(log, control);
      let savedBest = false;
      if (state.step % spe === 0) {
        const events = decaySchedules(state.schedule, epoch, recipe);
        let validation: ValidationLog | null = null;
        let best = false;
        if (data.validation && data.validation.length > 0 && (epoch + 1) % (options.validateEveryEpochs ?? 1) === 0) {
          validation = await validatePredictor(predictor, data.validation, {
            inputFrames,
            futureFrames,
            ...(outputFrames !== undefined ? { outputFrames } : {}),
            loss: recipe.loss,
            batchSize: options.validationBatchSize ?? 16,
            baselineMse: state.baselineMse,
          });
          state.baselineMse = validation.baselineMse;
          const previousBest = state.schedule.minLoss;
          const after = afterValidation(state.schedule, epoch, validation.loss, state.step, recipe);
          best = after.best;
          events.push(...after.events);
          const improved =
            previousBest === null || validation.loss < previousBest - (options.earlyStopping?.minDelta ?? 0);
          state.validationsSinceBest = improved ? 0 : state.validationsSinceBest + 1;
        }
        const epochLog: EpochLog = {
          epoch: epoch + 1,
          step: state.step,
          validation,
          best,
          events,
          lr: state.schedule.lr,
          ratio: state.schedule.ratio,
        };
        epochLogs.push(epochLog);
        for (const callback of callbacks) await callback.onEpochEnd?.(epochLog, control);
        if (best && validation && (options.checkpointBest ?? true)) {
          await checkpoint('best', true, validation.loss);
          savedBest = true;
        }
        if (options.earlyStopping && state.validationsSinceBest >= options.earlyStopping.patience && !stopRequested) {
          stopRequested = true;
          stopped = 'early-stopping';
          stopReason = `no validation improvement for ${state.validationsSinceBest} validations (patience ${options.earlyStopping.patience})`;
        }
      }
      if (!savedBest && options.checkpointEverySteps !== undefined && state.step % options.checkpointEverySteps === 0)
        await checkpoint('interval');
    }
    if (lastCheckpointStep !== state.step && (state.step > 0 || options.resume))
      await checkpoint(state.step >= totalSteps || stopped === 'early-stopping' ? 'end' : 'stopped');
    const history: FitHistory = {
      steps,
      epochs: epochLogs,
      step: state.step,
      totalSteps,
      stopped,
      stopReason,
      state: snapshot(),
    };
    for (const callback of callbacks) await callback.onTrainEnd?.(history, control);
    return history;
  } finally {
    await nextBatch?.catch(() => undefined);
    if (ownOptimizer) optimizer.dispose();
  }
}

/**
 * Training data in a recorded order, to replay another run (e.g. a PyTorch one) batch for batch:
 * step `s` (0-based) reads the clips `order[s]` of `source`.
 */
export function recordedBatches(
  source: ClipSource,
  order: readonly (readonly number[])[],
  validation: ClipSource | null = null,
): TrainingData {
  return {
    trainLength: Infinity,
    validation,
    trainBatch: async (position, batchSize) => {
      const step = Math.floor(position / batchSize);
      const indices = order[step];
      if (!indices)
        throw new ConfigError(
          'batchOrder',
          `a batch for step ${step + 1} (the recorded order has ${order.length} steps)`,
          undefined,
          'recordedBatches',
        );
      if (indices.length !== batchSize)
        throw new ConfigError(
          `batchOrder[${step}]`,
          `${batchSize} clip indices (the batch size)`,
          indices.length,
          'recordedBatches',
        );
      return toBatch(await Promise.all(indices.map((index) => source.get(index))));
    },
  };
}

/** A generator of sequences, as `@vid/datasets`' `MovingMnist` (sequence `i` of its seeded stream). */
export interface SequenceGenerator {
  sequence(index: number): VideoClip;
}

/**
 * Training data from a dataset of `@vid/datasets`: an endless generator (`MovingMnist`: step
 * after step reads the next sequences of its stream) or a finite set of clips (`IndexedSource`,
 * a file, KTH: each epoch in its own seeded permutation). Clips must hold the frames training
 * needs (cut them with the dataset's `sequenceLength`).
 */
export function trainingData(
  train: SequenceGenerator | ClipSource,
  options: { readonly validation?: ClipSource | null; readonly seed?: number | string } = {},
): TrainingData {
  const validation = options.validation ?? null;
  if ('sequence' in train && typeof train.sequence === 'function') {
    const generator = train;
    return {
      trainLength: Infinity,
      validation,
      trainBatch: (position, batchSize) =>
        toBatch(Array.from({ length: batchSize }, (_, i) => generator.sequence(position + i))),
    };
  }
  const source = train as ClipSource;
  if (!(source.length >= 1))
    throw new ConfigError(
      'train',
      'a generator with sequence(index), or clips { length ≥ 1, get(index) }',
      train,
      'trainingData',
    );
  const clipAt = epochShuffled(options.seed ?? 0, source.length);
  return {
    trainLength: source.length,
    validation,
    trainBatch: async (position, batchSize) => {
      const clips: VideoClip[] = [];
      for (let i = 0; i < batchSize; i++) clips.push(await source.get(clipAt(position + i)));
      return toBatch(clips);
    },
  };
}
