/** Test helpers: make tiny flat-frame videos with ffmpeg, and KTH frame folders with PNGs. */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { writePng } from '../image/png.js';

const run = promisify(execFile);

/**
 * Writes a clip whose frame n is flat at brightness `(base + step·n) mod 256`: MPEG-4 in AVI
 * (as KTH) or VP8 in WebM (as SSv2).
 */
export async function makeFlatVideo(
  ffmpeg: string,
  file: string,
  frames: number,
  options: { width?: number; height?: number; base?: number; step?: number } = {},
): Promise<void> {
  const { width = 32, height = 24, base = 10, step = 15 } = options;
  const codec = file.endsWith('.webm')
    ? ['-c:v', 'libvpx', '-b:v', '1M', '-crf', '4', '-auto-alt-ref', '0']
    : ['-c:v', 'mpeg4', '-q:v', '1', '-g', '5'];
  await run(ffmpeg, [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `color=c=black:s=${width}x${height}:r=25`,
    '-frames:v',
    String(frames),
    '-vf',
    `format=gray,geq=lum='mod(${base}+${step}*N\\,256)',format=yuv420p`,
    ...codec,
    file,
  ]);
}

/** Writes `<root>/<action>/<name>_uncomp/image_NNNN.png` frames, frame n flat at `value(n)`. */
export async function makeKthFrames(
  root: string,
  name: string,
  numbers: readonly number[],
  value: (n: number) => number,
  size: [number, number] = [12, 16],
  rgb = false,
): Promise<void> {
  const action = name.split('_')[1] as string;
  const dir = join(root, action, `${name}_uncomp`);
  await mkdir(dir, { recursive: true });
  const [height, width] = size;
  const channels = rgb ? 3 : 1;
  for (const n of numbers) {
    await writePng(join(dir, `image_${String(n).padStart(4, '0')}.png`), {
      data: new Uint8Array(height * width * channels).fill(value(n)),
      height,
      width,
      channels,
    });
  }
}
