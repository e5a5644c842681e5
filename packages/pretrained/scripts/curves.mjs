#!/usr/bin/env node
// The shipped models' learning curves side by side, from their cards (weights/<name>.json):
//   node scripts/curves.mjs [--out ../../docs/images/pretrained-curves.png]
// Left: training loss (MSE over the 19 one-step outputs, mean of 50 steps); right: validation MSE
// of the 10 future frames (free-running rollouts, 256 validation sequences).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { plotPanels } from '@vid/training/node';

const here = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: { out: { type: 'string', default: join(here, '..', '..', 'docs', 'images', 'pretrained-curves.png') } },
});
const names = ['mmnist-convlstm', 'mmnist-convttlstm'];
const labels = { 'mmnist-convlstm': 'ConvLSTM', 'mmnist-convttlstm': 'Conv-TT-LSTM' };
const cards = names.map((name) => JSON.parse(readFileSync(join(here, 'weights', `${name}.json`), 'utf8')));

/** Mean over windows of `size` records. */
function smooth(points, size) {
  const out = [];
  for (let i = 0; i + size <= points.length; i += size) {
    const window = points.slice(i, i + size);
    out.push([window[window.length - 1][0], window.reduce((s, p) => s + p[1], 0) / size]);
  }
  return out;
}

const train = cards.map((card) => ({ label: labels[card.name], points: smooth(card.curves.train, 5) }));
const valid = cards.map((card) => ({
  label: labels[card.name],
  points: card.curves.validation.map((v) => [v.step, v.mse]),
  markers: true,
}));
const figure = plotPanels([
  { title: 'Training loss (MSE, 19 outputs)', xLabel: 'step', yLabel: 'loss', logY: true, series: train },
  {
    title: 'Validation MSE (10 future frames)',
    xLabel: 'step',
    yLabel: 'MSE per pixel',
    // Copy-last-frame (about 0.070) would squash the curves: it is in the README's table instead.
    series: valid,
  },
]);
mkdirSync(dirname(resolve(values.out)), { recursive: true });
writeFileSync(resolve(values.out), figure.toPng());
console.log(`wrote ${resolve(values.out)}`);
