/**
 * @vid/training: training for vid video predictors, browser-safe. `fit` trains any
 * `VideoPredictor` of `@vid/models` on any clips of `@vid/datasets` with the official recipe
 * (NVlabs/conv-tt-lstm: L1 + MSE on all one-step outputs, Adam, clipping, scheduled sampling and
 * learning-rate schedules), with callbacks, an AbortSignal and a returned history. Run
 * directories, checkpoints, resume and pictures are in `@vid/training/node`.
 */

// The loop
export {
  type EpochLog,
  type FitCallbacks,
  type FitCheckpoint,
  type FitControl,
  type FitHistory,
  type FitOptions,
  type FitState,
  type SequenceGenerator,
  type StepLog,
  type TrainingData,
  TrainingDivergedError,
  type ValidateOptions,
  type ValidationLog,
  fit,
  officialRecipeDefaults,
  recordedBatches,
  trainingData,
  validatePredictor,
} from './loop/fit.js';
export { type Recipe, type ScheduleState, afterValidation, decaySchedules, initialSchedule } from './loop/schedule.js';
export { type ClipSource, epochShuffled, fitClip, readClips, toBatch } from './loop/clips.js';
export { type EvaluateOptions, type EvaluationResult, evaluatePredictor } from './loop/evaluate.js';

// Configuration
export {
  type ResolveConfigValuesOptions,
  TRAIN_CONFIG_SCHEMA,
  type TrainConfig,
  type TrainConfigInput,
  checkConfig,
  configDocumentation,
  lossOutputFrames,
  resolveConfigValues,
  stepsPerEpoch,
  totalSteps,
  trainConfigJsonSchema,
} from './config/config.js';
export { PRESETS, type Preset, type PresetName, describePresets } from './config/presets.js';
export {
  type FieldDoc,
  type Schema,
  deepMerge,
  describeSchema,
  jsonSchema,
  setPath,
  suggest,
} from './config/schema.js';
