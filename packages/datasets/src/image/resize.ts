/**
 * Image resizing on host arrays, with the sampling of OpenCV's `cv2.resize(..., INTER_LINEAR)`
 * (what OpenSTL's and PredRNN's KTH loaders call): half-pixel centres — source coordinate
 * `(d + 0.5) · in/out − 0.5` — clamped at the borders, no anti-aliasing. scikit-image's
 * `transform.resize(order=1, mode='edge', anti_aliasing=False)` samples the same way; the
 * tests compare against it.
 *
 * Porting note: OpenCV computes INTER_LINEAR on bytes in 11-bit fixed point; here the arithmetic is
 * float64 and bytes are rounded once at the end, so a byte can differ by 1 from OpenCV's.
 */
import { ConfigError } from '@vid/core';

/** Resampling filter. */
export type ResizeFilter = 'bilinear' | 'nearest';

/** Options of {@link resizeImage}. */
export interface ResizeOptions {
  /** @default 'bilinear' */
  readonly filter?: ResizeFilter;
}

interface Taps {
  readonly i0: Int32Array;
  readonly i1: Int32Array;
  readonly w1: Float64Array;
}

function linearTaps(input: number, output: number): Taps {
  const i0 = new Int32Array(output);
  const i1 = new Int32Array(output);
  const w1 = new Float64Array(output);
  const scale = input / output;
  for (let d = 0; d < output; d++) {
    let s = (d + 0.5) * scale - 0.5;
    if (s < 0) s = 0;
    if (s > input - 1) s = input - 1;
    const lo = Math.floor(s);
    i0[d] = lo;
    i1[d] = Math.min(lo + 1, input - 1);
    w1[d] = s - lo;
  }
  return { i0, i1, w1 };
}

function nearestTaps(input: number, output: number): Int32Array {
  // OpenCV INTER_NEAREST: floor(d · in / out).
  const out = new Int32Array(output);
  for (let d = 0; d < output; d++) out[d] = Math.min(Math.floor((d * input) / output), input - 1);
  return out;
}

/**
 * Resizes an image `[height, width, channels]` (bytes or floats) to `[outHeight, outWidth,
 * channels]`. Returns the input itself when the size does not change.
 */
export function resizeImage<A extends Uint8Array | Float32Array>(
  image: A,
  height: number,
  width: number,
  channels: number,
  outHeight: number,
  outWidth: number,
  options: ResizeOptions = {},
): A {
  if (image.length !== height * width * channels) {
    throw new ConfigError(
      'image',
      `${height * width * channels} values for [${height}, ${width}, ${channels}]`,
      `${image.length} values`,
      'resizeImage',
    );
  }
  if (height === outHeight && width === outWidth) return image;
  const isBytes = image instanceof Uint8Array;
  const out = (
    isBytes ? new Uint8Array(outHeight * outWidth * channels) : new Float32Array(outHeight * outWidth * channels)
  ) as A;
  const filter = options.filter ?? 'bilinear';
  if (filter === 'nearest') {
    const rows = nearestTaps(height, outHeight);
    const cols = nearestTaps(width, outWidth);
    for (let y = 0; y < outHeight; y++) {
      const rowBase = (rows[y] as number) * width;
      for (let x = 0; x < outWidth; x++) {
        const src = (rowBase + (cols[x] as number)) * channels;
        const dst = (y * outWidth + x) * channels;
        for (let c = 0; c < channels; c++) out[dst + c] = image[src + c] as number;
      }
    }
    return out;
  }
  const rows = linearTaps(height, outHeight);
  const cols = linearTaps(width, outWidth);
  for (let y = 0; y < outHeight; y++) {
    const r0 = (rows.i0[y] as number) * width;
    const r1 = (rows.i1[y] as number) * width;
    const wy = rows.w1[y] as number;
    for (let x = 0; x < outWidth; x++) {
      const c0 = cols.i0[x] as number;
      const c1 = cols.i1[x] as number;
      const wx = cols.w1[x] as number;
      const dst = (y * outWidth + x) * channels;
      for (let c = 0; c < channels; c++) {
        const a = image[(r0 + c0) * channels + c] as number;
        const b = image[(r0 + c1) * channels + c] as number;
        const d = image[(r1 + c0) * channels + c] as number;
        const e = image[(r1 + c1) * channels + c] as number;
        const top = a + (b - a) * wx;
        const bottom = d + (e - d) * wx;
        const v = top + (bottom - top) * wy;
        out[dst + c] = isBytes ? Math.min(255, Math.max(0, Math.round(v))) : v;
      }
    }
  }
  return out;
}

/** Resizes every frame of a clip `[time, height, width, channels]`. */
export function resizeFrames<A extends Uint8Array | Float32Array>(
  frames: A,
  shape: readonly [number, number, number, number],
  outHeight: number,
  outWidth: number,
  options: ResizeOptions = {},
): A {
  const [t, h, w, c] = shape;
  if (h === outHeight && w === outWidth) return frames;
  const frameSize = h * w * c;
  const outSize = outHeight * outWidth * c;
  const out = (frames instanceof Uint8Array ? new Uint8Array(t * outSize) : new Float32Array(t * outSize)) as A;
  for (let i = 0; i < t; i++) {
    out.set(
      resizeImage(frames.subarray(i * frameSize, (i + 1) * frameSize) as A, h, w, c, outHeight, outWidth, options),
      i * outSize,
    );
  }
  return out;
}
