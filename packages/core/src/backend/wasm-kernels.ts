/**
 * Training kernels for the WebAssembly backend.
 *
 * `@tensorflow/tfjs-backend-wasm` 4.22 ships the forward kernels a convolutional RNN needs but
 * not all of their gradients: `Conv2DBackpropFilter`, both depthwise backprops and
 * `UnsortedSegmentSum` (the gradient of `gather`) are not registered, and its
 * `Conv2DBackpropInput` is a direct loop about 7× slower than the same maths as a convolution,
 * and its `MaxPoolGrad`/`MaxPoolWithArgmax` are wrong for windows of negative values.
 *
 * Each kernel here is the backprop written as forward kernels the wasm backend runs fast
 * (XNNPACK convolutions and matmuls), composed at the kernel level: they call the registered wasm
 * kernels directly and free every intermediate, so they add exactly one tensor, like any kernel.
 *
 * - Conv2D and FusedConv2D (replaced, for float32 NHWC without dilation, and FusedConv2D with no
 *   activation and a bias of one value per channel, or none): vid's own wasm SIMD kernel
 *   (`./simd/conv2d.ts`); the stock XNNPACK kernels otherwise.
 * - Conv2DBackpropFilter: vid's own wasm SIMD kernel (`./simd/conv2d.ts`) where wasm SIMD
 *   runs; otherwise the filter gradient is a correlation of the input with the output
 *   gradient, summed over the batch. With the input as `[Ci, H, W, N]` (batch ↔ channels) and the
 *   gradient as a `[OH, OW, N, Co]` filter, it is one forward convolution whose dilation is the
 *   original stride; the result `[Ci, KH, KW, Co]` is transposed back.
 * - Conv2DBackpropInput: the gradient zero-inserted by the stride, padded by `k − 1 − pad`, and
 *   convolved with the spatially flipped filter whose in/out channels are swapped.
 * - DepthwiseConv2dNativeBackpropInput/Filter: the same two identities per channel, as depthwise
 *   convolutions (one per channel multiplier).
 * - UnsortedSegmentSum: a scatter-add with the wasm `ScatterNd` kernel.
 * - MaxPoolGrad and MaxPoolWithArgmax (replaced: the stock kernels are wrong when a window's
 *   values are all negative): the arg-max found on the host, with the cpu backend's rule.
 */
import * as tf from '@tensorflow/tfjs-core';

import { simdConv2D, simdConv2DBackpropFilter, simdFlipFilter } from './simd/conv2d.js';
import { WORKSPACE_KERNELS, abortAsBackendError } from './wasm-memory.js';
import { type KernelArgs, WASM_VIEW_KERNELS, replacedWasmKernels, stock } from './wasm-view-kernels.js';

export { replacedWasmKernels };

type TensorInfo = tf.TensorInfo;
type Backend = tf.KernelBackend & { disposeData(dataId: object, force?: boolean): boolean };
type Attrs = Record<string, unknown>;

/** Runs registered kernels of one backend and frees every intermediate but the result. */
class KernelScope {
  private readonly temps: TensorInfo[] = [];
  constructor(
    private readonly backend: Backend,
    private readonly backendName: string,
  ) {}

  run(kernelName: string, inputs: Record<string, TensorInfo>, attrs: Attrs = {}): TensorInfo {
    return this.runAll(kernelName, inputs, attrs)[0] as TensorInfo;
  }

  /** Runs a kernel with several outputs; all of them are freed by {@link finish} but the result. */
  runAll(kernelName: string, inputs: Record<string, TensorInfo>, attrs: Attrs = {}): TensorInfo[] {
    const kernel = tf.getKernel(kernelName, this.backendName);
    if (!kernel) throw new Error(`vid: kernel ${kernelName} is not registered for backend ${this.backendName}`);
    const out = kernel.kernelFunc({
      inputs: inputs as tf.NamedTensorInfoMap,
      attrs: attrs as tf.NamedAttrMap,
      backend: this.backend,
    });
    const infos = (Array.isArray(out) ? out : [out]) as TensorInfo[];
    this.temps.push(...infos);
    return infos;
  }

  /** Takes a tensor made outside the scope: {@link finish} frees it too, unless it is the result. */
  adopt(x: TensorInfo): TensorInfo {
    this.temps.push(x);
    return x;
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    if (begin.every((b) => b === 0) && size.every((s, i) => s === x.shape[i])) return x;
    return this.run('Slice', { x }, { begin, size });
  }

