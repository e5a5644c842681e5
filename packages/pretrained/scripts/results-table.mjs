#!/usr/bin/env node
// The README's results table from `vid eval` outputs (results.json), one folder per model and
// protocol: node scripts/results-table.mjs <dir>/<model>-<preset> ... (e.g. docs/results/*).
// Prints Markdown: per protocol, copy-last-frame, all-black, each shipped model and the paper's
// rows (same conventions), means over the future frames, and the per-frame MSE.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const folders = process.argv.slice(2);
if (folders.length === 0) {
  console.error('usage: results-table.mjs <vid eval output folder> ...');
  process.exit(2);
}
const byPreset = new Map();
for (const folder of folders) {
  const json = JSON.parse(readFileSync(join(folder, 'results.json'), 'utf8'));
  const preset = json.title.replace(/^vid eval — /, '');
  const model = basename(folder).replace(`-${preset}`, '');
  const entry = byPreset.get(preset) ?? { rows: new Map(), paper: json.paper, samples: 0 };
  const results = json.results;
  entry.samples = results.model.samples;
  entry.rows.set('copy last frame', results['copy last frame']);
  entry.rows.set('all black', results['all black']);
  entry.rows.set(model, results.model);
  byPreset.set(preset, entry);
}
/** A shipped model's row label, with its steps and CPU-hours from its card. */
const weights = join(import.meta.dirname, '..', 'weights');
function label(name) {
  if (!name.startsWith('mmnist-')) return name;
  const card = JSON.parse(readFileSync(join(weights, `${name}.json`), 'utf8'));
  const cell = card.config.model.cell === 'convttlstm' ? 'Conv-TT-LSTM' : 'ConvLSTM';
  return `**${cell}, vid** (\`${name}\`: ${card.steps.toLocaleString('en-US')} steps, ${card.cpuHours} CPU-h)`;
}
const fmt = (v, digits) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '–');
for (const [preset, { rows, paper, samples }] of byPreset) {
  console.log(`\n**${preset}**: ${samples.toLocaleString('en-US')} generated test sequences\n`);
  const frames = [...rows.values()][0].metrics.mse.perFrame.length;
  const shown = [1, 5, 10, 20, 30].filter((t) => t <= frames);
  const header = shown.map((t) => `MSE t+${t}`);
  console.log(`| | MSE ×10⁻³ ↓ | PSNR (dB) ↑ | SSIM ↑ | LPIPS ×10⁻³ ↓ | ${header.join(' | ')} |`);
  console.log(`|---|--:|--:|--:|--:|${shown.map(() => '--:').join('|')}|`);
  for (const [name, r] of rows) {
    const m = r.metrics;
    const perFrame = shown.map((t) => (m.mse.perFrame[t - 1] * 1e3).toFixed(1));
    console.log(
      `| ${label(name)} | ${fmt(m.mse.mean * 1e3, 2)} | ${fmt(m.psnr?.mean, 2)} | ${fmt(m.ssim?.mean, 3)} | – | ${perFrame.join(' | ')} |`,
    );
  }
  for (const row of paper?.rows ?? [])
    console.log(
      `| ${row.model}, V100s | ${fmt(row.mse * 1e3, 2)} | – | ${fmt(row.ssim, 3)} | ${fmt(row.lpips * 1e3, 1)} | ${shown.map(() => '').join(' | ')} |`,
    );
}
