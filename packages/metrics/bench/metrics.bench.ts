/**
 * Throughput of SSIM and LPIPS on the wasm backend: frames per second at 64×64 and 128×128,
 * measured side by side in one run. Run `pnpm bench` (turbo builds @vid/core first), or in
 * packages/metrics after `cd ../core && npx tsup`: `npx tsx bench/metrics.bench.ts`. The package
 * source is imported by relative path; @vid/core resolves to its dist (tsx cannot load
 * tfjs-core's gradient modules from core's source). `VID_BACKEND=cpu` runs the plain JavaScript
 * backend instead; `VID_BENCH=ssim` or `VID_BENCH=lpips` runs one half.
 *
 * LPIPS runs with random weights (the throughput does not depend on them).
 *
 * Against scikit-image (when `/usr/bin/python3` has it, e.g. Debian's `python3-skimage`; or
 * `VID_PYTHON`): SSIM (skimage's defaults, what FrameMetrics computes on the host) and PSNR, per
 * frame as `structural_similarity` / `peak_signal_noise_ratio` run, in 3 alternating rounds, medians.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type BackendName, initBackend } from '@vid/core';

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';

import { LPIPS, type LpipsNet, psnr, ssim, ssimHost } from '../src/index.js';

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

// ── vid against scikit-image, alternating rounds ───────────────────────────────────────────────
const python = process.env.VID_PYTHON ?? '/usr/bin/python3';
const SKIMAGE = `
import sys, time, numpy as np
from skimage.metrics import structural_similarity, peak_signal_noise_ratio
rng = np.random.default_rng(1)
for line in sys.stdin:
    metric, size, batch = line.split(); size = int(size); batch = int(batch)
    a = rng.random((batch, size, size), dtype=np.float32); b = rng.random((batch, size, size), dtype=np.float32)
    f = (lambda x, y: structural_similarity(x, y, data_range=1.0)) if metric == 'ssim' else (lambda x, y: peak_signal_noise_ratio(x, y, data_range=1.0))
    n = 0; t0 = time.perf_counter()
    while time.perf_counter() - t0 < 1.5 or n < 3 * batch:
        for i in range(batch): f(a[i], b[i])
        n += batch
    print(n / (time.perf_counter() - t0), flush=True)
`;
const comparison: string[][] = [];
if (only !== 'lpips' && existsSync(python)) {
  const child = spawn(python, ['-c', SKIMAGE], { stdio: ['pipe', 'pipe', 'inherit'] });
  const answers = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const skimage = async (metric: string, size: number, batch: number): Promise<number> => {
    child.stdin.write(`${metric} ${size} ${batch}\n`);
    const next = await answers.next();
    if (next.done) throw new Error(`${python}: no answer (is scikit-image installed? apt-get install python3-skimage)`);
    return Number(next.value);
  };
  const median = (values: number[]): number =>
    [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] as number;
  for (const size of sizes) {
    const batch = 32;
    const a = tf.randomUniform([batch, size, size, 1], 0, 1, 'float32', 1);
    const b = tf.randomUniform([batch, size, size, 1], 0, 1, 'float32', 2);
    const [ah, bh] = [(await a.data()) as Float32Array, (await b.data()) as Float32Array];
    const sides = {
      ssim: async () =>
        (await framesPerSecond(batch, async () => void ssimHost(ah, bh, [batch, size, size, 1], 'skimage'))).fps,
      psnr: async () =>
        (
          await framesPerSecond(batch, async () => {
            const p = psnr(a, b, { dataRange: 1 });
            await p.data();
            p.dispose();
          })
        ).fps,
    };
    for (const metric of ['ssim', 'psnr'] as const) {
      const vid: number[] = [];
      const sk: number[] = [];
      for (let round = 0; round < 3; round++) {
        vid.push(await sides[metric]());
        sk.push(await skimage(metric, size, batch));
      }
      const ratio = median(vid) / median(sk);
      comparison.push([
        metric === 'ssim' ? 'SSIM skimage (FrameMetrics, host)' : 'PSNR',
        `${size}×${size}×1`,
        median(vid).toFixed(0),
        median(sk).toFixed(0),
        `${ratio.toFixed(2)}×`,
        vid.map((v, i) => (v / (sk[i] as number)).toFixed(2)).join(', '),
      ]);
    }
    tf.dispose([a, b]);
  }
  child.stdin.end();
} else if (only !== 'lpips') {
  console.log(
    `no ${python}: the scikit-image comparison is skipped (apt-get install python3-skimage, or set VID_PYTHON)`,
  );
}

const header = ['metric', 'frame', 'batch', 'ms / batch', 'frames / s'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
const line = (cells: string[]) =>
  cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
console.log(line(header));
for (const row of rows) console.log(line(row));
if (comparison.length) {
  console.log('\nvid against scikit-image (one thread each; frames / s, medians of 3 alternating rounds)');
  console.log('| metric | frame | vid | scikit-image | vid / skimage | per round |');
  console.log('|---|---|--:|--:|--:|---|');
  for (const row of comparison) console.log(`| ${row.join(' | ')} |`);
}
console.log(`tensors alive at the end: ${tf.memory().numTensors}`);
