/**
 * @vid/metrics: MSE, MAE, PSNR, SSIM, LPIPS and FVD for video prediction, with the conventions
 * the papers used, named, and per-frame evaluation.
 */

// Pixel metrics
export { type PixelErrorOptions, type PixelReduction, type PsnrOptions, type Quantization, mae, mse, psnr, quantizeUint8 } from './pixel.js';

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
  ssimWindow1d,
} from './ssim.js';
