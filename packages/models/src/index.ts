/**
 * @vid/models: whole video models — video predictors behind one interface (and, later,
 * recognition models: LRCN, Beyond-Short-Snippets, early activity recognition).
 */

// ─── Video prediction ────────────────────────────────────────────────────────────────────────
// The contract
export type { PredictorRolloutOptions, PredictorRolloutResult, VideoPredictor } from './prediction/predictor.js';
export { type ConvTTLSTMNetSpec, type CopyLastFrameSpec, type EncoderForecasterSpec, PREDICTOR_TYPES, type PredictorSpec } from './prediction/spec.js';
// Losses
export {
  PREDICTION_LOSSES,
  type PredictionLossKind,
  type PredictionLossOptions,
  accurateMean,
  l1MseLoss,
  predictionLoss,
  reconstructionLoss,
  sliceFrames,
} from './prediction/loss.js';
// Adapters and the baseline
export { ConvTTLSTMPredictor } from './prediction/convttlstm-net.js';
export { EncoderForecasterPredictor } from './prediction/encoder-forecaster.js';
export { CopyLastFramePredictor } from './prediction/baseline.js';
// Building, saving, loading; presets
export {
  type CreatePredictorOptions,
  type LoadPredictorOptions,
  PREDICTOR_PRESETS,
  type PredictorPreset,
  type PredictorPresetName,
  createPredictor,
  loadPredictor,
  loadPredictorWeights,
  predictorWeights,
  readWeightsFile,
  validatePredictorSpec,
} from './prediction/registry.js';
