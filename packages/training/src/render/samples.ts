/**
 * Pictures of predictions: an SVG/PNG grid (per sample, rows input | ground truth | prediction, frame numbers) and
 * an animated GIF (per sample, columns input | ground truth | prediction over time).
 */
import { encodePng } from '@vid/datasets';

import { type GifFrame, encodeGif } from './gif.js';
import { type Figure, svgToPng, svgToRgba } from './plot.js';

/** Host videos to draw: `[samples, time, height, width, channels]` floats in [0, 1]. */
export interface SampleVideos {
  /** `[n, inputFrames, h, w, c]`. */
  readonly context: Float32Array;
  /** `[n, futureFrames, h, w, c]`; null when there is no ground truth (predictions of new clips). */
  readonly truth: Float32Array | null;
  /** `[n, futureFrames, h, w, c]`. */
  readonly prediction: Float32Array;
  readonly samples: number;
  readonly inputFrames: number;
  readonly futureFrames: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

const GAP = 2;

function frameOf(
  videos: SampleVideos,
  which: 'context' | 'truth' | 'prediction',
  sample: number,
  t: number,
): Float32Array {
  const frames = which === 'context' ? videos.inputFrames : videos.futureFrames;
  const size = videos.height * videos.width * videos.channels;
  const start = (sample * frames + t) * size;
  return (videos[which] as Float32Array).subarray(start, start + size);
}

/** Display scale: small frames are enlarged to about 96 pixels. */
export function displayScale(height: number): number {
  return Math.max(1, Math.floor(96 / height));
}

/** A frame `[h, w, c]` in [0, 1] as a PNG data URL (gray or RGB bytes). */
function frameDataUrl(frame: Float32Array, height: number, width: number, channels: number): string {
  const c = channels === 3 ? 3 : 1;
  const data = new Uint8Array(height * width * c);
  for (let p = 0; p < height * width; p++) {
    for (let k = 0; k < c; k++)
      data[p * c + k] = Math.round(Math.min(1, Math.max(0, frame[p * channels + k] as number)) * 255);
  }
  return `data:image/png;base64,${Buffer.from(encodePng({ data, height, width, channels: c as 1 | 3 })).toString('base64')}`;
}

/**
 * The sample grid as an SVG figure (PNG through @resvg/resvg-js): for each sample the input row,
 * the ground-truth row and the prediction row, each frame labelled with its frame number (1-based,
 * in the clip: inputs 1…T, the future T+1…).
 */
export function samplesGrid(
  videos: SampleVideos,
  options: { readonly maxColumns?: number; readonly title?: string } = {},
): Figure {
  const scale = displayScale(videos.height);
  const fh = videos.height * scale;
  const fw = videos.width * scale;
  const columns = Math.min(options.maxColumns ?? 30, Math.max(videos.inputFrames, videos.futureFrames));
  const label = 84;
  const titleHeight = options.title ? 26 : 4;
  const numberHeight = 14;
  const rowHeight = numberHeight + fh + GAP;
  const rowCount = videos.truth ? 3 : 2;
  const sampleHeight = rowCount * rowHeight + 10;
  const width = label + columns * (fw + GAP) + GAP;
  const height = titleHeight + videos.samples * sampleHeight + 6;
  const parts: string[] = [];
  const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  if (options.title) parts.push(`<text x="6" y="18" font-size="14" font-weight="bold">${escape(options.title)}</text>`);
  for (let s = 0; s < videos.samples; s++) {
    const top = titleHeight + s * sampleHeight;
    const rows: Array<['context' | 'truth' | 'prediction', string, number, number]> = (
      [
        ['context', 'input', videos.inputFrames, 1],
        ['truth', 'truth', videos.futureFrames, videos.inputFrames + 1],
        ['prediction', 'prediction', videos.futureFrames, videos.inputFrames + 1],
      ] as Array<['context' | 'truth' | 'prediction', string, number, number]>
    ).filter(([which]) => which !== 'truth' || videos.truth !== null);
    rows.forEach(([which, name, count, first], r) => {
      const y = top + r * rowHeight + numberHeight;
      parts.push(`<text x="${label - 8}" y="${y + fh / 2 + 4}" font-size="12" text-anchor="end">${name}</text>`);
      const shown = Math.min(count, columns);
      for (let t = 0; t < shown; t++) {
        // Long rows are subsampled evenly so that the first and last frames are shown.
        const index = shown === count ? t : Math.round((t * (count - 1)) / (shown - 1));
        const x = label + t * (fw + GAP);
        parts.push(
          `<text x="${x + fw / 2}" y="${y - 3}" font-size="10" text-anchor="middle" fill="rgb(90,90,90)">${first + index}</text>`,
        );
        parts.push(
          `<image x="${x}" y="${y}" width="${fw}" height="${fh}" image-rendering="pixelated" preserveAspectRatio="none" href="${frameDataUrl(frameOf(videos, which, s, index), videos.height, videos.width, videos.channels)}"/>`,
        );
      }
    });
    if (s + 1 < videos.samples)
      parts.push(
        `<line x1="4" y1="${top + sampleHeight - 4}" x2="${width - 4}" y2="${top + sampleHeight - 4}" stroke="rgb(200,200,200)"/>`,
      );
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Lato, sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${parts.join('\n')}\n</svg>\n`;
  return { svg, width, height, toPng: () => svgToPng(svg) };
}

/**
 * The animated GIF: one row per sample with three columns (input | ground truth | prediction).
 * During the context the input column plays and the others wait; then the input column holds
 * its last frame while the ground truth and the prediction play side by side.
 */
export function samplesGif(videos: SampleVideos, options: { readonly delayMs?: number } = {}): Uint8Array {
  const scale = displayScale(videos.height);
  const fh = videos.height * scale;
  const fw = videos.width * scale;
  const header = 14;
  const footer = 12;
  const columns = videos.truth ? ['INPUT', 'TRUTH', 'PRED'] : ['INPUT', 'PRED'];
  const width = columns.length * (fw + GAP) + GAP;
  const height = header + videos.samples * (fh + GAP) + GAP + footer;
  const total = videos.inputFrames + videos.futureFrames;
  const blank = new Float32Array(videos.height * videos.width * videos.channels).fill(0.15);
  const frames: GifFrame[] = [];
  const url = (frame: Float32Array): string => frameDataUrl(frame, videos.height, videos.width, videos.channels);
  for (let t = 0; t < total; t++) {
    // One SVG per GIF frame (labels in a real font), rendered by resvg, then palette-indexed by gifenc.
    const parts: string[] = columns.map(
      (label, c) =>
        `<text x="${GAP + c * (fw + GAP) + fw / 2}" y="11" font-size="10" text-anchor="middle">${label.toLowerCase()}</text>`,
    );
    for (let s = 0; s < videos.samples; s++) {
      const y = header + s * (fh + GAP);
      const future = t - videos.inputFrames;
      const input = frameOf(videos, 'context', s, Math.min(t, videos.inputFrames - 1));
      const truth = future >= 0 && videos.truth ? frameOf(videos, 'truth', s, future) : blank;
      const prediction = future >= 0 ? frameOf(videos, 'prediction', s, future) : blank;
      (videos.truth ? [input, truth, prediction] : [input, prediction]).forEach((frame, c) => {
        parts.push(
          `<image x="${GAP + c * (fw + GAP)}" y="${y}" width="${fw}" height="${fh}" image-rendering="pixelated" preserveAspectRatio="none" href="${url(frame)}"/>`,
        );
      });
    }
    parts.push(
      `<text x="${GAP}" y="${height - 2}" font-size="10">${t < videos.inputFrames ? `frame ${t + 1} (input)` : `frame ${t + 1} (+${t - videos.inputFrames + 1})`}</text>`,
    );
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, Lato, sans-serif"><rect width="100%" height="100%" fill="white"/>${parts.join('')}</svg>`;
    const rgba = svgToRgba(svg);
    const rgb = new Uint8Array(width * height * 3);
    for (let p = 0; p < width * height; p++) rgb.set(rgba.subarray(p * 4, p * 4 + 3), p * 3);
    frames.push({ data: rgb });
  }
  return encodeGif(frames, width, height, { delayMs: options.delayMs ?? 250 });
}
