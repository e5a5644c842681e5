/**
 * An RGB raster with the few drawing operations the apps' pictures need: filled rectangles,
 * lines, bitmap text and pasted grayscale frames. Saved as PNG through `@vid/datasets`' pngjs.
 */
import { encodePng } from '@vid/datasets';

import { FONT, glyph, textWidth } from './font.js';

/** An RGB colour. */
export type Color = readonly [number, number, number];

export const COLORS = {
  white: [255, 255, 255],
  black: [0, 0, 0],
  gray: [128, 128, 128],
  light: [225, 225, 225],
  blue: [31, 119, 180],
  orange: [255, 127, 14],
  green: [44, 160, 44],
  red: [214, 39, 40],
  purple: [148, 103, 189],
} as const satisfies Record<string, Color>;

/** A series palette (matplotlib's tab10 order). */
export const SERIES_COLORS: readonly Color[] = [COLORS.blue, COLORS.orange, COLORS.green, COLORS.red, COLORS.purple];

export class Canvas {
  readonly width: number;
  readonly height: number;
  /** `[height, width, 3]` bytes. */
  readonly data: Uint8Array;

  constructor(width: number, height: number, background: Color = COLORS.white) {
    this.width = Math.max(1, Math.round(width));
    this.height = Math.max(1, Math.round(height));
    this.data = new Uint8Array(this.width * this.height * 3);
    this.fillRect(0, 0, this.width, this.height, background);
  }

  setPixel(x: number, y: number, color: Color): void {
    const xi = Math.round(x);
    const yi = Math.round(y);
    if (xi < 0 || yi < 0 || xi >= this.width || yi >= this.height) return;
    const p = (yi * this.width + xi) * 3;
    this.data[p] = color[0];
    this.data[p + 1] = color[1];
    this.data[p + 2] = color[2];
  }

  fillRect(x: number, y: number, width: number, height: number, color: Color): void {
    const x0 = Math.max(0, Math.round(x));
    const y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + width));
    const y1 = Math.min(this.height, Math.round(y + height));
    for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) this.setPixel(xx, yy, color);
  }

  /** A line of the given thickness (Bresenham, stamped with a square brush). */
  line(x0: number, y0: number, x1: number, y1: number, color: Color, thickness = 1): void {
    let x = Math.round(x0);
    let y = Math.round(y0);
    const xe = Math.round(x1);
    const ye = Math.round(y1);
    const dx = Math.abs(xe - x);
    const dy = -Math.abs(ye - y);
    const sx = x < xe ? 1 : -1;
    const sy = y < ye ? 1 : -1;
    let error = dx + dy;
    const half = Math.floor((thickness - 1) / 2);
    for (let guard = 0; guard < 100000; guard++) {
      this.fillRect(x - half, y - half, thickness, thickness, color);
      if (x === xe && y === ye) break;
      const e2 = 2 * error;
      if (e2 >= dy) {
        error += dy;
        x += sx;
      }
      if (e2 <= dx) {
        error += dx;
        y += sy;
      }
    }
  }

  /** Draws `text` with its top-left corner at (x, y); `align` anchors x at the left, centre or right. */
  text(x: number, y: number, text: string, color: Color = COLORS.black, options: { readonly scale?: number; readonly align?: 'left' | 'center' | 'right' } = {}): void {
    const scale = options.scale ?? 1;
    const width = textWidth(text, scale);
    let cursor = options.align === 'center' ? x - width / 2 : options.align === 'right' ? x - width : x;
    for (const character of text) {
      const rows = glyph(character);
      rows.forEach((bits, row) => {
        for (let column = 0; column < FONT.width; column++) {
          if (bits & (1 << (FONT.width - 1 - column))) this.fillRect(cursor + column * scale, y + row * scale, scale, scale, color);
        }
      });
      cursor += FONT.advance * scale;
    }
  }

  /** Text rotated by −90° (reading upwards), its centre at (x, y). */
  verticalText(x: number, y: number, text: string, color: Color = COLORS.black, scale = 1): void {
    const width = textWidth(text, scale);
    let cursor = y + width / 2;
    for (const character of text) {
      const rows = glyph(character);
      rows.forEach((bits, row) => {
        for (let column = 0; column < FONT.width; column++) {
          if (bits & (1 << (FONT.width - 1 - column))) this.fillRect(x + row * scale, cursor - (column + 1) * scale, scale, scale, color);
        }
      });
      cursor -= FONT.advance * scale;
    }
  }

  /**
   * Pastes a frame `[height, width, channels]` of floats in [0, 1] (1 or 3 channels; values are
   * clamped) at (x, y), each pixel drawn as a `scale` × `scale` block.
   */
  paste(frame: Float32Array | Uint8Array, frameHeight: number, frameWidth: number, channels: number, x: number, y: number, scale = 1): void {
    const toByte = (v: number): number => (frame instanceof Uint8Array ? v : Math.round(Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0)) * 255));
    for (let r = 0; r < frameHeight; r++) {
      for (let c = 0; c < frameWidth; c++) {
        const p = (r * frameWidth + c) * channels;
        const color: Color = channels >= 3 ? [toByte(frame[p] as number), toByte(frame[p + 1] as number), toByte(frame[p + 2] as number)] : [toByte(frame[p] as number), toByte(frame[p] as number), toByte(frame[p] as number)];
        this.fillRect(x + c * scale, y + r * scale, scale, scale, color);
      }
    }
  }

  /** PNG bytes of the canvas. */
  toPng(): Uint8Array {
    return encodePng({ data: this.data, height: this.height, width: this.width, channels: 3 });
  }
}
