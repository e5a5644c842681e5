/**
 * Fail fast when the wasm heap runs out.
 *
 * wasm32 caps the heap at 4 GiB. When tfjs-backend-wasm's JavaScript side allocates a tensor
 * past the cap, Emscripten's `malloc` returns 0 and the backend goes on to register (and write)
 * the tensor at address 0, corrupting memory silently; when XNNPACK's own allocations fail
 * later, it logs `xnn_create_convolution2d_nhwc_f32 … status 6` (out of memory) and the kernel
 * carries on with garbage, or the module aborts (`RuntimeError: Aborted()`).
 *
 * vid wraps the module's `_malloc` so that every tensor allocation checks two things: that it
 * succeeded, and that after it the heap still leaves {@link XNNPACK_RESERVE} bytes below the cap
 * for the kernels' own workspaces (packed weights, indirection buffers). Either failure is a
 * {@link BackendError} that says how much was asked for, how much is in use, and what to do.
 */
import type * as tf from '@tensorflow/tfjs-core';

import { BackendError } from '../errors.js';

/** The wasm32 heap cap of tfjs-backend-wasm's builds (`MAXIMUM_MEMORY=4GB`). */
export const WASM_HEAP_CAP = 2 ** 32;

/** Bytes kept free below the cap for XNNPACK's workspaces (about 10× a 64×64 batch-8 conv's). */
export const XNNPACK_RESERVE = 64 * 2 ** 20;

/** The parts of an Emscripten module the guard uses. */
export interface EmscriptenHeap {
  _malloc(bytes: number): number;
  _free(pointer: number): void;
  HEAPU8: { readonly buffer: { readonly byteLength: number } };
}

const MiB = 2 ** 20;
const guarded = new WeakSet<object>();

function advice(requested: number, heap: number, cap: number): string {
  return (
    `the wasm heap is out of memory: a tensor of ${(requested / MiB).toFixed(1)} MiB needed the heap to grow to ${(heap / MiB).toFixed(0)} MiB, ` +
    `past its ${(cap / MiB).toFixed(0)} MiB cap (wasm32) less the ${(XNNPACK_RESERVE / MiB).toFixed(0)} MiB kept for the kernels' workspaces. ` +
    'Train with gradient checkpointing (checkpointing: true: each step is recomputed in the backward pass), a smaller batch or smaller frames, ' +
    'or use a native backend (@tensorflow/tfjs-node) where it installs.'
  );
}

/**
 * Wraps `module._malloc` (once) so that an allocation that fails, or that makes the heap grow
 * to less than {@link XNNPACK_RESERVE} below `cap`, throws a {@link BackendError} (and frees what
 * it got) instead of carrying on. Allocations served from memory the heap already has pass.
 */
export function guardWasmHeap(module: EmscriptenHeap, cap = WASM_HEAP_CAP): void {
  if (guarded.has(module)) return;
  const malloc = module._malloc.bind(module);
  const free = module._free.bind(module);
  module._malloc = (bytes: number): number => {
    const before = module.HEAPU8.buffer.byteLength;
    // A request that cannot fit under the line whatever the heap holds (also: ≥ 4 GiB would wrap
    // around in wasm32's size_t) is refused before it touches the heap.
    if (bytes >= cap - XNNPACK_RESERVE) throw new BackendError(advice(bytes, before + bytes, cap));
    let pointer: number;
    try {
      pointer = malloc(bytes);
    } catch (error) {
      throw new BackendError(
        `${advice(bytes, before + bytes, cap)} (${error instanceof Error ? error.message : String(error)})`,
      );
    }
    if (bytes <= 0) return pointer;
    const after = module.HEAPU8.buffer.byteLength;
    if (pointer === 0) throw new BackendError(advice(bytes, before + bytes, cap));
    if (after > before && after > cap - XNNPACK_RESERVE) {
      free(pointer);
      throw new BackendError(advice(bytes, after, cap));
    }
    return pointer;
  };
  guarded.add(module);
}

/**
 * The wasm kernels whose XNNPACK operators allocate their own workspaces (packed weights,
 * indirection buffers) inside the heap, past the tensor allocations that {@link guardWasmHeap}
 * checks. When such an allocation fails the module aborts (`RuntimeError: Aborted()`).
 */
export const WORKSPACE_KERNELS: readonly string[] = [
  'Conv2D',
  'FusedConv2D',
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'DepthwiseConv2dNative',
  'FusedDepthwiseConv2D',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'Conv3D',
  'Conv3DBackpropFilterV2',
  'Conv3DBackpropInputV2',
  'BatchMatMul',
  '_FusedMatMul',
];

/** The name of a kernel function wrapped by {@link abortAsBackendError}: this prefix, then the kernel's name. */
export const ABORT_GUARD_PREFIX = 'vidAbortGuard:';

/** Wrapped kernels running right now (a kernel of vid's may run another wrapped one). */
let depth = 0;

/** Whether `error` is an Emscripten abort (`RuntimeError: Aborted(…)`, in Node and in browsers). */
export function isWasmAbort(error: unknown): boolean {
  return error instanceof Error && /^Aborted\(/.test(error.message);
}

/**
 * Wraps a wasm kernel so that an Emscripten abort inside it (XNNPACK out of memory) becomes a
 * {@link BackendError} that names the kernel and the heap's size, and says what to do, instead
 * of a bare `RuntimeError: Aborted()`. The module cannot run again after an abort; the error
 * says so.
 */
export function abortAsBackendError(name: string, kernelFunc: tf.KernelFunc, cap = WASM_HEAP_CAP): tf.KernelFunc {
  const guarded: tf.KernelFunc = (args) => {
    depth++;
    try {
      return kernelFunc(args);
    } catch (error) {
      // Only the outermost wrapped kernel reports (vid's Conv2DBackpropFilter runs Conv2D).
      if (depth > 1 || !isWasmAbort(error)) throw error;
      const heap = (args.backend as unknown as { wasm?: EmscriptenHeap }).wasm?.HEAPU8.buffer.byteLength;
      throw new BackendError(
        `the wasm module aborted in the ${name} kernel with its heap at ${heap === undefined ? 'an unknown size' : `${(heap / MiB).toFixed(0)} MiB`} ` +
          `of its ${(cap / MiB).toFixed(0)} MiB cap (wasm32): XNNPACK could not allocate the kernel's workspace (packed weights, indirection buffers), ` +
          'so the model does not fit in the wasm heap at this size. The wasm backend cannot run again in this process. ' +
          'Train with gradient checkpointing (checkpointing: true: each step is recomputed in the backward pass), a smaller batch or smaller frames, ' +
          'or use a native backend (@tensorflow/tfjs-node) where it installs.',
      );
    } finally {
      depth--;
    }
  };
  Object.defineProperty(guarded, 'name', { value: `${ABORT_GUARD_PREFIX}${name}` });
  return guarded;
}
