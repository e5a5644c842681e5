/**
 * vid's own wasm SIMD convolution kernels for the wasm backend (decision 0011): the forward
 * convolution (`Conv2D`, `FusedConv2D` without an activation), the filter gradient
 * (`Conv2DBackpropFilter`) and the input gradient's flipped filter.
 *
 * XNNPACK has no filter-gradient kernel, and every way of writing one as its forward
 * convolutions or matmuls makes the output gradient a fresh "filter" that XNNPACK packs on every
 * call: about 8 of the 13.7 ms a `[8, 64, 64, 16] → 32`, 3×3 gradient took (decision 0010).
 * These kernels (AssemblyScript, `wasm/conv2d.ts`, compiled by `scripts/build-wasm.mjs`) read
 * and write the backend's heap in place, keep 4 × 8 output tiles in SIMD registers, and pack
 * nothing.
 *
 * Each job is split into partitions of rows fixed by its shape, whatever the thread count (a
 * filter gradient sums `min(8, N·OH)` of them into their own buffers and adds them in order), so
 * a result has the same bits on 1 thread, on n threads and in a browser. In Node, where the
 * threaded wasm backend shares its memory, worker threads of vid's take partitions too
 * (`./node-pool.ts`); elsewhere the calling thread computes them all.
 */
import * as tf from '@tensorflow/tfjs-core';

import { BackendError } from '../../errors.js';
import { type WasmHeapBackend, heapByteOffset } from '../wasm-view-kernels.js';
import { PLAIN_MEMORY_WASM, SHARED_MEMORY_WASM } from './kernels.generated.js';

/** The module's exports. Pointers are byte offsets into the heap; see `wasm/conv2d.ts`. */
export interface SimdKernelExports {
  /** (x, dy, dw, h, w, ci, oh, ow, co, kh, kw, sh, sw, top, left, r0, r1) */
  conv2dFilterGrad(...args: number[]): void;
  /** (x, w, bias, y, h, width, ci, oh, ow, co, kh, kw, sh, sw, top, left, r0, r1) */
  conv2dForward(...args: number[]): void;
  addInto(dst: number, src: number, n: number): void;
  /** (x, out, n, h, w, c, top, left, hp, wp) */
  pad2d(...args: number[]): void;
  /** (w, out, kh, kw, ci, co) */
  flipFilter(...args: number[]): void;
}

/**
 * The control block shared by the calling thread and the workers (an `Int32Array`): generation,
 * the claim word, partitions done, stop, error; then the job: its kind (0 filter gradient,
 * 1 forward convolution), rows, the filter gradient's scratch buffer and partition size in
 * bytes, and the kernel's arguments but its row range.
 *
 * The claim word holds the job's partition count (bits 8–15) and its next partition (bits 0–7).
 * The caller writes the arguments, then publishes the job by storing that word; a claim
 * (`Atomics.add`) decides from the value it took alone. So a thread that comes late from an
 * earlier job, whose word is spent, takes nothing and never reads the next job's arguments.
 */
export const CONTROL = { GEN: 0, NEXT: 1, DONE: 2, STOP: 3, ERROR: 4, ARGS: 8, LENGTH: 32 } as const;
export const JOB = { FILTER_GRAD: 0, FORWARD: 1 } as const;
/** The most partitions a job may have (the claim word's 8 bits, with room for overshoot). */
const MAX_PARTITIONS = 128;
/** What a closed job's claim word starts its index at: past any count, with room for late claims. */
const CLOSED_INDEX = 0xc0;

/**
 * Takes partitions of the published job until none is left: partition p of P covers the rows
 * [⌊p·R/P⌋, ⌊(p+1)·R/P⌋). Each partition taken counts once in `DONE`, done or failed (a
 * failure also sets `ERROR` and is rethrown). Run by the calling thread and by every worker,
 * whose source is this function's text: it refers to nothing outside itself.
 */
export function claimPartitions(control: Int32Array, kernels: SimdKernelExports): void {
  const a = 8; // CONTROL.ARGS
  for (;;) {
    const ticket = Atomics.add(control, 1, 1);
    const p = ticket & 0xff;
    const parts = (ticket >>> 8) & 0xff;
    if (p >= parts) return;
    try {
      const kind = control[a] as number;
      const rows = control[a + 1] as number;
      const count = kind === 0 ? 15 : 16;
      const args: number[] = [];
      for (let i = 0; i < count; i++) args.push((control[a + 4 + i] as number) >>> 0);
      args.push(Math.floor((p * rows) / parts), Math.floor(((p + 1) * rows) / parts));
      if (kind === 0) {
        // Partition p > 0 of a filter gradient sums into its own scratch buffer.
        if (p > 0) args[2] = ((control[a + 2] as number) >>> 0) + (p - 1) * ((control[a + 3] as number) >>> 0);
        kernels.conv2dFilterGrad(...args);
      } else {
        kernels.conv2dForward(...args);
      }
    } catch (error) {
      Atomics.store(control, 4, 1);
      throw error;
    } finally {
      Atomics.add(control, 2, 1);
      Atomics.notify(control, 2);
    }
  }
}

