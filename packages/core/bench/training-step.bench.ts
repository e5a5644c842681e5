/**
 * Benchmark: one ConvLSTM-style training step (conv2d on concat[x, h], gates, Adam) on each
 * backend, side by side in one run, plus vid's Conv2DBackpropInput against the stock wasm kernel.
 *
 *   pnpm bench            (from packages/core; builds first)
 *
 * Each backend runs in its own child process (a process holds one wasm thread pool). The step
 * is the one from the project brief (batch 8, 10 time steps, 16×16×16 input, 64 hidden, 5×5) on
 * wasm, and a small step on wasm and cpu (cpu is two orders of magnitude slower). If
 * Debian's PyTorch is installed (/usr/bin/python3 with torch), the same step in PyTorch is timed
 * for reference. Timings are medians; the machine is shared, so compare ratios from one run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

import * as tf from '@tensorflow/tfjs-core';

import { Adam, initBackend, replacedWasmKernels } from '../dist/index.js';

interface StepConfig {
  readonly batch: number;
  readonly steps: number;
  readonly size: number;
  readonly channels: number;
  readonly hidden: number;
  readonly kernel: number;
}

/** The step of the project brief, and a small one the cpu backend finishes in seconds. */
const CONFIGS: Record<'brief' | 'small', StepConfig> = {
  brief: { batch: 8, steps: 10, size: 16, channels: 16, hidden: 64, kernel: 5 },
  small: { batch: 2, steps: 4, size: 8, channels: 4, hidden: 16, kernel: 3 },
};

function describe(c: StepConfig): string {
  return `batch ${c.batch}, ${c.steps} steps, ${c.size}×${c.size}×${c.channels} input, ${c.hidden} hidden, ${c.kernel}×${c.kernel}`;
}

