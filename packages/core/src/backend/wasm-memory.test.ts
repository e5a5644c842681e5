import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { BackendError } from '../errors.js';
import { useBackend } from '../testing/index.js';
import { initBackend } from './select.js';
import { type EmscriptenHeap, WASM_HEAP_CAP, XNNPACK_RESERVE, guardWasmHeap } from './wasm-memory.js';

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
