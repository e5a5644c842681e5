/**
 * Evaluation reports: per-future-frame tables (Markdown, CSV, JSON), the per-frame curve plot, and
 * the comparison with the paper's numbers. Every output names the metric conventions.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import { FileFormatError, writeAll, writeFileAtomic } from '@vid/core';

import type { FrameMetricName, FrameMetricsResult } from '@vid/metrics';
import { type Panel, type Series, plotPanels } from '@vid/training/node';

import type { PaperTable } from './paper.js';

/** Named results to report side by side (e.g. the model and the copy-last-frame baseline). */
export interface ReportEntry {
  readonly label: string;
  readonly result: FrameMetricsResult;
}

const LABELS: Record<FrameMetricName, string> = { mse: 'MSE', mae: 'MAE', psnr: 'PSNR', ssim: 'SSIM', lpips: 'LPIPS' };

function metricNames(entries: readonly ReportEntry[]): FrameMetricName[] {
  const first = entries[0]?.result;
  return first ? (Object.keys(first.metrics) as FrameMetricName[]) : [];
}

function format(metric: FrameMetricName, value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return '–';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  if (metric === 'psnr') return value.toFixed(3);
  if (metric === 'ssim') return value.toFixed(4);
  return value.toPrecision(5);
}

/** The conventions of every metric, one line each. */
export function conventionLines(result: FrameMetricsResult): string[] {
  return Object.values(result.metrics).map((series) => `- ${series.label}: ${series.convention}`);
}

