/**
 * The training loop, as NVlabs/conv-tt-lstm `code/model_train.py` runs it:
 *
 * - loss: L1 + MSE (means) on every one-step output of the teacher-forced rollout (the official
 *   `--output-frames 19` for 10 → 10), with the scheduled-sampling ratio as the probability of
 *   feeding the ground truth at each future step;
 * - Adam (PyTorch's update), gradient clipping by global norm (`clip_grad_norm_`);
 * - after each epoch: learning-rate decay (once in decay mode, every `lrDecayEpochs`),
 *   scheduled-sampling decay (once in decay mode, every `ssrDecayEpochs`, by `ssrDecayRatio`,
 *   floored at 0), validation in test mode (loss on all outputs), best tracking, then the
 *   plateau rule: the ratio starts decaying when the epoch exceeds the best epoch by more than
 *   `plateauEpochs`; the best epoch is then reset, and the learning rate starts decaying after
 *   a second plateau. The order of these steps is the official script's.
 *
 * Everything is seeded and checkpointed (weights, Adam state, scheduled-sampling RNG, schedules,
 * data position), so `resume` continues with the same losses as an uninterrupted run.
 */
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import { Adam, type BackendReport, ConfigError, Rng, type RngState, VidError, clipGradNorm, initBackend, sliceFrames } from '@vid/core';
import { batchToTensor } from '@vid/datasets';
import { type FrameMetricsResult, formatMetricsTable } from '@vid/metrics';
import { type PredictorSpec, type VideoPredictor, createPredictor, loadPredictorWeights, predictionLoss, predictorWeights, reconstructionLoss } from '@vid/models';

import { type TrainConfig, lossOutputFrames, stepsPerEpoch, totalSteps } from '../config/config.js';
import { plotPanels } from '../render/plot.js';
import { samplesGif, samplesGrid } from '../render/samples.js';
import { CheckpointManager, type FileWriter, checkpointName, loadCheckpoint, resolveCheckpointDir } from './checkpoints.js';
import { type RunData, openRunData, readClips } from './data.js';
import { evaluatePredictor } from './evaluate.js';
import { MetricsLog, type MetricsRecord } from './metrics-log.js';
import { ProgressReporter, formatDuration, formatLoss } from './progress.js';
import { defaultRunName, prepareRunDir, resolveRunsDir } from './run-dir.js';

/** The schedules' state (the official script's variables). */
export interface ScheduleState {
  /** `scheduled_sampling_ratio`. */
  ratio: number;
  /** The optimizer's learning rate. */
  lr: number;
  /** `ssr_decay_mode`. */
  ssrDecayMode: boolean;
  /** `lr_decay_mode`. */
  lrDecayMode: boolean;
  /** `min_epoch` (1-based epoch of the best validation loss, reset when decay starts). */
  minEpoch: number;
  /** `min_loss`: the best validation loss (null before the first validation). */
  minLoss: number | null;
  /** Step of the best validation loss (for the best checkpoint). */
  bestStep: number | null;
}

