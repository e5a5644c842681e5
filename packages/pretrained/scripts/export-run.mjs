#!/usr/bin/env node
// Ships a checkpoint of a `vid train` run as a pretrained model:
//   node scripts/export-run.mjs --run <run folder> --name <registry name> [--step N] [--evaluation <results.json>...]
// copies the checkpoint's model file (already a vid model file: savePredictor) to
// weights/<name>.safetensors, checks that it loads, and writes weights/<name>.json, the card: the
// recipe, the command, steps, training time (pauses between resumed sessions left out) and the
// learning curves up to that step, from the run's config.json, run.json and metrics.jsonl.
import { copyFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    run: { type: 'string' },
    name: { type: 'string' },
    step: { type: 'string' },
    evaluation: { type: 'string', multiple: true },
    machine: { type: 'string', default: '2-core x86-64 VM (AMD EPYC), wasm backend (SIMD)' },
    // Threads by step, when a resume changed them: "0:1,1940:2" (default: run.json's backend line).
    threads: { type: 'string' },
  },
});
if (!values.run || !values.name) {
  console.error(
    'usage: export-run.mjs --run <run folder> --name <registry name> [--step N] [--evaluation results.json ...]',
  );
  process.exit(2);
}
const run = resolve(values.run);
const here = resolve(import.meta.dirname, '..');
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const pointer = readJson(join(run, 'checkpoints', 'latest.json'));
const step = values.step ? Number(values.step) : pointer.step;
const dir = join(run, 'checkpoints', `step-${String(step).padStart(6, '0')}`);
if (!existsSync(join(dir, 'model.safetensors'))) {
  console.error(`${dir}: no model.safetensors (is step ${step} one of the run's checkpoints?)`);
  process.exit(2);
}
const config = readJson(join(run, 'config.json'));
const runJson = readJson(join(run, 'run.json'));
const records = readFileSync(join(run, 'metrics.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line))
  .filter((r) => r.step <= step);
const train = records.filter((r) => r.type === 'train');
// Training time: the sum of the gaps between consecutive logged steps, a gap of over 10 minutes
// (a pause between sessions) counted as the typical gap.
const defaultThreads = Number(/(\d+) threads?/.exec(runJson.backend ?? '')?.[1] ?? '1');
const threadSegments = (values.threads ?? `0:${defaultThreads}`)
  .split(',')
  .map((part) => part.split(':').map(Number))
  .sort((a, b) => a[0] - b[0]);
const threadsAt = (s) => threadSegments.filter(([from]) => from < s).at(-1)?.[1] ?? defaultThreads;
let seconds = 0;
let cpuSeconds = 0;
const gaps = [];
for (let i = 1; i < train.length; i++) {
  const gap = (Date.parse(train[i].time) - Date.parse(train[i - 1].time)) / 1000;
  gaps.push(gap / (train[i].step - train[i - 1].step));
  const counted = gap < 600 ? gap : 0;
  seconds += counted;
  cpuSeconds += counted * threadsAt(train[i].step);
}
const perStep = gaps.length ? gaps.slice().sort((a, b) => a - b)[Math.floor(gaps.length / 2)] : 0;
seconds += (train[0]?.step ?? 0) * perStep; // the steps before the first record
cpuSeconds += (train[0]?.step ?? 0) * perStep * threadsAt(1);
const evaluation = {};
for (const file of values.evaluation ?? []) {
  const results = readJson(file);
  evaluation[results.title ?? file] = results;
}
const card = {
  name: values.name,
  preset: config.preset,
  config,
  command: `vid train --preset ${config.preset} --steps ${step}`,
  steps: step,
  sequences: step * config.train.batchSize,
  trainingSeconds: Math.round(seconds),
  cpuHours: Number((cpuSeconds / 3600).toFixed(2)),
  machine: `${values.machine}; threads by step: ${threadSegments.map(([from, n]) => `${n} from step ${from + 1}`).join(', ')}`,
  backend: runJson.backend,
  parameters: runJson.model?.parameters,
  curves: {
    train: train.map((r) => [r.step, Number(r.loss.toPrecision(5))]),
    validation: records
      .filter((r) => r.type === 'valid')
      .map((r) => ({
        step: r.step,
        loss: Number(r.loss.toPrecision(5)),
        mse: Number((r.mse ?? r.loss).toPrecision(5)),
        ...(typeof r.baselineMse === 'number' ? { copyLastMse: Number(r.baselineMse.toPrecision(5)) } : {}),
      })),
  },
  ...(Object.keys(evaluation).length ? { evaluation } : {}),
};
const weights = join(here, 'weights');
const target = join(weights, `${values.name}.safetensors`);
copyFileSync(join(dir, 'model.safetensors'), `${target}.tmp`);
renameSync(`${target}.tmp`, target);
writeFileSync(`${join(weights, values.name)}.json.tmp`, `${JSON.stringify(card, null, 1)}\n`);
renameSync(`${join(weights, values.name)}.json.tmp`, join(weights, `${values.name}.json`));
// The file must load as what it claims to be.
const { initBackend } = await import('@vid/core');
const { loadPredictor } = await import('@vid/models');
await initBackend({ log: () => {} });
const predictor = await loadPredictor(target);
console.log(
  `${values.name}: step ${step}, ${card.sequences} sequences, ${(seconds / 3600).toFixed(2)} h of training (${card.cpuHours} CPU-hours); ${predictor.kind}, ${card.parameters} parameters → ${target}`,
);
predictor.dispose();
