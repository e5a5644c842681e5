/**
 * Copy kernels of the WebAssembly backend that work on views of the wasm heap.
 *
 * tfjs-backend-wasm 4.22 writes `Slice` in JavaScript over `backend.readSync(x)`, which copies
 * the whole source tensor out of the heap into a fresh `ArrayBuffer` before it slices (so a
 * channel split of a `[8, 64, 64, 128]` tensor into four copies the 16 MiB source four times),
 * and its `SplitV`, `Unpack` and the contiguous path of `StridedSlice` call that `Slice`. Its
 * `Concat` reads views but makes one `subarray` object per copied row, and its `Identity`
 * copies the buffer (the autograd tape clones every tensor it saves through `Identity`).
 *
 * vid's replacements:
 *
 * - `Slice`, `SplitV`, `Unpack`, `StridedSlice` (unit strides): the slice is reduced to its
 *   simplest equivalent (unit axes dropped, an axis taken whole merged into the one outside it),
 *   so that what is left is `rows × run` contiguous runs, each copied inside the heap
 *   (`copyWithin`, a native `memmove`, for long runs; a typed loop for short ones). Nothing
 *   leaves the heap. Non-unit strides go to the stock kernel (its native strided slice).
 * - `Concat`: the same run copies, input by input.
 * - Equal splits and concatenations of short runs (under 24 elements, 64 rows or more) go through
 *   the backend's native `Transpose` (`[outer, parts, run]` ↔ `[parts, outer, run]`) and
 *   `copyWithin` of the contiguous blocks: several times faster than a JavaScript loop.
 * - `Identity`: shares the buffer by reference count, as the cpu backend does. This is safe
 *   because no wasm kernel writes into an input: every kernel allocates its output.
 *
 * Strings and complex numbers go to the stock kernels. Bit patterns are copied exactly (4-byte
 * dtypes through an `Int32Array` view).
 */
import * as tf from '@tensorflow/tfjs-core';

type TensorInfo = tf.TensorInfo;
type Attrs = Record<string, unknown>;

interface TensorData {
  memoryOffset: number;
  shape: number[];
  dtype: tf.DataType;
  refCount: number;
}

/** The parts of tfjs-backend-wasm's `BackendWasm` these kernels use. */
export interface WasmHeapBackend extends tf.KernelBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): TensorData | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  incRef(dataId: object): void;
  disposeData(dataId: object, force?: boolean): boolean;
  readSync(dataId: object): Float32Array | Int32Array | Uint8Array;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** What a kernel function receives. */
export type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap };

/** The stock wasm kernels vid replaced, kept for fallbacks and for benchmarks that compare the two. */
export const replacedWasmKernels = new Map<string, tf.KernelConfig>();

/** Runs the stock wasm kernel that vid replaced under `name` (the fallback of vid's kernels). */
export function stock(name: string, args: KernelArgs): TensorInfo | TensorInfo[] {
  const kernel = replacedWasmKernels.get(name);
  if (!kernel) throw new Error(`vid: the stock wasm ${name} kernel is not available`);
  return kernel.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as TensorInfo | TensorInfo[];
}

/** Whether vid copies this dtype itself (4-byte numbers and bools). */
function copyable(dtype: tf.DataType): boolean {
  return dtype === 'float32' || dtype === 'int32' || dtype === 'bool';
}

type HeapView = Int32Array | Uint8Array;

/** A view of the whole heap in elements of `dtype` (taken after allocating: the heap may grow). */
function heapView(backend: WasmHeapBackend, dtype: tf.DataType): HeapView {
  const buffer = backend.wasm.HEAPU8.buffer;
  return dtype === 'bool' ? new Uint8Array(buffer) : new Int32Array(buffer, 0, buffer.byteLength >>> 2);
}

/** The byte offset of a tensor's data in the wasm heap. */
export function heapByteOffset(backend: WasmHeapBackend, info: TensorInfo): number {
  const data = backend.dataIdMap.get(info.dataId);
  if (!data) throw new Error('vid: tensor data not found on the wasm backend');
  return data.memoryOffset;
}

/** The element index of a tensor's first element in {@link heapView}. */
function elementOffset(backend: WasmHeapBackend, info: TensorInfo): number {
  const offset = heapByteOffset(backend, info);
  return info.dtype === 'bool' ? offset : offset >>> 2;
}

