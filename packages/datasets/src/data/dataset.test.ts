import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@vid/core';
import { expectNoLeakedTensors } from '@vid/core/testing';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';

import { digitSetFromArray } from '../mnist/digits.js';
import { MovingMnist } from '../mnist/moving-mnist.js';
import { Dataset } from './dataset.js';
import { batchToTensor, labelsToTensor } from './tensor.js';
import { type VideoClip, collateVideos, stackClips } from './video.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu', log: false });
});

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('Dataset operators', () => {
  it('map, filter, take, skip, batch and repeat compose lazily', async () => {
    const ds = Dataset.from(range(10))
      .map((x) => x * 2)
      .filter((x) => x % 3 !== 0)
      .skip(1)
      .take(4);
    expect(await ds.toArray()).toEqual([4, 8, 10, 14]);
    expect(await Dataset.from(range(7)).batch(3).toArray()).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(await Dataset.from(range(7)).batch(3, { dropRemainder: true }).toArray()).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    expect(Dataset.from(range(7)).batch(3).size).toBe(3);
    expect(await Dataset.from([1, 2]).repeat(2).toArray()).toEqual([1, 2, 1, 2]);
    expect(await Dataset.from<number>([]).repeat().toArray()).toEqual([]);
    expect(
      await Dataset.generate((i) => i * i)
        .take(4)
        .toArray(),
    ).toEqual([0, 1, 4, 9]);
  });

  it('shuffle is a seeded permutation, reproducible, and reshuffles per iteration', async () => {
    const make = (): Dataset<number> => Dataset.from(range(50)).shuffle({ bufferSize: 50, seed: 11 });
    const a = make();
    const first = await a.toArray();
    const second = await a.toArray();
    expect([...first].sort((x, y) => x - y)).toEqual(range(50));
    expect(first).not.toEqual(range(50));
    expect(second).not.toEqual(first);
    expect(await make().toArray()).toEqual(first);
    const fixed = Dataset.from(range(20)).shuffle({ seed: 'x', bufferSize: 8, reshuffleEachIteration: false });
    expect(await fixed.toArray()).toEqual(await fixed.toArray());
    expect(() => Dataset.from(range(3)).shuffle({} as never)).toThrow(/seed: expected a number or a string/);
  });

  it('fromIndexed visits every index once per epoch, in a new seeded order each epoch', async () => {
    const source = { length: 6, get: (i: number) => ({ value: i }) };
    const items = await Dataset.fromIndexed(source, { shuffle: true, seed: 3, epochs: 2 }).toArray();
    const epoch0 = items.filter((x) => x.epoch === 0).map((x) => x.value);
    const epoch1 = items.filter((x) => x.epoch === 1).map((x) => x.value);
    expect([...epoch0].sort()).toEqual(range(6));
    expect([...epoch1].sort()).toEqual(range(6));
    expect(epoch0).not.toEqual(epoch1);
    expect(items.every((x) => x.epochSize === 6)).toBe(true);
  });

  it('prefetch keeps order, passes errors through at their position, and stops on break', async () => {
    expect(await Dataset.from(range(20)).prefetch(3).toArray()).toEqual(range(20));
    const failing = Dataset.generate(async (i) => {
      if (i === 4) throw new Error('bad element 4');
      return i;
    }, 10).prefetch(2);
    const seen: number[] = [];
    await expect(failing.forEach((x) => void seen.push(x))).rejects.toThrow('bad element 4');
    expect(seen).toEqual([0, 1, 2, 3]);
    let produced = 0;
    let closed = false;
    const endless = new Dataset<number>(() =>
      (async function* () {
        try {
          for (;;) yield produced++;
        } finally {
          closed = true;
        }
      })(),
    ).prefetch(4);
    for await (const x of endless) if (x >= 5) break;
    expect(closed).toBe(true);
    expect(produced).toBeLessThan(5 + 4 + 3); // read-ahead is bounded by the buffer
  });
});

