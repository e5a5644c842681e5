/**
 * One async-iterable dataset type for every loader of the package: a lazy pipeline in the manner
 * of `tf.data` — `map`, `filter`, `shuffle` (a seeded buffer), `batch`, `prefetch`, `take`,
 * `skip`, `repeat`. Nothing runs until the dataset is iterated, each iteration starts the
 * pipeline afresh, and memory is bounded by the buffers the pipeline asks for (shuffle buffer,
 * batch, prefetch queue), never by the length of the stream.
 *
 * Every random choice goes through a seeded {@link Rng}: the same seed gives the same order on
 * every machine. A shuffled dataset reshuffles on each new iteration (a new epoch) with a
 * generator derived from the seed and the iteration number, so runs are reproducible end to end.
 */
import { ConfigError, Rng, nonNegativeInteger, positiveInteger } from '@vid/core';

/** Where a batch stands in its epoch. */
export interface EpochProgress {
  /** The epoch (0-based) of the last element of the batch. */
  readonly epoch: number;
  /** How many elements of that epoch have been emitted so far, this batch included. */
  readonly seen: number;
  /** Elements per epoch, when known. */
  readonly epochSize: number | null;
  /** `seen / epochSize`, or `null` when the epoch size is unknown. */
  readonly fraction: number | null;
}

/** An element that knows its epoch (clips from an indexed source, generated sequences). */
export interface EpochTagged {
  /** The epoch (0-based) the element was drawn in. */
  readonly epoch: number;
  /** Elements per epoch, when known. */
  readonly epochSize: number | null;
}

function isEpochTagged(value: unknown): value is EpochTagged {
  return typeof value === 'object' && value !== null && typeof (value as { epoch?: unknown }).epoch === 'number';
}

/** Options of {@link Dataset.shuffle}. */
export interface ShuffleOptions {
  /** Elements held in the shuffle buffer; memory grows with it. @default 256 */
  readonly bufferSize?: number;
  /** Seed of the buffer's draws. Required: shuffles are always reproducible. */
  readonly seed: number | string;
  /** Draw a new order on each iteration (epoch), derived from `seed` and the iteration number. @default true */
  readonly reshuffleEachIteration?: boolean;
}

/** Options of {@link Dataset.batch}. */
export interface BatchOptions<T, B> {
  /** Drop a last batch that has fewer than `size` elements. @default false */
  readonly dropRemainder?: boolean;
  /**
   * Turns the elements of one batch into the batch value, e.g. {@link collateVideos}. It also
   * receives the epoch progress (when the elements are {@link EpochTagged}).
   * @default the array of elements
   */
  readonly collate?: (items: T[], progress: EpochProgress | null) => B;
}

/** Options of {@link Dataset.fromIndexed}. */
export interface FromIndexedOptions {
  /** Visit the indices in a seeded random order, a new one each epoch. @default false */
  readonly shuffle?: boolean;
  /** Seed of the order. @default 0 */
  readonly seed?: number | string;
  /** Epochs to run; `Infinity` for an endless stream. @default 1 */
  readonly epochs?: number;
}

/** A random-access collection: clips of a video dataset, sequences of a fixed set. */
export interface IndexedSource<T> {
  /** Number of elements. */
  readonly length: number;
  /** The element at `index` (0 ≤ index < length). */
  get(index: number): Promise<T> | T;
}

type Source<T> = () => AsyncIterator<T>;

function toAsyncIterator<T>(source: Iterable<T> | AsyncIterable<T>): AsyncIterator<T> {
  if (Symbol.asyncIterator in source) return (source as AsyncIterable<T>)[Symbol.asyncIterator]();
  const iterator = (source as Iterable<T>)[Symbol.iterator]();
  return {
    next: async () => iterator.next(),
    return: async (value?: unknown) => {
      iterator.return?.(value);
      return { done: true, value: undefined as unknown as T };
    },
  };
}

/**
 * A lazy, async-iterable sequence of elements. Build one with {@link Dataset.from},
 * {@link Dataset.fromIndexed} or {@link Dataset.generate}, or from a loader of this package, and
 * chain the operators; iterate it with `for await`.
 */
export class Dataset<T> implements AsyncIterable<T> {
  private iterations = 0;

