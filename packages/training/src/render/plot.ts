/**
 * Line plots as SVG with real fonts (DejaVu Sans, else the system's sans-serif), converted to
 * PNG by @resvg/resvg-js: training curves and per-frame metric curves. Axes with 1-2-5 ticks
 * (linear or log10), a legend.
 */
import { Resvg } from '@resvg/resvg-js';

import { COLORS, type Color, SERIES_COLORS } from './colors.js';

/** One line of a panel. */
export interface Series {
  readonly label: string;
  /** `[x, y]` points; non-finite values break the line. */
  readonly points: ReadonlyArray<readonly [number, number]>;
  readonly color?: Color;
  /** Draw markers at the points (for sparse series such as validation). */
  readonly markers?: boolean;
  /** Dashed line (for references such as baselines). */
  readonly dashed?: boolean;
}

/** One panel: axes, labels, series. */
export interface Panel {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** log10 y axis (values ≤ 0 are skipped). @default false */
  readonly logY?: boolean;
}

/** Tick values between lo and hi at a 1-2-5 step, about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** A compact label for a tick value. */
export function formatTick(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1e5 || abs < 1e-3) return value.toExponential(0).replace('e+', 'E').replace('e', 'E');
  return Number(value.toPrecision(3)).toString();
}

const PANEL = { width: 440, height: 310, left: 70, right: 16, top: 34, bottom: 46 };
const FONT_FAMILY = 'DejaVu Sans, Lato, Liberation Sans, sans-serif';

const rgb = (color: Color): string => `rgb(${color[0]},${color[1]},${color[2]})`;
const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const n = (value: number): string => value.toFixed(1);

function text(
  x: number,
  y: number,
  content: string,
  options: {
    readonly anchor?: 'start' | 'middle' | 'end';
    readonly size?: number;
    readonly weight?: string;
    readonly color?: Color;
    readonly rotate?: boolean;
  } = {},
): string {
  const transform = options.rotate ? ` transform="rotate(-90 ${n(x)} ${n(y)})"` : '';
  return `<text x="${n(x)}" y="${n(y)}" font-size="${options.size ?? 11}" text-anchor="${options.anchor ?? 'start'}"${options.weight ? ` font-weight="${options.weight}"` : ''} fill="${rgb(options.color ?? COLORS.black)}"${transform}>${escape(content)}</text>`;
}