  pad(x: TensorInfo, paddings: Array<[number, number]>): TensorInfo {
    if (paddings.every(([a, b]) => a === 0 && b === 0)) return x;
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  /**
   * Inserts `stride − 1` zeros between rows and columns of `x: [N, H, W, C]`, giving
   * `[N, (H−1)·sh + 1, (W−1)·sw + 1, C]`.
   */
  zeroInsert(x: TensorInfo, sh: number, sw: number): TensorInfo {
    if (sh === 1 && sw === 1) return x;
    const [n, h, w, c] = x.shape as [number, number, number, number];
    // [N, H, W, C] → [N, H, 1, W, 1, C], pad the unit axes to the strides, then merge.
    const expanded = this.reshape(x, [n, h, 1, w, 1, c]);
    const padded = this.pad(expanded, [
      [0, 0],
      [0, 0],
      [0, sh - 1],
      [0, 0],
      [0, sw - 1],
      [0, 0],
    ]);
    const merged = this.reshape(padded, [n, h * sh, w * sw, c]);
    return this.slice(merged, [0, 0, 0, 0], [n, (h - 1) * sh + 1, (w - 1) * sw + 1, c]);
  }

  /** Frees `info` with the other intermediates in {@link finish}. */
  track(info: TensorInfo): TensorInfo {
    this.temps.push(info);
    return info;
  }

  /** Frees every intermediate except `result` (which may share data with one of them). */
  finish(result: TensorInfo): TensorInfo {
    for (const info of this.temps) if (info !== result) this.backend.disposeData(info.dataId);
    return result;
  }
}

/**
 * Crops or pads `x: [N, H, W, C]` so that a stride-1 VALID convolution with the padding
 * `[top, bottom, left, right]` (any sign) becomes one with non-negative padding.
 */
function explicitPadding(
  scope: KernelScope,
  x: TensorInfo,
  pads: [number, number, number, number],
): { x: TensorInfo; pad: tf.backend_util.ExplicitPadding } {
  const [top, bottom, left, right] = pads;
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const cropTop = Math.max(0, -top);
  const cropBottom = Math.max(0, -bottom);
  const cropLeft = Math.max(0, -left);
  const cropRight = Math.max(0, -right);
  const cropped = scope.slice(x, [0, cropTop, cropLeft, 0], [n, h - cropTop - cropBottom, w - cropLeft - cropRight, c]);
  return {
    x: cropped,
    pad: [
      [0, 0],
      [Math.max(0, top), Math.max(0, bottom)],
      [Math.max(0, left), Math.max(0, right)],
      [0, 0],
    ],
  };
}

function convInfo(
  inShape: number[],
  filterShape: number[],
  attrs: Attrs,
  depthwise: boolean,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as [number, number] | number,
    (attrs.dilations as [number, number] | number | undefined) ?? 1,
    attrs.pad as 'valid' | 'same' | number | tf.backend_util.ExplicitPadding,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    depthwise,
    'channelsLast',
  );
}

function channelsLast(attrs: Attrs): boolean {
  const format = attrs.dataFormat as string | undefined;
  return format === undefined || format === 'NHWC' || format === 'channelsLast';
}

function assertChannelsLast(attrs: Attrs, kernel: string): void {
  if (!channelsLast(attrs)) {
    throw new Error(`vid: wasm ${kernel} supports dataFormat NHWC only, received ${String(attrs.dataFormat)}`);
  }
}

function conv2DBackpropFilter({
  inputs,
  backend,
  attrs,
}: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs?: tf.NamedAttrMap;
}): TensorInfo {
  const a = (attrs ?? {}) as Attrs;
  assertChannelsLast(a, 'Conv2DBackpropFilter');
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const filterShape = a.filterShape as [number, number, number, number];
  const info = convInfo(x.shape, filterShape, a, false);
  const simd = simdConv2DBackpropFilter(backend, x, dy, info);
  if (simd) return simd;
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow } = info;
  const scope = new KernelScope(backend as Backend, 'wasm');
  // x: [N, H, W, Ci] → [Ci, H, W, N]; dy: [N, OH, OW, Co] → [OH, OW, N, Co].
  const xT = scope.transpose(x, [3, 1, 2, 0]);
  const dyT = scope.transpose(dy, [1, 2, 0, 3]);
  const [, h, w] = xT.shape as [number, number, number, number];
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  // Choose the bottom/right padding so the correlation has exactly KH × KW outputs.
  const bottom = (oh - 1) * sh + kh - h - top;
  const right = (ow - 1) * sw + kw - w - left;
  const padded = explicitPadding(scope, xT, [top, bottom, left, right]);
  // [Ci, KH, KW, Co]: dilation = the forward stride, stride 1.
  const grad = scope.run(
    'Conv2D',
    { x: padded.x, filter: dyT },
    { strides: [1, 1], pad: padded.pad, dataFormat: 'NHWC', dilations: [sh, sw], dimRoundingMode: undefined },
  );
  const result = scope.transpose(grad, [1, 2, 0, 3]);
  return scope.finish(result);
}