/** Options of {@link train}. */
export interface TrainOptions {
  readonly config: TrainConfig;
  /** Run directory; default `<runsDir>/<name>`. */
  readonly runDir?: string;
  /** Resume from a run or checkpoint folder (the run continues in the checkpoint's run folder unless `runDir` is given). */
  readonly resume?: string;
  /** Stops after the current step: a checkpoint is saved and the result says `interrupted`. */
  readonly signal?: AbortSignal;
  /** Messages (default: stderr through the progress reporter). */
  readonly log?: (line: string) => void;
  /** Progress output override (tests pass 'none'). */
  readonly progress?: 'auto' | 'bar' | 'lines' | 'none';
  /** Build the model from a spec (tests may substitute a tiny model). @default createPredictor */
  readonly createModel?: (spec: PredictorSpec, seed: number) => VideoPredictor;
  /** Checkpoint file writer (tests simulate a full disk). */
  readonly writeFile?: FileWriter;
  /** Run the final evaluation and write the pictures. @default true */
  readonly finalEvaluation?: boolean;
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
  readonly interrupted: boolean;
  /** The last checkpoint folder written. */
  readonly checkpoint: string | null;
  readonly schedule: ScheduleState;
  /** Final evaluation (null when interrupted or disabled). */
  readonly evaluation: { readonly model: FrameMetricsResult; readonly baseline: FrameMetricsResult | null } | null;
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

/** A copy of the schedules' initial state. */
export function initialSchedule(config: TrainConfig): ScheduleState {
  return { ratio: config.train.scheduledSamplingRatio, lr: config.train.learningRate, ssrDecayMode: false, lrDecayMode: false, minEpoch: 0, minLoss: null, bestStep: null };
}

/**
 * The end-of-epoch schedule updates before validation (official Phase 1 tail): learning-rate and
 * scheduled-sampling decays. `epoch` is 0-based.
 */
export function decaySchedules(schedule: ScheduleState, epoch: number, config: TrainConfig): string[] {
  const events: string[] = [];
  const { train } = config;
  if (schedule.lrDecayMode && (epoch + 1) % train.lrDecayEpochs === 0) {
    schedule.lr *= train.lrDecayRate;
    events.push(`learning rate → ${schedule.lr.toPrecision(4)}`);
  }
  if (schedule.ssrDecayMode && (epoch + 1) % train.ssrDecayEpochs === 0) {
    schedule.ratio = Math.max(schedule.ratio - train.ssrDecayRatio, 0);
    events.push(`scheduled-sampling ratio → ${schedule.ratio.toFixed(3)}`);
  }
  return events;
}

/**
 * The validation bookkeeping and plateau rule (official Phases 2–3). Returns whether the loss
 * is a new best, and the events. `epoch` is 0-based.
 */
export function afterValidation(schedule: ScheduleState, epoch: number, validLoss: number, step: number, config: TrainConfig): { best: boolean; events: string[] } {
  const events: string[] = [];
  let best = false;
  if (schedule.minLoss === null || validLoss < schedule.minLoss) {
    schedule.minEpoch = epoch + 1;
    schedule.minLoss = validLoss;
    schedule.bestStep = step;
    best = true;
  }
  const plateau = config.train.plateauEpochs;
  if (!schedule.ssrDecayMode && epoch > schedule.minEpoch + plateau) {
    schedule.minEpoch = epoch;
    schedule.ssrDecayMode = true;
    events.push(`validation plateaued for ${plateau} epochs: scheduled-sampling decay starts`);
  }
  if (!schedule.lrDecayMode && epoch > schedule.minEpoch + plateau) {
    schedule.lrDecayMode = true;
    events.push(`validation plateaued again: learning-rate decay starts`);
  }
  return { best, events };
}

/**
 * Validation as the official script: test-mode rollout, loss on the last outputFrames outputs;
 * also future-frame MSE, and that of the copy-last-frame baseline unless `baselineMse` is known
 * (the validation set is fixed, so it is computed once per run).
 */
async function validate(predictor: VideoPredictor, data: RunData, config: TrainConfig, baselineMse?: number): Promise<{ loss: number; mse: number; baselineMse: number }> {
  const { inputFrames, futureFrames } = config.data;
  const outputFrames = lossOutputFrames(config);
  const total = inputFrames + futureFrames;
  let lossSum = 0;
  let mseSum = 0;
  let baselineSum = 0;
  let count = 0;
  for (let start = 0; start < data.validation.length; start += config.validation.batchSize) {
    const batch = await readClips(data.validation, start, config.validation.batchSize);
    const clip = batchToTensor(batch);
    const n = clip.shape[0];
    const values = tf.tidy(() => {
      const context = sliceFrames(clip, 0, inputFrames);
      const result = predictor.rollout(context, { inputFrames, futureFrames, outputs: 'all' });
      const available = result.predictions.shape[1];
      const used = Math.min(outputFrames, available);
      const outputs = sliceFrames(result.predictions, available - used, used);
      const target = sliceFrames(clip, total - used, used);
      const future = sliceFrames(result.predictions, available - futureFrames, futureFrames);
      const truth = sliceFrames(clip, inputFrames, futureFrames);
      const lossKind = config.train.loss === 'bce' ? 'l1+mse' : config.train.loss;
      const scalars = [reconstructionLoss(lossKind, outputs, target), reconstructionLoss('mse', tf.clipByValue(future, 0, 1), truth)];
      // The copy-last-frame baseline on the same clips: the last context frame, repeated.
      if (baselineMse === undefined) scalars.push(reconstructionLoss('mse', tf.tile(sliceFrames(clip, inputFrames - 1, 1), [1, futureFrames, 1, 1, 1]), truth));
      return tf.stack(scalars);
    });
    // One read-back per batch. Batch means weighted by the batch size (the official script:
    // LOSS += loss · batch_size; LOSS /= valid_size).
    const [loss, mse, baseline] = (await values.data()) as Float32Array;
    tf.dispose([values, clip]);
    lossSum += (loss as number) * n;
    mseSum += (mse as number) * n;
    baselineSum += (baseline ?? 0) * n;
    count += n;
  }
  return { loss: lossSum / Math.max(1, count), mse: mseSum / Math.max(1, count), baselineMse: baselineMse ?? baselineSum / Math.max(1, count) };
}

/** Renders curves.png from the metrics log. */
export async function writeCurves(runDir: string, records: readonly MetricsRecord[]): Promise<void> {
  const trainPoints = records.filter((r) => r.type === 'train').map((r) => [r.step, r.loss as number] as const);
  const validLoss = records.filter((r) => r.type === 'valid').map((r) => [r.step, r.loss as number] as const);
  const validMse = records.filter((r) => r.type === 'valid').map((r) => [r.step, r.mse as number] as const);
  const baselineMse = records.filter((r) => r.type === 'valid' && typeof r.baselineMse === 'number').map((r) => [r.step, r.baselineMse as number] as const);
  const canvas = plotPanels([
    {
      title: 'LOSS (L1+MSE)',
      xLabel: 'STEP',
      yLabel: 'LOSS',
      logY: true,
      series: [
        { label: 'TRAIN', points: trainPoints },
        { label: 'VALID', points: validLoss, markers: true },
      ],
    },
    {
      title: 'VALIDATION MSE (FUTURE)',
      xLabel: 'STEP',
      yLabel: 'MSE PER PIXEL',
      series: [
        { label: 'MODEL', points: validMse, markers: true },
        ...(baselineMse.length ? [{ label: 'COPY LAST', points: baselineMse, dashed: true }] : []),
      ],
    },
  ]);
  await writeFile(join(runDir, 'curves.png'), canvas.toPng());
}

/** A Markdown/terminal summary of a final evaluation. */
export function formatSummary(model: FrameMetricsResult, baseline: FrameMetricsResult | null): string {
  const rows: string[] = ['| | MSE (per pixel) | PSNR (dB) | SSIM |', '|---|---|---|---|'];
  const row = (label: string, r: FrameMetricsResult): string => `| ${label} | ${(r.metrics.mse?.mean ?? NaN).toFixed(5)} | ${(r.metrics.psnr?.mean ?? NaN).toFixed(2)} | ${(r.metrics.ssim?.mean ?? NaN).toFixed(4)} |`;
  rows.push(row('model', model));
  if (baseline) rows.push(row('copy last frame', baseline));
  return rows.join('\n');
}

const now = (): number => performance.now();

/** Trains a model as configured; see the module comment. */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const started = now();
  let config = options.config;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const createModel = options.createModel ?? ((spec: PredictorSpec, seed: number) => createPredictor(spec, { seed }));

