/**
 * `train`: a run of a configuration in a run directory, on top of the browser-safe `fit` loop
 * (the official recipe, see `loop/fit.ts`): the data of the configuration, `config.json` and
 * `run.json` (its status: running, done, interrupted or failed with the reason), the metrics log
 * (`metrics.jsonl`), atomic checkpoints (weights, Adam state, scheduled-sampling RNG, schedules,
 * data position) with exact resume, and at the end the evaluation, `curves.png`, `samples.png`
 * and `samples.gif`.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import {
  Adam,
  type BackendReport,
  ConfigError,
  FileFormatError,
  VidError,
  initBackend,
  readFileBytes,
} from '@vid/core';
import { type FrameMetricsResult, formatMetricsTable } from '@vid/metrics';
import {
  type PredictorSpec,
  type VideoPredictor,
  createPredictor,
  isSavedModel,
  loadPredictor,
  savePredictor,
} from '@vid/models';

import {
  type TrainConfig,
  describePlan,
  lossOutputFrames,
  resolveConfigValues,
  stepsPerEpoch,
  totalSteps,
} from '../config/config.js';
import type { ClipSource } from '../loop/clips.js';
import {
  type FitCallbacks,
  type FitHistory,
  type FitState,
  TrainingDivergedError,
  fit,
  recordedBatches,
} from '../loop/fit.js';
import type { ScheduleState } from '../loop/schedule.js';
import { plotPanels } from '../render/plot.js';
import { samplesGif, samplesGrid } from '../render/samples.js';
import {
  CheckpointManager,
  type FileWriter,
  type LoadedCheckpoint,
  loadResumeCheckpoint,
  writeAtomic,
} from './checkpoints.js';
import { type RunData, openRunData } from './data.js';
import { evaluatePredictor } from '../loop/evaluate.js';
import { MetricsLog, type MetricsRecord } from './metrics-log.js';
import { formatDuration, formatLoss } from './progress.js';
import { defaultRunName, prepareRunDir, resolveRunsDir } from './run-dir.js';

/** Options of {@link train}. */
export interface TrainOptions {
  /** The configuration (required unless `resume`; a resumed run continues its own, see `resumeOverrides`). */
  readonly config?: TrainConfig;
  /** Changes to a resumed run's configuration: only {@link RESUME_OVERRIDABLE_KEYS}; anything else is refused. */
  readonly resumeOverrides?: Record<string, unknown>;
  /** Run directory; default `<runsDir>/<name>`. */
  readonly runDir?: string;
  /** Resume from a run or checkpoint folder (the run continues in the checkpoint's run folder unless `runDir` is given). */
  readonly resume?: string;
  /** Stops after the current step: a checkpoint is saved and the result says `interrupted`. */
  readonly signal?: AbortSignal;
  /** Messages (default: stderr through the progress reporter). */
  readonly log?: (line: string) => void;
  /** More callbacks of the loop (the CLI adds its progress bar here). */
  readonly callbacks?: readonly FitCallbacks[];
  /** Build the model from a spec (tests may substitute a tiny model). @default createPredictor */
  readonly createModel?: (spec: PredictorSpec, seed: number) => VideoPredictor;
  /** Checkpoint file writer (tests simulate a full disk). */
  readonly writeFile?: FileWriter;
  /** Run the final evaluation and write the pictures. @default true */
  readonly finalEvaluation?: boolean;
  /**
   * Another predictor to evaluate on the same final sequences, beside the trained one (`vid train`
   * passes the shipped model of `@vid/pretrained` when the data suits it): its row joins the
   * summary table, and its pictures are `reference-samples.png` and `reference-samples.gif`.
   * `load` is called after training, on the run's backend; the predictor is disposed after use.
   */
  readonly reference?: { readonly label: string; readonly load: () => Promise<VideoPredictor> };
  /** Initialise the backend (tests initialise their own). @default true */
  readonly initBackend?: boolean;
  /** Stop after this many steps in this process (like a kill, for tests), saving a checkpoint. */
  readonly stopAfterSteps?: number;
  /** A command line to record in run.json. */
  readonly command?: string;
}