/** Conv2D: vid's SIMD kernel where it applies, else XNNPACK's. */
function conv2D(args: KernelArgs): TensorInfo {
  const a = (args.attrs ?? {}) as Attrs;
  const x = args.inputs.x as TensorInfo;
  const filter = args.inputs.filter as TensorInfo;
  if (channelsLast(a) && x.shape.length === 4) {
    const out = simdConv2D(args.backend, x, filter, undefined, convInfo(x.shape, filter.shape, a, false));
    if (out) return out;
  }
  return stock('Conv2D', args) as TensorInfo;
}

/** FusedConv2D without an activation (with or without a bias): vid's SIMD kernel where it applies, else XNNPACK's. */
function fusedConv2D(args: KernelArgs): TensorInfo {
  const a = (args.attrs ?? {}) as Attrs;
  const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
  const activation = (a.activation as string | undefined) ?? 'linear';
  if (channelsLast(a) && activation === 'linear' && !preluActivationWeights && x && filter && x.shape.length === 4) {
    const out = simdConv2D(args.backend, x, filter, bias, convInfo(x.shape, filter.shape, a, false));
    if (out) return out;
  }
  return stock('FusedConv2D', args) as TensorInfo;
}

function conv2DBackpropInput({
  inputs,
  backend,
  attrs,
}: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs?: tf.NamedAttrMap;
}): TensorInfo {
  const a = (attrs ?? {}) as Attrs;
  assertChannelsLast(a, 'Conv2DBackpropInput');
  const dy = inputs.dy as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const inputShape = a.inputShape as [number, number, number, number];
  const info = convInfo(inputShape, filter.shape, a, false);
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, inHeight: h, inWidth: w } = info;
  const scope = new KernelScope(backend as Backend, 'wasm');
  const dilated = scope.zeroInsert(dy, sh, sw);
  const [, hd, wd] = dilated.shape as [number, number, number, number];
  const top = kh - 1 - info.padInfo.top;
  const left = kw - 1 - info.padInfo.left;
  const bottom = h - hd - top + kh - 1;
  const right = w - wd - left + kw - 1;
  const padded = explicitPadding(scope, dilated, [top, bottom, left, right]);
  // filter: [KH, KW, Ci, Co] → flipped in space, [KH, KW, Co, Ci] (one pass with vid's kernels).
  const simdFlipped = simdFlipFilter(backend, filter);
  const swapped = simdFlipped
    ? scope.adopt(simdFlipped)
    : scope.transpose(scope.run('Reverse', { x: filter }, { dims: [0, 1] }), [0, 1, 3, 2]);
  const result = scope.run(
    'Conv2D',
    { x: padded.x, filter: swapped },
    { strides: [1, 1], pad: padded.pad, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined },
  );
  return scope.finish(result);
}

function depthwiseBackpropInput({
  inputs,
  backend,
  attrs,
}: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs?: tf.NamedAttrMap;
}): TensorInfo {
  const a = (attrs ?? {}) as Attrs;
  const dy = inputs.dy as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const inputShape = a.inputShape as [number, number, number, number];
  const info = convInfo(inputShape, filter.shape, a, true);
  const {
    strideHeight: sh,
    strideWidth: sw,
    filterHeight: kh,
    filterWidth: kw,
    inHeight: h,
    inWidth: w,
    dilationHeight: dh,
    dilationWidth: dw,
  } = info;
  const [, , channels, multiplier] = filter.shape as [number, number, number, number];
  const scope = new KernelScope(backend as Backend, 'wasm');
  const [n, ohh, oww] = dy.shape as [number, number, number, number];
  // dy: [N, OH, OW, C·M] → per multiplier m, [N, OH, OW, C].
  const dy5 = scope.reshape(dy, [n, ohh, oww, channels, multiplier]);
  const flipped = scope.run('Reverse', { x: filter }, { dims: [0, 1] });
  let sum: TensorInfo | undefined;
  for (let m = 0; m < multiplier; m++) {
    const part = scope.reshape(scope.slice(dy5, [0, 0, 0, 0, m], [n, ohh, oww, channels, 1]), [n, ohh, oww, channels]);
    const dilated = scope.zeroInsert(part, sh, sw);
    const [, hd, wd] = dilated.shape as [number, number, number, number];
    const effH = (kh - 1) * dh + 1;
    const effW = (kw - 1) * dw + 1;
    const top = effH - 1 - info.padInfo.top;
    const left = effW - 1 - info.padInfo.left;
    const padded = explicitPadding(scope, dilated, [top, h - hd - top + effH - 1, left, w - wd - left + effW - 1]);
    const f = scope.reshape(scope.slice(flipped, [0, 0, 0, m], [kh, kw, channels, 1]), [kh, kw, channels, 1]);
    const out = scope.run(
      'DepthwiseConv2dNative',
      { x: padded.x, filter: f },
      { strides: [1, 1], pad: padded.pad, dataFormat: 'NHWC', dilations: [dh, dw], dimRoundingMode: undefined },
    );
    sum = sum === undefined ? out : scope.run('Add', { a: sum, b: out });
  }
  return scope.finish(sum as TensorInfo);
}