/** Runs shorter than this are copied with a loop; longer ones with `copyWithin` (a memmove). */
const SHORT_RUN = 24;

function copyRun(heap: HeapView, source: number, target: number, length: number): void {
  if (length >= SHORT_RUN) {
    heap.copyWithin(target, source, source + length);
    return;
  }
  for (let k = 0; k < length; k++) heap[target + k] = heap[source + k] as number;
}

/** One axis of a slice: the source extent, the first index taken and how many are taken. */
interface SliceAxis {
  extent: number;
  begin: number;
  size: number;
}

/**
 * The simplest slice equivalent to `begin`/`size` on `shape`: unit axes dropped, and each axis
 * taken whole merged into the axis outside it (`[S0, S1]` with rows `b0 … b0 + s0 − 1` of a
 * fully taken `S1` is the run `b0·S1 … (b0 + s0)·S1` of `S0·S1`). Exported for tests.
 */
export function simplifySlice(
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
): SliceAxis[] {
  const merged: SliceAxis[] = [];
  for (let i = 0; i < shape.length; i++) {
    const extent = shape[i] as number;
    if (extent === 1) continue;
    const axis = { extent, begin: begin[i] as number, size: size[i] as number };
    const outer = merged[merged.length - 1];
    if (outer && axis.size === axis.extent) {
      outer.begin *= axis.extent;
      outer.size *= axis.extent;
      outer.extent *= axis.extent;
    } else {
      merged.push(axis);
    }
  }
  return merged;
}

/**
 * Copies the slice `begin`/`size` of the tensor at heap element `source` (shape `shape`) to the
 * contiguous block at heap element `target`.
 */
function copySlice(
  heap: HeapView,
  source: number,
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
  target: number,
): void {
  const axes = simplifySlice(shape, begin, size);
  if (axes.some((a) => a.size === 0)) return;
  if (axes.length === 0) {
    heap[target] = heap[source] as number;
    return;
  }
  const rank = axes.length;
  const inner = axes[rank - 1] as SliceAxis;
  // Source strides of the reduced shape.
  const strides = new Array<number>(rank);
  let stride = 1;
  for (let i = rank - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= (axes[i] as SliceAxis).extent;
  }
  let start = source;
  for (let i = 0; i < rank; i++) start += (axes[i] as SliceAxis).begin * (strides[i] as number);
  const run = inner.size;
  if (rank === 1) {
    copyRun(heap, start, target, run);
    return;
  }
  if (rank === 2) {
    const rows = (axes[0] as SliceAxis).size;
    const rowStride = strides[0] as number;
    for (let r = 0; r < rows; r++) copyRun(heap, start + r * rowStride, target + r * run, run);
    return;
  }
  // An odometer over the outer axes.
  const counter = new Array<number>(rank - 1).fill(0);
  let offset = start;
  let out = target;
  for (;;) {
    copyRun(heap, offset, out, run);
    out += run;
    let axis = rank - 2;
    while (axis >= 0) {
      counter[axis] = (counter[axis] as number) + 1;
      offset += strides[axis] as number;
      if ((counter[axis] as number) < (axes[axis] as SliceAxis).size) break;
      offset -= (counter[axis] as number) * (strides[axis] as number);
      counter[axis] = 0;
      axis--;
    }
    if (axis < 0) return;
  }
}

/** A new tensor holding `x[begin : begin + size]`. */
function sliceInto(backend: WasmHeapBackend, x: TensorInfo, begin: readonly number[], size: number[]): TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  if (tf.util.sizeFromShape(size) === 0) return out;
  const heap = heapView(backend, x.dtype);
  copySlice(heap, elementOffset(backend, x), x.shape, begin, size, elementOffset(backend, out));
  return out;
}

/** Shares `x`'s buffer (one more reference), with `shape`. */
function share(backend: WasmHeapBackend, x: TensorInfo, shape: number[]): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape, dtype: x.dtype };
}

function identity(args: KernelArgs): TensorInfo {
  const x = args.inputs.x as TensorInfo;
  if (x.dtype === 'string' || x.dtype === 'complex64') return stock('Identity', args) as TensorInfo;
  return share(args.backend as WasmHeapBackend, x, [...x.shape]);
}

