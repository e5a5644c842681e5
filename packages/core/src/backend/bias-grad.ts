/**
 * Accurate float32 sums for bias gradients.
 *
 * The bias gradient of `tf.fused.conv2d` (and of every conv + bias) is `sum(dy, [0, 1, 2])`: the
 * output gradient summed over batch, height and width, tens of thousands of terms per channel.
 * The stock `Sum` kernels of the cpu and wasm backends add them one by one into a float32
 * accumulator, so the error grows with the count (about 1e-5 relative at 65,536 terms) and the
 * training of a float32 model drifts from a float64 one faster than PyTorch's does.
 *
 * vid's `Sum` for float32 inputs reduced over a leading or a trailing block of axes (bias
 * gradients, means over the last axes) adds in pairs (pairwise summation, Higham 1993: error
 * O(log n · ε) instead of O(n · ε)), with a float64 accumulator for the leaf blocks, and rounds
 * once to float32. Other reductions (and dtypes) go to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs-core';

type TensorInfo = tf.TensorInfo;

interface HostBackend extends tf.KernelBackend {
  readSync(dataId: object): tf.backend_util.BackendValues;
  /** wasm */
  makeOutput?(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap?(info: TensorInfo): Float32Array;
  /** cpu */
  makeTensorInfo?(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): TensorInfo;
}

/** Terms summed directly (in float64) at the leaves of the pairwise tree. */
const LEAF = 128;

/**
 * Pairwise sum of `count` terms `values[start + i · stride]`, accumulated in float64 at the
 * leaves: the error is that of log2(count / LEAF) float64 additions, far below float32's ε.
 */
export function pairwiseSum(values: ArrayLike<number>, start: number, count: number, stride = 1): number {
  if (count <= LEAF) {
    let sum = 0;
    for (let i = 0, k = start; i < count; i++, k += stride) sum += values[k] as number;
    return sum;
  }
  const half = Math.floor(count / 2);
  return pairwiseSum(values, start, half, stride) + pairwiseSum(values, start + half * stride, count - half, stride);
}

/**
 * The pairwise sums of rows `start … start + rows − 1` of `values` seen as `[rows…, width]`, all
 * `width` columns at once: the same tree and the same float64 additions, in the same order, as
 * {@link pairwiseSum} with `stride = width` column by column (so the same bits), but block by
 * block: each leaf's rows are read while they are in cache, instead of `width` strided passes
 * over the whole tensor.
 */
function pairwiseRows(values: ArrayLike<number>, width: number, start: number, rows: number): Float64Array {
  if (rows <= LEAF) {
    // Column by column inside the leaf's block (at most LEAF rows: it stays in cache), each
    // column in a local accumulator, rows in order: the same additions as pairwiseSum's leaf.
    const sums = new Float64Array(width);
    const base = start * width;
    for (let o = 0; o < width; o++) {
      let sum = 0;
      for (let r = 0, k = base + o; r < rows; r++, k += width) sum += values[k] as number;
      sums[o] = sum;
    }
    return sums;
  }
  const half = Math.floor(rows / 2);
  const left = pairwiseRows(values, width, start, half);
  const right = pairwiseRows(values, width, start + half, rows - half);
  for (let o = 0; o < width; o++) left[o] = (left[o] as number) + (right[o] as number);
  return left;
}

/**
 * Sums `x` `[outer…, inner…]` over a leading block of axes (`leading`: then every output `o` sums
 * `x[i · outSize + o]`) or a trailing one (every output sums a contiguous run).
 */
function reduce(values: ArrayLike<number>, outSize: number, reduceSize: number, leading: boolean): Float32Array {
  if (leading) return Float32Array.from(pairwiseRows(values, outSize, 0, reduceSize));
  const out = new Float32Array(outSize);
  for (let o = 0; o < outSize; o++) out[o] = pairwiseSum(values, o * reduceSize, reduceSize, 1);
  return out;
}

/** The stock kernels, by backend, to which other reductions go. */
const stock = new Map<string, tf.KernelConfig>();

function accurateSum(backendName: string): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const x = inputs.x as TensorInfo;
    const { axis, keepDims } = attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const rank = x.shape.length;
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const isLeading = axes.every((a, i) => a === i);
    const isTrailing = axes.every((a, i) => a === rank - axes.length + i);
    const fallback = stock.get(backendName);
    if (x.dtype !== 'float32' || axes.length === 0 || (!isLeading && !isTrailing)) {
      if (!fallback) throw new Error(`vid: no stock Sum kernel for ${backendName}`);
      return fallback.kernelFunc({ inputs, backend, attrs });
    }
    const host = backend as HostBackend;
    const reduceSize = axes.reduce((p, a) => p * (x.shape[a] as number), 1);
    const keptShape = x.shape.filter((_, a) => !axes.includes(a));
    const outShape = keepDims ? x.shape.map((d, a) => (axes.includes(a) ? 1 : d)) : keptShape;
    const outSize = keptShape.reduce((p, d) => p * d, 1);
    // On wasm a view of the heap (no copy); the output is allocated after the sums are taken,
    // since a growing heap detaches the view.
    const values = (host.typedArrayFromHeap ? host.typedArrayFromHeap(x) : host.readSync(x.dataId)) as Float32Array;
    const sums = reduce(values, outSize, reduceSize, isLeading);
    if (host.makeOutput && host.typedArrayFromHeap) {
      const out = host.makeOutput(outShape, 'float32');
      host.typedArrayFromHeap(out).set(sums);
      return out;
    }
    if (host.makeTensorInfo) return host.makeTensorInfo(outShape, 'float32', sums);
    throw new Error(`vid: backend ${backendName} cannot take a host-computed Sum`);
  };
}

const registered = new Set<string>();

/**
 * Replaces `Sum` of the cpu and wasm backends (those registered) with the accurate one above.
 * Idempotent. Returns the backends it was registered for.
 */
export function registerAccurateSum(backends: readonly string[] = ['cpu', 'wasm']): string[] {
  for (const name of backends) {
    if (registered.has(name)) continue;
    const existing = tf.getKernel('Sum', name);
    if (!existing) continue;
    stock.set(name, existing);
    tf.unregisterKernel('Sum', name);
    tf.registerKernel({ kernelName: 'Sum', backendName: name, kernelFunc: accurateSum(name) });
    registered.add(name);
  }
  return [...registered];
}

/** The stock `Sum` kernel of a backend, before vid replaced it (for benchmarks and error measurements). */
export function stockSumKernel(backendName: string): tf.KernelConfig | undefined {
  return stock.get(backendName);
}