function depthwiseBackpropFilter({
  inputs,
  backend,
  attrs,
}: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs?: tf.NamedAttrMap;
}): TensorInfo {
  const a = (attrs ?? {}) as Attrs;
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const filterShape = a.filterShape as [number, number, number, number];
  const info = convInfo(x.shape, filterShape, a, true);
  const {
    strideHeight: sh,
    strideWidth: sw,
    filterHeight: kh,
    filterWidth: kw,
    outHeight: oh,
    outWidth: ow,
    dilationHeight: dh,
    dilationWidth: dw,
  } = info;
  if (dh !== 1 || dw !== 1) throw new Error('vid: depthwise filter gradient with dilation > 1 is not supported');
  const [n, h, w, channels] = x.shape as [number, number, number, number];
  const multiplier = filterShape[3];
  const scope = new KernelScope(backend as Backend, 'wasm');
  // x: [N, H, W, C] → [1, H, W, N·C] (each (n, c) its own channel).
  const xT = scope.reshape(scope.transpose(x, [1, 2, 0, 3]), [1, h, w, n * channels]);
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const padded = explicitPadding(scope, xT, [top, (oh - 1) * sh + kh - h - top, left, (ow - 1) * sw + kw - w - left]);
  const dy5 = scope.reshape(dy, [n, oh, ow, channels, multiplier]);
  const parts: TensorInfo[] = [];
  for (let m = 0; m < multiplier; m++) {
    // dy[..., m]: [N, OH, OW, C] → filter [OH, OW, N·C, 1].
    const part = scope.reshape(scope.slice(dy5, [0, 0, 0, 0, m], [n, oh, ow, channels, 1]), [n, oh, ow, channels]);
    const f = scope.reshape(scope.transpose(part, [1, 2, 0, 3]), [oh, ow, n * channels, 1]);
    const corr = scope.run(
      'DepthwiseConv2dNative',
      { x: padded.x, filter: f },
      { strides: [1, 1], pad: padded.pad, dataFormat: 'NHWC', dilations: [sh, sw], dimRoundingMode: undefined },
    );
    // [1, KH, KW, N·C] → [KH, KW, N, C] → sum over N → [KH, KW, C, 1].
    const summed = scope.run('Sum', { x: scope.reshape(corr, [kh, kw, n, channels]) }, { axis: [2], keepDims: false });
    parts.push(scope.reshape(summed, [kh, kw, channels, 1]));
  }
  const result =
    parts.length === 1
      ? (parts[0] as TensorInfo)
      : scope.run('Concat', parts as unknown as Record<string, TensorInfo>, { axis: 3 });
  return scope.finish(result);
}

function unsortedSegmentSum({
  inputs,
  backend,
  attrs,
}: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs?: tf.NamedAttrMap;
}): TensorInfo {
  const x = inputs.x as TensorInfo;
  const segmentIds = inputs.segmentIds as TensorInfo;
  const numSegments = (attrs as Attrs).numSegments as number;
  const scope = new KernelScope(backend as Backend, 'wasm');
  const n = segmentIds.shape.reduce((p, d) => p * d, 1);
  const rest = x.shape.slice(segmentIds.shape.length);
  // A scatter-add: ScatterNd accumulates updates that share an index.
  const ids = scope.reshape(segmentIds, [n, 1]);
  const indices = segmentIds.dtype === 'int32' ? ids : scope.run('Cast', { x: ids }, { dtype: 'int32' });
  const updates = scope.reshape(x, [n, ...rest]);
  const result = scope.run('ScatterNd', { indices, updates }, { shape: [numSegments, ...rest] });
  return scope.finish(result);
}