function slice(args: KernelArgs): TensorInfo {
  const x = args.inputs.x as TensorInfo;
  if (!copyable(x.dtype)) return stock('Slice', args) as TensorInfo;
  const attrs = (args.attrs ?? {}) as Attrs;
  const [begin, size] = tf.slice_util.parseSliceParams(
    x as unknown as tf.Tensor,
    attrs.begin as number[],
    attrs.size as number[],
  );
  const backend = args.backend as WasmHeapBackend;
  return sliceInto(backend, x, begin as number[], size as number[]);
}

function stridedSlice(args: KernelArgs): TensorInfo {
  const x = args.inputs.x as TensorInfo;
  if (!copyable(x.dtype)) return stock('StridedSlice', args) as TensorInfo;
  const a = (args.attrs ?? {}) as Attrs;
  const info = tf.slice_util.sliceInfo(
    x.shape,
    a.begin as number[],
    a.end as number[],
    a.strides as number[],
    a.beginMask as number,
    a.endMask as number,
    a.ellipsisMask as number,
    a.newAxisMask as number,
    a.shrinkAxisMask as number,
  );
  const backend = args.backend as WasmHeapBackend;
  if (info.isIdentity) return share(backend, x, info.finalShape);
  if (!info.strides.every((s) => s === 1)) return stock('StridedSlice', args) as TensorInfo;
  const size = tf.slice_util.computeOutShape(info.begin, info.end, info.strides);
  const out = sliceInto(backend, x, info.begin, size);
  return { dataId: out.dataId, shape: info.finalShape as number[], dtype: out.dtype };
}

/**
 * Short runs, many rows: a split of the last axes into equal parts, or a concatenation of equal
 * parts, is a transpose between `[outer, parts, run]` and `[parts, outer, run]`. The wasm
 * backend's native `Transpose` moves those short runs several times faster than a JavaScript
 * loop (measured on `[32768, 4 × 8]`: a 4-way split 2.2 → about 1 ms, the concatenation back
 * about 4 → 1 ms); the contiguous blocks are then (or first) moved by `copyWithin`.
 */
const TRANSPOSE_MIN_ROWS = 64;

/** The registered wasm `Transpose` (vid's, which reduces the rank and runs the native kernel). */
function nativeTranspose(backend: WasmHeapBackend, x: TensorInfo, perm: number[]): TensorInfo | null {
  const kernel = tf.getKernel('Transpose', 'wasm');
  if (!kernel) return null;
  return kernel.kernelFunc({ inputs: { x }, attrs: { perm }, backend }) as TensorInfo;
}

/** Whether `[outer, parts, run]` runs are short enough, and numerous enough, for the transpose path. */
function transposeWorthIt(dtype: tf.DataType, outer: number, run: number): boolean {
  return dtype !== 'bool' && run > 0 && run < SHORT_RUN && outer >= TRANSPOSE_MIN_ROWS;
}

/** `x` viewed as `[outer, parts, run]` → `parts` tensors of `shape`, through one native transpose; null when not applicable. */
function splitByTranspose(
  backend: WasmHeapBackend,
  x: TensorInfo,
  outer: number,
  parts: number,
  run: number,
  shape: number[],
): TensorInfo[] | null {
  const transposed = nativeTranspose(
    backend,
    { dataId: x.dataId, shape: [outer, parts, run], dtype: x.dtype },
    [1, 0, 2],
  );
  if (!transposed) return null;
  const block = outer * run;
  const outputs: TensorInfo[] = [];
  try {
    for (let p = 0; p < parts; p++) {
      const out = backend.makeOutput(shape, x.dtype);
      outputs.push(out);
      // The heap view after the allocation (a growing heap detaches older views).
      const heap = heapView(backend, x.dtype);
      const source = elementOffset(backend, transposed) + p * block;
      heap.copyWithin(elementOffset(backend, out), source, source + block);
    }
  } catch (error) {
    // An allocation refused by the heap guard: free what this kernel made, then report.
    for (const out of outputs) backend.disposeData(out.dataId);
    throw error;
  } finally {
    backend.disposeData(transposed.dataId);
  }
  return outputs;
}