  /**
   * @param source Makes a fresh iterator for each iteration.
   * @param size Elements per iteration when known (`Infinity` for endless streams), else `null`.
   */
  constructor(
    private readonly source: (iteration: number) => AsyncIterator<T>,
    readonly size: number | null = null,
  ) {}

  /** A dataset over an array, an iterable, an async iterable, or a function that makes one per iteration. */
  static from<T>(source: Iterable<T> | AsyncIterable<T> | (() => Iterable<T> | AsyncIterable<T>)): Dataset<T> {
    if (typeof source === 'function') return new Dataset(() => toAsyncIterator(source()));
    // Arrays and async iterables can be replayed; a one-shot iterable (a generator object) runs once.
    return new Dataset(() => toAsyncIterator(source), Array.isArray(source) ? source.length : null);
  }

  /** `count` elements (or an endless stream) made by `make(index)`. */
  static generate<T>(make: (index: number) => T | Promise<T>, count = Infinity): Dataset<T> {
    if (count !== Infinity) nonNegativeInteger(count, 'count', 'Dataset.generate');
    return new Dataset(
      async function* () {
        for (let index = 0; index < count; index++) yield await make(index);
      } as unknown as Source<T>,
      count,
    );
  }

  /**
   * The elements of an indexed source, epoch after epoch, in order or in a seeded random order
   * (a new permutation per epoch). Reads one element at a time: memory does not grow with the
   * source.
   */
  static fromIndexed<T>(source: IndexedSource<T>, options: FromIndexedOptions = {}): Dataset<T & EpochTagged> {
    const epochs = options.epochs ?? 1;
    if (epochs !== Infinity) positiveInteger(epochs, 'epochs', 'Dataset.fromIndexed');
    const length = nonNegativeInteger(source.length, 'source.length', 'Dataset.fromIndexed');
    const seed = options.seed ?? 0;
    const shuffle = options.shuffle ?? false;
    return new Dataset(
      async function* (iteration: number) {
        for (let epoch = 0; epoch < epochs; epoch++) {
          const order = shuffle ? new Rng(`${seed}:fromIndexed:${iteration}:${epoch}`).permutation(length) : null;
          for (let i = 0; i < length; i++) {
            const item = await source.get(order ? (order[i] as number) : i);
            yield { ...item, epoch, epochSize: length };
          }
        }
      } as unknown as (iteration: number) => AsyncIterator<T & EpochTagged>,
      epochs === Infinity ? Infinity : length * epochs,
    );
  }

  /** A fresh iterator over the pipeline: one epoch of its source. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.source(this.iterations++);
  }

  /** Applies `transform` to each element (sync or async). */
  map<U>(transform: (value: T, index: number) => U | Promise<U>): Dataset<U> {
    const upstream: AsyncIterable<T> = { [Symbol.asyncIterator]: () => this[Symbol.asyncIterator]() };
    return new Dataset(
      async function* () {
        let index = 0;
        for await (const value of upstream) yield await transform(value, index++);
      } as unknown as Source<U>,
      this.size,
    );
  }

  /** Keeps the elements for which `predicate` is true. */
  filter(predicate: (value: T, index: number) => boolean | Promise<boolean>): Dataset<T> {
    const upstream: AsyncIterable<T> = { [Symbol.asyncIterator]: () => this[Symbol.asyncIterator]() };
    return new Dataset(async function* () {
      let index = 0;
      for await (const value of upstream) if (await predicate(value, index++)) yield value;
    } as unknown as Source<T>);
  }

