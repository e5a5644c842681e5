// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- gifenc ships no types; apps type-check this source and need the declaration with it
/// <reference path="./gifenc.d.ts" />
/**
 * Animated GIFs of sample videos, encoded by gifenc (LZW, GIF89a, NETSCAPE2.0 loop): a fixed
 * palette (256 grays when every frame is gray, else a 6×6×6 colour cube plus 40 grays), so that
 * frames need no quantization and every gray level is exact.
 */
import * as gifenc from 'gifenc';

// gifenc is an ES module for bundlers and CommonJS for Node: named export or default's member.
const GIFEncoder = gifenc.GIFEncoder ?? gifenc.default.GIFEncoder;

/** An RGB frame `[height, width, 3]` in bytes. */
export interface GifFrame {
  readonly data: Uint8Array;
}

/** Options of {@link encodeGif}. */
export interface GifOptions {
  /** Delay between frames in milliseconds (GIF stores hundredths). @default 200 */
  readonly delayMs?: number;
  /** Loops: 0 forever. @default 0 */
  readonly loop?: number;
}

function palette(gray: boolean): { table: Uint8Array; index: (r: number, g: number, b: number) => number } {
  const table = new Uint8Array(256 * 3);
  if (gray) {
    for (let i = 0; i < 256; i++) table.set([i, i, i], i * 3);
    return { table, index: (r) => r };
  }
  const levels = [0, 51, 102, 153, 204, 255];
  for (let i = 0; i < 216; i++)
    table.set(
      [levels[Math.floor(i / 36)] as number, levels[Math.floor(i / 6) % 6] as number, levels[i % 6] as number],
      i * 3,
    );
  for (let i = 0; i < 40; i++) {
    const v = Math.round((i * 255) / 39);
    table.set([v, v, v], (216 + i) * 3);
  }
  return {
    table,
    index: (r, g, b) => {
      if (r === g && g === b) return 216 + Math.round((r * 39) / 255);
      return Math.round(r / 51) * 36 + Math.round(g / 51) * 6 + Math.round(b / 51);
    },
  };
}

/** Encodes RGB frames of one size as an animated GIF. */
export function encodeGif(
  frames: readonly GifFrame[],
  width: number,
  height: number,
  options: GifOptions = {},
): Uint8Array {
  if (frames.length === 0) throw new Error('encodeGif: at least one frame');
  const pixels = width * height;
  for (const frame of frames)
    if (frame.data.length !== pixels * 3)
      throw new Error(
        `encodeGif: frame of ${frame.data.length} bytes, expected ${pixels * 3} (${width}×${height} RGB)`,
      );
  const gray = frames.every((f) => {
    for (let p = 0; p < pixels; p++)
      if (f.data[p * 3] !== f.data[p * 3 + 1] || f.data[p * 3] !== f.data[p * 3 + 2]) return false;
    return true;
  });
  const { table, index } = palette(gray);
  const colors: [number, number, number][] = Array.from({ length: 256 }, (_, i) => [
    table[i * 3] as number,
    table[i * 3 + 1] as number,
    table[i * 3 + 2] as number,
  ]);
  const encoder = GIFEncoder();
  // GIF stores hundredths of a second; gifenc takes milliseconds.
  const delay = Math.max(1, Math.round((options.delayMs ?? 200) / 10)) * 10;
  frames.forEach((frame, f) => {
    const indices = new Uint8Array(pixels);
    for (let p = 0; p < pixels; p++)
      indices[p] = index(frame.data[p * 3] as number, frame.data[p * 3 + 1] as number, frame.data[p * 3 + 2] as number);
    // The first frame carries the global palette and the loop count.
    encoder.writeFrame(
      indices,
      width,
      height,
      f === 0 ? { palette: colors, delay, repeat: options.loop ?? 0 } : { delay },
    );
  });
  encoder.finish();
  return encoder.bytes();
}
