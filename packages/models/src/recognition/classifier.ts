/** What every video classifier of the package shares: its result, its contract and evaluation. */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, assertTensor, formatShape, positiveInteger } from '@vid/core';

/** The video-level answer of a classifier. */
export interface VideoClassification {
  /** Class scores per video, `[batch, classes]` (a distribution, except where the model says otherwise); the argmax is the prediction. */
  readonly probabilities: tf.Tensor2D;
}

/** A model that classifies batches of videos `[batch, time, height, width, channels]`. */
export interface VideoClassifier<R extends VideoClassification = VideoClassification> {
  readonly numClasses: number;
  readonly frameSize: readonly [number, number];
  readonly frameChannels: number;
  /** video: `[batch, time, height, width, frameChannels]` → the model's result (the caller disposes it). */
  apply(video: tf.Tensor): R;
  /** The training loss of a result against labels `[batch]` (class indices). */
  loss(result: R, labels: tf.Tensor): tf.Scalar;
}

/** Disposes every tensor of a result object (nested objects and arrays included). */
export function disposeResult(result: unknown): void {
  const seen = new Set<tf.Tensor>();
  const walk = (value: unknown): void => {
    if (value instanceof tf.Tensor) {
      if (!seen.has(value)) seen.add(value);
    } else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(result);
  for (const tensor of seen) if (!tensor.isDisposed) tensor.dispose();
}

/** The predicted class of each video: the argmax of `probabilities` (`[batch, classes]` → `[batch]`, int32). */
export function predictClasses(result: VideoClassification): tf.Tensor1D {
  return tf.argMax(result.probabilities, 1) as tf.Tensor1D;
}

/** Options of {@link evaluateAccuracy}. */
export interface EvaluateOptions {
  /** Videos per forward pass. @default 32 */
  readonly batchSize?: number;
  /** Applied to each batch of videos before the model (e.g. keep the first p% of the frames). */
  readonly transform?: (videos: tf.Tensor5D) => tf.Tensor5D;
}

/**
 * The fraction of videos whose predicted class is the label, batch by batch (no gradients; every
 * intermediate tensor is freed).
 *
 * videos: `[count, time, height, width, channels]`, labels: `count` class indices.
 */
export async function evaluateAccuracy(
  model: VideoClassifier,
  videos: tf.Tensor,
  labels: ArrayLike<number> | tf.Tensor,
  options: EvaluateOptions = {},
): Promise<number> {
  const context = 'evaluateAccuracy';
  assertTensor(videos, 'videos', context);
  if (videos.rank !== 5)
    throw new ShapeError('videos', '[count, time, height, width, channels]', formatShape(videos.shape), context);
  const count = videos.shape[0] as number;
  const truth = labels instanceof tf.Tensor ? await labels.data() : labels;
  if (truth.length !== count)
    throw new ShapeError('labels', `${count} labels (one per video)`, `${truth.length}`, context);
  const batchSize = positiveInteger(options.batchSize ?? 32, 'batchSize', context);
  let correct = 0;
  for (let start = 0; start < count; start += batchSize) {
    const size = Math.min(batchSize, count - start);
    const predicted = tf.tidy(() => {
      let batch = tf.slice(videos, [start, 0, 0, 0, 0], [size, -1, -1, -1, -1]) as tf.Tensor5D;
      if (options.transform) batch = options.transform(batch);
      const result = model.apply(batch);
      return predictClasses(result);
    });
    const values = await predicted.data();
    predicted.dispose();
    for (let i = 0; i < size; i++) if (values[i] === truth[start + i]) correct++;
  }
  return correct / count;
}