/** What {@link train} returns. */
export interface TrainResult {
  readonly runDir: string;
  /** Steps done in all (including those before a resume). */
  readonly step: number;
  readonly totalSteps: number;
  /** The training losses of the steps run in this call, in order. */
  readonly losses: number[];
  /** The loop's history of this call. */
  readonly history: FitHistory | null;
  readonly interrupted: boolean;
  /** The last checkpoint folder written. */
  readonly checkpoint: string | null;
  readonly schedule: ScheduleState;
  /** Final evaluation (null when interrupted or disabled). */
  readonly evaluation: {
    readonly model: FrameMetricsResult;
    readonly baseline: FrameMetricsResult | null;
    readonly allBlack: FrameMetricsResult | null;
    /** The `reference` predictor's metrics, when one was given. */
    readonly reference: { readonly label: string; readonly result: FrameMetricsResult } | null;
  } | null;
  /** The printed summary. */
  readonly summary: string;
  readonly seconds: number;
}

/** The predictor specification of a configuration. */
export function predictorSpec(config: TrainConfig): PredictorSpec {
  const { model, data } = config;
  if (model.type === 'encoder-forecaster') {
    return {
      type: 'encoder-forecaster',
      options: {
        frameSize: [...data.frameSize],
        frameChannels: data.channels,
        patchSize: model.patchSize,
        hiddenChannels: [...model.hiddenChannels],
        kernelSize: model.kernelSize,
        peephole: model.peephole,
        forecasterInput: model.forecasterInput,
      },
    };
  }
  return {
    type: 'conv-recurrent-net',
    patchSize: model.patchSize,
    network: {
      inputChannels: data.channels * model.patchSize * model.patchSize,
      layersPerBlock: [...model.layersPerBlock],
      hiddenChannels: [...model.hiddenChannels],
      skipStride: model.skipStride,
      cell: model.cell,
      order: model.order,
      steps: model.steps,
      ranks: model.ranks,
      kernelSize: model.kernelSize,
      bias: true,
      outputSigmoid: model.outputSigmoid,
    },
  };
}

const LOSS_TITLES: Record<TrainConfig['train']['loss'], string> = {
  'l1+mse': 'L1 + MSE',
  mse: 'MSE',
  l1: 'L1',
  bce: 'cross-entropy',
};

/** Renders curves.png from the metrics log; `loss` names the training loss in the title. */
export async function writeCurves(
  runDir: string,
  records: readonly MetricsRecord[],
  loss: TrainConfig['train']['loss'] = 'l1+mse',
): Promise<void> {
  const trainPoints = records.filter((r) => r.type === 'train').map((r) => [r.step, r.loss as number] as const);
  const validLoss = records.filter((r) => r.type === 'valid').map((r) => [r.step, r.loss as number] as const);
  const validMse = records.filter((r) => r.type === 'valid').map((r) => [r.step, r.mse as number] as const);
  const baselineMse = records
    .filter((r) => r.type === 'valid' && typeof r.baselineMse === 'number')
    .map((r) => [r.step, r.baselineMse as number] as const);
  const figure = plotPanels([
    {
      title: `Loss (${LOSS_TITLES[loss]})`,
      xLabel: 'step',
      yLabel: 'loss',
      logY: true,
      series: [
        { label: 'train', points: trainPoints },
        { label: 'validation', points: validLoss, markers: true },
      ],
    },
    {
      title: 'Validation MSE (future frames)',
      xLabel: 'step',
      yLabel: 'MSE per pixel',
      series: [
        { label: 'model', points: validMse, markers: true },
        ...(baselineMse.length ? [{ label: 'copy last frame', points: baselineMse, dashed: true }] : []),
      ],
    },
  ]);
  await writeFile(join(runDir, 'curves.svg'), figure.svg);
  await writeFile(join(runDir, 'curves.png'), figure.toPng());
}

