/** Helpers shared by the recognition models. Not exported from the package. */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, assertFinite, assertTensor, formatShape } from '@vid/core';

/**
 * Checks a batch of videos `[batch, time, height, width, channels]` against a model's frame size
 * and channels (and a minimum number of frames); with debug checks on, also for NaN/Inf.
 */
export function checkVideo(
  video: unknown,
  expected: {
    readonly frameSize: readonly [number, number];
    readonly channels: number;
    readonly minFrames?: number;
    readonly why?: string;
  },
  context: string,
  argument = 'video',
): asserts video is tf.Tensor5D {
  assertTensor(video, argument, context);
  const [height, width] = expected.frameSize;
  const ok =
    video.rank === 5 && video.shape[2] === height && video.shape[3] === width && video.shape[4] === expected.channels;
  if (!ok) {
    throw new ShapeError(
      argument,
      `[batch, time, ${height}, ${width}, ${expected.channels}] (frameSize, frameChannels)`,
      formatShape(video.shape),
      context,
    );
  }
  const minFrames = expected.minFrames ?? 1;
  if ((video.shape[1] as number) < minFrames) {
    throw new ShapeError(
      argument,
      `at least ${minFrames} frame${minFrames > 1 ? 's' : ''}${expected.why ? ` (${expected.why})` : ''}`,
      `${video.shape[1]} in ${formatShape(video.shape)}`,
      context,
    );
  }
  assertFinite(video, argument, context);
}

/** Checks class labels `[batch]` for a batch of `batch` videos. */
export function checkLabels(labels: unknown, batch: number, context: string): asserts labels is tf.Tensor1D {
  assertTensor(labels, 'labels', context);
  if (!tf.util.arraysEqual(labels.shape, [batch]))
    throw new ShapeError('labels', `[${batch}] (one class index per video)`, formatShape(labels.shape), context);
}
