/** `vid eval`, `vid predict` and `vid score`. */
import { type Command, Option } from 'commander';
import { ConfigError } from '@vid/core';
import type { EvaluationProtocol, FrameMetricName } from '@vid/metrics';
import { DEFAULT_PRETRAINED } from '@vid/pretrained';

import { EVAL_PRESETS, evaluateCheckpoint } from './evaluate.js';
import { SHIPPED_MODELS_HELP } from './models.js';
import { predictClip } from './predict.js';
import { ALL_PROTOCOLS, scorePredictions } from './score.js';

const METRICS: readonly FrameMetricName[] = ['mse', 'mae', 'psnr', 'ssim', 'lpips'];

function list<T extends string>(value: string | undefined, allowed: readonly T[], flag: string): T[] | undefined {
  if (value === undefined) return undefined;
  const items = value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  const expanded = items.length === 1 && items[0] === 'all' ? [...allowed] : items;
  for (const item of expanded)
    if (!(allowed as readonly string[]).includes(item))
      throw new ConfigError(flag, `a comma-separated list of ${allowed.join(', ')}`, item);
  return expanded as T[];
}

function int(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(flag, 'a positive integer', value);
  return n;
}

interface ScoreFlags {
  prediction?: string;
  target?: string;
  metrics?: string;
  protocol?: string;
  lpipsWeights?: string[];
  json?: boolean;
  out?: string;
  batchSize?: string;
}

async function runScore(flags: ScoreFlags): Promise<void> {
  if (!flags.prediction || !flags.target)
    throw new ConfigError(
      '--prediction/--target',
      'both arrays ([B, T, H, W, C] .npy files)',
      flags.prediction ?? flags.target,
      'vid score',
    );
  const metrics = list(flags.metrics, METRICS, '--metrics');
  const protocols = list(flags.protocol, ALL_PROTOCOLS, '--protocol');
  const result = await scorePredictions({
    prediction: flags.prediction,
    target: flags.target,
    ...(metrics ? { metrics } : {}),
    ...(protocols ? { protocols } : {}),
    ...(flags.lpipsWeights ? { lpipsWeights: flags.lpipsWeights } : {}),
    ...(flags.out ? { out: flags.out } : {}),
    ...(flags.batchSize ? { batchSize: int(flags.batchSize, '--batch-size') as number } : {}),
  });
  console.log(flags.json ? JSON.stringify(result.json, null, 2) : result.markdown);
}

function scoreOptions(command: Command): Command {
  return command
    .option(
      '--prediction <file>',
      'predicted frames, .npy [B, T, H, W, C] (or [T, H, W, C]), float32 in [0, 1] or uint8',
    )
    .option('--target <file>', 'ground-truth frames, same shape')
    .option(
      '--metrics <list>',
      `comma-separated: ${METRICS.join(', ')} (default mse,psnr,ssim; lpips with --lpips-weights)`,
    )
    .option(
      '--protocol <list>',
      `metric conventions, comma-separated or all: ${ALL_PROTOCOLS.join(', ')} (default all for scoring)`,
    )
    .option(
      '--lpips-weights <files...>',
      'LPIPS AlexNet weights: torchvision alexnet-owt-7be5be79.pth and lpips v0.1 alex.pth, or one combined file',
    )
    .option('--json', 'print machine-readable results (per protocol, metric, frame and mean)')
    .option('--out <dir>', 'also write results.md, results.csv, results.json and curves.png there');
}

interface EvalFlags extends ScoreFlags {
  model?: string;
  checkpoint?: string;
  config?: string;
  preset?: string;
  data?: string;
  samples?: string;
  inputFrames?: string;
  futureFrames?: string;
  frameSize?: string;
  comparePaper?: boolean;
  gifSamples?: string;
  seed?: string;
  listPresets?: boolean;
}