/** A Markdown/terminal summary of a final evaluation. */
export function formatSummary(
  model: FrameMetricsResult,
  baseline: FrameMetricsResult | null,
  others: ReadonlyArray<{ readonly label: string; readonly result: FrameMetricsResult | null }> = [],
): string {
  const rows: string[] = ['| | MSE (per pixel) | PSNR (dB) | SSIM |', '|---|---|---|---|'];
  const row = (label: string, r: FrameMetricsResult): string =>
    `| ${label} | ${(r.metrics.mse?.mean ?? NaN).toFixed(5)} | ${(r.metrics.psnr?.mean ?? NaN).toFixed(2)} | ${(r.metrics.ssim?.mean ?? NaN).toFixed(4)} |`;
  rows.push(row('model', model));
  if (baseline) rows.push(row('copy last frame', baseline));
  for (const other of others) if (other.result) rows.push(row(other.label, other.result));
  return rows.join('\n');
}

const now = (): number => performance.now();

/**
 * The configuration keys that may change when a run resumes: its length, the learning-rate
 * decay, checkpoint cadence and output. Anything else (model, data, seed, batch size, loss, the
 * scheduled-sampling schedule) would make the resumed run a different run.
 */
export const RESUME_OVERRIDABLE_KEYS: readonly string[] = [
  'train.epochs',
  'train.maxSteps',
  'train.stepsPerEpoch',
  'train.lrDecayEpochs',
  'train.lrDecayRate',
  'checkpoint.everySteps',
  'checkpoint.keepLast',
  'checkpoint.keepBest',
  'output.progress',
  'output.logEverySteps',
  'backend',
];

/** The dotted leaf paths of an override object (`{ train: { epochs: 3 } }` → `['train.epochs']`). */
function leafPaths(value: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(value).flatMap(([key, child]) =>
    child !== null && typeof child === 'object' && !Array.isArray(child)
      ? leafPaths(child as Record<string, unknown>, `${prefix}${key}.`)
      : [`${prefix}${key}`],
  );
}

/** The stored configuration of a resumed run with the allowed overrides applied; anything else is refused. */
export function resumeConfig(
  stored: TrainConfig,
  overrides: Record<string, unknown> = {},
  source = 'resume',
): TrainConfig {
  const refused = leafPaths(overrides).filter((path) => !RESUME_OVERRIDABLE_KEYS.includes(path));
  if (refused.length > 0) {
    throw new ConfigError(
      refused.join(', '),
      `only keys that are safe to change on resume (${RESUME_OVERRIDABLE_KEYS.join(', ')}); the run continues its own configuration`,
      refused.map((path) => path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown>)?.[k], overrides)),
      `${source} (start a new run to change them)`,
    );
  }
  return resolveConfigValues({ values: stored as unknown as Record<string, unknown>, overrides, source });
}

/** A recorded run: the clip indices of each step's batch and, optionally, each step's teacher-forcing mask. */
export interface Replay {
  readonly batches: number[][];
  readonly masks: number[][] | null;
}

/** Reads a replay file (see the `train.replay` configuration key). */
export async function readReplay(path: string): Promise<Replay> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new FileFormatError(
      path,
      `expected a JSON replay file {"batches": [[…], …], "masks"?: [[…], …]} (${(error as Error).message})`,
    );
  }
  const { batches, masks } = (value ?? {}) as { batches?: unknown; masks?: unknown };
  const isMatrix = (x: unknown): x is number[][] =>
    Array.isArray(x) &&
    x.every((row) => Array.isArray(row) && row.every((v) => typeof v === 'number' && Number.isFinite(v)));
  if (!isMatrix(batches) || batches.length === 0)
    throw new FileFormatError(path, '"batches" must be a non-empty list of lists of clip indices');
  if (masks !== undefined && masks !== null && !isMatrix(masks))
    throw new FileFormatError(path, '"masks" must be a list of lists of 0/1 values (one per step)');
  return { batches, masks: (masks as number[][] | undefined) ?? null };
}

