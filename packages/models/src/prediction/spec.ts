/**
 * JSON specifications of video predictors: what a configuration file, a checkpoint's metadata
 * or a CLI flag holds to rebuild a model. `createPredictor(spec)` builds one.
 */

/** The paper's network (NVlabs/conv-tt-lstm `ConvLSTMNet`), optionally on space-to-depth patches. */
export interface ConvTTLSTMNetSpec {
  readonly type: 'convttlstm-net';
  /**
   * The network: vid options (`{ inputChannels, layersPerBlock, hiddenChannels, cell, … }`) or
   * the official constructor arguments (`{ input_channels, layers_per_block, … }`), as
   * `ConvTTLSTMNet.fromConfig` accepts them. With patches, `inputChannels` counts the patched
   * channels (`patchSize² · frame channels`).
   */
  readonly network: Readonly<Record<string, unknown>>;
  /**
   * Side of the square space-to-depth patches the network runs on (1: the frames themselves).
   * @default 1
   */
  readonly patchSize?: number;
}

/** Shi et al. 2015's encoder-forecaster (`@vid/cells` `EncoderForecaster` options, without the seed). */
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
export type PredictorSpec = ConvTTLSTMNetSpec | EncoderForecasterSpec | CopyLastFrameSpec;

/** The predictor types `createPredictor` knows. */
export const PREDICTOR_TYPES = ['convttlstm-net', 'encoder-forecaster', 'copy-last-frame'] as const;