/** Adds the eval options and action to a command. */
export function configureEvalCommand(command: Command): Command {
  return scoreOptions(
    command
      .description(
        'evaluate a model (vid run/checkpoint or official .pt) under a dataset protocol, or score prediction arrays (--prediction/--target)',
      )
      .option('--model <name>', `${SHIPPED_MODELS_HELP}, instead of --checkpoint`)
      .option(
        '--checkpoint <path>',
        'a vid run or checkpoint folder, a model .safetensors, or an official PyTorch .pt (default: the latest run in runs/)',
      )
      .option(
        '--config <file|json>',
        'model configuration for a weights file: a vid config, or the official ConvLSTMNet arguments (JSON file or inline JSON)',
      )
      .option(
        '--preset <name>',
        `dataset protocol: run (the run's own settings), ${Object.keys(EVAL_PRESETS).join(', ')}`,
      )
      .option(
        '--data <path>',
        'dataset: Moving MNIST .npy/.npz (default: a generated, seeded test set) or the KTH folder',
      )
      .option('--samples <n>', 'sequences to evaluate (default 256 generated, else the whole set)')
      .option('--input-frames <n>', "context frames (default: the preset's)")
      .option('--future-frames <n>', "predicted frames (default: the preset's)")
      .option('--frame-size <n>', "square frame side (default: the preset's)")
      .option('--compare-paper', "put the paper's numbers beside ours, with the conventions of each")
      .option('--gif-samples <n>', 'sequences in samples.gif (default 4)')
      .option('--batch-size <n>', 'sequences per batch (default 8)')
      .option('--seed <n>', 'seed of the generated test set (default 0)')
      .option('--list-presets', 'list the dataset protocols and exit'),
  ).action(async (flags: EvalFlags) => {
    if (flags.listPresets) {
      console.log(
        Object.entries(EVAL_PRESETS)
          .map(([name, p]) => `${name.padEnd(14)} ${p.description}`)
          .join('\n'),
      );
      return;
    }
    if (flags.prediction || flags.target) {
      await runScore(flags);
      return;
    }
    const protocols = list(flags.protocol, ALL_PROTOCOLS, '--protocol');
    if (protocols && protocols.length > 1)
      throw new ConfigError('--protocol', 'one protocol when evaluating a model', flags.protocol, 'vid eval');
    const metrics = list(flags.metrics, METRICS, '--metrics');
    const result = await evaluateCheckpoint({
      ...(flags.model ? { model: flags.model } : {}),
      ...(flags.checkpoint ? { checkpoint: flags.checkpoint } : {}),
      ...(flags.config ? { config: flags.config } : {}),
      ...(flags.preset ? { preset: flags.preset } : {}),
      ...(flags.data ? { data: flags.data } : {}),
      ...(flags.samples ? { samples: int(flags.samples, '--samples') as number } : {}),
      ...(flags.inputFrames ? { inputFrames: int(flags.inputFrames, '--input-frames') as number } : {}),
      ...(flags.futureFrames ? { futureFrames: int(flags.futureFrames, '--future-frames') as number } : {}),
      ...(flags.frameSize ? { frameSize: int(flags.frameSize, '--frame-size') as number } : {}),
      ...(protocols ? { protocol: protocols[0] as EvaluationProtocol } : {}),
      ...(metrics ? { metrics } : {}),
      ...(flags.lpipsWeights ? { lpipsWeights: flags.lpipsWeights } : {}),
      ...(flags.comparePaper ? { comparePaper: true } : {}),
      ...(flags.out ? { out: flags.out } : {}),
      ...(flags.batchSize ? { batchSize: int(flags.batchSize, '--batch-size') as number } : {}),
      ...(flags.gifSamples ? { gifSamples: int(flags.gifSamples, '--gif-samples') as number } : {}),
      ...(flags.seed ? { seed: Number(flags.seed) } : {}),
    });
    console.log(flags.json ? JSON.stringify(result.json, null, 2) : result.markdown);
  });
}

/** Registers `eval` on a program. */
export function registerEvalCommand(program: Command): Command {
  return configureEvalCommand(program.command('eval'));
}

/** Registers `score` (scoring of prediction arrays) on a program. */
export function registerScoreCommand(program: Command): Command {
  return scoreOptions(
    program
      .command('score')
      .description('score predictions made elsewhere against ground truth, per future frame (arrays [B, T, H, W, C])'),
  )
    .option('--batch-size <n>', 'sequences per batch (default 8)')
    .action(runScore);
}

interface PredictFlags {
  model?: string;
  config?: string;
  weights?: string;
  input?: string;
  future?: string;
  output?: string;
  gif?: string;
  size?: string;
}

/** Registers `predict` on a program. */
export function registerPredictCommand(program: Command): Command {
  return program
    .command('predict')
    .description(
      'predict the future of your own clips (.npy [T, H, W, C] or [B, T, H, W, C] in [0, 1], or a video file)',
    )
    .option('--model <name>', `${SHIPPED_MODELS_HELP} (default ${DEFAULT_PRETRAINED} when --weights is not given)`)
    .option('--weights <file>', 'model weights: .safetensors, an official .pt, or a vid run/checkpoint folder')
    .option(
      '--config <file|json>',
      'a vid config, or the official ConvLSTMNet arguments as JSON (file or inline); optional for vid files',
    )
    .requiredOption('--input <file>', 'input clip(s): .npy, or a video file decoded by ffmpeg')
    .requiredOption('--future <n>', 'frames to predict')
    .requiredOption('--output <file>', 'output .npy: the predicted frames, in the input layout')
    .option('--gif <file>', 'also write an animated GIF (input | prediction)')
    .addOption(new Option('--size <HxW>', 'resize input frames first, e.g. 64x64'))
    .action(async (flags: PredictFlags) => {
      let size: [number, number] | undefined;
      if (flags.size) {
        const match = /^(\d+)x(\d+)$/.exec(flags.size);
        if (!match) throw new ConfigError('--size', 'HEIGHTxWIDTH, e.g. 64x64', flags.size, 'vid predict');
        size = [Number(match[1]), Number(match[2])];
      }
      await predictClip({
        ...(flags.weights ? { weights: flags.weights } : {}),
        ...(flags.model ? { model: flags.model } : {}),
        ...(flags.config ? { config: flags.config } : {}),
        input: flags.input as string,
        future: int(flags.future, '--future') as number,
        output: flags.output as string,
        ...(flags.gif ? { gif: flags.gif } : {}),
        ...(size ? { size } : {}),
      });
    });
}
