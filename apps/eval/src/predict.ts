/**
 * `vid predict`: runs a model on the user's own clips. The input is an `.npy` array `[T, H, W, C]`
 * or `[B, T, H, W, C]` (float32 in [0, 1], or uint8) or a video file (decoded by ffmpeg); every
 * input frame is context, and `future` frames are predicted. The output `.npy` holds the
 * predicted frames in the input's layout (float32).
 */

import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError, initBackend, positiveInteger } from '@vid/core';
import { writeNpy } from '@vid/datasets';
import { samplesGif } from '@vid/training/node';

import { readVideoArray } from './arrays.js';
import { DEFAULT_PRETRAINED } from '@vid/pretrained';

import { loadModel, loadShippedModel } from './models.js';
import { writeOutput } from './report.js';

/** Options of {@link predictClip}. */
export interface PredictOptions {
  /** Weights: a vid checkpoint/run folder, a `.safetensors` or an official `.pt`. Default: the shipped model `model`. */
  readonly weights?: string;
  /** A shipped model of `@vid/pretrained` by name (instead of `weights`). @default DEFAULT_PRETRAINED ('mmnist-convttlstm') when no weights are given */
  readonly model?: string;
  /** A vid config, the official ConvLSTMNet arguments (file or inline JSON) or a predictor spec; optional for vid checkpoints. */
  readonly config?: string;
  readonly input: string;
  readonly future: number;
  readonly output: string;
  /** Also write an animated GIF (input | prediction). */
  readonly gif?: string;
  /** Resize the input frames to `[height, width]` first (e.g. a video to the model's training size). */
  readonly size?: readonly [number, number];
  /** Clips per forward pass. @default 4 */
  readonly batchSize?: number;
  readonly initBackend?: boolean;
  readonly log?: (line: string) => void;
}

/** Predicts the future of each input clip and writes it; returns the output shape. */
export async function predictClip(options: PredictOptions): Promise<{ shape: number[] }> {
  const context = 'vid predict';
  const future = positiveInteger(options.future, '--future', context);
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (options.initBackend ?? true) await initBackend({ log });
  if (options.weights !== undefined && options.model !== undefined)
    throw new ConfigError('--model', 'either --model or --weights, not both', options.model, context);
  if (options.model !== undefined && options.config !== undefined)
    throw new ConfigError(
      '--config',
      'no --config with --model (a shipped model carries its architecture)',
      options.config,
      context,
    );
  const model =
    options.weights !== undefined
      ? await loadModel(options.weights, options.config)
      : await loadShippedModel(options.model ?? DEFAULT_PRETRAINED);
  const { predictor } = model;
  try {
    const input = await readVideoArray(options.input, {
      channels: predictor.channels,
      ...(options.size ? { size: options.size } : {}),
    });
    const [b, t, h, w, c] = input.shape;
    if (c !== predictor.channels)
      throw new ShapeError(
        '--input',
        `frames with ${predictor.channels} channel(s) (the model's)`,
        `[${input.shape.join(', ')}] (${c} channels)`,
        context,
      );
    if (h % predictor.sizeMultiple !== 0 || w % predictor.sizeMultiple !== 0) {
      throw new ConfigError(
        '--input',
        `frames whose height and width are multiples of ${predictor.sizeMultiple} (the model's patch size); pass --size`,
        `${h}×${w}`,
        context,
      );
    }
    log(`vid predict: ${model.description}; ${b} clip(s) of ${t} frames ${h}×${w}×${c} → ${future} future frames`);
    const clipSize = t * h * w * c;
    const outSize = future * h * w * c;
    const out = new Float32Array(b * outSize);
    const batchSize = options.batchSize ?? 4;
    for (let start = 0; start < b; start += batchSize) {
      const n = Math.min(batchSize, b - start);
      const context5 = tf.tensor5d(input.data.subarray(start * clipSize, (start + n) * clipSize), [n, t, h, w, c]);
      try {
        const prediction = predictor.predict(context5, future);
        try {
          out.set((await prediction.data()) as Float32Array, start * outSize);
        } finally {
          prediction.dispose();
        }
      } finally {
        context5.dispose();
      }
    }
    const shape = input.unbatched ? [future, h, w, c] : [b, future, h, w, c];
    await writeNpy(options.output, { dtype: 'F32', shape, data: out });
    log(
      `vid predict: wrote ${options.output} (float32 [${shape.join(', ')}]; values as the model outputs them${predictor.kind === 'conv-recurrent-net' ? ', not clamped' : ''})`,
    );
    if (options.gif) {
      const shown = Math.min(b, 4);
      const gif = samplesGif({
        context: input.data.subarray(0, shown * clipSize),
        truth: null,
        prediction: out.subarray(0, shown * outSize).map((v) => Math.min(1, Math.max(0, v))),
        samples: shown,
        inputFrames: t,
        futureFrames: future,
        height: h,
        width: w,
        channels: c,
      });
      await writeOutput(options.gif, gif);
      log(`vid predict: wrote ${options.gif}`);
    }
    return { shape };
  } finally {
    predictor.dispose();
  }
}