/** `parts` tensors of `outer × run` elements each → `[outer, parts, run]` with shape `outShape`, through one native transpose; null when not applicable. */
function concatByTranspose(
  backend: WasmHeapBackend,
  parts: readonly TensorInfo[],
  outer: number,
  run: number,
  outShape: number[],
): TensorInfo | null {
  const dtype = (parts[0] as TensorInfo).dtype;
  const block = outer * run;
  const stacked = backend.makeOutput([parts.length, outer, run], dtype);
  const heap = heapView(backend, dtype);
  const target = elementOffset(backend, stacked);
  parts.forEach((part, p) => {
    const source = elementOffset(backend, part);
    heap.copyWithin(target + p * block, source, source + block);
  });
  let out: TensorInfo | null;
  try {
    out = nativeTranspose(backend, stacked, [1, 0, 2]);
  } finally {
    backend.disposeData(stacked.dataId);
  }
  if (!out) return null;
  return { dataId: out.dataId, shape: outShape, dtype };
}

function splitV(args: KernelArgs): TensorInfo[] {
  const x = args.inputs.x as TensorInfo;
  if (!copyable(x.dtype)) return stock('SplitV', args) as TensorInfo[];
  const a = (args.attrs ?? {}) as Attrs;
  const axis = tf.util.parseAxisParam(a.axis as number, x.shape)[0] as number;
  const sizes = tf.backend_util.prepareSplitSize(
    x as unknown as tf.Tensor,
    a.numOrSizeSplits as number[] | number,
    axis,
  );
  const backend = args.backend as WasmHeapBackend;
  const outer = tf.util.sizeFromShape(x.shape.slice(0, axis));
  const run = (sizes[0] as number) * tf.util.sizeFromShape(x.shape.slice(axis + 1));
  if (sizes.length > 1 && sizes.every((s) => s === sizes[0]) && transposeWorthIt(x.dtype, outer, run)) {
    const shape = [...x.shape];
    shape[axis] = sizes[0] as number;
    const parts = splitByTranspose(backend, x, outer, sizes.length, run, shape);
    if (parts) return parts;
  }
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const size = [...x.shape];
    size[axis] = s;
    const part = sliceInto(backend, x, begin, size);
    begin[axis] = (begin[axis] as number) + s;
    return part;
  });
}

function unpack(args: KernelArgs): TensorInfo[] {
  const value = args.inputs.value as TensorInfo;
  if (!copyable(value.dtype)) return stock('Unpack', args) as TensorInfo[];
  const rank = value.shape.length;
  let axis = (args.attrs as Attrs).axis as number;
  if (axis < 0) axis += rank;
  const backend = args.backend as WasmHeapBackend;
  const outShape = value.shape.filter((_, i) => i !== axis);
  const begin = new Array<number>(rank).fill(0);
  const size = [...value.shape];
  size[axis] = 1;
  const outputs: TensorInfo[] = [];
  for (let i = 0; i < (value.shape[axis] as number); i++) {
    begin[axis] = i;
    const part = sliceInto(backend, value, begin, size);
    outputs.push({ dataId: part.dataId, shape: outShape, dtype: part.dtype });
  }
  return outputs;
}