function replaySource(data: RunData, config: TrainConfig): ClipSource {
  if (!data.trainClips)
    throw new ConfigError(
      'train.replay',
      'a file dataset (data.dataset "moving-mnist-file") whose clips the batches index',
      config.data.dataset,
      'train',
    );
  return data.trainClips;
}

/** Marks run.json as failed with the reason (creating it when the run failed before writing it). */
async function markFailed(runDir: string, error: unknown, step: number | null): Promise<void> {
  const file = join(runDir, 'run.json');
  let previous: Record<string, unknown> = {};
  try {
    previous = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch {
    // none yet
  }
  const reason = error instanceof Error ? error.message : String(error);
  const record = {
    ...previous,
    status: 'failed',
    error: reason,
    ...(step !== null ? { step } : {}),
    finished: new Date().toISOString(),
  };
  await writeAtomic(file, new TextEncoder().encode(`${JSON.stringify(record, null, 2)}\n`)).catch(() => undefined);
}

/** Trains a model as configured; see the module comment. */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const started = now();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const createModel = options.createModel ?? ((spec: PredictorSpec, seed: number) => createPredictor(spec, { seed }));

  // Resume: the checkpoint's own configuration (with only the safe overrides) and run folder.
  let resumed: LoadedCheckpoint | null = null;
  let config: TrainConfig;
  let runDir: string;
  if (options.resume) {
    resumed = await loadResumeCheckpoint(resolve(options.resume), log);
    const stored = resumed.state.config as TrainConfig | undefined;
    if (!stored) throw new VidError(`${resumed.dir}: the checkpoint has no configuration`);
    config = resumeConfig(stored, options.resumeOverrides ?? {}, `--resume ${options.resume}`);
    runDir = options.runDir ?? resolve(resumed.dir, '..', '..');
  } else {
    if (!options.config) throw new ConfigError('config', 'a training configuration (or resume)', undefined, 'train');
    config = options.config;
    runDir =
      options.runDir ??
      join(resolveRunsDir(config.output.runsDir), config.name ?? defaultRunName(config.preset ?? 'run'));
  }
  // Fail before any work when the run directory cannot be written.
  await prepareRunDir(runDir);
  let step: number | null = resumed?.step ?? null;
  try {
    return await trainIn(runDir, config, resumed, options, {
      started,
      log,
      createModel,
      onStep: (s) => void (step = s),
    });
  } catch (error) {
    // Every failure leaves run.json saying so, with the reason.
    await markFailed(runDir, error, step);
    throw error;
  }
}

