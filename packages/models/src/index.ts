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
export {
  ConvStack,
  type ConvStackOptions,
  type ConvTrunk,
  type FrameEncoder,
  SmallCnn,
  type SmallCnnOptions,
  applyToFrames,
} from './recognition/encoder.js';
export {
  PREDICTION_AGGREGATIONS,
  type PredictionAggregation,
  aggregatePredictions,
  linearTimeWeights,
} from './recognition/aggregate.js';

// LRCN (Donahue et al. 2015) and the deep LSTM of Ng et al. 2015
export {
  DeepLSTMNet,
  FrameLSTMClassifier,
  type FrameLSTMOptions,
  type FrameLSTMResult,
  LRCN,
  type StepWeighting,
} from './recognition/lrcn.js';

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

// Synthetic recognition tasks
export {
  type MovingGlyphOptions,
  type MovingGlyphTask,
  type SyntheticVideos,
  movingGlyphVideos,
} from './recognition/synthetic.js';
// ─── end of Recognition ──────────────────────────────────────────────────────────────────────

// ─── Video prediction ────────────────────────────────────────────────────────────────────────
// The one network (the official ConvLSTMNet design, any cell), its configuration and checkpoints
export {
  ConvRecurrentNet,
  type FromCheckpointOptions,
  type NetworkCell,
  type RolloutOptions,
  type TrainingLossOptions,
} from './prediction/network.js';
export {
  CELL_TYPES,
  type CellType,
  type ConvRecurrentNetOptions,
  type NetConfig,
  type NetConfigInput,
  OFFICIAL_CELL_TYPES,
  type OfficialNetConfig,
  fromOfficialConfig,
  isOfficialConfig,
  resolveNetConfig,
  toOfficialConfig,
} from './prediction/network-config.js';
export {
  type OfficialCheckpoint,
  type ReadCheckpointOptions,
  checkStateDict,
  inferOfficialConfig,
  readOfficialCheckpoint,
} from './prediction/checkpoint.js';
export {
  type FlopsReport,
  type LayerFlops,
  countParameters,
  flopsPerStep,
  officialParameterShapes,
} from './prediction/complexity.js';
// Shi et al. 2015's encoder-forecaster and space-to-depth patches
export {
  EncoderForecaster,
  type EncoderForecasterOptions,
  type ForecastOptions,
  type ForecastResult,
  type ForecasterInput,
} from './prediction/encoder-forecaster.js';
export { depthToSpace, spaceToDepth } from './prediction/patches.js';
// Teacher forcing (the one mixer) and the losses
export {
  TeacherForcing,
  type TeacherForcingMask,
  type TeacherForcingOptions,
  scheduledSampling,
} from './prediction/teacher-forcing.js';
export {
  PREDICTION_LOSSES,
  type PredictionLossKind,
  type PredictionLossOptions,
  l1MseLoss,
  predictionLoss,
  reconstructionLoss,
} from './prediction/loss.js';
// The predictor contract, its adapters and the baseline
export type { PredictorRolloutOptions, PredictorRolloutResult, VideoPredictor } from './prediction/predictor.js';
export {
  type ConvRecurrentNetSpec,
  type CopyLastFrameSpec,
  type EncoderForecasterSpec,
  PREDICTOR_TYPES,
  type PredictorSpec,
} from './prediction/spec.js';
export { ConvRecurrentPredictor } from './prediction/network-predictor.js';
export { EncoderForecasterPredictor } from './prediction/encoder-forecaster-predictor.js';
export { CopyLastFramePredictor } from './prediction/baseline.js';
// Building, saving, loading; presets
export {
  type CreatePredictorOptions,
  type LoadPredictorOptions,
  PREDICTOR_METADATA_KEY,
  type PredictorMetadata,
  type SavePredictorOptions,
  createPredictor,
  isSavedModel,
  loadPredictor,
  savePredictor,
  validatePredictorSpec,
} from './prediction/registry.js';
// The preset registries: model presets and dataset protocols
export {
  PREDICTION_PROTOCOLS,
  PREDICTOR_PRESETS,
  type PredictionProtocol,
  type PredictionProtocolName,
  type PredictorPreset,
  type PredictorPresetName,
  paperNetwork,
} from './prediction/presets.js';