function panelSvg(panel: Panel, originX: number, originY: number): string {
  const out: string[] = [];
  const plotLeft = originX + PANEL.left;
  const plotTop = originY + PANEL.top;
  const plotWidth = PANEL.width - PANEL.left - PANEL.right;
  const plotHeight = PANEL.height - PANEL.top - PANEL.bottom;
  const transformY = (y: number): number => (panel.logY ? Math.log10(y) : y);
  const points = panel.series.flatMap((s) =>
    s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!panel.logY || y > 0)),
  );
  out.push(text(originX + PANEL.width / 2, originY + 20, panel.title, { anchor: 'middle', size: 15, weight: 'bold' }));
  out.push(
    `<rect x="${n(plotLeft)}" y="${n(plotTop)}" width="${n(plotWidth)}" height="${n(plotHeight)}" fill="none" stroke="${rgb(COLORS.gray)}"/>`,
  );
  if (points.length === 0) {
    out.push(
      text(plotLeft + plotWidth / 2, plotTop + plotHeight / 2, 'no data', { anchor: 'middle', color: COLORS.gray }),
    );
    return out.join('\n');
  }
  let xMin = Math.min(...points.map((p) => p[0]));
  let xMax = Math.max(...points.map((p) => p[0]));
  let yMin = Math.min(...points.map((p) => transformY(p[1])));
  let yMax = Math.max(...points.map((p) => transformY(p[1])));
  if (xMax === xMin) {
    xMin -= 1;
    xMax += 1;
  }
  if (yMax === yMin) {
    const pad = Math.abs(yMax) * 0.1 || 1;
    yMin -= pad;
    yMax += pad;
  }
  const yPad = (yMax - yMin) * 0.05;
  yMin -= yPad;
  yMax += yPad;
  const px = (x: number): number => plotLeft + ((x - xMin) / (xMax - xMin)) * plotWidth;
  const py = (y: number): number => plotTop + plotHeight - ((transformY(y) - yMin) / (yMax - yMin)) * plotHeight;
  // Grid and ticks. A log axis ticks at 1-2-5 of each decade when it spans less than two.
  const yTicks = panel.logY
    ? yMax - yMin < 2
      ? niceTicks(10 ** yMin, 10 ** yMax, 5)
          .filter((t) => t > 0)
          .map(Math.log10)
      : niceTicks(yMin, yMax, 4).filter((t) => Number.isInteger(t))
    : niceTicks(yMin, yMax, 5);
  for (const tick of yTicks) {
    if (tick < yMin || tick > yMax) continue;
    const y = plotTop + plotHeight - ((tick - yMin) / (yMax - yMin)) * plotHeight;
    out.push(
      `<line x1="${n(plotLeft)}" y1="${n(y)}" x2="${n(plotLeft + plotWidth)}" y2="${n(y)}" stroke="${rgb(COLORS.light)}"/>`,
    );
    out.push(text(plotLeft - 5, y + 4, formatTick(panel.logY ? 10 ** tick : tick), { anchor: 'end' }));
  }
  for (const tick of niceTicks(xMin, xMax, 6)) {
    const x = px(tick);
    out.push(
      `<line x1="${n(x)}" y1="${n(plotTop + plotHeight)}" x2="${n(x)}" y2="${n(plotTop + plotHeight + 4)}" stroke="${rgb(COLORS.gray)}"/>`,
    );
    out.push(text(x, plotTop + plotHeight + 17, formatTick(tick), { anchor: 'middle' }));
  }
  out.push(text(plotLeft + plotWidth / 2, originY + PANEL.height - 8, panel.xLabel, { anchor: 'middle', size: 12 }));
  out.push(
    text(originX + 16, plotTop + plotHeight / 2, panel.logY ? `${panel.yLabel} (log scale)` : panel.yLabel, {
      anchor: 'middle',
      size: 12,
      rotate: true,
    }),
  );
  // Lines (broken at non-finite values), markers.
  out.push(`<g clip-path="url(#plot-${originX}-${originY})">`);
  panel.series.forEach((series, i) => {
    const color = rgb(series.color ?? (SERIES_COLORS[i % SERIES_COLORS.length] as Color));
    const runs: string[][] = [[]];
    for (const [x, y] of series.points) {
      if (!Number.isFinite(x) || !Number.isFinite(y) || (panel.logY && y <= 0)) runs.push([]);
      else (runs[runs.length - 1] as string[]).push(`${n(px(x))},${n(py(y))}`);
    }
    for (const run of runs) {
      if (run.length > 1)
        out.push(
          `<polyline points="${run.join(' ')}" fill="none" stroke="${color}" stroke-width="1.8"${series.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
        );
      if (series.markers)
        for (const point of run) {
          const [x, y] = point.split(',');
          out.push(`<circle cx="${x}" cy="${y}" r="2.6" fill="${color}"/>`);
        }
    }
  });
  out.push('</g>');
  out.push(
    `<clipPath id="plot-${originX}-${originY}"><rect x="${n(plotLeft)}" y="${n(plotTop)}" width="${n(plotWidth)}" height="${n(plotHeight)}"/></clipPath>`,
  );
  // Legend, top right.
  const legendWidth = Math.max(...panel.series.map((s) => s.label.length * 6.6)) + 30;
  const legendX = plotLeft + plotWidth - legendWidth - 6;
  out.push(
    `<rect x="${n(legendX)}" y="${n(plotTop + 6)}" width="${n(legendWidth)}" height="${panel.series.length * 16 + 6}" fill="white" fill-opacity="0.85" stroke="${rgb(COLORS.light)}"/>`,
  );
  panel.series.forEach((series, i) => {
    const color = rgb(series.color ?? (SERIES_COLORS[i % SERIES_COLORS.length] as Color));
    const y = plotTop + 18 + i * 16;
    out.push(
      `<line x1="${n(legendX + 6)}" y1="${n(y - 4)}" x2="${n(legendX + 22)}" y2="${n(y - 4)}" stroke="${color}" stroke-width="2.2"${series.dashed ? ' stroke-dasharray="5 3"' : ''}/>`,
    );
    out.push(text(legendX + 27, y, series.label));
  });
  return out.join('\n');
}

/** A figure: its SVG text, and the same as a PNG. */
export interface Figure {
  readonly svg: string;
  readonly width: number;
  readonly height: number;
  /** Rendered by @resvg/resvg-js with the system's fonts. */
  toPng(): Uint8Array;
}

/** Renders an SVG document to PNG bytes with @resvg/resvg-js (system fonts, DejaVu Sans first). */
export function svgToPng(svg: string): Uint8Array {
  const resvg = new Resvg(svg, {
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
    background: 'white',
  });
  return new Uint8Array(resvg.render().asPng());
}

/** Renders an SVG document to RGBA pixels `[height, width, 4]` (its own size). */
export function svgToRgba(svg: string): Uint8Array {
  const resvg = new Resvg(svg, {
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
    background: 'white',
  });
  return new Uint8Array(resvg.render().pixels);
}

/** Lays panels out in a grid (default: one row) as an SVG figure. */
export function plotPanels(panels: readonly Panel[], options: { readonly columns?: number } = {}): Figure {
  const columns = Math.max(1, Math.min(options.columns ?? panels.length, panels.length));
  const rows = Math.ceil(panels.length / columns);
  const width = columns * PANEL.width;
  const height = rows * PANEL.height;
  const body = panels
    .map((panel, i) => panelSvg(panel, (i % columns) * PANEL.width, Math.floor(i / columns) * PANEL.height))
    .join('\n');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT_FAMILY}">\n<rect width="100%" height="100%" fill="white"/>\n${body}\n</svg>\n`;
  return { svg, width, height, toPng: () => svgToPng(svg) };
}