interface Result {
  readonly label: string;
  readonly msPerStep: number;
  readonly iterations: number;
  readonly threads?: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function child(backend: 'wasm' | 'cpu', configName: 'brief' | 'small', iterations: number): Promise<void> {
  const report = await initBackend({ backend, log: false });
  const { batch, steps, size, channels, hidden, kernel } = CONFIGS[configName];
  const x = tf.randomNormal([steps, batch, size, size, channels], 0, 1, 'float32', 1);
  const weight = tf.tidy(() =>
    tf.variable(tf.mul(tf.randomNormal([kernel, kernel, channels + hidden, 4 * hidden], 0, 1, 'float32', 2), 0.02)),
  );
  const bias = tf.tidy(() => tf.variable(tf.zeros([4 * hidden])));
  const adam = new Adam(
    [
      ['weight', weight],
      ['bias', bias],
    ],
    { lr: 1e-3 },
  );
  const frames = tf.unstack(x);
  const step = async (): Promise<void> => {
    const { value, grads } = adam.computeGradients(() => {
      let h = tf.zeros([batch, size, size, hidden]);
      let c = tf.zeros([batch, size, size, hidden]);
      let loss = tf.scalar(0);
      for (const frame of frames) {
        const z = tf.add(tf.conv2d(tf.concat([frame, h], -1) as tf.Tensor4D, weight as tf.Tensor4D, 1, 'same'), bias);
        const [i, f, o, g] = tf.split(z, 4, -1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
        h = tf.mul(tf.sigmoid(o), tf.tanh(c));
        loss = tf.add(loss, tf.mean(tf.square(h)));
      }
      return loss as tf.Scalar;
    });
    adam.applyGradients(grads);
    await value.data();
    value.dispose();
    grads.forEach((t) => t.dispose());
  };
  await step(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await step();
    times.push(performance.now() - start);
  }
  const results: Result[] = [
    { label: `${backend} training step`, msPerStep: median(times), iterations, threads: report.threads },
  ];
  if (backend === 'wasm' && configName === 'brief' && report.threads !== 1) {
    // vid's Conv2DBackpropInput (a forward conv) against the stock wasm kernel.
    const dy = tf.randomNormal([batch, size, size, 4 * hidden], 0, 1, 'float32', 3) as tf.Tensor4D;
    const attrs = {
      strides: [1, 1],
      pad: 'same',
      dataFormat: 'NHWC',
      dimRoundingMode: undefined,
      inputShape: [batch, size, size, channels + hidden],
    };
    const time = (fn: () => tf.Tensor): number => {
      fn().dispose();
      const t: number[] = [];
      for (let i = 0; i < 5; i++) {
        const start = performance.now();
        const out = fn();
        out.dataSync();
        t.push(performance.now() - start);
        out.dispose();
      }
      return median(t);
    };
    const ours = time(
      () =>
        tf
          .engine()
          .runKernel('Conv2DBackpropInput', { dy, filter: weight }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor,
    );
    const stock = replacedWasmKernels.get('Conv2DBackpropInput');
    if (stock) {
      const backendImpl = tf.backend();
      const stockMs = time(() => {
        const info = stock.kernelFunc({
          inputs: { dy, filter: weight },
          attrs: attrs as unknown as tf.NamedAttrMap,
          backend: backendImpl,
        }) as tf.TensorInfo;
        return tf.engine().makeTensorFromTensorInfo(info);
      });
      results.push({ label: 'Conv2DBackpropInput, stock wasm kernel', msPerStep: stockMs, iterations: 5 });
    }
    results.push({ label: 'Conv2DBackpropInput, vid (as a forward conv)', msPerStep: ours, iterations: 5 });
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

function runChild(
  backend: 'wasm' | 'cpu',
  configName: 'brief' | 'small',
  iterations: number,
  env: Record<string, string>,
): Result[] {
  const result = spawnSync(
    process.execPath,
    [...process.execArgv, import.meta.filename, '--child', backend, configName, String(iterations)],
    {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    },
  );
  if (result.status !== 0) throw new Error(`${backend} child failed:\n${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').pop() as string) as Result[];
}

function pytorchReference(): Result | undefined {
  const python = '/usr/bin/python3';
  if (!existsSync(python)) return undefined;
  const { batch, steps, size, channels, hidden, kernel } = CONFIGS.brief;
  const script = `
import time, torch
torch.manual_seed(0)
B,T,S,C,H,K=${batch},${steps},${size},${channels},${hidden},${kernel}
x=torch.randn(T,B,C,S,S)
conv=torch.nn.Conv2d(C+H,4*H,K,padding=K//2)
opt=torch.optim.Adam(conv.parameters(),1e-3)
def step():
    h=torch.zeros(B,H,S,S); c=torch.zeros(B,H,S,S); loss=0
    for t in range(T):
        i,f,o,g=torch.split(conv(torch.cat([x[t],h],1)),H,1)
        c=torch.sigmoid(f)*c+torch.sigmoid(i)*torch.tanh(g); h=torch.sigmoid(o)*torch.tanh(c); loss=loss+h.pow(2).mean()
    opt.zero_grad(); loss.backward(); opt.step()
step(); ts=[]
for _ in range(5):
    s=time.perf_counter(); step(); ts.append((time.perf_counter()-s)*1000)
ts.sort(); print(ts[len(ts)//2], torch.get_num_threads())
`;
  try {
    const out = execFileSync(python, ['-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .trim()
      .split(/\s+/);
    return {
      label: `PyTorch ${'CPU'} training step (reference)`,
      msPerStep: Number(out[0]),
      iterations: 5,
      threads: Number(out[1]),
    };
  } catch {
    return undefined;
  }
}

function print(r: Result, reference?: number): void {
  const ratio = reference !== undefined ? `  (${(r.msPerStep / reference).toFixed(2)}×)` : '';
  console.log(
    `  ${r.label.padEnd(46)} ${r.msPerStep.toFixed(1).padStart(10)} ms${r.threads !== undefined ? `  [${r.threads} thread${r.threads === 1 ? '' : 's'}]` : ''}${ratio}`,
  );
}

if (process.argv[2] === '--child') {
  await child(process.argv[3] as 'wasm' | 'cpu', process.argv[4] as 'brief' | 'small', Number(process.argv[5]));
} else {
  console.log(`ConvLSTM training step (conv2d on concat, gates, Adam), medians; ratios to the threaded wasm step\n`);
  console.log(`small step (${describe(CONFIGS.small)}):`);
  const smallWasm = runChild('wasm', 'small', 10, {});
  const reference = smallWasm[0]!.msPerStep;
  for (const r of smallWasm) print(r, reference);
  for (const r of runChild('cpu', 'small', 3, {})) print(r, reference);
  console.log(`\nthe brief's step (${describe(CONFIGS.brief)}):`);
  const brief = runChild('wasm', 'brief', 5, {});
  const briefReference = brief[0]!.msPerStep;
  print(brief[0]!, briefReference);
  for (const r of runChild('wasm', 'brief', 5, { VID_WASM_THREADS: '1' })) print(r, briefReference);
  const torch = pytorchReference();
  if (torch) print(torch, briefReference);
  console.log('\nConv2DBackpropInput of that step (8×16×16×256 → 80 channels, 5×5):');
  for (const r of brief.slice(1)) print(r);
}
