/**
 * `vid demo`: a local web page (127.0.0.1 only) that shows the runs in `runs/` — their summary,
 * training curves and sample GIFs — and predicts a fresh Moving MNIST sequence with a run's
 * latest checkpoint on request.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { join, resolve, sep } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@vid/core';
import { MovingMnist, loadDigits } from '@vid/datasets';
import { loadPredictor } from '@vid/models';
import type { TrainConfig } from '@vid/training';
import { resolveCheckpointDir, resolveRunsDir, samplesGif } from '@vid/training/node';

/** Options of {@link startDemo}. */
export interface DemoOptions {
  /** @default 8080 */
  readonly port?: number;
  /** @default runs/ at the repository root */
  readonly runsDir?: string;
  readonly log?: (line: string) => void;
}

const escapeHtml = (text: string): string => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

async function listRuns(runsDir: string): Promise<string[]> {
  if (!existsSync(runsDir)) return [];
  const entries = await readdir(runsDir, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory() && existsSync(join(runsDir, e.name, 'config.json'))).map((e) => e.name).sort().reverse();
}

async function page(runsDir: string): Promise<string> {
  const runs = await listRuns(runsDir);
  const sections = await Promise.all(
    runs.map(async (run) => {
      const dir = join(runsDir, run);
      const summary = existsSync(join(dir, 'summary.md')) ? await readFile(join(dir, 'summary.md'), 'utf8') : '(no summary yet: the run is going on or was interrupted)';
      const img = (file: string): string => (existsSync(join(dir, file)) ? `<img src="/runs/${encodeURIComponent(run)}/${file}" alt="${file}">` : '');
      const predict = existsSync(join(dir, 'checkpoints', 'latest.json')) ? `<p><a href="/predict?run=${encodeURIComponent(run)}&seed=${Date.now() % 100000}">Predict a new sequence with this run's latest checkpoint</a></p>` : '';
      return `<section><h2>${escapeHtml(run)}</h2><pre>${escapeHtml(summary)}</pre>${img('curves.png')}${img('samples.gif')}${predict}</section>`;
    }),
  );
  return `<!doctype html><html><head><meta charset="utf-8"><title>vid demo</title><style>body{font-family:sans-serif;margin:2em;max-width:1100px}img{max-width:100%;margin:.5em 0;display:block}pre{background:#f4f4f4;padding:1em;overflow:auto}</style></head><body><h1>vid demo</h1><p>Runs in <code>${escapeHtml(runsDir)}</code>. Train one with <code>npx -y pnpm@10.34.9 turbo train</code>.</p>${sections.join('') || '<p>No runs yet.</p>'}</body></html>`;
}

/** Predicts a generated Moving MNIST sequence with a run's latest checkpoint; returns a GIF. */
export async function predictGif(runDir: string, seed: number): Promise<Uint8Array> {
  const checkpoint = await resolveCheckpointDir(runDir);
  const config = JSON.parse(await readFile(join(runDir, 'config.json'), 'utf8')) as TrainConfig;
  const predictor = await loadPredictor(join(checkpoint, 'model.safetensors'));
  try {
    const { inputFrames } = config.data;
    const futureFrames = config.evaluation.futureFrames;
    const [height, width] = config.data.frameSize as [number, number];
    const generator = new MovingMnist({ digits: await loadDigits({ split: 'test', labels: false }), sequenceLength: inputFrames + futureFrames, canvasSize: [height, width], digitSize: config.data.digitSize, numDigits: config.data.numDigits, seed: `demo:${seed}` });
    const clip = generator.sequence(0);
    const frames = Float32Array.from(clip.frames, (v) => v / 255);
    const size = height * width;
    const context = frames.subarray(0, inputFrames * size);
    const truth = frames.subarray(inputFrames * size);
    const input = tf.tensor5d(context, [1, inputFrames, height, width, 1]);
    const output = predictor.predict(input, futureFrames);
    const prediction = ((await output.data()) as Float32Array).map((v) => Math.min(1, Math.max(0, v)));
    tf.dispose([input, output]);
    return samplesGif({ context, truth, prediction, samples: 1, inputFrames, futureFrames, height, width, channels: 1 });
  } finally {
    predictor.dispose();
  }
}

/** Starts the demo server; resolves when it listens. */
export async function startDemo(options: DemoOptions = {}): Promise<Server> {
  const log = options.log ?? ((line: string) => console.log(line));
  const runsDir = resolveRunsDir(options.runsDir ?? 'runs');
  await initBackend({ log });
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const handle = async (): Promise<void> => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      if (url.pathname === '/') {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(await page(runsDir));
        return;
      }
      if (url.pathname.startsWith('/runs/')) {
        const file = resolve(runsDir, decodeURIComponent(url.pathname.slice('/runs/'.length)));
        if (!file.startsWith(runsDir + sep) || !/\.(png|gif|md|json|jsonl)$/.test(file) || !existsSync(file)) {
          response.writeHead(404).end('not found');
          return;
        }
        const type = file.endsWith('.png') ? 'image/png' : file.endsWith('.gif') ? 'image/gif' : 'text/plain; charset=utf-8';
        response.writeHead(200, { 'content-type': type }).end(await readFile(file));
        return;
      }
      if (url.pathname === '/predict') {
        const run = url.searchParams.get('run') ?? '';
        const runDir = resolve(runsDir, run);
        if (!run || !runDir.startsWith(runsDir + sep) || !existsSync(runDir)) {
          response.writeHead(404).end('no such run');
          return;
        }
        const gif = await predictGif(runDir, Number(url.searchParams.get('seed') ?? 0) || 0);
        response.writeHead(200, { 'content-type': 'image/gif' }).end(gif);
        return;
      }
      response.writeHead(404).end('not found');
    };
    handle().catch((error: unknown) => {
      response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`vid demo: ${(error as Error).message}`);
    });
  });
  const port = options.port ?? 8080;
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => done());
  });
  const address = server.address();
  log(`vid demo: http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}/ (runs in ${runsDir}; Ctrl-C to stop)`);
  return server;
}