/**
 * MaxPoolGrad and MaxPoolWithArgmax. The stock wasm kernels start every window's maximum at 0,
 * so a window whose values are all negative gets the maximum 0 and the arg-max 0 (the forward
 * `MaxPool`, which is XNNPACK's, is right). These take the arg-max on the host, with the cpu
 * backend's rule (first maximum in row-major window order), reading and writing the wasm heap
 * directly: one pass over the windows, linear in the output size times the window size.
 */
interface WasmHeapBackend extends Backend {
  readSync(dataId: object): Float32Array | Int32Array | Uint8Array;
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

function windowArgmax(
  x: TensorInfo,
  backend: WasmHeapBackend,
  attrs: Attrs,
): { info: tf.backend_util.Conv2DInfo; argmax: Int32Array; values: Float32Array } {
  const info = tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterSize as [number, number] | number,
    attrs.strides as [number, number] | number,
    1,
    attrs.pad as 'valid' | 'same' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
  const data = backend.readSync(x.dataId) as Float32Array;
  const {
    batchSize,
    inHeight,
    inWidth,
    inChannels,
    outHeight,
    outWidth,
    strideHeight,
    strideWidth,
    effectiveFilterHeight,
    effectiveFilterWidth,
    dilationHeight,
    dilationWidth,
  } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const count = batchSize * outHeight * outWidth * inChannels;
  const argmax = new Int32Array(count);
  const values = new Float32Array(count);
  let o = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      const y0 = oy * strideHeight - top;
      for (let ox = 0; ox < outWidth; ox++) {
        const x0 = ox * strideWidth - left;
        for (let c = 0; c < inChannels; c++, o++) {
          let best = -Infinity;
          let bestIndex = -1;
          for (let fy = 0; fy < effectiveFilterHeight; fy += dilationHeight) {
            const y = y0 + fy;
            if (y < 0 || y >= inHeight) continue;
            for (let fx = 0; fx < effectiveFilterWidth; fx += dilationWidth) {
              const xx = x0 + fx;
              if (xx < 0 || xx >= inWidth) continue;
              const index = ((b * inHeight + y) * inWidth + xx) * inChannels + c;
              const value = data[index] as number;
              if (value > best || bestIndex < 0) {
                best = value;
                bestIndex = index;
              }
            }
          }
          argmax[o] = bestIndex;
          values[o] = best;
        }
      }
    }
  }
  return { info, argmax, values };
}

function maxPoolGrad({
  inputs,
  backend,
  attrs,
}: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs?: tf.NamedAttrMap;
}): TensorInfo {
  const dy = inputs.dy as TensorInfo;
  const input = inputs.input as TensorInfo;
  const wasm = backend as WasmHeapBackend;
  const { argmax } = windowArgmax(input, wasm, (attrs ?? {}) as Attrs);
  const grad = wasm.readSync(dy.dataId) as Float32Array;
  const out = wasm.makeOutput([...input.shape], 'float32');
  const dx = wasm.typedArrayFromHeap(out) as Float32Array;
  dx.fill(0);
  for (let i = 0; i < argmax.length; i++) {
    const at = argmax[i] as number;
    if (at >= 0) dx[at] = (dx[at] as number) + (grad[i] as number);
  }
  return out;
}

function maxPoolWithArgmax({
  inputs,
  backend,
  attrs,
}: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs?: tf.NamedAttrMap;
}): TensorInfo[] {
  const x = inputs.x as TensorInfo;
  const a = (attrs ?? {}) as Attrs;
  const wasm = backend as WasmHeapBackend;
  const { info, argmax, values } = windowArgmax(x, wasm, a);
  const pooled = wasm.makeOutput([...info.outShape], 'float32');
  (wasm.typedArrayFromHeap(pooled) as Float32Array).set(values);
  const indexes = wasm.makeOutput([...info.outShape], 'int32');
  const target = wasm.typedArrayFromHeap(indexes) as Int32Array;
  if (a.includeBatchInIndex) {
    target.set(argmax);
  } else {
    const perImage = info.inHeight * info.inWidth * info.inChannels;
    for (let i = 0; i < argmax.length; i++) target[i] = (argmax[i] as number) % perImage;
  }
  return [pooled, indexes];
}

/**
 * Simplifies a transpose: drops unit axes and merges runs of axes that stay adjacent and in
 * order, so `[1, 0, 2, 3, 4]` on `[b, t, h, w, c]` becomes `[1, 0, 2]` on `[b, t, h·w·c]`.
 */
