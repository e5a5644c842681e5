/**
 * @vid/train (private app): the training loop, its configuration and presets, checkpoints, the
 * run directory, and the pictures (curves, sample grids, GIFs) shared with @vid/eval.
 */

// Configuration
export {
  type ResolveConfigOptions,
  TRAIN_CONFIG_SCHEMA,
  type TrainConfig,
  type TrainConfigInput,
  checkConfig,
  configDocumentation,
  lossOutputFrames,
  readConfigFile,
  resolveConfig,
  stepsPerEpoch,
  totalSteps,
} from './config/config.js';
export { PRESETS, type Preset, type PresetName, describePresets } from './config/presets.js';
export { type FieldDoc, type Schema, deepMerge, describeSchema, setPath, suggest } from './config/schema.js';

// Training
export {
  type ScheduleState,
  type TrainOptions,
  type TrainResult,
  afterValidation,
  decaySchedules,
  formatSummary,
  initialSchedule,
  predictorSpec,
  train,
  writeCurves,
} from './run/train.js';
export {
  CheckpointManager,
  type CheckpointManagerOptions,
  type CheckpointData,
  CheckpointWriteError,
  type FileWriter,
  type LoadedCheckpoint,
  checkpointName,
  describeFsError,
  loadCheckpoint,
  resolveCheckpointDir,
  writeAtomic,
  writeFileSynced,
} from './run/checkpoints.js';
export { type ClipSource, type RunData, fitClip, openRunData, readClips, toBatch } from './run/data.js';
export { type EvaluateOptions, type EvaluationResult, evaluatePredictor } from './run/evaluate.js';
export { MetricsLog, type MetricsRecord } from './run/metrics-log.js';
export { ProgressReporter, type ProgressMode, type ProgressUpdate, formatDuration, formatLoss } from './run/progress.js';
export { RunDirectoryError, defaultRunName, findWorkspaceRoot, prepareRunDir, resolveRunsDir, runsBase } from './run/run-dir.js';

// Pictures
export { COLORS, Canvas, type Color, SERIES_COLORS } from './render/canvas.js';
export { FONT, glyph, textWidth } from './render/font.js';
export { type GifFrame, type GifOptions, encodeGif, lzwEncode } from './render/gif.js';
export { type Panel, type Series, formatTick, niceTicks, plotPanels } from './render/plot.js';
export { type SampleVideos, displayScale, samplesGif, samplesGrid } from './render/samples.js';

// CLI
export { configFromFlags, configureTrainCommand, flagsToOverrides, parseSetValue, registerTrainCommand, runWithSigint } from './cli.js';
