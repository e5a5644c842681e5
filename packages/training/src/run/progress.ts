/**
 * Training progress on the terminal: a one-line bar with step, loss, it/s and ETA when stderr is
 * a TTY, plain lines (every `logEvery` steps) when it is not or when `CI=true`.
 */

import type { FitCallbacks } from '../loop/fit.js';

/** How progress is shown. */
export type ProgressMode = 'auto' | 'bar' | 'lines' | 'none';

/** One update. */
export interface ProgressUpdate {
  readonly step: number;
  readonly total: number;
  readonly epoch: number;
  readonly loss: number;
  /** Extra fields shown after the loss (e.g. `ssr 1.00`). */
  readonly extra?: string;
}

/** Formats seconds as `1h02m`, `3m05s` or `12s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** Formats a loss compactly (4 significant digits). */
export function formatLoss(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 1e-3 ? value.toPrecision(4) : value.toExponential(3);
}

export class ProgressReporter {
  readonly mode: 'bar' | 'lines' | 'none';
  readonly logEvery: number;
  readonly #write: (text: string) => void;
  #startTime = 0;
  #startStep = 0;
  #lastBar = '';
  #smoothedRate = 0;
  #lastTime = 0;
  #lastStep = 0;

  constructor(
    options: {
      readonly mode?: ProgressMode;
      readonly logEvery?: number;
      readonly stream?: NodeJS.WriteStream;
      readonly write?: (text: string) => void;
    } = {},
  ) {
    const stream = options.stream ?? process.stderr;
    const requested = options.mode ?? 'auto';
    const ci =
      process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false' && process.env.CI !== '0';
    this.mode = requested === 'auto' ? (stream.isTTY && !ci ? 'bar' : 'lines') : requested;
    this.logEvery = options.logEvery ?? 10;
    this.#write = options.write ?? ((text) => stream.write(text));
  }

  /** Marks the start (after warm-up data loading) at `step`. */
  start(step: number, now = performance.now()): void {
    this.#startTime = now;
    this.#startStep = step;
    this.#lastTime = now;
    this.#lastStep = step;
  }

  /** Steps per second since the start (smoothed). */
  get rate(): number {
    return this.#smoothedRate;
  }

  update(update: ProgressUpdate, now = performance.now()): void {
    const done = update.step - this.#startStep;
    const elapsed = (now - this.#startTime) / 1000;
    const instant = (update.step - this.#lastStep) / Math.max(1e-9, (now - this.#lastTime) / 1000);
    this.#lastStep = update.step;
    this.#lastTime = now;
    const average = done > 0 ? done / Math.max(elapsed, 1e-9) : 0;
    // Exponential smoothing of the instantaneous rate, anchored on the average.
    this.#smoothedRate =
      this.#smoothedRate === 0
        ? average
        : 0.7 * this.#smoothedRate + 0.3 * (Number.isFinite(instant) ? instant : average);
    const rate = this.#smoothedRate;
    const eta = rate > 0 ? (update.total - update.step) / rate : Infinity;
    const rateText = rate >= 1 ? `${rate.toFixed(2)} it/s` : `${rate > 0 ? (1 / rate).toFixed(2) : '?'} s/it`;
    const fields = `step ${update.step}/${update.total}  epoch ${update.epoch + 1}  loss ${formatLoss(update.loss)}${update.extra ? `  ${update.extra}` : ''}  ${rateText}  ETA ${formatDuration(eta)}`;
    if (this.mode === 'bar') {
      const width = 24;
      const filled = Math.round((width * update.step) / Math.max(1, update.total));
      const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${fields}`;
      this.#write(`\r${bar.padEnd(this.#lastBar.length)}`);
      this.#lastBar = bar;
    } else if (
      this.mode === 'lines' &&
      (update.step % this.logEvery === 0 || update.step === update.total || update.step === this.#startStep + 1)
    ) {
      this.#write(`${fields}\n`);
    }
  }

  /** Prints a message on its own line (ending the bar line first). */
  log(message: string): void {
    if (this.mode === 'none') return;
    if (this.mode === 'bar' && this.#lastBar) {
      this.#write(`\r${' '.repeat(this.#lastBar.length)}\r`);
      this.#write(`${message}\n`);
      this.#write(this.#lastBar);
      return;
    }
    this.#write(`${message}\n`);
  }

  /** Ends the bar line. */
  finish(): void {
    if (this.mode === 'bar' && this.#lastBar) this.#write('\n');
    this.#lastBar = '';
  }
}

/**
 * The progress bar as a callback of the loop (the CLI adds it; the loop prints nothing itself).
 * Messages logged through `reporter.log` while the bar runs appear above it.
 */
export function progressCallback(reporter: ProgressReporter): FitCallbacks {
  return {
    onTrainBegin: (control) => reporter.start(control.initialStep),
    onStepEnd: (step, control) => {
      reporter.update({
        step: step.step,
        total: control.totalSteps,
        epoch: step.epoch - 1,
        loss: step.loss,
        extra: `ssr ${step.ratio.toFixed(2)}`,
      });
    },
    onTrainEnd: () => reporter.finish(),
  };
}