export function simplifyTranspose(
  shape: readonly number[],
  perm: readonly number[],
): { shape: number[]; perm: number[] } {
  // Drop unit axes (they can move freely) and renumber the rest.
  const kept = perm.filter((axis) => shape[axis] !== 1);
  const order = [...kept].sort((a, b) => a - b);
  const renumber = new Map(order.map((axis, i) => [axis, i]));
  const reducedShape = order.map((axis) => shape[axis] as number);
  const reducedPerm = kept.map((axis) => renumber.get(axis) as number);
  // Merge runs of consecutive input axes that appear consecutively in the permutation.
  const groups: number[][] = [];
  for (const axis of reducedPerm) {
    const last = groups[groups.length - 1];
    if (last && last[last.length - 1] === axis - 1) last.push(axis);
    else groups.push([axis]);
  }
  const byFirst = [...groups].sort((a, b) => (a[0] as number) - (b[0] as number));
  const groupIndex = new Map(byFirst.map((g, i) => [g[0] as number, i]));
  return {
    shape: byFirst.map((g) => g.reduce((n, axis) => n * (reducedShape[axis] as number), 1)),
    perm: groups.map((g) => groupIndex.get(g[0] as number) as number),
  };
}

/**
 * Transpose: the stock wasm kernel is several times slower at rank 5 than on the same data
 * viewed at rank 3 (measured 34 ms vs 4 ms for `[1, 0, 2, 3, 4]` on 8×10×16×16×16). vid reshapes
 * to the simplest equivalent transpose (see {@link simplifyTranspose}), runs the stock kernel on
 * that, and reshapes back; an identity permutation is a reshape.
 */
function transposeKernel({
  inputs,
  backend,
  attrs,
}: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs?: tf.NamedAttrMap;
}): TensorInfo {
  const x = inputs.x as TensorInfo;
  const perm = (attrs as Attrs).perm as number[];
  const stock = replacedWasmKernels.get('Transpose');
  const outShape = perm.map((axis) => x.shape[axis] as number);
  const simple = simplifyTranspose(x.shape, perm);
  const scope = new KernelScope(backend as Backend, 'wasm');
  if (simple.perm.every((axis, i) => axis === i)) {
    return scope.finish(scope.reshape(x, outShape));
  }
  if (!stock || simple.perm.length === perm.length) {
    const out = (stock ?? (tf.getKernel('Transpose', 'wasm') as tf.KernelConfig)).kernelFunc({
      inputs,
      attrs: attrs as tf.NamedAttrMap,
      backend,
    }) as TensorInfo;
    return out;
  }
  const reshaped = scope.reshape(x, simple.shape);
  const transposed = stock.kernelFunc({ inputs: { x: reshaped }, attrs: { perm: simple.perm }, backend }) as TensorInfo;
  scope.track(transposed);
  return scope.finish(scope.reshape(transposed, outShape));
}

/**
 * The depth positions of a 3-D convolution tap: for kernel depth `kd`, output depth `od` reads
 * input depth `od·sd + kd − front`. Returns the range of output depths whose input is inside
 * the volume (the others read zero padding) and the first input depth.
 */
function depthTaps(kd: number, info: tf.backend_util.Conv3DInfo): { first: number; count: number; start: number } {
  const { strideDepth: sd, outDepth, inDepth } = info;
  const front = info.padInfo.front;
  let first = 0;
  while (first < outDepth && first * sd + kd - front < 0) first++;
  let last = outDepth - 1;
  while (last >= first && last * sd + kd - front >= inDepth) last--;
  const count = Math.max(0, last - first + 1);
  return { first, count, start: first * sd + kd - front };
}

function conv3dInfo(inShape: number[], filterShape: number[], attrs: Attrs): tf.backend_util.Conv3DInfo {
  return tf.backend_util.computeConv3DInfo(
    inShape as [number, number, number, number, number],
    filterShape as [number, number, number, number, number],
    attrs.strides as [number, number, number] | number,
    1,
    attrs.pad as 'valid' | 'same',
  );
}

/**
 * Conv3DBackpropFilterV2 and Conv3DBackpropInputV2. The stock wasm kernels return wrong
 * gradients (for example, with 7 frames and depth stride 2 the input gradient is
 * `[1, 0, −0.42, 0, …]` where the cpu backend gives `[1, .54, .58, …]`). vid decomposes the 3-D
 * convolution over the kernel's depth: for each depth tap `kd`, the frames it reads (a strided
 * run of input depths) and the output frames they feed form one batched 2-D convolution, whose
 * gradients are vid's 2-D kernels above; the taps' results are stacked (filter) or placed back at
 * their depths and summed (input).
 */
