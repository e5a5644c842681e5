/**
 * Worker threads for vid's wasm SIMD kernels in Node (see `./conv2d.ts`).
 *
 * When the threaded wasm backend runs (its memory is a `SharedArrayBuffer`), vid starts
 * `threads − 1` workers of its own. Each instantiates the kernels on the same memory and sleeps
 * on the shared control block (`Atomics.wait`); the calling thread wakes them for a large job,
 * takes partitions itself, and waits for the rest. The backend's own pthreads are idle while a
 * vid kernel runs, so the two pools never compete. Workers are unref'd: they do not keep the
 * process alive.
 */
import type * as tf from '@tensorflow/tfjs-core';

import {
  CONTROL,
  backendMemory,
  claimPartitions,
  isSharedMemory,
  setSimdKernelPool,
  simdKernelBytes,
  simdKernelPool,
  simdKernelsAvailable,
} from './conv2d.js';

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const claimPartitions = (${claimPartitions.toString()});
const { bytes, memory, control: buffer } = workerData;
const control = new Int32Array(buffer);
const kernels = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
Atomics.add(control, ${CONTROL.LENGTH}, 1);
let seen = Atomics.load(control, ${CONTROL.GEN});
for (;;) {
  Atomics.wait(control, ${CONTROL.GEN}, seen);
  seen = Atomics.load(control, ${CONTROL.GEN});
  if (Atomics.load(control, ${CONTROL.STOP}) !== 0) break;
  try {
    claimPartitions(control, kernels);
  } catch {
    // claimPartitions has set ERROR and counted the partition: the caller reports it.
  }
}
`;

/**
 * Starts `threads − 1` kernel workers on the wasm backend's shared memory. Returns the number
 * of threads vid's SIMD kernels use (1 when the memory is not shared or workers cannot start).
 */
export async function startSimdKernelWorkers(backend: tf.KernelBackend, threads: number): Promise<number> {
  const memory = backendMemory(backend);
  if (threads <= 1 || !memory || !isSharedMemory(memory) || !simdKernelsAvailable(backend)) return 1;
  // One pool per memory: a backend initialised again keeps the workers it has.
  const running = simdKernelPool(backend);
  if (running) return running.workers + 1;
  try {
    const { Worker } = await import('node:worker_threads');
    const count = threads - 1;
    // The control block, then one slot that counts the workers that are ready.
    const control = new Int32Array(new SharedArrayBuffer((CONTROL.LENGTH + 1) * 4));
    const bytes = simdKernelBytes(true);
    const workers = Array.from(
      { length: count },
      () => new Worker(WORKER_SOURCE, { eval: true, workerData: { bytes, memory, control: control.buffer } }),
    );
    const failed = new Promise<false>((resolve) => {
      for (const worker of workers) worker.once('error', () => resolve(false));
    });
    let settled = false;
    const ready = (async () => {
      while (!settled && Atomics.load(control, CONTROL.LENGTH) < count) {
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      return !settled;
    })();
    const timeout = new Promise<false>((resolve) => setTimeout(() => resolve(false), 10_000).unref());
    const ok = await Promise.race([ready, failed, timeout]);
    settled = true;
    if (!ok) {
      Atomics.store(control, CONTROL.STOP, 1);
      for (const worker of workers) void worker.terminate();
      return 1;
    }
    for (const worker of workers) worker.unref();
    setSimdKernelPool(backend, { control, workers: count });
    return threads;
  } catch {
    return 1;
  }
}
