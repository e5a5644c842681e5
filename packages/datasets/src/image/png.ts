/**
 * PNG frames, decoded in pure JavaScript with the npm package `pngjs` (every colour type and bit
 * depth, interlaced or not), so that the extracted-frames layouts need no native tool.
 */
import { FileFormatError } from '@vid/core';
import { readFile } from 'node:fs/promises';
import { PNG } from 'pngjs';

import { writeBytesAtomic } from '../io/fs.js';

/** A decoded image, `[height, width, channels]` bytes. */
export interface DecodedImage {
  readonly data: Uint8Array;
  readonly height: number;
  readonly width: number;
  readonly channels: 1 | 3;
}

/**
 * Decodes PNG bytes to one channel or RGB. One channel is the first (red) channel, as OpenSTL's
 * KTH loader takes it (`frame_np[:, :, 0]`); for gray PNGs, and for the gray frames of KTH stored
 * as RGB, that is the gray value.
 */
export function decodePng(bytes: Uint8Array, channels: 1 | 3 = 1, file = '<png>'): DecodedImage {
  let png: { width: number; height: number; data: Uint8Array };
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    throw new FileFormatError(file, `not a valid PNG image (${(error as Error).message})`);
  }
  const { width, height } = png;
  const rgba = png.data;
  const out = new Uint8Array(width * height * channels);
  for (let p = 0, q = 0; p < width * height; p++, q += 4) {
    if (channels === 1) out[p] = rgba[q] as number;
    else {
      out[p * 3] = rgba[q] as number;
      out[p * 3 + 1] = rgba[q + 1] as number;
      out[p * 3 + 2] = rgba[q + 2] as number;
    }
  }
  return { data: out, height, width, channels };
}

/** Reads and decodes a PNG file. */
export async function readPng(path: string, channels: 1 | 3 = 1): Promise<DecodedImage> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch {
    throw new FileFormatError(path, 'no such file (expected a PNG image)');
  }
  return decodePng(bytes, channels, path);
}

/** Encodes `[height, width, channels]` bytes (1 or 3 channels) as PNG. */
export function encodePng(image: DecodedImage): Uint8Array {
  const png = new PNG({
    width: image.width,
    height: image.height,
    colorType: image.channels === 1 ? 0 : 2,
    inputColorType: 6,
    inputHasAlpha: true,
  });
  const rgba = Buffer.alloc(image.width * image.height * 4);
  for (let p = 0; p < image.width * image.height; p++) {
    for (let c = 0; c < 3; c++)
      rgba[p * 4 + c] = image.data[p * image.channels + (image.channels === 1 ? 0 : c)] as number;
    rgba[p * 4 + 3] = 255;
  }
  png.data = rgba;
  const out = PNG.sync.write(png, { colorType: image.channels === 1 ? 0 : 2 });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Writes an image as a PNG file. */
export async function writePng(path: string, image: DecodedImage): Promise<void> {
  await writeBytesAtomic(path, encodePng(image));
}
