/**
 * The official recipe's schedules (NVlabs/conv-tt-lstm `code/model_train.py`): after each epoch,
 * learning-rate decay (once in decay mode, every `lrDecayEpochs`), scheduled-sampling decay (once
 * in decay mode, every `ssrDecayEpochs`, by `ssrDecayRatio`, floored at 0), then validation with
 * best tracking and the plateau rule: the ratio starts decaying when the epoch exceeds the best
 * epoch by more than `plateauEpochs`; the best epoch is then reset, and the learning rate starts
 * decaying after a second plateau. The order of these steps is the official script's.
 */
import type { TrainConfig } from '../config/config.js';

/** The official recipe: loss, Adam, clipping and both schedules (a `train` section without its lengths). */
export type Recipe = Omit<TrainConfig['train'], 'batchSize' | 'epochs' | 'stepsPerEpoch' | 'maxSteps'>;

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

/** A copy of the schedules' initial state. */
export function initialSchedule(recipe: Pick<Recipe, 'scheduledSamplingRatio' | 'learningRate'>): ScheduleState {
  return {
    ratio: recipe.scheduledSamplingRatio,
    lr: recipe.learningRate,
    ssrDecayMode: false,
    lrDecayMode: false,
    minEpoch: 0,
    minLoss: null,
    bestStep: null,
  };
}

/** The end-of-epoch schedule updates before validation (official Phase 1 tail). `epoch` is 0-based. */
export function decaySchedules(schedule: ScheduleState, epoch: number, recipe: Recipe): string[] {
  const events: string[] = [];
  if (schedule.lrDecayMode && (epoch + 1) % recipe.lrDecayEpochs === 0) {
    schedule.lr *= recipe.lrDecayRate;
    events.push(`learning rate → ${schedule.lr.toPrecision(4)}`);
  }
  if (schedule.ssrDecayMode && (epoch + 1) % recipe.ssrDecayEpochs === 0) {
    schedule.ratio = Math.max(schedule.ratio - recipe.ssrDecayRatio, 0);
    events.push(`scheduled-sampling ratio → ${schedule.ratio.toFixed(3)}`);
  }
  return events;
}

/**
 * The validation bookkeeping and plateau rule (official Phases 2–3). Returns whether the loss
 * is a new best, and the events. `epoch` is 0-based.
 */
export function afterValidation(
  schedule: ScheduleState,
  epoch: number,
  validLoss: number,
  step: number,
  recipe: Recipe,
): { best: boolean; events: string[] } {
  const events: string[] = [];
  let best = false;
  if (schedule.minLoss === null || validLoss < schedule.minLoss) {
    schedule.minEpoch = epoch + 1;
    schedule.minLoss = validLoss;
    schedule.bestStep = step;
    best = true;
  }
  const plateau = recipe.plateauEpochs;
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