/** A Markdown report: header with conventions, a table of means, then a per-frame table. */
export function markdownReport(
  title: string,
  entries: readonly ReportEntry[],
  options: { readonly paper?: PaperTable; readonly notes?: readonly string[] } = {},
): string {
  const first = entries[0]?.result;
  if (!first) return `# ${title}\n\n(no results)\n`;
  const metrics = metricNames(entries);
  const lines: string[] = [
    `# ${title}`,
    '',
    `Protocol \`${first.protocol}\` (${first.source}); ${first.samples} sequences × ${first.frames} future frames.`,
    '',
    'Metric conventions:',
    ...conventionLines(first),
    '',
  ];
  for (const note of options.notes ?? []) lines.push(`${note}`, '');
  lines.push('## Mean over future frames', '');
  lines.push(
    `| model | ${metrics.map((m) => `${LABELS[m]}${first.metrics[m]?.higherIsBetter ? ' ↑' : ' ↓'}`).join(' | ')} |`,
  );
  lines.push(`|---|${metrics.map(() => '---').join('|')}|`);
  for (const entry of entries)
    lines.push(`| ${entry.label} | ${metrics.map((m) => format(m, entry.result.metrics[m]?.mean)).join(' | ')} |`);
  if (options.paper) {
    for (const row of options.paper.rows) {
      const value = (m: FrameMetricName): string =>
        m === 'mse'
          ? format(m, row.mse)
          : m === 'ssim'
            ? format(m, row.ssim)
            : m === 'lpips'
              ? format(m, row.lpips)
              : '–';
      lines.push(`| ${row.model} | ${metrics.map(value).join(' | ')} |`);
    }
    lines.push(
      '',
      `Paper rows: ${options.paper.source}. Computed in the convention of ${options.paper.convention}.${first.protocol === 'convttlstm' ? ' Ours: the same convention (protocol convttlstm).' : ` Ours: protocol ${first.protocol}, NOT the paper's convention — use --protocol convttlstm to compare.`}`,
    );
  }
  lines.push('', '## Per future frame', '');
  const header = entries.flatMap((e) => metrics.map((m) => `${LABELS[m]} (${e.label})`));
  lines.push(`| frame | ${header.join(' | ')} |`, `|---|${header.map(() => '---').join('|')}|`);
  for (let t = 0; t < first.frames; t++) {
    lines.push(
      `| ${t + 1} | ${entries.flatMap((e) => metrics.map((m) => format(m, e.result.metrics[m]?.perFrame[t]))).join(' | ')} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** CSV: one row per future frame (and a `mean` row), one column per model × metric. */
export function csvReport(entries: readonly ReportEntry[]): string {
  const first = entries[0]?.result;
  if (!first) return '';
  const metrics = metricNames(entries);
  const header = [
    'frame',
    ...entries.flatMap((e) => metrics.map((m) => `${e.label.replaceAll(/[^A-Za-z0-9]+/g, '_')}_${m}`)),
  ];
  const rows = [header.join(',')];
  for (let t = 0; t < first.frames; t++)
    rows.push(
      [
        String(t + 1),
        ...entries.flatMap((e) => metrics.map((m) => String(e.result.metrics[m]?.perFrame[t] ?? ''))),
      ].join(','),
    );
  rows.push(['mean', ...entries.flatMap((e) => metrics.map((m) => String(e.result.metrics[m]?.mean ?? '')))].join(','));
  return `${rows.join('\n')}\n`;
}

/** JSON: per model, per metric, per frame and mean, with conventions. */
export function jsonReport(
  entries: readonly ReportEntry[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    ...extra,
    results: Object.fromEntries(
      entries.map((e) => [
        e.label,
        {
          protocol: e.result.protocol,
          source: e.result.source,
          samples: e.result.samples,
          frames: e.result.frames,
          metrics: Object.fromEntries(
            Object.entries(e.result.metrics).map(([name, s]) => [
              name,
              {
                label: s.label,
                convention: s.convention,
                higherIsBetter: s.higherIsBetter,
                mean: finite(s.mean),
                perFrame: s.perFrame.map(finite),
              },
            ]),
          ),
        },
      ]),
    ),
  };
}

/** JSON cannot hold ∞: written as the strings "Infinity"/"-Infinity". */
function finite(value: number): number | string {
  return Number.isFinite(value) ? value : String(value);
}

/** The per-frame curves, one panel per metric. */
export function curvesPlot(entries: readonly ReportEntry[]): Uint8Array {
  const metrics = metricNames(entries);
  const panels: Panel[] = metrics.map((m) => ({
    title: LABELS[m],
    xLabel: 'FUTURE FRAME',
    yLabel: LABELS[m],
    series: entries.map((e, i): Series => ({
      label: e.label.toUpperCase(),
      points: (e.result.metrics[m]?.perFrame ?? []).map((v, t) => [t + 1, v] as const),
      markers: true,
      dashed: i > 0,
    })),
  }));
  return plotPanels(panels, { columns: Math.min(2, panels.length) }).toPng();
}

/** Writes results.md, results.csv, results.json and curves.png into `dir`. Returns the Markdown and the JSON it wrote. */
export async function writeReports(
  dir: string,
  title: string,
  entries: readonly ReportEntry[],
  options: {
    readonly paper?: PaperTable;
    readonly notes?: readonly string[];
    readonly extra?: Record<string, unknown>;
  } = {},
): Promise<{ markdown: string; json: Record<string, unknown> }> {
  const markdown = markdownReport(title, entries, options);
  const json = jsonReport(entries, {
    title,
    ...(options.paper ? { paper: options.paper } : {}),
    ...(options.extra ?? {}),
  });
  await ensureFolder(dir, '--out');
  await writeOutput(join(dir, 'results.md'), markdown);
  await writeOutput(join(dir, 'results.csv'), csvReport(entries));
  await writeOutput(join(dir, 'results.json'), `${JSON.stringify(json, null, 2)}\n`);
  await writeOutput(join(dir, 'curves.png'), curvesPlot(entries));
  return { markdown, json };
}

/**
 * Creates the output folder `dir` (and its parents) of the flag `flag`, or fails with a typed
 * error when a file is in the way: `--out results.md` where a folder was meant.
 */
export async function ensureFolder(dir: string, flag: string): Promise<void> {
  let blocker: string | undefined;
  for (let p = dir; !blocker; p = dirname(p)) {
    const info = await stat(p).catch(() => undefined);
    if (info) {
      if (!info.isDirectory()) blocker = p;
      break;
    }
    if (dirname(p) === p) break;
  }
  if (blocker) {
    throw new FileFormatError(
      dir,
      `${flag}: ${blocker === dir ? 'is a file' : `${blocker} is a file`}, expected a folder`,
    );
  }
  await mkdir(dir, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    throw new FileFormatError(dir, `${flag}: cannot create the folder (${error.code ?? error.message})`);
  });
}

/** Writes one output file atomically (through @vid/core's writer: typed errors that name the folder). */
export async function writeOutput(path: string, contents: string | Uint8Array): Promise<void> {
  const bytes = typeof contents === 'string' ? new TextEncoder().encode(contents) : contents;
  await writeFileAtomic(path, (handle) => writeAll(handle, bytes));
}