  /**
   * Shuffles through a buffer of `bufferSize` elements, as `tf.data.Dataset.shuffle` does: the
   * buffer is filled, then each output is a seeded random pick from it, replaced by the next
   * input. A buffer as large as the dataset gives a uniform permutation.
   */
  shuffle(options: ShuffleOptions): Dataset<T> {
    const bufferSize = positiveInteger(options.bufferSize ?? 256, 'bufferSize', 'Dataset.shuffle');
    if (options.seed === undefined)
      throw new ConfigError('seed', 'a number or a string (shuffles are seeded)', undefined, 'Dataset.shuffle');
    const seed = options.seed;
    const reshuffle = options.reshuffleEachIteration ?? true;
    const upstream: AsyncIterable<T> = { [Symbol.asyncIterator]: () => this[Symbol.asyncIterator]() };
    return new Dataset(
      async function* (iteration: number) {
        const rng = new Rng(`${seed}:shuffle:${reshuffle ? iteration : 0}`);
        const buffer: T[] = [];
        for await (const value of upstream) {
          if (buffer.length < bufferSize) {
            buffer.push(value);
            continue;
          }
          const pick = rng.int(bufferSize);
          const out = buffer[pick] as T;
          buffer[pick] = value;
          yield out;
        }
        while (buffer.length > 0) {
          const pick = rng.int(buffer.length);
          const out = buffer[pick] as T;
          buffer[pick] = buffer[buffer.length - 1] as T;
          buffer.pop();
          yield out;
        }
      } as unknown as (iteration: number) => AsyncIterator<T>,
      this.size,
    );
  }

  /**
   * Groups consecutive elements into batches of `size`. With a `collate` function each batch is
   * what it returns (for videos: {@link collateVideos}), else an array.
   */
  batch(size: number, options?: { readonly dropRemainder?: boolean }): Dataset<T[]>;
  batch<B>(
    size: number,
    options: BatchOptions<T, B> & { readonly collate: (items: T[], progress: EpochProgress | null) => B },
  ): Dataset<B>;
  batch<B>(size: number, options: BatchOptions<T, B> = {}): Dataset<B | T[]> {
    positiveInteger(size, 'size', 'Dataset.batch');
    const dropRemainder = options.dropRemainder ?? false;
    const collate = options.collate;
    const upstream: AsyncIterable<T> = { [Symbol.asyncIterator]: () => this[Symbol.asyncIterator]() };
    const batches =
      this.size === null
        ? null
        : this.size === Infinity
          ? Infinity
          : dropRemainder
            ? Math.floor(this.size / size)
            : Math.ceil(this.size / size);
    return new Dataset(
      async function* () {
        const seenPerEpoch = new Map<number, number>();
        let items: T[] = [];
        const emit = (): B | T[] => {
          const out = items;
          items = [];
          let progress: EpochProgress | null = null;
          const last = out[out.length - 1];
          if (isEpochTagged(last)) {
            const seen = seenPerEpoch.get(last.epoch) ?? 0;
            const epochSize = last.epochSize;
            progress = { epoch: last.epoch, seen, epochSize, fraction: epochSize ? seen / epochSize : null };
          }
          return collate ? collate(out, progress) : out;
        };
        for await (const value of upstream) {
          if (isEpochTagged(value)) {
            seenPerEpoch.set(value.epoch, (seenPerEpoch.get(value.epoch) ?? 0) + 1);
            // Forget epochs that are long past, so that the map stays small on endless streams.
            if (seenPerEpoch.size > 4) seenPerEpoch.delete(Math.min(...seenPerEpoch.keys()));
          }
          items.push(value);
          if (items.length === size) yield emit();
        }
        if (items.length > 0 && !dropRemainder) yield emit();
      } as unknown as Source<B | T[]>,
      batches,
    );
  }

  /**
   * Reads up to `bufferSize` elements ahead of the consumer, so that the asynchronous work of
   * the pipeline (file reads, video decoding in ffmpeg) overlaps with the consumer's work.
   * Errors reach the consumer at the position where they happened; breaking out of the loop
   * stops the producer and closes the upstream iterators.
   */
  prefetch(bufferSize = 2): Dataset<T> {
    positiveInteger(bufferSize, 'bufferSize', 'Dataset.prefetch');
    const upstream: AsyncIterable<T> = { [Symbol.asyncIterator]: () => this[Symbol.asyncIterator]() };
    return new Dataset<T>(() => prefetchIterator(upstream[Symbol.asyncIterator](), bufferSize), this.size);
  }

  /** The first `count` elements. */
  take(count: number): Dataset<T> {
    nonNegativeInteger(count, 'count', 'Dataset.take');
    const upstream: AsyncIterable<T> = { [Symbol.asyncIterator]: () => this[Symbol.asyncIterator]() };
    return new Dataset(
      async function* () {
        if (count === 0) return;
        let taken = 0;
        for await (const value of upstream) {
          yield value;
          if (++taken >= count) return;
        }
      } as unknown as Source<T>,
      this.size === null ? null : Math.min(this.size, count),
    );
  }

