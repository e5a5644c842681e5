/**
 * Line plots rasterised into PNGs: training curves and per-frame metric curves. Axes with
 * 1-2-5 ticks (linear or log10), a legend, bitmap-font labels.
 */
import { COLORS, Canvas, type Color, SERIES_COLORS } from './canvas.js';
import { FONT, textWidth } from './font.js';

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

const PANEL = { width: 420, height: 300, left: 62, right: 14, top: 30, bottom: 44 };

function drawPanel(canvas: Canvas, panel: Panel, originX: number, originY: number): void {
  const plotLeft = originX + PANEL.left;
  const plotTop = originY + PANEL.top;
  const plotWidth = PANEL.width - PANEL.left - PANEL.right;
  const plotHeight = PANEL.height - PANEL.top - PANEL.bottom;
  const transformY = (y: number): number => (panel.logY ? Math.log10(y) : y);
  const points = panel.series.flatMap((s) => s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!panel.logY || y > 0)));
  canvas.text(originX + PANEL.width / 2, originY + 8, panel.title, COLORS.black, { align: 'center', scale: 2 });
  if (points.length === 0) {
    canvas.text(plotLeft + plotWidth / 2, plotTop + plotHeight / 2, 'NO DATA', COLORS.gray, { align: 'center' });
    return;
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

  // Grid and ticks.
  const yTicks = panel.logY ? niceTicks(yMin, yMax, 4).filter((t) => Number.isInteger(t) || yMax - yMin < 2) : niceTicks(yMin, yMax, 5);
  for (const tick of yTicks) {
    const y = plotTop + plotHeight - ((tick - yMin) / (yMax - yMin)) * plotHeight;
    if (y < plotTop - 0.5 || y > plotTop + plotHeight + 0.5) continue;
    canvas.line(plotLeft, y, plotLeft + plotWidth, y, COLORS.light);
    canvas.text(plotLeft - 4, y - 3, formatTick(panel.logY ? 10 ** tick : tick), COLORS.black, { align: 'right' });
  }
  for (const tick of niceTicks(xMin, xMax, 6)) {
    const x = px(tick);
    canvas.line(x, plotTop, x, plotTop + plotHeight, COLORS.light);
    canvas.text(x, plotTop + plotHeight + 5, formatTick(tick), COLORS.black, { align: 'center' });
  }
  canvas.line(plotLeft, plotTop, plotLeft, plotTop + plotHeight, COLORS.black);
  canvas.line(plotLeft, plotTop + plotHeight, plotLeft + plotWidth, plotTop + plotHeight, COLORS.black);
  canvas.text(plotLeft + plotWidth / 2, plotTop + plotHeight + 20, panel.xLabel, COLORS.black, { align: 'center' });
  canvas.verticalText(originX + 4, plotTop + plotHeight / 2, panel.logY ? `${panel.yLabel} (LOG)` : panel.yLabel);

  // Series.
  panel.series.forEach((series, index) => {
    const color = series.color ?? (SERIES_COLORS[index % SERIES_COLORS.length] as Color);
    let previous: [number, number] | null = null;
    let dashPhase = 0;
    for (const [x, y] of series.points) {
      if (!Number.isFinite(x) || !Number.isFinite(y) || (panel.logY && y <= 0)) {
        previous = null;
        continue;
      }
      const current: [number, number] = [px(x), py(y)];
      if (previous) {
        if (series.dashed) {
          const length = Math.hypot(current[0] - previous[0], current[1] - previous[1]);
          const pieces = Math.max(1, Math.floor(length / 4));
          for (let k = 0; k < pieces; k++, dashPhase++) {
            if (dashPhase % 2) continue;
            const a = k / pieces;
            const b = (k + 1) / pieces;
            canvas.line(previous[0] + (current[0] - previous[0]) * a, previous[1] + (current[1] - previous[1]) * a, previous[0] + (current[0] - previous[0]) * b, previous[1] + (current[1] - previous[1]) * b, color, 2);
          }
        } else {
          canvas.line(previous[0], previous[1], current[0], current[1], color, 2);
        }
      }
      if (series.markers) canvas.fillRect(current[0] - 2, current[1] - 2, 5, 5, color);
      previous = current;
    }
  });

  // Legend (top right, inside the plot).
  const legendWidth = Math.max(...panel.series.map((s) => textWidth(s.label))) + 22;
  let legendY = plotTop + 6;
  const legendX = plotLeft + plotWidth - legendWidth - 4;
  canvas.fillRect(legendX - 4, legendY - 4, legendWidth + 6, panel.series.length * (FONT.height + 5) + 5, COLORS.white);
  panel.series.forEach((series, index) => {
    const color = series.color ?? (SERIES_COLORS[index % SERIES_COLORS.length] as Color);
    canvas.fillRect(legendX, legendY + 2, 14, 3, color);
    canvas.text(legendX + 18, legendY, series.label, COLORS.black);
    legendY += FONT.height + 5;
  });
}

/** Renders panels side by side (wrapping after `columns`) into one canvas. */
export function plotPanels(panels: readonly Panel[], options: { readonly columns?: number } = {}): Canvas {
  const columns = Math.max(1, Math.min(options.columns ?? panels.length, panels.length));
  const rows = Math.ceil(panels.length / columns);
  const canvas = new Canvas(PANEL.width * columns, PANEL.height * rows);
  panels.forEach((panel, i) => drawPanel(canvas, panel, (i % columns) * PANEL.width, Math.floor(i / columns) * PANEL.height));
  return canvas;
}
