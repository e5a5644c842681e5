/**
 * vid's benchmark against PyTorch on the same CPU (issue 15).
 *
 *   pnpm bench                                  (from the repository root: builds, then runs this)
 *   pnpm --filter @vid/bench bench -- --rows convlstm-net-train,convttlstm-train --rounds 3 --profile
 *   pnpm --filter @vid/bench bench -- --rows cells-convlstm-infer --batch 1 --rounds 2
 *
 * Each row runs in two fresh processes, vid's (wasm backend) and PyTorch's
 * (tooling/bench/pytorch_rows.py), each with the same number of threads (`--threads`, default 2),
 * driven one step at a time so that the two sides alternate: one untimed warm-up step each, then
 * `--rounds` rounds (default 3) in which each side runs one timed step, the side that starts
 * swapping every round. Reported per row: the median ms of each side, the ratio of the medians
 * and the ratio of every round, the achieved GFLOP/s (convolution FLOPs of the step, the same
 * count for both sides), vid's kernel launches per step (`tf.profile` of the second warm-up step), and
 * each process's peak RSS. `--profile` also prints vid's 10 most expensive kernels per row.
 * `--stock-kernels` runs vid with tfjs-backend-wasm's own copy kernels (Slice, Concat, SplitV,
 * Unpack, StridedSlice, Identity, Tanh) instead of vid's: the state before issue 15;
 * `--compare-stock` runs both as two sides of the same rounds (before and after in one table).
 * `--compare-xnnpack` does the same with vid's wasm SIMD kernels turned off (the filter gradients
 * as XNNPACK convolutions, `VID_WASM_SIMD_KERNELS` false) as the "before" side; `--stock-kernels`
 * turns them off too.
 *
 * PyTorch is `/usr/bin/python3` (Debian's python3-torch) or `$VID_BENCH_PYTHON`; without it the
 * table has vid's columns only and says why. The machine may be shared: round counts are small
 * and compare ratios from one run, not absolute times across runs. No timings in tests.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';
import { WASM_VIEW_KERNELS, initBackend, replacedWasmKernels } from '@vid/core';

import { ROWS, type Row, buildVidStep, flops } from './rows.js';

interface Reply {
  ms?: number;
  launches?: number;
  top?: Array<{ name: string; launches: number; ms: number }>;
  /** The profiled step: the time of all its kernels, and its whole time (kernels, dispatch and JavaScript). */
  kernelMs?: number;
  maxRssMiB?: number;
  heapMiB?: number;
  threads?: number;
  version?: string;
  error?: string;
}

/** The vid worker: builds the row's model, answers "warm", "step" and "done" on stdin. */
/** What the vid side runs: vid's kernels, tfjs-backend-wasm's (before issue 15), or vid's without its SIMD kernels. */
type Mode = 'vid' | 'stock' | 'xnnpack';

