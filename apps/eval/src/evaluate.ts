/**
 * `vid eval`: a model (vid checkpoint or official PyTorch checkpoint) evaluated under a dataset
 * protocol preset, with the copy-last-frame baseline and, on request, the paper's numbers.
 */
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import { ConfigError, FileFormatError, initBackend } from '@vid/core';
import { EVALUATION_PROTOCOLS, type EvaluationProtocol, type FrameMetricName, LPIPS } from '@vid/metrics';
import { type TrainConfig, evaluatePredictor } from '@vid/training';
import {
  defaultRunName,
  openRunData,
  prepareRunDir,
  resolveConfig,
  resolveRunsDir,
  samplesGif,
  samplesGrid,
} from '@vid/training/node';
import { PREDICTION_PROTOCOLS, type PredictionProtocol } from '@vid/models';

import { PRETRAINED_NAMES } from '@vid/pretrained';

import { type LoadedModel, loadModel, loadShippedModel } from './models.js';
import { PAPER_NUMBERS } from './paper.js';
import { type ReportEntry, ensureFolder, writeOutput, writeReports } from './report.js';

/** A dataset protocol: what the paper evaluated on (`@vid/models`' one registry of them). */
export type EvalPreset = PredictionProtocol;

/** The evaluation presets: `@vid/models`' dataset protocols. */
export const EVAL_PRESETS: Readonly<Record<string, EvalPreset>> = PREDICTION_PROTOCOLS;

/** Options of {@link evaluateCheckpoint}. */
export interface EvaluateCheckpointOptions {
  /** A shipped model of `@vid/pretrained` by name, instead of `checkpoint`. */
  readonly model?: string;
  /** A vid run/checkpoint folder or a weights file (.safetensors, .pt). Default: the latest run in runs/. */
  readonly checkpoint?: string;
  /** Model configuration for a weights file (file or inline JSON). */
  readonly config?: string;
  /** Dataset protocol preset (see {@link EVAL_PRESETS}), or `run` for the run's own evaluation settings. Default: `run` for vid checkpoints, else mmnist-10-30. */
  readonly preset?: string;
  /** Dataset file (Moving MNIST .npy/.npz) or folder (KTH). Default for Moving MNIST: a generated, seeded test set. */
  readonly data?: string;
  /** Sequences evaluated. @default 256 for generated Moving MNIST, else the whole set */
  readonly samples?: number;
  readonly inputFrames?: number;
  readonly futureFrames?: number;
  /** Frame side (square frames), e.g. to evaluate a small model quickly. */
  readonly frameSize?: number;
  readonly protocol?: EvaluationProtocol;
  readonly metrics?: readonly FrameMetricName[];
  /** LPIPS weights (AlexNet trunk + linear layers, or one combined file); LPIPS is computed when given. */
  readonly lpipsWeights?: readonly string[];
  /** Put the paper's numbers beside ours. */
  readonly comparePaper?: boolean;
  /** Output folder. Default: `<run>/eval-<preset>` for a vid run, else `runs/eval-<preset>-<time>`. */
  readonly out?: string;
  readonly batchSize?: number;
  readonly gifSamples?: number;
  readonly seed?: number;
  readonly log?: (line: string) => void;
  /** Initialise the backend. @default true */
  readonly initBackend?: boolean;
}

/** What {@link evaluateCheckpoint} returns. */
export interface EvaluateCheckpointResult {
  readonly outDir: string;
  readonly markdown: string;
  /** What results.json holds. */
  readonly json: Record<string, unknown>;
  readonly entries: readonly ReportEntry[];
}

/** The most recent run folder (with a checkpoint) in the runs folder. */
export async function latestRun(runsDir = resolveRunsDir('runs')): Promise<string | null> {
  if (!existsSync(runsDir)) return null;
  let best: { dir: string; time: number } | null = null;
  for (const entry of await readdir(runsDir)) {
    const dir = join(runsDir, entry);
    const pointer = join(dir, 'checkpoints', 'latest.json');
    if (!existsSync(pointer)) continue;
    const time = (await stat(pointer)).mtimeMs;
    if (!best || time > best.time) best = { dir, time };
  }
  return best?.dir ?? null;
}

