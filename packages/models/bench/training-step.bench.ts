/**
 * Benchmark: one training step of the paper's protocol (code/model_train.py: teacher forcing,
 * L1 + MSE over the 19 outputs of a 10 → 10 rollout, Adam) on wasm, Conv-TT-LSTM against the
 * ConvLSTM baseline, side by side in one run, with the peak memory of each.
 *
 *   npx tsx bench/training-step.bench.ts   (from packages/models; build core, cells and tensor-train first: npx tsup in each)
 *
 * Each case runs in its own child process, so that each gets a fresh WebAssembly heap (it only
 * grows): "heap" is its size after the steps, "peak" tfjs's own count of live tensor bytes.
 * Timings are medians; the machine may be shared, so compare within one run.
 *
 * wasm32 caps the heap at 4 GiB. Backpropagation through 19 steps keeps every activation, and
 * tfjs keeps every intermediate gradient until the backward pass ends, so the paper network does
 * not fit even at batch 1 without `checkpointing` (each step recomputed in the backward pass),
 * and with it only at batch 1: the batch-8 rows are measured on the small network, and the paper
 * network is measured at batch 1, with the memory a batch of 8 would need.
 */
import { spawnSync } from 'node:child_process';

import * as tf from '@tensorflow/tfjs-core';
import { Adam, initBackend } from '@vid/core';

import {
  type CellType,
  type ConvRecurrentNetOptions,
  ConvRecurrentNet,
  countParameters,
  flopsPerStep,
  paperNetwork,
} from '../src/index.js';

interface Case {
  readonly name: 'small' | 'paper';
  readonly cell: CellType;
  readonly batch: number;
  readonly checkpointing: boolean;
  readonly iterations: number;
}

interface Result {
  readonly msPerStep: number;
  readonly times: number[];
  readonly peakMiB: number;
  readonly heapMiB: number;
  readonly threads: number;
}

const SIZE = 64;
const INPUT_FRAMES = 10;
const FUTURE_FRAMES = 10;

/** A small network: 2 blocks × 1 layer, 8 hidden channels, rank 4, 3×3 kernels. */
function smallNetwork(cell: CellType): ConvRecurrentNetOptions {
  return {
    cell,
    inputChannels: 1,
    layersPerBlock: [1, 1],
    hiddenChannels: [8, 8],
    order: 3,
    steps: 3,
    ranks: 4,
    kernelSize: 3,
  };
}

