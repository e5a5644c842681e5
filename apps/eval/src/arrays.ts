/**
 * Video arrays on disk: `.npy` files `[T, H, W, C]` or `[B, T, H, W, C]` (float32 in [0, 1], or
 * uint8 0–255, read as `/ 255`), and video files decoded by ffmpeg.
 */
import { extname } from 'node:path';

import { FileFormatError, type HostTensor, toFloat32Array } from '@vid/core';
import { readNpy, readVideo, resizeFrames, writePixels } from '@vid/datasets';

/** A video batch on the host: float32 `[B, T, H, W, C]`, and whether the file had no batch axis. */
export interface VideoArray {
  readonly data: Float32Array;
  readonly shape: readonly [number, number, number, number, number];
  /** The file was `[T, H, W, C]` (written back the same way). */
  readonly unbatched: boolean;
}

const VIDEO_EXTENSIONS = ['.avi', '.mp4', '.webm', '.mkv', '.mov', '.gif', '.mpg', '.mpeg', '.m4v'];

/** Converts a host tensor to a float32 video batch, checking rank and range. */
export function toVideoArray(tensor: HostTensor, file: string, checkRange = true): VideoArray {
  const shape = tensor.shape;
  if (shape.length !== 4 && shape.length !== 5) {
    throw new FileFormatError(
      file,
      `expected a video array [T, H, W, C] or [B, T, H, W, C], found shape [${shape.join(', ')}]`,
    );
  }
  // uint8 frames → [0, 1] in one pass (@vid/datasets' conversion, as every loader does it).
  const data = tensor.dtype === 'U8' ? unitPixels(tensor.data as Uint8Array) : toFloat32Array(tensor);
  if (tensor.dtype !== 'U8' && checkRange) {
    let min = Infinity;
    let max = -Infinity;
    for (const v of data) {
      if (Number.isNaN(v)) throw new FileFormatError(file, 'contains NaN');
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (min < -1e-6 || max > 1 + 1e-6)
      throw new FileFormatError(file, `expected values in [0, 1] (float) or 0–255 (uint8), found [${min}, ${max}]`);
  }
  const full = (shape.length === 4 ? [1, ...shape] : [...shape]) as [number, number, number, number, number];
  return { data, shape: full, unbatched: shape.length === 4 };
}

/** Reads an `.npy` array, or decodes a video file (gray or RGB by `channels`, optionally resized). */
export async function readVideoArray(
  path: string,
  options: {
    readonly channels?: number;
    readonly size?: readonly [number, number];
    readonly checkRange?: boolean;
  } = {},
): Promise<VideoArray> {
  const ext = extname(path).toLowerCase();
  if (ext === '.npy') {
    const array = toVideoArray(await readNpy(path), path, options.checkRange ?? true);
    if (!options.size) return array;
    const [b, t, h, w, c] = array.shape;
    if (h === options.size[0] && w === options.size[1]) return array;
    const out = new Float32Array(b * t * options.size[0] * options.size[1] * c);
    for (let i = 0; i < b; i++) {
      const clip = array.data.subarray(i * t * h * w * c, (i + 1) * t * h * w * c);
      out.set(
        resizeFrames(clip, [t, h, w, c], options.size[0], options.size[1]),
        i * t * options.size[0] * options.size[1] * c,
      );
    }
    return { data: out, shape: [b, t, options.size[0], options.size[1], c], unbatched: array.unbatched };
  }
  if (!VIDEO_EXTENSIONS.includes(ext))
    throw new FileFormatError(path, `expected an .npy array or a video file (${VIDEO_EXTENSIONS.join(', ')})`);
  const video = await readVideo(path, { pixelFormat: (options.channels ?? 1) === 3 ? 'rgb' : 'gray' });
  const [t, sourceHeight, sourceWidth, c] = video.shape;
  let [h, w] = [sourceHeight, sourceWidth];
  let frames: Uint8Array = video.frames;
  if (options.size && (options.size[0] !== h || options.size[1] !== w)) {
    frames = resizeFrames(frames, [t, h, w, c], options.size[0], options.size[1]);
    [h, w] = options.size;
  }
  return { data: unitPixels(frames), shape: [1, t, h, w, c], unbatched: true };
}

/** Bytes 0–255 → float32 in [0, 1]. */
function unitPixels(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length);
  writePixels(bytes, out, 0);
  return out;
}
