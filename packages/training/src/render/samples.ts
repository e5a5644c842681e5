/**
 * Pictures of predictions: a PNG grid (per sample, rows input | ground truth | prediction) and
 * an animated GIF (per sample, columns input | ground truth | prediction over time).
 */
import { COLORS, Canvas } from './canvas.js';
import { FONT } from './font.js';
import { type GifFrame, encodeGif } from './gif.js';

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
const LABEL = 46;

function frameOf(videos: SampleVideos, which: 'context' | 'truth' | 'prediction', sample: number, t: number): Float32Array {
  const frames = which === 'context' ? videos.inputFrames : videos.futureFrames;
  const size = videos.height * videos.width * videos.channels;
  const start = (sample * frames + t) * size;
  return (videos[which] as Float32Array).subarray(start, start + size);
}

/** Display scale: small frames are enlarged to about 96 pixels. */
export function displayScale(height: number): number {
  return Math.max(1, Math.floor(96 / height));
}

/** The PNG grid: for each sample the context row, the ground-truth row and the prediction row. */
export function samplesGrid(videos: SampleVideos, options: { readonly maxColumns?: number; readonly title?: string } = {}): Canvas {
  const scale = displayScale(videos.height);
  const fh = videos.height * scale;
  const fw = videos.width * scale;
  const columns = Math.min(options.maxColumns ?? 30, Math.max(videos.inputFrames, videos.futureFrames));
  const titleHeight = options.title ? 16 : 0;
  const rowHeight = fh + GAP;
  const rowCount = videos.truth ? 3 : 2;
  const sampleHeight = rowCount * rowHeight + 6;
  const canvas = new Canvas(LABEL + columns * (fw + GAP) + GAP, titleHeight + videos.samples * sampleHeight + 14, COLORS.white);
  if (options.title) canvas.text(4, 4, options.title);
  for (let s = 0; s < videos.samples; s++) {
    const top = titleHeight + s * sampleHeight;
    const rows: Array<['context' | 'truth' | 'prediction', string, number]> = [
      ['context', 'INPUT', videos.inputFrames],
      ['truth', 'TRUTH', videos.futureFrames],
      ['prediction', 'PRED', videos.futureFrames],
    ].filter(([which]) => which !== 'truth' || videos.truth !== null) as Array<['context' | 'truth' | 'prediction', string, number]>;
    rows.forEach(([which, label, count], r) => {
      const y = top + r * rowHeight;
      canvas.text(4, y + fh / 2 - FONT.height / 2, label);
      const shown = Math.min(count, columns);
      for (let t = 0; t < shown; t++) {
        // Long rows are subsampled evenly so that the first and last frames are shown.
        const index = shown === count ? t : Math.round((t * (count - 1)) / (shown - 1));
        canvas.paste(frameOf(videos, which, s, index), videos.height, videos.width, videos.channels, LABEL + t * (fw + GAP), y, scale);
      }
    });
  }
  canvas.text(4, canvas.height - 11, `FRAMES: INPUT 1-${videos.inputFrames}, TRUTH/PRED ${videos.inputFrames + 1}-${videos.inputFrames + videos.futureFrames}`, COLORS.gray);
  return canvas;
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
  for (let t = 0; t < total; t++) {
    const canvas = new Canvas(width, height, COLORS.white);
    columns.forEach((label, c) => canvas.text(GAP + c * (fw + GAP) + fw / 2, 3, label, COLORS.black, { align: 'center' }));
    for (let s = 0; s < videos.samples; s++) {
      const y = header + s * (fh + GAP);
      const future = t - videos.inputFrames;
      const input = frameOf(videos, 'context', s, Math.min(t, videos.inputFrames - 1));
      const truth = future >= 0 && videos.truth ? frameOf(videos, 'truth', s, future) : blank;
      const prediction = future >= 0 ? frameOf(videos, 'prediction', s, future) : blank;
      (videos.truth ? [input, truth, prediction] : [input, prediction]).forEach((frame, c) => canvas.paste(frame, videos.height, videos.width, videos.channels, GAP + c * (fw + GAP), y, scale));
    }
    canvas.text(GAP, height - footer + 2, t < videos.inputFrames ? `T=${t + 1} INPUT` : `T=${t + 1} +${t - videos.inputFrames + 1}`, COLORS.black);
    frames.push({ data: canvas.data });
  }
  return encodeGif(frames, width, height, { delayMs: options.delayMs ?? 250 });
}