const network = (c: Case): ConvRecurrentNetOptions =>
  c.name === 'paper' ? paperNetwork(c.cell) : smallNetwork(c.cell);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function child(c: Case): Promise<void> {
  const report = await initBackend({ backend: 'wasm', log: false });
  const model = new ConvRecurrentNet({ ...network(c), seed: 1 });
  const adam = new Adam(model.namedParameters(), { lr: 1e-4 });
  const frames = tf.randomUniform(
    [c.batch, INPUT_FRAMES + FUTURE_FRAMES, SIZE, SIZE, 1],
    0,
    1,
    'float32',
    7,
  ) as tf.Tensor5D;
  const step = async (): Promise<void> => {
    const { value, grads } = adam.computeGradients(() =>
      model.trainingLoss(frames, {
        inputFrames: INPUT_FRAMES,
        futureFrames: FUTURE_FRAMES,
        scheduledSamplingRatio: 1,
        checkpointing: c.checkpointing,
      }),
    );
    adam.applyGradients(grads);
    await value.data();
    value.dispose();
    grads.forEach((g) => g.dispose());
  };
  const profile = await tf.profile(step); // also the warm-up
  const times: number[] = [];
  for (let i = 0; i < c.iterations; i++) {
    const start = performance.now();
    await step();
    times.push(performance.now() - start);
  }
  const wasm = (tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } }).wasm;
  const result: Result = {
    msPerStep: median(times),
    times,
    peakMiB: profile.peakBytes / 2 ** 20,
    heapMiB: wasm ? wasm.HEAPU8.buffer.byteLength / 2 ** 20 : NaN,
    threads: report.threads ?? 1,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function runChild(c: Case): Result | string {
  const result = spawnSync(
    process.execPath,
    [...process.execArgv, import.meta.filename, '--child', JSON.stringify(c)],
    { encoding: 'utf8', maxBuffer: 1 << 22 },
  );
  const line = result.stdout.trim().split('\n').pop() ?? '';
  if (result.status === 0 && line.startsWith('{')) return JSON.parse(line) as Result;
  const reason = /XNN status|out of memory|Out of memory|RangeError|Aborted/i.test(`${result.stderr}${result.stdout}`)
    ? 'out of wasm memory (4 GiB)'
    : `failed (exit ${result.status})`;
  return reason;
}

function describe(c: Case): string {
  return `${c.name.padEnd(5)} ${c.cell.padEnd(10)} batch ${c.batch}${c.checkpointing ? ', checkpointed' : ''}`;
}

if (process.argv[2] === '--child') {
  await child(JSON.parse(process.argv[3] as string) as Case);
} else {
  for (const name of ['small', 'paper'] as const) {
    const options = name === 'paper' ? paperNetwork() : smallNetwork('convttlstm');
    const baseline = name === 'paper' ? paperNetwork('convlstm') : smallNetwork('convlstm');
    const gflops = (o: ConvRecurrentNetOptions): string =>
      (flopsPerStep(o, { height: SIZE, width: SIZE }).multiplications / 1e9).toFixed(2);
    console.log(
      `${name}: Conv-TT-LSTM ${countParameters(options).toLocaleString('en')} parameters, ${gflops(options)} G multiplications per step and sample; ConvLSTM ${countParameters(baseline).toLocaleString('en')}, ${gflops(baseline)} G`,
    );
  }
  console.log(
    `\nTraining step on wasm: ${INPUT_FRAMES} → ${FUTURE_FRAMES} (19 steps), ${SIZE}×${SIZE}, teacher forcing, L1 + MSE, Adam; medians\n`,
  );
  const cases: Case[] = [
    { name: 'small', cell: 'convttlstm', batch: 8, checkpointing: false, iterations: 3 },
    { name: 'small', cell: 'convlstm', batch: 8, checkpointing: false, iterations: 3 },
    { name: 'small', cell: 'convttlstm', batch: 8, checkpointing: true, iterations: 3 },
    { name: 'small', cell: 'convlstm', batch: 8, checkpointing: true, iterations: 3 },
    { name: 'paper', cell: 'convttlstm', batch: 1, checkpointing: true, iterations: 1 },
    { name: 'paper', cell: 'convlstm', batch: 1, checkpointing: true, iterations: 1 },
  ];
  const results = new Map<string, Result | string>();
  for (const c of cases) {
    const result = runChild(c);
    results.set(describe(c), result);
    if (typeof result === 'string') {
      console.log(`  ${describe(c).padEnd(42)} ${result}`);
      continue;
    }
    const perSample =
      c.name === 'paper' ? `; batch 8 would need ≈ ${((result.peakMiB * 8) / 1024).toFixed(1)} GiB` : '';
    console.log(
      `  ${describe(c).padEnd(42)} ${result.msPerStep.toFixed(0).padStart(8)} ms/step   peak ${result.peakMiB.toFixed(0).padStart(5)} MiB   heap ${result.heapMiB.toFixed(0).padStart(5)} MiB   [${result.threads} threads]${perSample}`,
    );
  }
  const ratio = (a: string, b: string): string => {
    const x = results.get(a);
    const y = results.get(b);
    return typeof x === 'object' && typeof y === 'object' ? `${(x.msPerStep / y.msPerStep).toFixed(2)}×` : 'n/a';
  };
  console.log(
    `\nConv-TT-LSTM / ConvLSTM time per step: small ${ratio(describe(cases[0]!), describe(cases[1]!))}, small checkpointed ${ratio(describe(cases[2]!), describe(cases[3]!))}, paper (batch 1, checkpointed) ${ratio(describe(cases[4]!), describe(cases[5]!))}`,
  );
}