/** The evaluation data configuration, as a training config whose `evaluation` set is evaluated. */
function dataConfig(
  options: EvaluateCheckpointOptions,
  model: LoadedModel,
  presetName: string,
): { config: TrainConfig; protocol: EvaluationProtocol; description: string } {
  const context = 'vid eval';
  const run = model.trainConfig;
  if (presetName === 'run') {
    if (!run)
      throw new ConfigError(
        '--preset',
        `one of ${Object.keys(EVAL_PRESETS).join(', ')} (the model is not a vid run, so it has no run settings)`,
        'run',
        context,
      );
    const config = resolveConfig({
      overrides: {
        ...run,
        data: {
          ...run.data,
          ...(options.data ? { path: options.data, validPath: options.data } : {}),
          ...(options.inputFrames ? { inputFrames: options.inputFrames } : {}),
          ...(options.frameSize ? { frameSize: [options.frameSize, options.frameSize] } : {}),
        },
        evaluation: {
          ...run.evaluation,
          ...(options.samples ? { samples: options.samples } : {}),
          ...(options.futureFrames ? { futureFrames: options.futureFrames } : {}),
          gifSamples: Math.min(options.gifSamples ?? 4, options.samples ?? run.evaluation.samples),
        },
      },
    });
    return {
      config,
      protocol: options.protocol ?? run.evaluation.protocol,
      description: `the run's evaluation settings (${run.data.dataset}, ${config.data.inputFrames} → ${config.evaluation.futureFrames})`,
    };
  }
  const preset = EVAL_PRESETS[presetName];
  if (!preset)
    throw new ConfigError(
      '--preset',
      `one of ${['run', ...Object.keys(EVAL_PRESETS)].join(', ')}`,
      presetName,
      context,
    );
  const size = options.frameSize ?? preset.frameSize;
  const dataset = preset.dataset === 'kth' ? 'kth' : options.data ? 'moving-mnist-file' : 'moving-mnist';
  if (dataset === 'kth' && !options.data)
    throw new ConfigError('--data', 'the KTH folder for a kth preset', undefined, context);
  const samples = options.samples ?? (dataset === 'moving-mnist' ? 256 : 1_000_000);
  const inputFrames = options.inputFrames ?? preset.inputFrames;
  const futureFrames = options.futureFrames ?? preset.futureFrames;
  const config = resolveConfig({
    overrides: {
      seed: options.seed ?? 0,
      data: {
        dataset,
        ...(options.data ? { path: options.data, validPath: options.data } : {}),
        inputFrames,
        futureFrames: 1,
        frameSize: [size, size],
        channels: model.predictor.channels,
        digitSize: Math.min(28, size),
        validSamples: 1,
        ...(dataset === 'kth' ? { kthProtocol: 'conv-tt-lstm' } : {}),
      },
      model: { patchSize: 1 },
      validation: { batchSize: 1 },
      evaluation: {
        futureFrames,
        samples,
        protocol: options.protocol ?? preset.metrics,
        gifSamples: Math.min(options.gifSamples ?? 4, samples),
      },
    },
  });
  const data =
    dataset === 'moving-mnist'
      ? `generated Moving MNIST test set (${samples} sequences, seed ${options.seed ?? 0}, MNIST test digits — not the paper's test file)`
      : `${options.data}`;
  return { config, protocol: options.protocol ?? preset.metrics, description: `${preset.description}; data: ${data}` };
}