  // Resume: the checkpoint's configuration and run folder, unless overridden.
  let resumeDir: string | null = null;
  let runDir: string;
  if (options.resume) {
    resumeDir = await resolveCheckpointDir(resolve(options.resume));
    const stored = (await loadCheckpoint(resumeDir)).state.config as TrainConfig | undefined;
    if (!stored) throw new VidError(`${resumeDir}: the checkpoint has no configuration`);
    config = { ...stored, train: { ...stored.train, epochs: options.config.train.epochs, maxSteps: options.config.train.maxSteps } } as TrainConfig;
    runDir = options.runDir ?? resolve(resumeDir, '..', '..');
  } else {
    runDir = options.runDir ?? join(resolveRunsDir(config.output.runsDir), config.name ?? defaultRunName(config.preset ?? 'run'));
  }
  // Fail before any work when the run directory cannot be written.
  await prepareRunDir(runDir);
  let backend: BackendReport | undefined;
  if (options.initBackend ?? true) backend = await initBackend({ ...(config.backend !== 'auto' ? { backend: config.backend } : {}), log: (line) => log(line) });

  const data = await openRunData(config);
  const spec = predictorSpec(config);
  const predictor = createModel(spec, config.seed);
  const module = predictor.module;
  if (!module) throw new ConfigError('model', 'a model with parameters', predictor.kind, 'train');
  const adam = new Adam(module.namedParameters(), {
    lr: config.train.learningRate,
    betas: config.train.betas as [number, number],
    eps: config.train.eps,
    weightDecay: config.train.weightDecay,
  });
  const samplingRng = new Rng(`${config.seed}:scheduled-sampling`);
  let schedule = initialSchedule(config);
  let step = 0;
  let position = 0;
  const checkpoints = new CheckpointManager(runDir, { keepLast: config.checkpoint.keepLast, keepBest: config.checkpoint.keepBest, ...(options.writeFile ? { writeFile: options.writeFile } : {}) });
  await checkpoints.init();
  const metricsLog = new MetricsLog(join(runDir, 'metrics.jsonl'));
  let lastCheckpoint: string | null = null;