async function worker(row: Row, threads: number, mode: Mode): Promise<void> {
  const report = await initBackend({ backend: 'wasm', threads, log: false });
  // Before vid's wasm SIMD kernels: the filter gradients as XNNPACK convolutions.
  if (mode !== 'vid') tf.env().set('VID_WASM_SIMD_KERNELS', false);
  if (mode === 'stock') {
    for (const { name } of WASM_VIEW_KERNELS) {
      const stock = replacedWasmKernels.get(name);
      if (!stock) continue;
      tf.unregisterKernel(name, 'wasm');
      tf.registerKernel(stock);
    }
  }
  const step = buildVidStep(row);
  const send = (reply: Reply): void => void process.stdout.write(`${JSON.stringify(reply)}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'warm') {
      // One step to compile and allocate, then the profiled step, as warm as the timed ones.
      await step();
      const start = performance.now();
      const info = await tf.profile(step);
      const ms = performance.now() - start;
      const byName = new Map<string, { launches: number; ms: number }>();
      // Op-level scopes (`fusedConv2d__op`, a custom gradient's forward) wrap kernels already listed.
      // and a custom gradient's recorded operation ("unnamed scope", gradient checkpointing) wraps the kernels it runs.
      const kernels = info.kernels.filter((k) => !k.name.endsWith('__op') && k.name !== 'unnamed scope');
      for (const k of kernels) {
        const entry = byName.get(k.name) ?? { launches: 0, ms: 0 };
        entry.launches++;
        entry.ms += Number(await k.kernelTimeMs);
        byName.set(k.name, entry);
      }
      const kernelMs = [...byName.values()].reduce((sum, v) => sum + v.ms, 0);
      const top = [...byName]
        .map(([name, v]) => ({ name, ...v }))
        .sort((a, b) => b.ms - a.ms)
        .slice(0, 10);
      send({ ms, launches: kernels.length, top, kernelMs });
    } else if (line === 'step') {
      const start = performance.now();
      await step();
      send({ ms: performance.now() - start });
    } else if (line === 'done') {
      const wasm = (tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } }).wasm;
      send({
        maxRssMiB: process.resourceUsage().maxRSS / 1024,
        heapMiB: wasm ? wasm.HEAPU8.buffer.byteLength / 2 ** 20 : undefined,
        threads: report.threads,
      });
      process.exit(0);
    }
  }
}

/** A child process spoken to one JSON line at a time. */
class Side {
  private readonly lines: AsyncIterator<string>;
  private readonly stderr: string[] = [];
  private readonly child;
  constructor(command: string, args: string[]) {
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (d: Buffer) => this.stderr.push(d.toString()));
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }
  /** Ends the process if it still runs (a row that failed leaves the other sides waiting on stdin). */
  close(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
  async ask(request: string): Promise<Reply> {
    this.child.stdin.write(`${request}\n`);
    const next = await this.lines.next();
    if (next.done) {
      const lines = this.stderr.join('').trim().split('\n');
      // The thrown error's own line (a vid BackendError says what ran out and what to do), else the tail.
      const thrown = lines.find((l) => /^[A-Za-z]*Error: /.test(l));
      const why = (thrown ?? lines.slice(-5).join(' ')).slice(0, 400);
      return {
        error: /XNN status|out of memory|Aborted|aborted in the/i.test(why)
          ? `out of wasm memory: ${why}`
          : `exited: ${why}`,
      };
    }
    return JSON.parse(next.value) as Reply;
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function findPython(): { python?: string; why?: string } {
  const python = process.env.VID_BENCH_PYTHON ?? '/usr/bin/python3';
  if (!existsSync(python))
    return { why: `${python} not found (install Debian's python3-torch, or set VID_BENCH_PYTHON)` };
  const check = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (check.status !== 0) return { why: `${python} cannot import torch (${check.stderr.trim().split('\n').pop()})` };
  return { python };
}

interface RowResult {
  row: Row;
  vid: number[];
  torch: number[];
  /** `--compare-stock`: vid with tfjs-backend-wasm's copy kernels, timed in the same rounds. */
  stock: number[];
  stockLaunches?: number;
  stockTop?: Reply['top'];
  stockRss?: number;
  launches?: number;
  top?: Reply['top'];
  kernelMs?: number;
  profiledMs?: number;
  vidRss?: number;
  vidHeap?: number;
  torchRss?: number;
  error?: string;
}

async function runRow(
  row: Row,
  options: { rounds: number; threads: number; stock: boolean; baseline?: Mode; python?: string },
): Promise<RowResult> {
  const here = import.meta.filename;
  const vidSide = (mode: Mode): Side =>
    new Side(process.execPath, [
      ...process.execArgv,
      here,
      '--worker',
      JSON.stringify(row),
      String(options.threads),
      mode,
    ]);
  const vid = vidSide(options.stock ? 'stock' : 'vid');
  const stock = options.baseline ? vidSide(options.baseline) : undefined;
  const torch = options.python
    ? new Side(options.python, [
        join(dirname(here), '..', 'pytorch_rows.py'),
        JSON.stringify({ ...row, threads: options.threads }),
      ])
    : undefined;
  try {
    return await measure(row, options.rounds, vid, stock, torch);
  } finally {
    for (const side of [vid, stock, torch]) side?.close();
  }
}

async function measure(row: Row, rounds: number, vid: Side, stock?: Side, torch?: Side): Promise<RowResult> {
  const result: RowResult = { row, vid: [], torch: [], stock: [] };
  const warm = await vid.ask('warm');
  if (warm.error) return { ...result, error: warm.error };
  result.launches = warm.launches;
  result.top = warm.top;
  result.kernelMs = warm.kernelMs;
  result.profiledMs = warm.ms;
  if (stock) {
    const stockWarm = await stock.ask('warm');
    result.stockLaunches = stockWarm.launches;
    result.stockTop = stockWarm.top;
  }
  if (torch) await torch.ask('warm');
  const sides = [stock, vid, torch].filter((side): side is Side => side !== undefined);
  for (let round = 0; round < rounds; round++) {
    // Rotate the order every round, so that no side always runs first.
    const order = sides.map((_, i) => sides[(i + round) % sides.length] as Side);
    for (const side of order) {
      const reply = await side.ask('step');
      if (reply.error) return { ...result, error: reply.error };
      (side === vid ? result.vid : side === stock ? result.stock : result.torch).push(reply.ms as number);
    }
  }
  const vidDone = await vid.ask('done');
  result.vidRss = vidDone.maxRssMiB;
  result.vidHeap = vidDone.heapMiB;
  if (stock) result.stockRss = (await stock.ask('done')).maxRssMiB;
  if (torch) result.torchRss = (await torch.ask('done')).maxRssMiB;
  return result;
}

/** The `--compare-stock`/`--compare-xnnpack` table: vid before and after, and PyTorch, from the same rounds. */
function formatCompare(results: RowResult[]): string {
  const lines = [
    '| row | vid before ms | vid after ms | PyTorch ms | ratio before → after (medians) | after/torch per round | GFLOP/s before / after / torch | launches / step before → after | peak RSS MiB before / after / torch |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    if (r.error) {
      lines.push(`| ${r.row.title} | ${r.error} |`);
      continue;
    }
    const [b, a, t] = [median(r.stock), median(r.vid), median(r.torch)];
    const gflop = flops(r.row) / 1e9;
    const rate = (ms: number): string => (gflop / (ms / 1000)).toFixed(1);
    const perRound = r.vid.map((x, i) => (x / (r.torch[i] as number)).toFixed(2)).join(', ');
    lines.push(
      `| ${r.row.title} | ${b.toFixed(0)} | ${a.toFixed(0)} | ${t.toFixed(0)} | ${(b / t).toFixed(2)}× → ${(a / t).toFixed(2)}× | ${perRound} | ${rate(b)} / ${rate(a)} / ${rate(t)} | ${r.stockLaunches} → ${r.launches} | ${r.stockRss?.toFixed(0)} / ${r.vidRss?.toFixed(0)} / ${r.torchRss?.toFixed(0)} |`,
    );
  }
  return lines.join('\n');
}

function format(results: RowResult[], torchWhy: string | undefined): string {
  const lines: string[] = [];
  const hasTorch = torchWhy === undefined;
  lines.push(
    hasTorch
      ? '| row | vid ms | PyTorch ms | ratio (medians) | ratio per round | GFLOP/s vid / torch | launches / step (vid) | peak RSS MiB vid (heap) / torch |'
      : '| row | vid ms | GFLOP/s | launches / step | peak RSS MiB (heap) |',
  );
  lines.push(hasTorch ? '|---|---|---|---|---|---|---|---|' : '|---|---|---|---|---|');
  for (const r of results) {
    if (r.error) {
      lines.push(`| ${r.row.title} | ${r.error} |`);
      continue;
    }
    const v = median(r.vid);
    const gflop = flops(r.row) / 1e9;
    const rss = `${r.vidRss?.toFixed(0)} (${r.vidHeap?.toFixed(0)})`;
    if (hasTorch) {
      const t = median(r.torch);
      const perRound = r.vid.map((x, i) => (x / (r.torch[i] as number)).toFixed(2)).join(', ');
      lines.push(
        `| ${r.row.title} | ${v.toFixed(0)} | ${t.toFixed(0)} | ${(v / t).toFixed(2)}× | ${perRound} | ${(gflop / (v / 1000)).toFixed(1)} / ${(gflop / (t / 1000)).toFixed(1)} | ${r.launches} | ${rss} / ${r.torchRss?.toFixed(0)} |`,
      );
    } else {
      lines.push(`| ${r.row.title} | ${v.toFixed(0)} | ${(gflop / (v / 1000)).toFixed(1)} | ${r.launches} | ${rss} |`);
    }
  }
  if (!hasTorch) lines.push('', `No PyTorch columns: ${torchWhy}.`);
  return lines.join('\n');
}

if (process.argv[2] === '--worker') {
  await worker(JSON.parse(process.argv[3] as string) as Row, Number(process.argv[4]), process.argv[5] as Mode);
} else {
  // `pnpm bench -- --rows …` passes the `--` on; it separates nothing here.
  const args = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--'));
  const { values } = parseArgs({
    args,
    options: {
      rows: { type: 'string', default: ROWS.map((r) => r.id).join(',') },
      rounds: { type: 'string', default: '3' },
      threads: { type: 'string', default: '2' },
      profile: { type: 'boolean', default: false },
      'stock-kernels': { type: 'boolean', default: false },
      'no-torch': { type: 'boolean', default: false },
      'compare-stock': { type: 'boolean', default: false },
      'compare-xnnpack': { type: 'boolean', default: false },
      batch: { type: 'string' },
      checkpointing: { type: 'boolean', default: false },
    },
  });
  const ids = values.rows.split(',');
  const unknown = ids.filter((id) => !ROWS.some((r) => r.id === id));
  if (unknown.length)
    throw new Error(`--rows: unknown ${unknown.join(', ')}; expected some of ${ROWS.map((r) => r.id).join(', ')}`);
  const { python, why } = values['no-torch'] ? { python: undefined, why: '--no-torch' } : findPython();
  const rounds = Number(values.rounds);
  const threads = Number(values.threads);
  console.log(
    `vid (wasm${values['stock-kernels'] ? ', stock tfjs copy kernels' : ''}) vs PyTorch${python ? '' : ' (absent)'}: ${threads} threads each, ` +
      `warm-up (vid: 2 steps, the second profiled; PyTorch: 1) + ${rounds} alternating rounds per row, medians; batch 8, 64×64, 10 → 10 unless the row says otherwise`,
  );
  const results: RowResult[] = [];
  // `--batch n` runs every selected row at batch n (for busy or small machines); the title says so.
  const batch = values.batch === undefined ? undefined : Number(values.batch);
  const selected = ROWS.filter((r) => ids.includes(r.id))
    .map((r) => (batch === undefined || batch === r.batch ? r : { ...r, batch, title: `${r.title} (batch ${batch})` }))
    // `--checkpointing`: vid's network and cells training rows recompute each time step in the backward pass.
    .map((r) =>
      values.checkpointing && r.kind !== 'encoder-forecaster' && r.mode === 'train'
        ? { ...r, checkpointing: true, title: `${r.title}, vid with gradient checkpointing` }
        : r,
    );
  for (const row of selected) {
    const result = await runRow(row, {
      rounds,
      threads,
      stock: values['stock-kernels'],
      baseline: values['compare-stock'] ? 'stock' : values['compare-xnnpack'] ? 'xnnpack' : undefined,
      python,
    });
    results.push(result);
    const v = result.vid.length ? median(result.vid).toFixed(0) : '–';
    const t = result.torch.length ? median(result.torch).toFixed(0) : '–';
    console.error(`  ${row.id}: vid ${v} ms, torch ${t} ms${result.error ? ` (${result.error})` : ''}`);
  }
  console.log(
    `\n${(values['compare-stock'] || values['compare-xnnpack']) && python ? formatCompare(results) : format(results, python ? undefined : why)}`,
  );
  if (values.profile) {
    for (const r of results) {
      if (r.stockTop) {
        console.log(
          `\n${r.row.title}, before (${values['compare-stock'] ? 'stock copy kernels' : 'XNNPACK filter gradients'}): ${r.stockLaunches} kernel launches per step; top 10 kernels\n`,
        );
        console.log('| kernel | launches | ms |');
        console.log('|---|---|---|');
        for (const k of r.stockTop) console.log(`| ${k.name} | ${k.launches} | ${k.ms.toFixed(0)} |`);
      }
      if (!r.top) continue;
      console.log(
        `\n${r.row.title}: ${r.launches} kernel launches per step, ${r.kernelMs?.toFixed(0)} ms in kernels of the profiled step's ${r.profiledMs?.toFixed(0)} ms; top 10 kernels (tf.profile of a warm step, the second warm-up step)\n`,
      );
      console.log('| kernel | launches | ms |');
      console.log('|---|---|---|');
      for (const k of r.top) console.log(`| ${k.name} | ${k.launches} | ${k.ms.toFixed(0)} |`);
    }
  }
}
