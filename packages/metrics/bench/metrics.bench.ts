/**
 * Throughput of SSIM and LPIPS on the wasm backend: frames per second at 64×64 and 128×128,
 * measured side by side in one run. Run `pnpm bench` (turbo builds @vid/core first), or in
 * packages/metrics after `cd ../core && npx tsup`: `npx tsx bench/metrics.bench.ts`. The package
 * source is imported by relative path; @vid/core resolves to its dist (tsx cannot load
 * tfjs-core's gradient modules from core's source). `VID_BACKEND=cpu` runs the plain JavaScript
 * backend instead; `VID_BENCH=ssim` or `VID_BENCH=lpips` runs one half.
 *
 * LPIPS runs with random weights (the throughput does not depend on them).
 */
import * as tf from '@tensorflow/tfjs-core';
import { type BackendName, initBackend } from '@vid/core';

import { LPIPS, type LpipsNet, ssim } from '../src/index.js';

const backend = (process.env.VID_BACKEND as BackendName | undefined) ?? 'wasm';
const report = await initBackend({ backend, log: false });
console.log(`backend ${report.backend}${report.threads ? `, ${report.threads} threads` : ''}; tfjs ${tf.version_core}`);

/** Runs `fn` (which must read its result back) `warmup + runs` times; returns frames per second. */
async function framesPerSecond(
  frames: number,
  fn: () => Promise<void>,
  minMs = 1500,
): Promise<{ fps: number; msPerBatch: number }> {
  await fn();
  await fn();
  let runs = 0;
  const start = performance.now();
  while (performance.now() - start < minMs || runs < 3) {
    await fn();
    runs++;
  }
  const ms = (performance.now() - start) / runs;
  return { fps: (frames * 1000) / ms, msPerBatch: ms };
}

const rows: string[][] = [];
const sizes = [64, 128];
/** `VID_BENCH=ssim` or `lpips` runs only one half. */
const only = process.env.VID_BENCH;

for (const size of only === 'lpips' ? [] : sizes) {
  const batch = 32;
  const a = tf.randomUniform([batch, size, size, 1], 0, 1, 'float32', 1);
  const b = tf.randomUniform([batch, size, size, 1], 0, 1, 'float32', 2);
  for (const preset of ['wang2004', 'skimage', 'predrnn'] as const) {
    const { fps, msPerBatch } = await framesPerSecond(batch, async () => {
      const s = ssim(a, b, preset);
      await s.data();
      s.dispose();
    });
    rows.push([`SSIM ${preset}`, `${size}×${size}×1`, String(batch), msPerBatch.toFixed(1), fps.toFixed(0)]);
  }
  const a3 = tf.tile(a, [1, 1, 1, 3]);
  const b3 = tf.tile(b, [1, 1, 1, 3]);
  const { fps, msPerBatch } = await framesPerSecond(batch, async () => {
    const s = ssim(a3, b3, 'wang2004');
    await s.data();
    s.dispose();
  });
  rows.push(['SSIM wang2004', `${size}×${size}×3`, String(batch), msPerBatch.toFixed(1), fps.toFixed(0)]);
  tf.dispose([a, b, a3, b3]);
}

for (const net of (only === 'ssim' ? [] : ['alex', 'squeeze', 'vgg']) as LpipsNet[]) {
  const model = new LPIPS({ net, preset: 'unit', seed: 0 });
  for (const size of sizes) {
    const batch = net === 'vgg' ? 4 : 16;
    const a = tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 3);
    const b = tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 4);
    const { fps, msPerBatch } = await framesPerSecond(batch, async () => {
      const d = model.distance(a, b);
      await d.data();
      d.dispose();
    });
    rows.push([`LPIPS ${net}`, `${size}×${size}×3`, String(batch), msPerBatch.toFixed(1), fps.toFixed(0)]);
    tf.dispose([a, b]);
  }
  model.dispose();
}

const header = ['metric', 'frame', 'batch', 'ms / batch', 'frames / s'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
const line = (cells: string[]) =>
  cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
console.log(line(header));
for (const row of rows) console.log(line(row));
console.log(`tensors alive at the end: ${tf.memory().numTensors}`);