function conv3DBackpropFilter({
  inputs,
  backend,
  attrs,
}: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs?: tf.NamedAttrMap;
}): TensorInfo {
  const a = (attrs ?? {}) as Attrs;
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const filterShape = a.filterShape as [number, number, number, number, number];
  const info = conv3dInfo(x.shape, filterShape, a);
  const [kdSize, kh, kw, ci, co] = filterShape;
  const [n, , h, w] = x.shape as [number, number, number, number, number];
  const { outHeight: oh, outWidth: ow, strideDepth: sd, strideHeight: sh, strideWidth: sw } = info;
  const pad2d: tf.backend_util.ExplicitPadding = [
    [0, 0],
    [info.padInfo.top, info.padInfo.bottom],
    [info.padInfo.left, info.padInfo.right],
    [0, 0],
  ];
  const scope = new KernelScope(backend as Backend, 'wasm');
  const taps: TensorInfo[] = [];
  for (let kd = 0; kd < kdSize; kd++) {
    const { first, count, start } = depthTaps(kd, info);
    if (count === 0) {
      taps.push(scope.run('Fill', {}, { shape: [1, kh, kw, ci, co], value: 0, dtype: 'float32' }));
      continue;
    }
    // x: [N, D, H, W, Ci] → the frames this tap reads, [N, count, H, W, Ci] → [N·count, H, W, Ci].
    const frames = scope.run(
      'StridedSlice',
      { x },
      {
        begin: [0, start, 0, 0, 0],
        end: [n, start + (count - 1) * sd + 1, h, w, ci],
        strides: [1, sd, 1, 1, 1],
        beginMask: 0,
        endMask: 0,
        ellipsisMask: 0,
        newAxisMask: 0,
        shrinkAxisMask: 0,
      },
    );
    const x2d = scope.reshape(frames, [n * count, h, w, ci]);
    // dy: [N, OD, OH, OW, Co] → the output frames they feed, [N·count, OH, OW, Co].
    const outputs = scope.slice(dy, [0, first, 0, 0, 0], [n, count, oh, ow, co]);
    const dy2d = scope.reshape(outputs, [n * count, oh, ow, co]);
    const grad = scope.run(
      'Conv2DBackpropFilter',
      { x: x2d, dy: dy2d },
      { strides: [sh, sw], pad: pad2d, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: [kh, kw, ci, co] },
    );
    taps.push(scope.reshape(grad, [1, kh, kw, ci, co]));
  }
  const result =
    taps.length === 1
      ? (taps[0] as TensorInfo)
      : scope.run('Concat', taps as unknown as Record<string, TensorInfo>, { axis: 0 });
  return scope.finish(result);
}

function conv3DBackpropInput({
  inputs,
  backend,
  attrs,
}: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs?: tf.NamedAttrMap;
}): TensorInfo {
  const a = (attrs ?? {}) as Attrs;
  const dy = inputs.dy as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const inputShape = a.inputShape as [number, number, number, number, number];
  const info = conv3dInfo(inputShape, filter.shape, a);
  const [kdSize, kh, kw, ci, co] = filter.shape as [number, number, number, number, number];
  const [n, d, h, w] = inputShape;
  const { outHeight: oh, outWidth: ow, strideDepth: sd, strideHeight: sh, strideWidth: sw } = info;
  const pad2d: tf.backend_util.ExplicitPadding = [
    [0, 0],
    [info.padInfo.top, info.padInfo.bottom],
    [info.padInfo.left, info.padInfo.right],
    [0, 0],
  ];
  const scope = new KernelScope(backend as Backend, 'wasm');
  let sum: TensorInfo | undefined;
  for (let kd = 0; kd < kdSize; kd++) {
    const { first, count, start } = depthTaps(kd, info);
    if (count === 0) continue;
    const outputs = scope.slice(dy, [0, first, 0, 0, 0], [n, count, oh, ow, co]);
    const dy2d = scope.reshape(outputs, [n * count, oh, ow, co]);
    const tap = scope.reshape(scope.slice(filter, [kd, 0, 0, 0, 0], [1, kh, kw, ci, co]), [kh, kw, ci, co]);
    const grad = scope.run(
      'Conv2DBackpropInput',
      { dy: dy2d, filter: tap },
      {
        strides: [sh, sw],
        pad: pad2d,
        dataFormat: 'NHWC',
        dimRoundingMode: undefined,
        inputShape: [n * count, h, w, ci],
      },
    );
    // [N·count, H, W, Ci] → [N, count, H·W·Ci], zero-inserted by the depth stride, then placed
    // at depths start, start + sd, … of [N, D, H·W·Ci].
    let placed = scope.reshape(grad, [n, count, 1, h * w * ci]);
    if (sd > 1) {
      placed = scope.pad(placed, [
        [0, 0],
        [0, 0],
        [0, sd - 1],
        [0, 0],
      ]);
      placed = scope.slice(
        scope.reshape(placed, [n, count * sd, h * w * ci]),
        [0, 0, 0],
        [n, (count - 1) * sd + 1, h * w * ci],
      );
    } else {
      placed = scope.reshape(placed, [n, count, h * w * ci]);
    }
    const span = (count - 1) * sd + 1;
    placed = scope.pad(placed, [
      [0, 0],
      [start, d - start - span],
      [0, 0],
    ]);
    sum = sum === undefined ? placed : scope.run('Add', { a: sum, b: placed });
  }
  const result =
    sum === undefined ? scope.run('Fill', {}, { shape: [n, d, h * w * ci], value: 0, dtype: 'float32' }) : sum;
  return scope.finish(scope.reshape(result, [n, d, h, w, ci]));
}

