/**
 * @vid/eval (private app): evaluation of vid and official checkpoints under the paper's
 * protocols, prediction of new clips, scoring of prediction arrays, reports.
 */
export {
  EVAL_PRESETS,
  type EvalPreset,
  type EvaluateCheckpointOptions,
  type EvaluateCheckpointResult,
  evaluateCheckpoint,
  latestRun,
} from './evaluate.js';
export { type LoadedModel, loadModel, modelConfig, readModelConfig } from './models.js';
export { PAPER_NUMBERS, type PaperRow, type PaperTable } from './paper.js';
export { type PredictOptions, predictClip } from './predict.js';
export {
  type ReportEntry,
  conventionLines,
  csvReport,
  curvesPlot,
  jsonReport,
  markdownReport,
  writeReports,
} from './report.js';
export { ALL_PROTOCOLS, type ScoreOptions, type ScoreResult, scorePredictions } from './score.js';
export { type VideoArray, readVideoArray, toVideoArray } from './arrays.js';
export { cliErrorMessage, runCli } from './errors.js';
export { configureEvalCommand, registerEvalCommand, registerPredictCommand, registerScoreCommand } from './cli.js';
