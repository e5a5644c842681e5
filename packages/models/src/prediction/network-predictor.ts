/**
 * {@link VideoPredictor} adapter of the video-prediction network ({@link ConvRecurrentNet}, the
 * official NVlabs/conv-tt-lstm `ConvLSTMNet` with any cell), optionally running on space-to-depth patches
 * (Shi et al. 2015, sec. 4.1: 64×64×1 frames as 16×16×16) so that small configurations train
 * quickly on a CPU. Its rollout is the official one: `inputFrames + futureFrames − 1` steps, each
 * with an output, so `outputs: 'all'` gives the one-step outputs the official loss compares.
 *
 * Porting note: with `patchSize > 1` the frames are rearranged before the network and back after
 * it (`spaceToDepth`/`depthToSpace`, `patches.ts`); the network itself, its weights and names are
 * unchanged (`input_channels` counts the patched channels).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@vid/core';
import { ConfigError, assertRank, positiveInteger } from '@vid/core';

import { ConvRecurrentNet } from './network.js';
import { depthToSpace, spaceToDepth } from './patches.js';
import type { PredictorRolloutOptions, PredictorRolloutResult, VideoPredictor } from './predictor.js';
import type { ConvRecurrentNetSpec } from './spec.js';

export class ConvRecurrentPredictor implements VideoPredictor {
  readonly kind = 'conv-recurrent-net';
  readonly spec: ConvRecurrentNetSpec;
  readonly module: ConvRecurrentNet;
  readonly patchSize: number;
  readonly channels: number;
  readonly sizeMultiple: number;

  /** Wraps a network (owned from now on). */
  constructor(network: ConvRecurrentNet, options: { readonly patchSize?: number } = {}) {
    const context = 'ConvRecurrentPredictor';
    this.module = network;
    this.patchSize = positiveInteger(options.patchSize ?? 1, 'patchSize', context);
    const area = this.patchSize * this.patchSize;
    if (network.config.inputChannels % area !== 0) {
      throw new ConfigError(
        'patchSize',
        `a patch whose area divides the network's inputChannels ${network.config.inputChannels}`,
        this.patchSize,
        context,
      );
    }
    this.channels = network.config.inputChannels / area;
    this.sizeMultiple = this.patchSize;
    this.spec = { type: 'conv-recurrent-net', network: network.getConfig(), patchSize: this.patchSize };
  }

  /** Builds a network from vid options or the official constructor arguments. */
  static fromSpec(spec: ConvRecurrentNetSpec, seed: number | Rng = 0): ConvRecurrentPredictor {
    const network = ConvRecurrentNet.fromConfig(
      spec.network as unknown as Parameters<typeof ConvRecurrentNet.fromConfig>[0],
      { seed },
    );
    return new ConvRecurrentPredictor(network, { patchSize: spec.patchSize ?? 1 });
  }

  rollout(frames: tf.Tensor5D, options: PredictorRolloutOptions): PredictorRolloutResult {
    assertRank(frames, 5, 'frames', 'ConvRecurrentPredictor.rollout', '[batch, time, height, width, channels]');
    const { inputFrames, futureFrames, outputs, ...forcing } = options;
    const all = outputs === 'all';
    const outputFrames = all ? inputFrames + futureFrames - 1 : futureFrames;
    const predictions = tf.tidy(() => {
      const p = this.patchSize;
      // [B, T, H, W, C] → [B, T, H/p, W/p, p²·C]
      const input = (p === 1 ? frames : spaceToDepth(frames, p)) as tf.Tensor5D;
      const output = this.module.forward(input, { inputFrames, futureFrames, outputFrames, ...forcing });
      // [B, n, H/p, W/p, p²·C] → [B, n, H, W, C]
      return (p === 1 ? output : depthToSpace(output, p)) as tf.Tensor5D;
    });
    return { predictions, logits: null, firstFrame: all ? 1 : inputFrames };
  }

  predict(context: tf.Tensor5D, futureFrames: number): tf.Tensor5D {
    assertRank(context, 5, 'context', 'ConvRecurrentPredictor.predict', '[batch, time, height, width, channels]');
    return this.rollout(context, { inputFrames: context.shape[1], futureFrames }).predictions;
  }

  /** The official constructor arguments (`ConvLSTMNet(**config)`). */
  officialConfig(): Record<string, unknown> {
    return this.module.officialConfig() as unknown as Record<string, unknown>;
  }

  dispose(): void {
    this.module.dispose();
  }
}