/** Evaluates a model under a protocol and writes the reports; see the module comment. */
export async function evaluateCheckpoint(options: EvaluateCheckpointOptions = {}): Promise<EvaluateCheckpointResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (options.model !== undefined && options.checkpoint !== undefined)
    throw new ConfigError('--model', 'either --model or --checkpoint, not both', options.model, 'vid eval');
  if (options.model !== undefined && options.config !== undefined)
    throw new ConfigError(
      '--config',
      'no --config with --model (a shipped model carries its architecture)',
      options.config,
      'vid eval',
    );
  const checkpoint = options.model !== undefined ? null : (options.checkpoint ?? (await latestRun()));
  if (options.model === undefined && !checkpoint) {
    throw new FileFormatError(
      resolveRunsDir('runs'),
      `no run to evaluate: pass --model <${PRETRAINED_NAMES.join(' | ')}> (a shipped model), train one first (\`npx -y pnpm@10.34.9 turbo train\`), or pass --checkpoint <run folder | model.safetensors | official .pt> (with --config for a .pt)`,
    );
  }
  if (options.initBackend ?? true) await initBackend({ log });
  const model =
    options.model !== undefined
      ? await loadShippedModel(options.model)
      : await loadModel(checkpoint as string, options.config);
  try {
    const presetName = options.preset ?? (model.trainConfig ? 'run' : 'mmnist-10-30');
    const { config, protocol, description } = dataConfig(options, model, presetName);
    const [height, width] = config.data.frameSize as [number, number];
    if (height % model.predictor.sizeMultiple !== 0 || width % model.predictor.sizeMultiple !== 0) {
      throw new ConfigError(
        '--frame-size',
        `a multiple of the model's patch size ${model.predictor.sizeMultiple}`,
        `${height}×${width}`,
        'vid eval',
      );
    }
    const outDir = resolve(
      options.out ??
        (model.runDir
          ? join(model.runDir, `eval-${presetName}`)
          : join(
              resolveRunsDir('runs'),
              `eval-${defaultRunName(options.model ? `${options.model}-${presetName}` : presetName)}`,
            )),
    );
    if (options.out) await ensureFolder(outDir, '--out');
    await prepareRunDir(outDir);
    // The data first: a bad dataset path fails before the LPIPS weights are read (and nothing leaks).
    const data = await openRunData(config);
    let lpips: LPIPS | undefined;
    if (options.lpipsWeights && options.lpipsWeights.length > 0) {
      try {
        lpips = await LPIPS.load({
          net: 'alex',
          preset: EVALUATION_PROTOCOLS[protocol].lpips,
          weights: [...options.lpipsWeights],
        });
      } catch (error) {
        await data.close();
        throw error;
      }
    }
    log(`vid eval: ${model.description}`);
    log(`  ${description}; metrics: protocol ${protocol}${lpips ? ' with LPIPS' : ' (LPIPS: pass --lpips-weights)'}`);
    try {
      const result = await evaluatePredictor(model.predictor, data.evaluation, {
        inputFrames: config.data.inputFrames,
        futureFrames: config.evaluation.futureFrames,
        protocol,
        batchSize: options.batchSize ?? 8,
        ...(options.metrics ? { metrics: options.metrics } : {}),
        ...(lpips ? { lpips } : {}),
        keepSamples: config.evaluation.gifSamples,
        onProgress: (done, total) => log(`  ${done}/${total} sequences`),
      });
      const entries: ReportEntry[] = [{ label: 'model', result: result.model }];
      if (result.baseline) entries.push({ label: 'copy last frame', result: result.baseline });
      if (result.allBlack) entries.push({ label: 'all black', result: result.allBlack });
      const frames = `${config.data.inputFrames}-${config.evaluation.futureFrames}`;
      const paperKey =
        presetName === 'run'
          ? `${config.data.dataset.startsWith('moving-mnist') ? 'mmnist' : config.data.dataset}-${frames}`
          : presetName;
      const paper = options.comparePaper ? PAPER_NUMBERS[paperKey] : undefined;
      const notes: string[] = [`Model: ${model.description}.`, `Data: ${description}.`];
      if (options.comparePaper && !paper)
        notes.push(
          `--compare-paper: the paper's table has no ${paperKey} row (it reports Moving-MNIST-2 10 → 10 and 10 → 30).`,
        );
      const preset = EVAL_PRESETS[presetName];
      if (
        paper &&
        preset &&
        (config.data.inputFrames !== preset.inputFrames ||
          config.evaluation.futureFrames !== preset.futureFrames ||
          config.data.frameSize[0] !== preset.frameSize)
      ) {
        notes.push(
          `Ours ran ${config.data.inputFrames} → ${config.evaluation.futureFrames} at ${config.data.frameSize[0]}×${config.data.frameSize[1]}, not the paper's ${preset.inputFrames} → ${preset.futureFrames} at ${preset.frameSize}×${preset.frameSize}: the rows are not comparable.`,
        );
      }
      if (paper && !lpips) notes.push('LPIPS of the paper rows is shown for reference; ours needs --lpips-weights.');
      const { markdown, json } = await writeReports(outDir, `vid eval — ${presetName}`, entries, {
        ...(paper ? { paper } : {}),
        notes,
        extra: { model: model.description, data: description },
      });
      if (result.samples) {
        await writeOutput(join(outDir, 'samples.gif'), samplesGif(result.samples));
        await writeOutput(
          join(outDir, 'samples.png'),
          samplesGrid(result.samples, { title: presetName.toUpperCase() }).toPng(),
        );
      }
      log(`vid eval: wrote ${outDir}/{results.md,results.csv,results.json,curves.png,samples.gif,samples.png}`);
      return { outDir, markdown, json, entries };
    } finally {
      await data.close();
      lpips?.dispose();
    }
  } finally {
    model.predictor.dispose();
  }
}