function concat(args: KernelArgs): TensorInfo {
  const inputs = Object.values(args.inputs) as TensorInfo[];
  const first = inputs[0] as TensorInfo;
  // Bits are copied as they are: inputs of another dtype go to the stock kernel.
  if (!copyable(first.dtype) || inputs.some((t) => t.dtype !== first.dtype)) return stock('Concat', args) as TensorInfo;
  const axis = tf.util.parseAxisParam((args.attrs as Attrs).axis as number, first.shape)[0] as number;
  const shapes = inputs.map((t) => t.shape);
  tf.backend_util.assertParamsConsistent(shapes, axis);
  const outShape = tf.backend_util.computeOutShape(shapes, axis);
  const backend = args.backend as WasmHeapBackend;
  const parts = inputs.filter((t) => tf.util.sizeFromShape(t.shape) > 0);
  if (parts.length === 1) return share(backend, parts[0] as TensorInfo, outShape);
  // [outer, inner_i] blocks side by side in [outer, Σ inner_i].
  const outer = tf.util.sizeFromShape(outShape.slice(0, axis));
  const firstInner = parts.length ? tf.util.sizeFromShape((parts[0] as TensorInfo).shape.slice(axis)) : 0;
  if (
    parts.length > 1 &&
    parts.every((t) => tf.util.sizeFromShape(t.shape.slice(axis)) === firstInner) &&
    transposeWorthIt(first.dtype, outer, firstInner)
  ) {
    const out = concatByTranspose(backend, parts, outer, firstInner, outShape);
    if (out) return out;
  }
  const out = backend.makeOutput(outShape, first.dtype);
  if (tf.util.sizeFromShape(outShape) === 0) return out;
  const heap = heapView(backend, first.dtype);
  const rowLength = tf.util.sizeFromShape(outShape.slice(axis));
  const target = elementOffset(backend, out);
  let column = 0;
  for (const part of parts) {
    const inner = tf.util.sizeFromShape(part.shape.slice(axis));
    const source = elementOffset(backend, part);
    if (outer === 1) copyRun(heap, source, target + column, inner);
    else for (let r = 0; r < outer; r++) copyRun(heap, source + r * inner, target + r * rowLength + column, inner);
    column += inner;
  }
  return out;
}

/**
 * `Tanh` as `2·σ(2x) − 1`: the stock wasm `Tanh` is a scalar `std::tanh` loop, about 15× slower
 * per element than `Sigmoid`, which is XNNPACK's SIMD kernel; the affine parts are the wasm
 * backend's native `Multiply` and `Sub` against scalars. The identity is exact in real
 * arithmetic; in float32 the result is within a few units of 2⁻²⁴ of `tanh` (absolute), inside
 * the parity tolerances against the cpu backend. (The affine steps as JavaScript loops over heap
 * views were tried: 2–4× slower than these native kernels, whose scalar multiply runs at about
 * 0.2 ns per element.)
 */
function tanh(args: KernelArgs): TensorInfo {
  const x = args.inputs.x as TensorInfo;
  const kernels = ['Multiply', 'Sigmoid', 'Sub'].map((name) => tf.getKernel(name, 'wasm'));
  if (x.dtype !== 'float32' || kernels.some((k) => !k)) return stock('Tanh', args) as TensorInfo;
  const [multiply, sigmoid, subtract] = kernels as [tf.KernelConfig, tf.KernelConfig, tf.KernelConfig];
  const backend = args.backend as WasmHeapBackend;
  const scalar = (value: number): TensorInfo => {
    const info = backend.makeOutput([], 'float32');
    new Float32Array(backend.wasm.HEAPU8.buffer, heapByteOffset(backend, info), 1)[0] = value;
    return info;
  };
  const run = (kernel: tf.KernelConfig, inputs: tf.NamedTensorInfoMap): TensorInfo =>
    kernel.kernelFunc({ inputs, attrs: {}, backend }) as TensorInfo;
  const two = scalar(2);
  const one = scalar(1);
  const doubled = run(multiply, { a: x, b: two });
  const s = run(sigmoid, { x: doubled });
  const s2 = run(multiply, { a: s, b: two });
  const out = run(subtract, { a: s2, b: one });
  for (const info of [two, one, doubled, s, s2]) backend.disposeData(info.dataId);
  return out;
}

/** vid's heap-view copy kernels for wasm, by name (each replaces the stock one). */
export const WASM_VIEW_KERNELS: ReadonlyArray<{
  readonly name: string;
  readonly replaces: boolean;
  readonly kernelFunc: tf.KernelFunc;
}> = [
  { name: 'Identity', replaces: true, kernelFunc: identity as unknown as tf.KernelFunc },
  { name: 'Slice', replaces: true, kernelFunc: slice as unknown as tf.KernelFunc },
  { name: 'StridedSlice', replaces: true, kernelFunc: stridedSlice as unknown as tf.KernelFunc },
  { name: 'SplitV', replaces: true, kernelFunc: splitV as unknown as tf.KernelFunc },
  { name: 'Unpack', replaces: true, kernelFunc: unpack as unknown as tf.KernelFunc },
  { name: 'Concat', replaces: true, kernelFunc: concat as unknown as tf.KernelFunc },
  { name: 'Tanh', replaces: true, kernelFunc: tanh as unknown as tf.KernelFunc },
];