  /** All but the first `count` elements. */
  skip(count: number): Dataset<T> {
    nonNegativeInteger(count, 'count', 'Dataset.skip');
    const upstream: AsyncIterable<T> = { [Symbol.asyncIterator]: () => this[Symbol.asyncIterator]() };
    return new Dataset(
      async function* () {
        let skipped = 0;
        for await (const value of upstream) {
          if (skipped < count) {
            skipped++;
            continue;
          }
          yield value;
        }
      } as unknown as Source<T>,
      this.size === null ? null : Math.max(0, this.size - count),
    );
  }

  /** The dataset `count` times over (each pass a new iteration, so shuffles draw new orders). */
  repeat(count = Infinity): Dataset<T> {
    if (count !== Infinity) nonNegativeInteger(count, 'count', 'Dataset.repeat');
    const upstream: AsyncIterable<T> = { [Symbol.asyncIterator]: () => this[Symbol.asyncIterator]() };
    return new Dataset(
      async function* () {
        for (let pass = 0; pass < count; pass++) {
          let any = false;
          for await (const value of upstream) {
            any = true;
            yield value;
          }
          if (!any) return; // an empty dataset repeated forever must not spin
        }
      } as unknown as Source<T>,
      this.size === null ? null : count === Infinity ? (this.size === 0 ? 0 : Infinity) : this.size * count,
    );
  }

  /** Calls `visit` on each element, in order. */
  async forEach(visit: (value: T, index: number) => void | Promise<void>): Promise<void> {
    let index = 0;
    for await (const value of this) await visit(value, index++);
  }

  /** Collects every element (only for finite, small datasets). */
  async toArray(): Promise<T[]> {
    if (this.size === Infinity)
      throw new ConfigError('dataset', 'a finite dataset (use take(n) first)', 'an endless stream', 'Dataset.toArray');
    const out: T[] = [];
    for await (const value of this) out.push(value);
    return out;
  }
}

/** The prefetching iterator behind {@link Dataset.prefetch}. */
function prefetchIterator<T>(upstream: AsyncIterator<T>, bufferSize: number): AsyncIterator<T> {
  type Slot =
    | { readonly kind: 'value'; readonly value: T }
    | { readonly kind: 'done' }
    | { readonly kind: 'error'; readonly error: unknown };
  const queue: Slot[] = [];
  let waiting: ((slot: Slot) => void) | null = null;
  let room: (() => void) | null = null;
  let stopped = false;
  let finished = false;

  const deliver = (slot: Slot): void => {
    if (waiting) {
      const resolve = waiting;
      waiting = null;
      resolve(slot);
    } else {
      queue.push(slot);
    }
  };

  const pump = async (): Promise<void> => {
    try {
      while (!stopped) {
        while (queue.length >= bufferSize && !stopped) await new Promise<void>((resolve) => (room = resolve));
        if (stopped) break;
        const result = await upstream.next();
        if (result.done) {
          deliver({ kind: 'done' });
          return;
        }
        deliver({ kind: 'value', value: result.value });
      }
    } catch (error) {
      deliver({ kind: 'error', error });
    }
  };
  let started = false;

  return {
    next: async (): Promise<IteratorResult<T>> => {
      if (finished) return { done: true, value: undefined };
      if (!started) {
        started = true;
        void pump();
      }
      const slot =
        queue.length > 0 ? (queue.shift() as Slot) : await new Promise<Slot>((resolve) => (waiting = resolve));
      if (room) {
        const wake = room;
        room = null;
        wake();
      }
      if (slot.kind === 'value') return { done: false, value: slot.value };
      finished = true;
      if (slot.kind === 'error') throw slot.error;
      return { done: true, value: undefined };
    },
    return: async (): Promise<IteratorResult<T>> => {
      finished = true;
      stopped = true;
      queue.length = 0;
      if (room) {
        const wake = room;
        room = null;
        wake();
      }
      await upstream.return?.();
      return { done: true, value: undefined };
    },
  };
}
