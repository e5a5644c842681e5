import { decodePng } from '@vid/datasets';
import { describe, expect, it } from 'vitest';

import { COLORS } from './colors.js';
import { encodeGif } from './gif.js';
import { niceTicks, plotPanels } from './plot.js';
import { samplesGif, samplesGrid } from './samples.js';

/** A GIF decoder for the test (GIF89a appendix F): returns the palette indices of each image. */
function decodeGif(bytes: Uint8Array): { width: number; height: number; frames: Uint8Array[]; palette: Uint8Array } {
  const text = new TextDecoder('latin1').decode(bytes.subarray(0, 6));
  if (text !== 'GIF89a') throw new Error('not a GIF89a');
  const width = bytes[6]! | (bytes[7]! << 8);
  const height = bytes[8]! | (bytes[9]! << 8);
  const packed = bytes[10]!;
  const tableSize = 3 * 2 ** ((packed & 7) + 1);
  const palette = bytes.subarray(13, 13 + tableSize);
  let p = 13 + tableSize;
  const frames: Uint8Array[] = [];
  const blocks = (): Uint8Array => {
    const parts: number[] = [];
    for (let size = bytes[p++]!; size > 0; size = bytes[p++]!) {
      parts.push(...bytes.subarray(p, p + size));
      p += size;
    }
    return Uint8Array.from(parts);
  };
  while (p < bytes.length) {
    const code = bytes[p++];
    if (code === 0x3b) break;
    if (code === 0x21) {
      p++; // label
      blocks();
    } else if (code === 0x2c) {
      p += 9;
      const minCodeSize = bytes[p++]!;
      const data = blocks();
      const clear = 1 << minCodeSize;
      const end = clear + 1;
      let size = minCodeSize + 1;
      let dict: number[][] = [];
      const reset = (): void => {
        dict = Array.from({ length: clear + 2 }, (_, i) => [i]);
        size = minCodeSize + 1;
      };
      reset();
      const out: number[] = [];
      let bit = 0;
      let previous: number[] | null = null;
      for (;;) {
        let value = 0;
        for (let i = 0; i < size; i++, bit++) value |= ((data[bit >> 3]! >> (bit & 7)) & 1) << i;
        if (value === clear) {
          reset();
          previous = null;
          continue;
        }
        if (value === end) break;
        let entry: number[];
        if (value < dict.length) entry = dict[value]!;
        else entry = [...previous!, previous![0]!];
        out.push(...entry);
        if (previous) dict.push([...previous, entry[0]!]);
        if (dict.length === 1 << size && size < 12) size++;
        previous = entry;
      }
      frames.push(Uint8Array.from(out));
    }
  }
  return { width, height, frames, palette };
}

describe('GIF encoder', () => {
  it('round-trips gray frames through an independent LZW decoder (with dictionary resets)', () => {
    const width = 97;
    const height = 83;
    const frames = [0, 1, 2].map((k) => {
      const data = new Uint8Array(width * height * 3);
      for (let i = 0; i < width * height; i++) {
        // Noisy content fills the 4096-code dictionary and forces clear codes.
        const v = (i * 7919 + k * 31 + ((i * i) % 251)) % 256;
        data.set([v, v, v], i * 3);
      }
      return { data };
    });
    const gif = decodeGif(encodeGif(frames, width, height));
    expect([gif.width, gif.height, gif.frames.length]).toEqual([width, height, 3]);
    gif.frames.forEach((indices, k) => {
      expect(indices.length).toBe(width * height);
      for (let i = 0; i < indices.length; i++) expect(gif.palette[indices[i]! * 3]).toBe(frames[k]!.data[i * 3]);
    });
  });

  it('maps colours to the colour cube', () => {
    const data = new Uint8Array([255, 0, 0, 0, 0, 255, 128, 128, 128, 0, 255, 0]);
    const gif = decodeGif(encodeGif([{ data }], 2, 2));
    const rgb = Array.from(gif.frames[0]!, (i) => [...gif.palette.subarray(i * 3, i * 3 + 3)]);
    expect(rgb[0]).toEqual([255, 0, 0]);
    expect(rgb[1]).toEqual([0, 0, 255]);
    expect(Math.abs(rgb[2]![0]! - 128)).toBeLessThan(4);
  });
});

describe('pictures', () => {
  it('draws text, plots and sample grids as PNGs', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    const plot = plotPanels([
      {
        title: 'LOSS',
        xLabel: 'STEP',
        yLabel: 'LOSS',
        logY: true,
        series: [
          {
            label: 'TRAIN',
            points: [
              [1, 1],
              [2, 0.5],
              [3, 0.1],
            ],
          },
          { label: 'VALID', points: [[3, 0.2]], markers: true },
        ],
      },
    ]);
    const png = decodePng(plot.toPng(), 3);
    expect([png.width, png.height]).toEqual([plot.width, plot.height]);
    // The first series is drawn in blue somewhere in the plot.
    let blue = false;
    for (let i = 0; i < png.data.length; i += 3)
      if (png.data[i] === COLORS.blue[0] && png.data[i + 1] === COLORS.blue[1] && png.data[i + 2] === COLORS.blue[2])
        blue = true;
    expect(blue).toBe(true);
    // An SVG with real text (resvg renders it with the system's fonts).
    expect(plot.svg).toContain('<text');
    expect(plot.svg).toContain('>TRAIN</text>');
    const videos = {
      context: new Float32Array(2 * 3 * 16).fill(1),
      truth: new Float32Array(2 * 2 * 16).fill(0.5),
      prediction: new Float32Array(2 * 2 * 16),
      samples: 2,
      inputFrames: 3,
      futureFrames: 2,
      height: 4,
      width: 4,
      channels: 1,
    };
    const grid = samplesGrid(videos);
    expect(grid.width).toBeGreaterThan(3 * 4 * 24);
    const gif = decodeGif(samplesGif(videos));
    expect(gif.frames).toHaveLength(5);
  });
});
