/**
 * The data of a run: a resumable training stream and fixed validation/evaluation sets, from the
 * Moving MNIST generator, a Moving MNIST file or a KTH folder. Clips come out as float32
 * `[batch, time, height, width, channels]` host batches in [0, 1].
 *
 * The training stream is addressed by one number, the count of sequences consumed so far: for
 * the generator, sequence `i` of the seeded stream; for a finite set of `n` clips, epoch
 * `⌊i / n⌋` at offset `i mod n` of that epoch's seeded permutation. A checkpoint stores it, so a
 * resumed run reads exactly the batches it would have read.
 */
import { ConfigError, FileFormatError } from '@vid/core';
import { KthDataset, MovingMnist, MovingMnistFile, type VideoBatch, type VideoClip, loadDigits } from '@vid/datasets';

import type { TrainConfig } from '../config/config.js';
import { type ClipSource, epochShuffled, fitClip, toBatch } from '../loop/clips.js';
import type { TrainingData } from '../loop/fit.js';

/** The data of a run. */
export interface RunData extends TrainingData {
  /** Every clip of the training file, unshuffled (files only: the clips a recorded batch order indexes). */
  readonly trainClips?: ClipSource;
  /** Describes the data in one line. */
  readonly description: string;
  /** The training batch that starts at stream position `position` (sequences consumed). */
  trainBatch(position: number, batchSize: number): Promise<VideoBatch>;
  /** Validation clips of `inputFrames + futureFrames` frames (the training split). */
  readonly validation: ClipSource;
  /** Evaluation clips of `inputFrames + evaluation.futureFrames` frames. */
  readonly evaluation: ClipSource;
  /** Sequences of one training epoch of a finite set (Infinity for the generator). */
  readonly trainLength: number;
  close(): Promise<void>;
}

function limited(
  source: ClipSource,
  count: number,
  frames: number,
  size: readonly [number, number],
  channels: number,
  name: string,
  offset = 0,
): ClipSource {
  return {
    length: Math.min(count, source.length - offset),
    get: async (index) => fitClip(await source.get(offset + index), frames, size, channels, name),
  };
}

/** Opens the data of a configuration (and checks the files against it). */
export async function openRunData(config: TrainConfig): Promise<RunData> {
  const { data, evaluation } = config;
  const size = data.frameSize as [number, number];
  const trainFrames = data.inputFrames + data.futureFrames;
  const evalFrames = data.inputFrames + evaluation.futureFrames;
  const context = 'data';
  if (data.dataset === 'moving-mnist') {
    const trainDigits = await loadDigits({ split: 'train', labels: false });
    const testDigits = await loadDigits({ split: 'test', labels: false });
    const common = { numDigits: data.numDigits, canvasSize: size, digitSize: data.digitSize } as const;
    const train = new MovingMnist({
      ...common,
      digits: trainDigits,
      sequenceLength: trainFrames,
      seed: `${config.seed}:train`,
      epochSize: data.trainSamples,
    });
    // Validation and evaluation draw digits from MNIST's test split; the evaluation set's first
    // frames are those of the validation set (same seeds), continued for longer.
    const valid = new MovingMnist({
      ...common,
      digits: testDigits,
      sequenceLength: trainFrames,
      seed: `${config.seed}:valid`,
    });
    const evaluationSet = new MovingMnist({
      ...common,
      digits: testDigits,
      sequenceLength: evalFrames,
      seed: `${config.seed}:valid`,
    });
    return {
      description: `Moving MNIST generated on the fly (${data.numDigits} digits, ${size[0]}×${size[1]}, seed ${config.seed}; validation on MNIST test digits)`,
      trainLength: Infinity,
      trainBatch: async (position, batchSize) =>
        toBatch(Array.from({ length: batchSize }, (_, i) => train.sequence(position + i))),
      validation: valid.fixedSet(data.validSamples),
      evaluation: evaluationSet.fixedSet(evaluation.samples),
      close: async () => undefined,
    };
  }
  if (data.dataset === 'moving-mnist-file') {
    const path = data.path as string;
    const layout = data.layout !== null ? { layout: data.layout } : {};
    const file = await MovingMnistFile.open(path, layout);
    const validFile = data.validPath
      ? await MovingMnistFile.open(data.validPath, layout).catch(async (error: unknown) => {
          await file.close();
          throw error;
        })
      : null;
    const needed = Math.max(trainFrames, evalFrames);
    for (const f of [file, validFile]) {
      if (f && f.clipShape[0] < needed) {
        await file.close();
        await validFile?.close();
        throw new ConfigError(
          'data.futureFrames',
          `at most ${f.clipShape[0] - data.inputFrames} (the file ${f.path} has ${f.clipShape[0]} frames per sequence, inputFrames is ${data.inputFrames})`,
          `${data.futureFrames} (evaluation ${evaluation.futureFrames})`,
          context,
        );
      }
    }
    const validSource: ClipSource = validFile ?? file;
    const validOffset = validFile ? 0 : Math.max(0, file.length - data.validSamples);
    const trainLength = validFile ? file.length : validOffset;
    if (trainLength < 1)
      throw new ConfigError(
        'data.validSamples',
        `fewer than the ${file.length} sequences of ${path} (the rest trains)`,
        data.validSamples,
        context,
      );
    const clipAt = epochShuffled(config.seed, trainLength);
    return {
      description: `Moving MNIST file ${path} (${trainLength} training sequences${validFile ? `, validation ${data.validPath}` : `, the last ${file.length - validOffset} validate`})`,
      trainLength,
      trainBatch: async (position, batchSize) => {
        const clips: VideoClip[] = [];
        for (let i = 0; i < batchSize; i++)
          clips.push(fitClip(await file.get(clipAt(position + i)), trainFrames, size, data.channels, path));
        return toBatch(clips);
      },
      trainClips: limited(file, file.length, trainFrames, size, data.channels, path),
      validation: limited(
        validSource,
        data.validSamples,
        trainFrames,
        size,
        data.channels,
        validFile?.path ?? path,
        validOffset,
      ),
      evaluation: limited(
        validSource,
        evaluation.samples,
        evalFrames,
        size,
        data.channels,
        validFile?.path ?? path,
        validOffset,
      ),
      close: async () => {
        await file.close();
        await validFile?.close();
      },
    };
  }
  // KTH
  const root = data.path as string;
  const open = (split: 'train' | 'test', frames: number): Promise<KthDataset> =>
    KthDataset.open(root, { protocol: data.kthProtocol, split, sequenceLength: frames, size });
  const train = await open('train', trainFrames);
  const valid = await open('test', trainFrames);
  const evaluationSet = await open('test', evalFrames);
  if (train.length === 0)
    throw new FileFormatError(
      root,
      'no KTH training clips found (expected personXX_<action>_dY_uncomp.avi files or extracted frame folders)',
    );
  const trainLength = train.length;
  const clipAt = epochShuffled(config.seed, trainLength);
  return {
    description: `KTH Action ${root} (${data.kthProtocol} protocol, ${trainLength} training clips, ${size[0]}×${size[1]})`,
    trainLength,
    trainBatch: async (position, batchSize) => {
      const clips: VideoClip[] = [];
      for (let i = 0; i < batchSize; i++)
        clips.push(fitClip(await train.get(clipAt(position + i)), trainFrames, size, data.channels, root));
      return toBatch(clips);
    },
    validation: limited(valid, data.validSamples, trainFrames, size, data.channels, root),
    evaluation: limited(evaluationSet, evaluation.samples, evalFrames, size, data.channels, root),
    close: async () => undefined,
  };
}