  try {
    if (resumeDir) {
      const checkpoint = await loadCheckpoint(resumeDir);
      loadPredictorWeights(predictor, checkpoint.weights, checkpoint.dir);
      adam.loadState(checkpoint.optimizer);
      const state = checkpoint.state as { position: number; rng: RngState; schedule: ScheduleState };
      samplingRng.setState(state.rng);
      schedule = { ...state.schedule };
      step = checkpoint.step;
      position = state.position;
      adam.lr = schedule.lr;
      lastCheckpoint = checkpoint.dir;
      await metricsLog.truncateAfter(step);
      log(`vid train: resumed ${checkpoint.dir} at step ${step}`);
    } else {
      await writeFile(join(runDir, 'metrics.jsonl'), '');
    }
    const spe = stepsPerEpoch(config);
    const total = totalSteps(config);
    const parameters = module.numParameters();
    await writeFile(join(runDir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    await writeFile(
      join(runDir, 'run.json'),
      `${JSON.stringify(
        {
          command: options.command ?? process.argv.join(' '),
          started: new Date().toISOString(),
          resumedFrom: resumeDir,
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
    log(`  model: ${predictor.kind} (${parameters.toLocaleString('en-US')} parameters), ${config.data.inputFrames} → ${config.data.futureFrames}, loss ${config.train.loss} on ${lossOutputFrames(config)} outputs`);
    log(`  ${total} steps (${config.train.epochs} epochs × ${spe} steps, batch ${config.train.batchSize}), Adam lr ${config.train.learningRate}${config.train.gradientClipping ? `, clip ${config.train.clippingThreshold}` : ''}`);

    const progress = new ProgressReporter({ mode: options.progress ?? config.output.progress, logEvery: config.output.logEverySteps, ...(options.log ? { write: (text: string) => options.log?.(text.replace(/\n$/, '')) } : {}) });
    const say = (line: string): void => (options.log ? log(line) : progress.log(line));
    const losses: number[] = [];
    const saveCheckpoint = async (isBest = false, validLoss?: number): Promise<string> => {
      const weights = await predictorWeights(predictor);
      const state = { position, rng: samplingRng.getState(), schedule: { ...schedule }, epoch: Math.floor(step / spe), config };
      const dir = await checkpoints.save(
        { step, weights: weights.tensors, weightsMetadata: weights.metadata, optimizer: await adam.exportState(), state },
        isBest ? { isBest, ...(validLoss !== undefined ? { validLoss } : {}) } : {},
      );
      await metricsLog.append({ type: 'checkpoint', step, dir, best: isBest });
      lastCheckpoint = dir;
      return dir;
    };

    let stepsThisRun = 0;
    let interrupted = false;
    let baselineMse: number | undefined; // of the fixed validation set: computed at the first validation
    let nextBatch: Promise<import('@vid/datasets').VideoBatch> | null = step < total ? data.trainBatch(position, config.train.batchSize) : null;
    progress.start(step);
    const outputFrames = lossOutputFrames(config);
    while (step < total) {
      if (options.signal?.aborted || (options.stopAfterSteps !== undefined && stepsThisRun >= options.stopAfterSteps)) {
        interrupted = true;
        break;
      }
      const batch = await (nextBatch as Promise<import('@vid/datasets').VideoBatch>);
      position += config.train.batchSize;
      // Prepare the next batch while this step runs (the generator is synchronous, files are async).
      nextBatch = step + 1 < total ? data.trainBatch(position, config.train.batchSize) : null;
      const clip = batchToTensor(batch);
      adam.lr = schedule.lr;
      const { value, grads } = adam.computeGradients(() =>
        predictionLoss(predictor, clip, {
          inputFrames: config.data.inputFrames,
          futureFrames: config.data.futureFrames,
          outputFrames,
          scheduledSamplingRatio: schedule.ratio,
          rng: samplingRng,
          loss: config.train.loss,
        }),
      );
      let applied = grads;
      if (config.train.gradientClipping) applied = clipGradNorm(grads, config.train.clippingThreshold).grads;
      adam.applyGradients(applied);
      const loss = (await value.data())[0] as number;
      tf.dispose([value, clip, ...grads.values(), ...(applied === grads ? [] : applied.values())]);
      step++;
      stepsThisRun++;
      losses.push(loss);
      if (!Number.isFinite(loss)) {
        throw new VidError(`the training loss became ${loss} at step ${step}; lower train.learningRate or enable train.gradientClipping. ${lastCheckpoint ? `The last good checkpoint is ${lastCheckpoint}.` : ''}`);
      }
      const epoch = Math.floor((step - 1) / spe);
      progress.update({ step, total, epoch, loss, extra: `ssr ${schedule.ratio.toFixed(2)}` });
      if (step % config.output.logEverySteps === 0 || step === total) {
        await metricsLog.append({ type: 'train', step, epoch: epoch + 1, loss, lr: schedule.lr, ssr: schedule.ratio, itPerSec: Number(progress.rate.toFixed(4)), time: new Date().toISOString() });
      }
      let savedBest = false;
      if (step % spe === 0) {
        for (const event of decaySchedules(schedule, epoch, config)) {
          say(`  epoch ${epoch + 1}: ${event}`);
          await metricsLog.append({ type: 'schedule', step, epoch: epoch + 1, event, ssr: schedule.ratio, lr: schedule.lr });
        }
        if ((epoch + 1) % config.validation.everyEpochs === 0) {
          const valid = await validate(predictor, data, config, baselineMse);
          baselineMse = valid.baselineMse;
          const { best, events } = afterValidation(schedule, epoch, valid.loss, step, config);
          await metricsLog.append({ type: 'valid', step, epoch: epoch + 1, loss: valid.loss, mse: valid.mse, baselineMse: valid.baselineMse, best, ssr: schedule.ratio, lr: schedule.lr });
          say(`  epoch ${epoch + 1}: validation loss ${formatLoss(valid.loss)}, future MSE ${formatLoss(valid.mse)} (copy last frame ${formatLoss(valid.baselineMse)})${best ? ' (best)' : ''}`);
          for (const event of events) {
            say(`  epoch ${epoch + 1}: ${event}`);
            await metricsLog.append({ type: 'schedule', step, epoch: epoch + 1, event, ssr: schedule.ratio, lr: schedule.lr });
          }
          if (best && config.checkpoint.keepBest) {
            await saveCheckpoint(true, valid.loss);
            savedBest = true;
          }
        }
      }
      if (!savedBest && (step % config.checkpoint.everySteps === 0 || step === total)) await saveCheckpoint();
    }
    progress.finish();
    if (interrupted) {
      if (lastCheckpoint !== join(checkpoints.dir, checkpointName(step))) await saveCheckpoint();
      say(`vid train: stopped at step ${step}; checkpoint ${lastCheckpoint}. Resume with: vid train --resume ${runDir}`);
    }
    await nextBatch?.catch(() => undefined);
    await writeCurves(runDir, await metricsLog.read());

    let evaluation: TrainResult['evaluation'] = null;
    let summary = '';
    if (!interrupted && (options.finalEvaluation ?? true)) {
      say(`vid train: final evaluation on ${data.evaluation.length} validation sequences (${config.data.inputFrames} → ${config.evaluation.futureFrames}, ${config.evaluation.protocol} metrics)`);
      const result = await evaluatePredictor(predictor, data.evaluation, {
        inputFrames: config.data.inputFrames,
        futureFrames: config.evaluation.futureFrames,
        protocol: config.evaluation.protocol,
        batchSize: config.validation.batchSize,
        keepSamples: config.evaluation.gifSamples,
      });
      evaluation = { model: result.model, baseline: result.baseline };
      if (result.samples) {
        await writeFile(join(runDir, 'samples.png'), samplesGrid(result.samples, { title: `${config.preset}: STEP ${step}` }).toPng());
        await writeFile(join(runDir, 'samples.gif'), samplesGif(result.samples));
      }
      const table = formatSummary(result.model, result.baseline);
      const seconds = (now() - started) / 1000;
      summary = [
        `vid train: done, ${step} steps in ${formatDuration(seconds)} (${(stepsThisRun / Math.max(1e-9, seconds)).toFixed(2)} steps/s overall)`,
        `  final training loss ${formatLoss(losses.slice(-10).reduce((a, b) => a + b, 0) / Math.max(1, Math.min(10, losses.length)))} (mean of the last ${Math.min(10, losses.length)} steps; first step ${formatLoss(losses[0] ?? NaN)})`,
        `  validation, ${result.clips} sequences, ${config.data.inputFrames} → ${config.evaluation.futureFrames} (${result.model.source}):`,
        table,
        `  run directory: ${runDir}`,
      ].join('\n');
      await writeFile(join(runDir, 'summary.json'), `${JSON.stringify({ step, seconds, model: result.model, baseline: result.baseline, clips: result.clips }, null, 2)}\n`);
      await writeFile(join(runDir, 'summary.md'), `# ${config.preset} — step ${step}\n\n${table}\n\n## Per frame (model)\n\n${formatMetricsTable(result.model)}\n`);
      await metricsLog.append({ type: 'final', step, mse: result.model.metrics.mse?.mean, ssim: result.model.metrics.ssim?.mean, psnr: result.model.metrics.psnr?.mean, baselineMse: result.baseline?.metrics.mse?.mean, baselineSsim: result.baseline?.metrics.ssim?.mean });
      log(summary);
    }
    const seconds = (now() - started) / 1000;
    const runJson = JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(join(runDir, 'run.json'), 'utf8'))) as Record<string, unknown>;
    await writeFile(join(runDir, 'run.json'), `${JSON.stringify({ ...runJson, status: interrupted ? 'interrupted' : 'done', step, finished: new Date().toISOString(), seconds }, null, 2)}\n`);
    return { runDir, step, totalSteps: total, losses, interrupted, checkpoint: lastCheckpoint, schedule, evaluation, summary, seconds };
  } finally {
    adam.dispose();
    predictor.dispose();
    await data.close();
  }
}

