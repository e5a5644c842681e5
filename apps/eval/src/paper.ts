/**
 * The published numbers of Su et al. 2020 (Convolutional Tensor-Train LSTM, NeurIPS 2020,
 * Table 1: Moving-MNIST-2), with the conventions they were computed in: NVlabs/conv-tt-lstm
 * `code/model_test.py` — predictions clamped to [0, 1]; MSE per pixel (`compare_mse`, reported
 * ×10⁻³); SSIM by `compare_ssim` on float frames without `data_range` (scikit-image infers R = 2,
 * 7×7 uniform window, sample covariance); LPIPS (AlexNet, v0.1) fed [0, 1] frames as they are
 * (reported ×10⁻³). `@vid/metrics`' protocol `convttlstm` reproduces exactly these conventions.
 */

/** One published row. */
export interface PaperRow {
  readonly model: string;
  readonly mse: number;
  readonly ssim: number;
  readonly lpips: number;
}

/** A published comparison for an evaluation preset. */
export interface PaperTable {
  readonly source: string;
  readonly convention: string;
  readonly rows: readonly PaperRow[];
}

const SOURCE = 'Su et al. 2020, Convolutional Tensor-Train LSTM for Spatio-Temporal Learning (NeurIPS), Table 1';
const CONVENTION =
  'NVlabs/conv-tt-lstm code/model_test.py: predictions clamped to [0, 1]; MSE per pixel; SSIM skimage compare_ssim on floats (inferred R = 2, 7×7 uniform, sample covariance); LPIPS AlexNet v0.1 on [0, 1] frames fed as is';

/** Published numbers by evaluation preset. */
export const PAPER_NUMBERS: Readonly<Record<string, PaperTable>> = {
  'mmnist-10-30': {
    source: SOURCE,
    convention: CONVENTION,
    rows: [
      { model: 'Conv-TT-LSTM (paper)', mse: 25.81e-3, ssim: 0.84, lpips: 90.38e-3 },
      { model: 'ConvLSTM (paper)', mse: 33.08e-3, ssim: 0.806, lpips: 140.1e-3 },
    ],
  },
  'mmnist-10-10': {
    source: SOURCE,
    convention: CONVENTION,
    rows: [{ model: 'Conv-TT-LSTM (paper)', mse: 12.96e-3, ssim: 0.915, lpips: 40.54e-3 }],
  },
};
