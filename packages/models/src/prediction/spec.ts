/**
 * JSON specifications of video predictors: what a configuration file, a checkpoint's metadata
 * or a CLI flag holds to rebuild a model. `createPredictor(spec)` builds one.
 */

/**
 * The video-prediction network (`ConvRecurrentNet`, the NVlabs/conv-tt-lstm `ConvLSTMNet` design
 * with any cell), optionally on space-to-depth patches. Files written before the rename carry
 * `type: 'convttlstm-net'`, which is read as this.
 */
export interface ConvRecurrentNetSpec {
  readonly type: 'conv-recurrent-net';
  /**
   * The network: vid options (`{ inputChannels, layersPerBlock, hiddenChannels, cell, … }`) or
   * the official constructor arguments (`{ input_channels, layers_per_block, … }`), as
   * `ConvRecurrentNet.fromConfig` accepts them. With patches, `inputChannels` counts the patched
   * channels (`patchSize² · frame channels`).
   */
  readonly network: Readonly<Record<string, unknown>>;
  /**
   * Side of the square space-to-depth patches the network runs on (1: the frames themselves).
   * @default 1
   */
  readonly patchSize?: number;
}

/** Shi et al. 2015's encoder-forecaster (`EncoderForecaster` options, without the seed). */
export interface EncoderForecasterSpec {
  readonly type: 'encoder-forecaster';
  readonly options: Readonly<Record<string, unknown>>;
}

/** The copy-last-frame baseline. */
export interface CopyLastFrameSpec {
  readonly type: 'copy-last-frame';
  /** @default 1 */
  readonly channels?: number;
}

/** Any predictor specification. */
export type PredictorSpec = ConvRecurrentNetSpec | EncoderForecasterSpec | CopyLastFrameSpec;

/** The predictor types `createPredictor` knows. */
export const PREDICTOR_TYPES = ['conv-recurrent-net', 'encoder-forecaster', 'copy-last-frame'] as const;

/** Spec types of files written by earlier versions, and the type each is read as. */
export const LEGACY_PREDICTOR_TYPES: Readonly<Record<string, (typeof PREDICTOR_TYPES)[number]>> = {
  'convttlstm-net': 'conv-recurrent-net',
};
