/**
 * @vid/metrics: MSE, MAE, PSNR, SSIM, LPIPS and FVD for video prediction, with the conventions
 * the papers used, named, and per-frame evaluation.
 *
 * @module @vid/metrics
 */

// Pixel metrics
export {
  PSNR_CAP_DB,
  type PixelErrorOptions,
  type PixelReduction,
  type PsnrOptions,
  type Quantization,
  mae,
  mse,
  psnr,
  quantizeUint8,
  resolvePsnrOptions,
} from './pixel.js';

// SSIM
export {
  SSIM_PRESETS,
  type SsimConfig,
  type SsimCovariance,
  type SsimOptions,
  type SsimPreset,
  type SsimWindow,
  describeSsim,
  resolveSsimConfig,
  ssim,
  ssimHost,
  ssimWindow1d,
} from './ssim.js';

// LPIPS
export {
  LPIPS,
  LPIPS_INPUT_PRESETS,
  type LpipsInputConvention,
  type LpipsInputPreset,
  type LpipsInputRange,
  type LpipsLoadOptions,
  type LpipsLoadReport,
  type LpipsOptions,
} from './lpips/lpips.js';
export {
  Fire,
  LPIPS_TRUNKS,
  LpipsTrunk,
  type LpipsNet,
  NetLinLayer,
  type TrunkDefinition,
  type TrunkLayer,
  TrunkSlice,
  maxPool2d,
  sliceOfFeature,
  trunkFeatureSizes,
} from './lpips/trunks.js';
export {
  LPIPS_SCALING,
  type LpipsWeightSource,
  type NameMapping,
  type WeightTensor,
  normalizeLpipsNames,
  readWeightSource,
} from './lpips/weights.js';

// FVD
export {
  type CovarianceKind,
  FeatureStatistics,
  FrechetVideoDistance,
  type FrechetVideoDistanceOptions,
  type GaussianStatistics,
  type VideoFeatureExtractor,
  frechetDistance,
  frechetDistanceFromFeatures,
} from './fvd/fvd.js';
export { type SymmetricEigen, sqrtPsd, symmetricEigen } from './fvd/linalg.js';

// Per-frame evaluation
export {
  EVALUATION_PROTOCOLS,
  type EvaluationProtocol,
  type FrameMetricName,
  FrameMetrics,
  type FrameMetricsOptions,
  type FrameMetricsResult,
  type MetricSeries,
  type OutOfRangePolicy,
  type ProtocolDefinition,
  evaluateFrames,
  formatMetricsTable,
} from './evaluate.js';