async function trainIn(
  runDir: string,
  config: TrainConfig,
  resumed: LoadedCheckpoint | null,
  options: TrainOptions,
  context: {
    started: number;
    log: (line: string) => void;
    createModel: (spec: PredictorSpec, seed: number) => VideoPredictor;
    onStep: (step: number) => void;
  },
): Promise<TrainResult> {
  const { started, log, createModel } = context;
  let backend: BackendReport | undefined;
  if (options.initBackend ?? true)
    backend = await initBackend({
      ...(config.backend !== 'auto' ? { backend: config.backend } : {}),
      log: (line) => log(line),
    });

  const data = await openRunData(config);
  let predictor: VideoPredictor;
  try {
    predictor = createModel(predictorSpec(config), config.seed);
  } catch (error) {
    await data.close();
    throw error;
  }
  const spec = predictor.spec;
  const module = predictor.module;
  if (config.model.init !== null && module) {
    try {
      // A vid model file (its own architecture, which must match this run's), or an official
      // PyTorch checkpoint imported with this run's architecture.
      const bytes = await readFileBytes(config.model.init);
      const initial = await loadPredictor(bytes, {
        name: config.model.init,
        ...(isSavedModel(bytes) ? {} : { config: spec }),
      });
      try {
        module.loadStateDict(initial.module?.stateDict() ?? new Map(), { source: config.model.init });
      } finally {
        initial.dispose();
      }
      log(`  initial weights: ${config.model.init}`);
    } catch (error) {
      predictor.dispose();
      await data.close();
      throw error;
    }
  }
  if (!module) {
    predictor.dispose();
    await data.close();
    throw new VidError(`train: model: expected a model with parameters, received ${predictor.kind}`);
  }
  const recipe = config.train;
  const adam = new Adam(module.namedParameters(), {
    lr: recipe.learningRate,
    betas: recipe.betas as [number, number],
    eps: recipe.eps,
    weightDecay: recipe.weightDecay,
  });
  const checkpoints = new CheckpointManager(runDir, {
    keepLast: config.checkpoint.keepLast,
    keepBest: config.checkpoint.keepBest,
    ...(options.writeFile ? { writeFile: options.writeFile } : {}),
  });
  const metricsLog = new MetricsLog(join(runDir, 'metrics.jsonl'));
  let lastCheckpoint: string | null = null;
  let resumeState: FitState | undefined;

  try {
    await checkpoints.init();
    if (resumed) {
      const checkpoint = resumed;
      module.loadStateDict(checkpoint.weights, { source: checkpoint.dir });
      adam.loadState(checkpoint.optimizer);
      const state = checkpoint.state as unknown as FitState;
      resumeState = {
        step: checkpoint.step,
        position: state.position,
        schedule: { ...state.schedule },
        rng: state.rng,
        baselineMse: state.baselineMse ?? null,
        validationsSinceBest: state.validationsSinceBest ?? 0,
      };
      adam.lr = resumeState.schedule.lr;
      lastCheckpoint = checkpoint.dir;
      await metricsLog.truncateAfter(checkpoint.step);
      log(`vid train: resumed ${checkpoint.dir} at step ${checkpoint.step}`);
    } else {
      await writeFile(join(runDir, 'metrics.jsonl'), '');
    }
    const replay = config.train.replay !== null ? await readReplay(config.train.replay) : null;
    if (replay)
      log(
        `  replaying ${config.train.replay}: ${replay.batches.length} recorded batches${replay.masks ? ' and teacher-forcing masks' : ''}`,
      );
    const spe = stepsPerEpoch(config, data.trainLength);
    const total = totalSteps(config, data.trainLength);
    const parameters = module.numParameters();
    await writeFile(join(runDir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    await writeFile(
      join(runDir, 'run.json'),
      `${JSON.stringify(
        {
          command: options.command ?? process.argv.join(' '),
          started: new Date().toISOString(),
          resumedFrom: resumed?.dir ?? null,
          backend: backend?.line ?? tf.getBackend(),
          node: process.version,
          tfjs: tf.version_core,
          data: data.description,
          model: { spec, parameters },
          steps: total,
          stepsPerEpoch: spe,
          status: 'running',
        },
        null,
        2,
      )}\n`,
    );
    log(`vid train: ${config.preset} → ${runDir}`);
    log(`  data: ${data.description}`);
    log(
      `  model: ${predictor.kind} (${parameters.toLocaleString('en-US')} parameters), ${config.data.inputFrames} → ${config.data.futureFrames}, loss ${config.train.loss} on ${lossOutputFrames(config)} outputs`,
    );
    log(
      `  ${describePlan(config, data.trainLength)}, Adam lr ${config.train.learningRate}${config.train.gradientClipping ? `, clip ${config.train.clippingThreshold}` : ''}`,
    );

    const losses: number[] = [];
    // The run directory's callbacks: the metrics log and the checkpoints.
    const runCallbacks: FitCallbacks = {
      onStepEnd: async (step) => {
        losses.push(step.loss);
        context.onStep(step.step);
        if (step.step % config.output.logEverySteps === 0 || step.step === total) {
          await metricsLog.append({
            type: 'train',
            step: step.step,
            epoch: step.epoch,
            loss: step.loss,
            lr: step.lr,
            ssr: step.ratio,
            time: new Date().toISOString(),
          });
        }
        if (options.stopAfterSteps !== undefined && losses.length >= options.stopAfterSteps) abortStop();
      },
      onEpochEnd: async (epoch) => {
        const say = (event: string): void => log(`  epoch ${epoch.epoch}: ${event}`);
        for (const event of epoch.events) {
          say(event);
          await metricsLog.append({
            type: 'schedule',
            step: epoch.step,
            epoch: epoch.epoch,
            event,
            ssr: epoch.ratio,
            lr: epoch.lr,
          });
        }
        if (epoch.validation) {
          const valid = epoch.validation;
          await metricsLog.append({
            type: 'valid',
            step: epoch.step,
            epoch: epoch.epoch,
            loss: valid.loss,
            mse: valid.mse,
            baselineMse: valid.baselineMse,
            best: epoch.best,
            ssr: epoch.ratio,
            lr: epoch.lr,
          });
          say(
            `validation loss ${formatLoss(valid.loss)}, future MSE ${formatLoss(valid.mse)} (copy last frame ${formatLoss(valid.baselineMse)})${epoch.best ? ' (best)' : ''}`,
          );
        }
      },
      onCheckpoint: async (event) => {
        const { bytes: model } = await savePredictor(event.predictor);
        const state = { ...event.state, epoch: Math.floor(event.step / spe), config };
        const dir = await checkpoints.save(
          {
            step: event.step,
            model,
            optimizer: await event.optimizer.exportState(),
            state: state as unknown as Record<string, unknown>,
          },
          event.best ? { isBest: true, ...(event.validLoss !== undefined ? { validLoss: event.validLoss } : {}) } : {},
        );
        await metricsLog.append({ type: 'checkpoint', step: event.step, dir, best: event.best });
        lastCheckpoint = dir;
      },
    };
    let abortStop: () => void = () => undefined;
    const stopper: FitCallbacks = {
      onTrainBegin: (control) => void (abortStop = () => control.stop('stopAfterSteps')),
    };
    let history: FitHistory;
    try {
      history = await fit(
        predictor,
        replay ? recordedBatches(replaySource(data, config), replay.batches, data.validation) : data,
        {
          inputFrames: config.data.inputFrames,
          futureFrames: config.data.futureFrames,
          batchSize: recipe.batchSize,
          stepsPerEpoch: spe,
          epochs: recipe.epochs,
          maxSteps: recipe.maxSteps,
          recipe: { ...recipe, outputFrames: lossOutputFrames(config) },
          seed: config.seed,
          validationBatchSize: config.validation.batchSize,
          validateEveryEpochs: config.validation.everyEpochs,
          checkpointEverySteps: config.checkpoint.everySteps,
          checkpointBest: config.checkpoint.keepBest,
          optimizer: adam,
          ...(resumeState ? { resume: resumeState } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
          ...(replay?.masks ? { teacherForcingMasks: (step: number) => replay?.masks?.[step - 1] ?? null } : {}),
          callbacks: [stopper, runCallbacks, ...(options.callbacks ?? [])],
        },
      );
    } catch (error) {
      if (error instanceof TrainingDivergedError && lastCheckpoint) {
        error.message += ` The last good checkpoint is ${lastCheckpoint}.`;
      }
      throw error;
    }
    const step = history.step;
    const interrupted = history.stopped === 'aborted' || history.stopped === 'callback';
    const schedule: ScheduleState = history.state.schedule;
    if (interrupted)
      log(
        `vid train: stopped at step ${step}; checkpoint ${lastCheckpoint}. Resume with: vid train --resume ${runDir}`,
      );
    await writeCurves(runDir, await metricsLog.read(), config.train.loss);

    let evaluation: TrainResult['evaluation'] = null;
    let summary = '';
    if (!interrupted && (options.finalEvaluation ?? true)) {
      log(
        `vid train: final evaluation on ${data.evaluation.length} validation sequences (${config.data.inputFrames} → ${config.evaluation.futureFrames}, ${config.evaluation.protocol} metrics)`,
      );
      const result = await evaluatePredictor(predictor, data.evaluation, {
        inputFrames: config.data.inputFrames,
        futureFrames: config.evaluation.futureFrames,
        protocol: config.evaluation.protocol,
        batchSize: config.validation.batchSize,
        keepSamples: config.evaluation.gifSamples,
      });
      let reference: { label: string; result: FrameMetricsResult } | null = null;
      if (options.reference) {
        log(`vid train: the same sequences through ${options.reference.label}`);
        const referencePredictor = await options.reference.load();
        const other = await evaluatePredictor(referencePredictor, data.evaluation, {
          inputFrames: config.data.inputFrames,
          futureFrames: config.evaluation.futureFrames,
          protocol: config.evaluation.protocol,
          batchSize: config.validation.batchSize,
          keepSamples: config.evaluation.gifSamples,
          baseline: false,
          allBlack: false,
        }).finally(() => referencePredictor.dispose());
        reference = { label: options.reference.label, result: other.model };
        if (other.samples) {
          await writeFile(
            join(runDir, 'reference-samples.png'),
            samplesGrid(other.samples, { title: options.reference.label.toUpperCase() }).toPng(),
          );
          await writeFile(join(runDir, 'reference-samples.gif'), samplesGif(other.samples));
        }
      }
      evaluation = { model: result.model, baseline: result.baseline, allBlack: result.allBlack, reference };
      if (result.samples) {
        await writeFile(
          join(runDir, 'samples.png'),
          samplesGrid(result.samples, { title: `${config.preset}: STEP ${step}` }).toPng(),
        );
        await writeFile(join(runDir, 'samples.gif'), samplesGif(result.samples));
      }
      const table = formatSummary(result.model, result.baseline, [
        { label: 'all black', result: result.allBlack },
        ...(reference ? [reference] : []),
      ]);
      const seconds = (now() - started) / 1000;
      summary = [
        `vid train: done, ${step} steps in ${formatDuration(seconds)} (${(losses.length / Math.max(1e-9, seconds)).toFixed(2)} steps/s overall)`,
        `  final training loss ${formatLoss(losses.slice(-10).reduce((a, b) => a + b, 0) / Math.max(1, Math.min(10, losses.length)))} (mean of the last ${Math.min(10, losses.length)} steps; first step ${formatLoss(losses[0] ?? NaN)})`,
        `  validation, ${result.clips} sequences, ${config.data.inputFrames} → ${config.evaluation.futureFrames} (${result.model.source}):`,
        table,
        ...(reference
          ? [
              `  pictures: ${join(runDir, 'samples.png')} (this run), ${join(runDir, 'reference-samples.png')} (${reference.label})`,
            ]
          : []),
        `  run directory: ${runDir}`,
      ].join('\n');
      await writeFile(
        join(runDir, 'summary.json'),
        `${JSON.stringify({ step, seconds, model: result.model, baseline: result.baseline, allBlack: result.allBlack, reference, clips: result.clips }, null, 2)}\n`,
      );
      await writeFile(
        join(runDir, 'summary.md'),
        `# ${config.preset} — step ${step}\n\n${table}\n\n## Per frame (model)\n\n${formatMetricsTable(result.model)}\n`,
      );
      await metricsLog.append({
        type: 'final',
        step,
        mse: result.model.metrics.mse?.mean,
        ssim: result.model.metrics.ssim?.mean,
        psnr: result.model.metrics.psnr?.mean,
        baselineMse: result.baseline?.metrics.mse?.mean,
        baselineSsim: result.baseline?.metrics.ssim?.mean,
      });
      log(summary);
    }
    const seconds = (now() - started) / 1000;
    const runJson = JSON.parse(await readFile(join(runDir, 'run.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(
      join(runDir, 'run.json'),
      `${JSON.stringify({ ...runJson, status: interrupted ? 'interrupted' : 'done', step, finished: new Date().toISOString(), seconds }, null, 2)}\n`,
    );
    return {
      runDir,
      step,
      totalSteps: total,
      losses,
      history,
      interrupted,
      checkpoint: lastCheckpoint,
      schedule,
      evaluation,
      summary,
      seconds,
    };
  } finally {
    adam.dispose();
    predictor.dispose();
    await data.close();
  }
}