/** Worker threads that take partitions of the jobs in a shared control block. */
export interface SimdKernelPool {
  readonly control: Int32Array;
  readonly workers: number;
}

interface HeapModule {
  wasmMemory?: WebAssembly.Memory;
  asm?: { memory?: WebAssembly.Memory };
}

interface Instance {
  readonly exports: SimdKernelExports;
  readonly shared: boolean;
  pool?: SimdKernelPool;
}

const instances = new WeakMap<WebAssembly.Memory, Instance | null>();

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The wasm backend module's memory, if it can be found. */
export function backendMemory(backend: tf.KernelBackend): WebAssembly.Memory | undefined {
  const module = (backend as unknown as { wasm?: HeapModule }).wasm;
  const memory = module?.wasmMemory ?? module?.asm?.memory;
  return typeof WebAssembly !== 'undefined' && memory instanceof WebAssembly.Memory ? memory : undefined;
}

/** Whether a memory is shared (the threaded backend's). */
export function isSharedMemory(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

/** The module's bytes for a memory: the shared or the plain variant. */
export function simdKernelBytes(shared: boolean): Uint8Array<ArrayBuffer> {
  return decodeBase64(shared ? SHARED_MEMORY_WASM : PLAIN_MEMORY_WASM);
}

/** vid's SIMD kernels instantiated on a backend's memory, or undefined (no SIMD, no memory). */
function instanceFor(backend: tf.KernelBackend): Instance | undefined {
  const memory = backendMemory(backend);
  if (!memory) return undefined;
  const cached = instances.get(memory);
  if (cached !== undefined) return cached ?? undefined;
  let instance: Instance | null = null;
  try {
    const shared = isSharedMemory(memory);
    const module = new WebAssembly.Module(simdKernelBytes(shared));
    const exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as SimdKernelExports;
    instance = { exports, shared };
  } catch {
    // No wasm SIMD (or a memory the module cannot import): the XNNPACK formulation is used.
    instance = null;
  }
  instances.set(memory, instance);
  return instance ?? undefined;
}

/** Lets worker threads take partitions of the kernels run on this backend's memory. */
export function setSimdKernelPool(backend: tf.KernelBackend, pool: SimdKernelPool | undefined): boolean {
  const instance = instanceFor(backend);
  if (!instance || (pool && !instance.shared)) return false;
  instance.pool = pool;
  return true;
}

/** The pool in use on a backend's memory, if any (for reports and tests). */
export function simdKernelPool(backend: tf.KernelBackend): SimdKernelPool | undefined {
  return instanceFor(backend)?.pool;
}

/**
 * The tfjs flag that turns vid's SIMD kernels off (`tf.env().set('VID_WASM_SIMD_KERNELS', false)`,
 * or `VID_WASM_SIMD_KERNELS=0` in Node's environment): the kernels then run as XNNPACK
 * convolutions, as before.
 */
export const SIMD_KERNELS_FLAG = 'VID_WASM_SIMD_KERNELS';
const FLAG = SIMD_KERNELS_FLAG;
tf.env().registerFlag(
  FLAG,
  () => !(typeof process !== 'undefined' && (process.env as Record<string, string | undefined>)[FLAG] === '0'),
);

/** vid's kernels on this backend, unless they cannot run there or the flag turns them off. */
function usable(backend: tf.KernelBackend): Instance | undefined {
  return tf.env().getBool(FLAG) ? instanceFor(backend) : undefined;
}

/** Whether vid's SIMD kernels can run on this backend (and are not turned off by the flag). */
export function simdKernelsAvailable(backend: tf.KernelBackend): boolean {
  return usable(backend) !== undefined;
}

/** Fewer multiply-adds than this run on the calling thread alone: waking workers costs more. */
const POOL_MIN_WORK = 2 ** 20;
/** Filter gradients: fixed partitions, each summed into its own buffer. */
const MAX_GRAD_PARTITIONS = 8;
/** Forward convolutions: rows claimed in small blocks, for balance (the split does not change the bits). */
const MAX_FORWARD_PARTITIONS = 32;

/** The geometry of a convolution, from `tf.backend_util.computeConv2DInfo`. */
export interface ConvGeometry {
  readonly batchSize: number;
  readonly inHeight: number;
  readonly inWidth: number;
  readonly inChannels: number;
  readonly outHeight: number;
  readonly outWidth: number;
  readonly outChannels: number;
  readonly filterHeight: number;
  readonly filterWidth: number;
  readonly strideHeight: number;
  readonly strideWidth: number;
  readonly dilationHeight: number;
  readonly dilationWidth: number;
  readonly padInfo: { readonly top: number; readonly left: number };
}

/** The kernels' shape arguments, in their order: H, W, Ci, OH, OW, Co, KH, KW, SH, SW, top, left. */
function geometryArgs(info: ConvGeometry): number[] {
  return [
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.outChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
  ];
}

/**
 * Runs a job in `parts` partitions on the calling thread, with the pool's workers when the job
 * is large enough: writes the arguments, publishes the job (the claim word, see
 * {@link CONTROL}), takes partitions, then closes the job and waits for every partition taken.
 */
function runJob(instance: Instance, job: number[], parts: number, work: number, name: string): void {
  if (parts < 1 || parts > MAX_PARTITIONS) throw new BackendError(`vid: ${parts} partitions for one job`);
  const pool = instance.pool;
  const threaded = pool !== undefined && pool.workers > 0 && work >= POOL_MIN_WORK;
  const control = threaded ? pool.control : new Int32Array(CONTROL.LENGTH);
  job.forEach((value, i) => (control[CONTROL.ARGS + i] = value));
  Atomics.store(control, CONTROL.ERROR, 0);
  Atomics.store(control, CONTROL.DONE, 0);
  Atomics.store(control, CONTROL.NEXT, parts << 8);
  if (threaded) {
    Atomics.add(control, CONTROL.GEN, 1);
    Atomics.notify(control, CONTROL.GEN);
  }
  let failure: unknown;
  try {
    claimPartitions(control, instance.exports);
  } catch (error) {
    failure = error;
  }
  // Close the job, then wait for every partition that was taken, so that nothing still writes
  // into the job's buffers when the caller frees them (also after a failure).
  const ticket = Atomics.exchange(control, CONTROL.NEXT, (parts << 8) | CLOSED_INDEX);
  waitForDone(control, Math.min(parts, ticket & 0xff));
  if (failure !== undefined) throw failure;
  if (Atomics.load(control, CONTROL.ERROR) !== 0) {
    throw new BackendError(`vid: a worker thread of vid's wasm ${name} kernel failed`);
  }
}

/**
 * The filter gradient `[KH, KW, Ci, Co]` of `x` `[N, H, W, Ci]` and `dy` `[N, OH, OW, Co]` by
 * vid's SIMD kernel, or undefined when it does not apply (not float32, dilated, SIMD missing,
 * or turned off with the `VID_WASM_SIMD_KERNELS` flag): the caller then uses XNNPACK.
 *
 * The partitions are fixed (`min(8, N·OH)`, whatever the thread count) and summed in order, so
 * the result has the same bits on any number of threads.
 */
export function simdConv2DBackpropFilter(
  backendIn: tf.KernelBackend,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: ConvGeometry,
): tf.TensorInfo | undefined {
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') return undefined;
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return undefined;
  const instance = usable(backendIn);
  if (!instance) return undefined;
  const backend = backendIn as WasmHeapBackend;
  const { batchSize: n, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw } = info;
  const size = kh * kw * ci * co;
  const rows = n * oh;
  const parts = Math.max(1, Math.min(MAX_GRAD_PARTITIONS, rows));
  const out = backend.makeOutput([kh, kw, ci, co], 'float32');
  let scratch: tf.TensorInfo | undefined;
  try {
    if (parts > 1) scratch = backend.makeOutput([(parts - 1) * size], 'float32');
    const job = [
      JOB.FILTER_GRAD,
      rows,
      scratch ? heapByteOffset(backend, scratch) : 0,
      size * 4,
      heapByteOffset(backend, x),
      heapByteOffset(backend, dy),
      heapByteOffset(backend, out),
      ...geometryArgs(info),
    ];
    runJob(instance, job, parts, rows * ow * kh * kw * ci * co, 'Conv2DBackpropFilter');
    if (scratch) {
      const base = heapByteOffset(backend, scratch);
      const target = heapByteOffset(backend, out);
      for (let p = 1; p < parts; p++) instance.exports.addInto(target, base + (p - 1) * size * 4, size);
    }
  } catch (error) {
    backend.disposeData(out.dataId);
    throw error;
  } finally {
    if (scratch) backend.disposeData(scratch.dataId);
  }
  return out;
}

/**
 * The convolution `[N, OH, OW, Co]` of `x` `[N, H, W, Ci]` with `filter` `[KH, KW, Ci, Co]`,
 * plus `bias` `[Co]` if given, by vid's SIMD kernel; or undefined when it does not apply (not
 * float32, dilated, a bias of another size, SIMD missing or turned off). Each output element is
 * one thread's sum in one order, so the bits do not depend on the thread count.
 */
export function simdConv2D(
  backendIn: tf.KernelBackend,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  bias: tf.TensorInfo | undefined,
  info: ConvGeometry,
): tf.TensorInfo | undefined {
  if (x.dtype !== 'float32' || filter.dtype !== 'float32') return undefined;
  if (bias && (bias.dtype !== 'float32' || tf.util.sizeFromShape(bias.shape) !== info.outChannels)) return undefined;
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return undefined;
  const instance = usable(backendIn);
  if (!instance) return undefined;
  const backend = backendIn as WasmHeapBackend;
  const { batchSize: n, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw } = info;
  const rows = n * oh;
  const out = backend.makeOutput([n, oh, ow, co], 'float32');
  if (rows === 0 || ow === 0 || co === 0) return out;
  // With padding, the input is first copied into a zero-padded buffer (a copy of x, small
  // against the convolution's work), so that every output pixel is interior and goes through
  // the 4-pixel tiles: on 16×16 images a quarter of the pixels would otherwise be border ones.
  const { inHeight: h, inWidth: w, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const hp = (oh - 1) * sh + kh;
  const wp = (ow - 1) * sw + kw;
  let padded: tf.TensorInfo | undefined;
  try {
    if (top > 0 || left > 0 || hp > h || wp > w) padded = backend.makeOutput([n, hp, wp, ci], 'float32');
    const geometry = geometryArgs(info);
    if (padded) {
      instance.exports.pad2d(
        heapByteOffset(backend, x),
        heapByteOffset(backend, padded),
        n,
        h,
        w,
        ci,
        top,
        left,
        hp,
        wp,
      );
      // H, W, top and left of the padded input.
      geometry.splice(0, 2, hp, wp);
      geometry.splice(10, 2, 0, 0);
    }
    const job = [
      JOB.FORWARD,
      rows,
      0,
      0,
      heapByteOffset(backend, padded ?? x),
      heapByteOffset(backend, filter),
      bias ? heapByteOffset(backend, bias) : 0,
      heapByteOffset(backend, out),
      ...geometry,
    ];
    const parts = Math.max(1, Math.min(MAX_FORWARD_PARTITIONS, rows));
    runJob(instance, job, parts, rows * ow * kh * kw * ci * co, 'Conv2D');
  } catch (error) {
    backend.disposeData(out.dataId);
    throw error;
  } finally {
    if (padded) backend.disposeData(padded.dataId);
  }
  return out;
}

/**
 * The filter of a convolution's input gradient, `[KH, KW, Co, Ci]` flipped in space, from
 * `filter` `[KH, KW, Ci, Co]`, in one pass (the stock wasm `Reverse` took 2 ms for a
 * `[3, 3, 48, 128]` filter); or undefined where vid's kernels do not run.
 */
export function simdFlipFilter(backendIn: tf.KernelBackend, filter: tf.TensorInfo): tf.TensorInfo | undefined {
  const instance = usable(backendIn);
  if (!instance || filter.dtype !== 'float32' || filter.shape.length !== 4) return undefined;
  const backend = backendIn as WasmHeapBackend;
  const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
  const out = backend.makeOutput([kh, kw, co, ci], 'float32');
  instance.exports.flipFilter(heapByteOffset(backend, filter), heapByteOffset(backend, out), kh, kw, ci, co);
  return out;
}

/** Blocks until `count` partitions are done. */
function waitForDone(control: Int32Array, count: number): void {
  for (;;) {
    const done = Atomics.load(control, CONTROL.DONE);
    if (done >= count) return;
    // Node's main thread may block; a browser's may not, and spins (it has no pool today).
    try {
      Atomics.wait(control, CONTROL.DONE, done, 1000);
    } catch {
      // spin
    }
  }
}
