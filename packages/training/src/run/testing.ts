/** Test helpers of the run directory (not exported by the package). */
import type { TrainConfig } from '../config/config.js';
import { resolveConfig } from '../config/file.js';

/** A tiny run: 16×16 Moving MNIST, 3 → 3, an encoder-forecaster with 4 hidden channels, 6 steps. */
export function tinyConfig(overrides: Record<string, unknown> = {}): TrainConfig {
  return resolveConfig({
    overrides: {
      seed: 3,
      data: { inputFrames: 3, futureFrames: 3, frameSize: [16, 16], digitSize: 8, trainSamples: 4, validSamples: 2 },
      model: {
        type: 'encoder-forecaster',
        hiddenChannels: [4],
        kernelSize: 3,
        patchSize: 4,
        forecasterInput: 'previous-frame',
        peephole: 'none',
      },
      train: {
        batchSize: 2,
        epochs: 3,
        learningRate: 1e-2,
        scheduledSamplingRatio: 0.5,
        plateauEpochs: 1,
        ssrDecayRatio: 0.2,
        loss: 'l1+mse',
      },
      validation: { batchSize: 2 },
      evaluation: { futureFrames: 4, samples: 2, gifSamples: 1, protocol: 'standard' },
      checkpoint: { everySteps: 2, keepLast: 2 },
      output: { progress: 'none', logEverySteps: 1 },
      ...overrides,
    },
  });
}