describe('video batches and tensors', () => {
  const clip = (value: number, label?: number): VideoClip => ({
    frames: new Uint8Array(2 * 3 * 4 * 1).fill(value),
    shape: [2, 3, 4, 1],
    label,
    id: `c${value}`,
  });

  it('stacks clips NTHWC as [0, 1] floats or bytes, with labels', () => {
    const batch = stackClips([clip(0, 1), clip(255, 0), clip(51, 2)]);
    expect(batch.shape).toEqual([3, 2, 3, 4, 1]);
    expect(batch.frames).toBeInstanceOf(Float32Array);
    expect(batch.frames[0]).toBe(0);
    expect(batch.frames[24]).toBe(1);
    expect(batch.frames[48]).toBe(Math.fround(51 / 255));
    expect(Array.from(batch.labels!)).toEqual([1, 0, 2]);
    expect(batch.ids).toEqual(['c0', 'c255', 'c51']);
    const bytes = stackClips([clip(7), clip(9)], 'uint8');
    expect(bytes.frames).toBeInstanceOf(Uint8Array);
    expect(bytes.labels).toBeNull();
    expect(() => stackClips([clip(1), { frames: new Uint8Array(8), shape: [2, 2, 2, 1] }])).toThrow(
      /clips\[1\]\.shape: expected \[2, 3, 4, 1\], received \[2, 2, 2, 1\]/,
    );
  });

  it('converts batches to tensors without leaking', async () => {
    const batch = stackClips([clip(255, 3), clip(0, 1)]);
    expectNoLeakedTensors(() => {
      const x = batchToTensor(batch);
      expect(x.shape).toEqual([2, 2, 3, 4, 1]);
      expect(x.dtype).toBe('float32');
      expect(Math.max(...x.dataSync())).toBe(1);
      const y = labelsToTensor(batch)!;
      expect(Array.from(y.dataSync())).toEqual([3, 1]);
      const b = batchToTensor(stackClips([clip(200)], 'uint8'));
      expect(b.dtype).toBe('int32');
      expect(b.dataSync()[0]).toBe(200);
      tf.dispose([x, y, b]);
    }, 'batchToTensor');
  });
});

describe('memory stays bounded on streams longer than memory would hold', () => {
  it('streams 400 Moving MNIST batches (2 GB of float32 pixels) through shuffle, batch and prefetch without growing', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const digits = digitSetFromArray(
      Uint8Array.from({ length: 20 * 28 * 28 }, (_, i) => (i * 31) % 256),
      [20, 28, 28],
    );
    const generator = new MovingMnist({ digits, seed: 1 });
    // 400 batches × 16 × 20 × 64 × 64 float32 = 2.1 GB streamed in total, one batch 5.2 MB.
    const ds = generator
      .stream()
      .shuffle({ bufferSize: 32, seed: 2 })
      .batch(16, { collate: collateVideos() })
      .prefetch(2);
    const heap: number[] = [];
    let count = 0;
    let checksum = 0;
    for await (const batch of ds) {
      checksum += batch.frames[(count * 977) % batch.frames.length] as number;
      count++;
      // From batch 100 on, every 25 batches: the live memory after two full collections (the
      // second frees what the first one's finalizers released).
      if (count >= 100 && count % 25 === 0) {
        gc();
        gc();
        heap.push(process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers);
      }
      if (count === 400) break;
    }
    expect(Number.isFinite(checksum)).toBe(true);
    // A snapshot can land with one batch more or less in flight (prefetch, shuffle buffer), so
    // the first four and the last four samples are compared by their medians: a leak grows with
    // the 300 batches (1.6 GB) between them, the in-flight batches do not.
    const median = (values: number[]): number => {
      const sorted = [...values].sort((a, b) => a - b);
      return ((sorted[1] as number) + (sorted[2] as number)) / 2;
    };
    const growth = median(heap.slice(-4)) - median(heap.slice(0, 4));
    // The pipeline holds a few batches; 300 more batches (1.6 GB) add almost nothing.
    expect(heap.length).toBe(13);
    expect(growth).toBeLessThan(32 * 1024 * 1024);
  });
});
