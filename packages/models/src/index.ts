/**
 * @vid/models: whole video architectures built from the vid packages — recognition models
 * (LRCN, Beyond Short Snippets, early activity recognition), optical flow, and video predictors.
 *
 * @module @vid/models
 */

// ─── Recognition ─────────────────────────────────────────────────────────────────────────────
// Optical flow
export { type HornSchunckOptions, hornSchunck, videoFlow, warpBilinear } from './flow/horn-schunck.js';

// Video classification: shared contract, per-frame encoders, aggregation
export {
  type EvaluateOptions,
  type VideoClassification,
  type VideoClassifier,
  disposeResult,
  evaluateAccuracy,
  predictClasses,
} from './recognition/classifier.js';
export { ConvStack, type ConvStackOptions, type ConvTrunk, type FrameEncoder, SmallCnn, type SmallCnnOptions, applyToFrames } from './recognition/encoder.js';
export { PREDICTION_AGGREGATIONS, type PredictionAggregation, aggregatePredictions, linearTimeWeights } from './recognition/aggregate.js';

// LRCN (Donahue et al. 2015) and the deep LSTM of Ng et al. 2015
export { DeepLSTMNet, FrameLSTMClassifier, type FrameLSTMOptions, type FrameLSTMResult, LRCN, type StepWeighting } from './recognition/lrcn.js';

// Beyond Short Snippets (Ng et al. 2015): feature pooling and the two-stream fusion
export {
  FEATURE_POOLINGS,
  type FeaturePooling,
  FeaturePoolingNet,
  type FeaturePoolingNetOptions,
  type FeaturePoolingResult,
  TemporalConv,
  type TemporalConvOptions,
  maxOverTime,
  temporalConv,
  temporalMaxPool,
  temporalWindows,
} from './recognition/pooling.js';
export { TwoStreamNet, type TwoStreamNetOptions, type TwoStreamResult } from './recognition/two-stream.js';

// Early activity recognition (Su et al. 2020 / Wang et al. 2019 protocol)
export {
  type EarlyAccuracy,
  type EarlyRecognitionResult,
  EarlyRecognizer,
  type EarlyRecognizerOptions,
  evaluateEarlyRecognition,
  observeFirst,
  observedFrames,
} from './recognition/early.js';
export { type ConvCell, ConvCellAdapter, asRecurrentCell } from './recognition/adapters.js';

// Synthetic recognition tasks
export { type MovingGlyphOptions, type MovingGlyphTask, type SyntheticVideos, movingGlyphVideos } from './recognition/synthetic.js';
// ─── end of Recognition ──────────────────────────────────────────────────────────────────────

// ─── Video prediction ────────────────────────────────────────────────────────────────────────
// The contract
export type { PredictorRolloutOptions, PredictorRolloutResult, VideoPredictor } from './prediction/predictor.js';
export { type ConvTTLSTMNetSpec, type CopyLastFrameSpec, type EncoderForecasterSpec, PREDICTOR_TYPES, type PredictorSpec } from './prediction/spec.js';
// Losses
export {
  PREDICTION_LOSSES,
  type PredictionLossKind,
  type PredictionLossOptions,
  predictionLoss,
  reconstructionLoss,
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
