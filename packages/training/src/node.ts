/**
 * @vid/training/node: the Node-only parts of training. `train` runs a configuration in a run
 * directory (config.json, run.json, metrics.jsonl, atomic checkpoints with exact resume,
 * curves and samples), on top of the browser-safe `fit` of `@vid/training`.
 */

// Runs
export { type TrainOptions, type TrainResult, formatSummary, predictorSpec, train, writeCurves } from './run/train.js';
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
export { type RunData, openRunData } from './run/data.js';
export { MetricsLog, type MetricsRecord } from './run/metrics-log.js';
export {
  ProgressReporter,
  type ProgressMode,
  type ProgressUpdate,
  formatDuration,
  formatLoss,
  progressCallback,
} from './run/progress.js';
export {
  RunDirectoryError,
  defaultRunName,
  findWorkspaceRoot,
  prepareRunDir,
  resolveRunsDir,
  runsBase,
} from './run/run-dir.js';

// Configuration files
export { type ResolveConfigOptions, checkDataPaths, readConfigFile, resolveConfig } from './config/file.js';

// Pictures
export { COLORS, type Color, SERIES_COLORS } from './render/colors.js';
export { type GifFrame, type GifOptions, encodeGif } from './render/gif.js';
export {
  type Figure,
  type Panel,
  type Series,
  formatTick,
  niceTicks,
  plotPanels,
  svgToPng,
  svgToRgba,
} from './render/plot.js';
export { type SampleVideos, displayScale, samplesGif, samplesGrid } from './render/samples.js';
