/**
 * Benchmark: one ConvLSTM-style training step (conv2d on concat[x, h], gates, Adam) on each
 * backend, side by side in one run, plus vid's Conv2DBackpropInput against the stock wasm kernel.
 *
 *   pnpm bench            (from packages/core; builds first)
 *
 * Each backend runs in its own child process (a process holds one wasm thread pool). The step
 * is the one from the project brief: batch 8, 10 time steps, 16×16×16 input, 64 hidden, 5×5.
 * The cpu backend is timed on fewer iterations (it is two orders of magnitude slower). If
 * Debian's PyTorch is installed (/usr/bin/python3 with torch), the same step in PyTorch is timed
 * for reference. Timings are medians; the machine is shared, so compare ratios from one run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

import * as tf from '@tensorflow/tfjs-core';

import { Adam, initBackend, replacedWasmKernels } from '../dist/index.js';

const CONFIG = { batch: 8, steps: 10, size: 16, channels: 16, hidden: 64, kernel: 5 };

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

async function child(backend: 'wasm' | 'cpu', iterations: number): Promise<void> {
  const report = await initBackend({ backend, log: false });
  const { batch, steps, size, channels, hidden, kernel } = CONFIG;
  const x = tf.randomNormal([steps, batch, size, size, channels], 0, 1, 'float32', 1);
  const weight = tf.tidy(() => tf.variable(tf.mul(tf.randomNormal([kernel, kernel, channels + hidden, 4 * hidden], 0, 1, 'float32', 2), 0.02)));
  const bias = tf.tidy(() => tf.variable(tf.zeros([4 * hidden])));
  const adam = new Adam([['weight', weight], ['bias', bias]], { lr: 1e-3 });
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
  const results: Result[] = [{ label: `${backend} training step`, msPerStep: median(times), iterations, threads: report.threads }];
  if (backend === 'wasm') {
    // vid's Conv2DBackpropInput (a forward conv) against the stock wasm kernel.
    const dy = tf.randomNormal([batch, size, size, 4 * hidden], 0, 1, 'float32', 3) as tf.Tensor4D;
    const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: [batch, size, size, channels + hidden] };
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
    const ours = time(() => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: weight }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor);
    const stock = replacedWasmKernels.get('Conv2DBackpropInput');
    if (stock) {
      const backendImpl = tf.backend();
      const stockMs = time(() => {
        const info = stock.kernelFunc({ inputs: { dy, filter: weight }, attrs: attrs as unknown as tf.NamedAttrMap, backend: backendImpl }) as tf.TensorInfo;
        return tf.engine().makeTensorFromTensorInfo(info);
      });
      results.push({ label: 'Conv2DBackpropInput, stock wasm kernel', msPerStep: stockMs, iterations: 5 });
    }
    results.push({ label: 'Conv2DBackpropInput, vid (as a forward conv)', msPerStep: ours, iterations: 5 });
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

function runChild(backend: 'wasm' | 'cpu', iterations: number, env: Record<string, string>): Result[] {
  const result = spawnSync(process.execPath, [...process.execArgv, import.meta.filename, '--child', backend, String(iterations)], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (result.status !== 0) throw new Error(`${backend} child failed:\n${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').pop() as string) as Result[];
}

function pytorchReference(): Result | undefined {
  const python = '/usr/bin/python3';
  if (!existsSync(python)) return undefined;
  const { batch, steps, size, channels, hidden, kernel } = CONFIG;
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
    const out = execFileSync(python, ['-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split(/\s+/);
    return { label: `PyTorch ${'CPU'} training step (reference)`, msPerStep: Number(out[0]), iterations: 5, threads: Number(out[1]) };
  } catch {
    return undefined;
  }
}

if (process.argv[2] === '--child') {
  await child(process.argv[3] as 'wasm' | 'cpu', Number(process.argv[4]));
} else {
  const { batch, steps, size, channels, hidden, kernel } = CONFIG;
  console.log(`ConvLSTM training step: batch ${batch}, ${steps} steps, ${size}×${size}×${channels} input, ${hidden} hidden, ${kernel}×${kernel} kernel, Adam\n`);
  const results: Result[] = [
    ...runChild('wasm', 5, {}),
    ...runChild('wasm', 5, { VID_WASM_THREADS: '1' }).filter((r) => r.label.endsWith('training step')).map((r) => ({ ...r, label: 'wasm training step' })),
    ...runChild('cpu', 1, {}),
  ];
  const torch = pytorchReference();
  if (torch) results.push(torch);
  const wasmBest = Math.min(...results.filter((r) => r.label === 'wasm training step').map((r) => r.msPerStep));
  for (const r of results) {
    const ratio = r.label.endsWith('training step') || r.label.includes('reference') ? `  (${(r.msPerStep / wasmBest).toFixed(2)}× the fastest wasm step)` : '';
    console.log(`${r.label.padEnd(48)} ${r.msPerStep.toFixed(1).padStart(9)} ms${r.threads !== undefined ? `  [${r.threads} thread${r.threads === 1 ? '' : 's'}]` : ''}${ratio}`);
  }
}