/** The kernels vid adds to (or replaces in) the wasm backend, by name. */
export const WASM_TRAINING_KERNELS: ReadonlyArray<{
  readonly name: string;
  readonly replaces: boolean;
  readonly kernelFunc: tf.KernelFunc;
}> = [
  { name: 'Conv2D', replaces: true, kernelFunc: conv2D as unknown as tf.KernelFunc },
  { name: 'FusedConv2D', replaces: true, kernelFunc: fusedConv2D as unknown as tf.KernelFunc },
  { name: 'Conv2DBackpropFilter', replaces: false, kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc },
  { name: 'Conv2DBackpropInput', replaces: true, kernelFunc: conv2DBackpropInput as unknown as tf.KernelFunc },
  {
    name: 'DepthwiseConv2dNativeBackpropInput',
    replaces: false,
    kernelFunc: depthwiseBackpropInput as unknown as tf.KernelFunc,
  },
  {
    name: 'DepthwiseConv2dNativeBackpropFilter',
    replaces: false,
    kernelFunc: depthwiseBackpropFilter as unknown as tf.KernelFunc,
  },
  { name: 'UnsortedSegmentSum', replaces: false, kernelFunc: unsortedSegmentSum as unknown as tf.KernelFunc },
  { name: 'MaxPoolGrad', replaces: true, kernelFunc: maxPoolGrad as unknown as tf.KernelFunc },
  { name: 'MaxPoolWithArgmax', replaces: true, kernelFunc: maxPoolWithArgmax as unknown as tf.KernelFunc },
  { name: 'Transpose', replaces: true, kernelFunc: transposeKernel as unknown as tf.KernelFunc },
  { name: 'Conv3DBackpropFilterV2', replaces: true, kernelFunc: conv3DBackpropFilter as unknown as tf.KernelFunc },
  { name: 'Conv3DBackpropInputV2', replaces: true, kernelFunc: conv3DBackpropInput as unknown as tf.KernelFunc },
];

let registered: string[] | undefined;

/**
 * Registers vid's training kernels for the wasm backend (once), and wraps the kernels that
 * allocate XNNPACK workspaces so that an abort inside them is a clear `BackendError`
 * ({@link abortAsBackendError}). Returns the kernel names added or replaced.
 */
export function registerWasmTrainingKernels(): string[] {
  if (registered) return registered;
  registered = [];
  for (const kernel of [...WASM_TRAINING_KERNELS, ...WASM_VIEW_KERNELS]) {
    const existing = tf.getKernel(kernel.name, 'wasm');
    if (existing && !kernel.replaces) continue;
    if (existing) {
      replacedWasmKernels.set(kernel.name, existing);
      tf.unregisterKernel(kernel.name, 'wasm');
    }
    tf.registerKernel({ kernelName: kernel.name, backendName: 'wasm', kernelFunc: kernel.kernelFunc });
    registered.push(kernel.name);
  }
  for (const name of WORKSPACE_KERNELS) {
    const kernel = tf.getKernel(name, 'wasm');
    if (!kernel) continue;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...kernel, kernelFunc: abortAsBackendError(name, kernel.kernelFunc) });
  }
  return registered;
}
