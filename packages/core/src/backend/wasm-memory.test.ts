import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { BackendError } from '../errors.js';
import { useBackend } from '../testing/index.js';
import { initBackend } from './select.js';
import {
  ABORT_GUARD_PREFIX,
  type EmscriptenHeap,
  WASM_HEAP_CAP,
  WORKSPACE_KERNELS,
  XNNPACK_RESERVE,
  abortAsBackendError,
  guardWasmHeap,
} from './wasm-memory.js';

const MiB = 2 ** 20;

/** A fake Emscripten heap: a bump allocator whose heap grows in 16 MiB steps up to `max`. */
function fakeHeap(max: number): EmscriptenHeap & { freed: number[] } {
  let size = 16 * MiB;
  let top = 1024;
  const freed: number[] = [];
  return {
    freed,
    HEAPU8: {
      get buffer() {
        return { byteLength: size };
      },
    },
    _malloc(bytes: number) {
      if (top + bytes > max) return 0;
      while (top + bytes > size) size += 16 * MiB;
      const pointer = top;
      top += bytes;
      return pointer;
    },
    _free(pointer: number) {
      freed.push(pointer);
    },
  };
}

describe('wasm heap guard', () => {
  it('passes allocations that fit, and fails fast with the sizes and advice when the heap would pass its cap', () => {
    const cap = 256 * MiB;
    const heap = fakeHeap(cap);
    guardWasmHeap(heap, cap);
    expect(heap._malloc(100 * MiB)).toBeGreaterThan(0);
    // 100 + 100 MiB makes the heap grow past 256 − 64 MiB: refused, and the block freed.
    expect(() => heap._malloc(100 * MiB)).toThrow(BackendError);
    expect(heap.freed.length).toBe(1);
    expect(() => heap._malloc(100 * MiB)).toThrow(/100\.0 MiB.*256 MiB cap.*checkpointing.*smaller batch/);
    // Past the real cap: malloc returns 0, which also throws instead of registering address 0.
    expect(() => heap._malloc(300 * MiB)).toThrow(/out of memory/);
    // Freed memory inside the heap is reused without a check failing.
    expect(heap._malloc(MiB)).toBeGreaterThan(0);
    expect(XNNPACK_RESERVE).toBeLessThan(WASM_HEAP_CAP);
  });

  it('a tensor larger than the wasm heap can hold is a BackendError, not silent corruption', async () => {
    await initBackend({ backend: 'wasm', log: false });
    await useBackend('wasm');
    const backend = tf.backend() as unknown as {
      makeOutput(shape: number[], dtype: string): unknown;
      numDataIds(): number;
    };
    const before = backend.numDataIds();
    // A kernel's output of 2^30 float32 = 4 GiB: cannot fit under the 4 GiB cap.
    expect(() => backend.makeOutput([2 ** 30], 'float32')).toThrow(
      /wasm heap is out of memory: a tensor of 4096\.0 MiB/,
    );
    expect(() => backend.makeOutput([2 ** 30], 'float32')).toThrow(BackendError);
    expect(backend.numDataIds()).toBe(before);
  });
});

describe('an abort inside a workspace kernel (XNNPACK out of memory)', () => {
  const heap = { HEAPU8: { buffer: { byteLength: 4096 * MiB } } };
  const args = (): Parameters<tf.KernelFunc>[0] =>
    ({ inputs: {}, attrs: {}, backend: { wasm: heap } }) as unknown as Parameters<tf.KernelFunc>[0];

  it('becomes a BackendError naming the kernel, the heap size and what to do', () => {
    const kernel = abortAsBackendError('Conv2D', () => {
      throw new Error('Aborted(). Build with -sASSERTIONS for more info.');
    });
    expect(() => kernel(args())).toThrow(BackendError);
    expect(() => kernel(args())).toThrow(
      /aborted in the Conv2D kernel with its heap at 4096 MiB of its 4096 MiB cap .*cannot run again.*checkpointing.*smaller batch/,
    );
  });

  it('is reported by the outermost wrapped kernel, under its name', () => {
    const inner = abortAsBackendError('Conv2D', () => {
      throw new Error('Aborted()');
    });
    const outer = abortAsBackendError('Conv2DBackpropFilter', (a) => inner(a));
    expect(() => outer(args())).toThrow(/aborted in the Conv2DBackpropFilter kernel/);
    // The count of running kernels is back to zero: the inner kernel alone reports again.
    expect(() => inner(args())).toThrow(/aborted in the Conv2D kernel/);
  });

  it('lets other errors and results through unchanged', () => {
    const failing = abortAsBackendError('Conv2D', () => {
      throw new RangeError('bad shape');
    });
    expect(() => failing(args())).toThrow(RangeError);
    const info = { dataId: {}, shape: [1], dtype: 'float32' as const };
    expect(abortAsBackendError('Conv2D', () => info)(args())).toBe(info);
  });

  it('wraps the registered wasm convolution and matmul kernels', async () => {
    await useBackend('wasm');
    const conv = tf.getKernel('Conv2D', 'wasm') as tf.KernelConfig;
    expect(WORKSPACE_KERNELS).toContain('Conv2D');
    expect(conv.kernelFunc.name).toBe(`${ABORT_GUARD_PREFIX}Conv2D`);
    // And the kernel still computes.
    const y = tf.conv2d(tf.ones([1, 3, 3, 1]) as tf.Tensor4D, tf.ones([2, 2, 1, 1]) as tf.Tensor4D, 1, 'valid');
    expect(Array.from(await y.data())).toEqual([4, 4, 4, 4]);
    y.dispose();
  });
});
