import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { initBackend } from '@vid/core';
import { resolveConfig, train } from '@vid/training/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { predictGif, startDemo } from './server.js';

// A tiny finished run (16×16 Moving MNIST, 3 → 3, an encoder-forecaster with 4 channels, 2 steps).
const config = resolveConfig({
  overrides: {
    seed: 5,
    data: { inputFrames: 3, futureFrames: 3, frameSize: [16, 16], digitSize: 8, trainSamples: 4, validSamples: 2 },
    model: { type: 'encoder-forecaster', hiddenChannels: [4], kernelSize: 3, patchSize: 4, forecasterInput: 'previous-frame', peephole: 'none' },
    train: { batchSize: 2, epochs: 1, stepsPerEpoch: 2, learningRate: 1e-2 },
    validation: { batchSize: 2 },
    evaluation: { futureFrames: 4, samples: 2, gifSamples: 1, protocol: 'standard' },
    output: { progress: 'none' },
  },
});

let root: string;
let server: Server;
let base: string;
const logged: string[] = [];

beforeAll(async () => {
  await initBackend({ backend: 'cpu', log: false });
  root = await mkdtemp(join(tmpdir(), 'vid-demo-'));
  await train({ config, runDir: join(root, 'tiny-run'), log: () => undefined, initBackend: false });
  server = await startDemo({ port: 0, runsDir: root, log: (line) => logged.push(line) });
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('the demo server has no port');
  base = `http://127.0.0.1:${address.port}`;
}, 120_000);

afterAll(async () => {
  await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
  await rm(root, { recursive: true, force: true });
});

describe('vid demo', () => {
  it('says where it listens and which runs it shows', () => {
    expect(logged.some((line) => line.includes(base) && line.includes(root))).toBe(true);
  });

  it('lists the runs with their summary, curves, GIF and a predict link', async () => {
    const response = await fetch(`${base}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    const html = await response.text();
    expect(html).toContain('<h2>tiny-run</h2>');
    expect(html).toContain('copy last frame'); // the summary, beside the baseline
    expect(html).toContain('src="/runs/tiny-run/curves.png"');
    expect(html).toContain('src="/runs/tiny-run/samples.gif"');
    expect(html).toMatch(/href="\/predict\?run=tiny-run&amp;seed=\d+"|href="\/predict\?run=tiny-run&seed=\d+"/);
  });

  it("serves a run's pictures with their types", async () => {
    const png = await fetch(`${base}/runs/tiny-run/curves.png`);
    expect(png.status).toBe(200);
    expect(png.headers.get('content-type')).toBe('image/png');
    const bytes = new Uint8Array(await png.arrayBuffer());
    expect([...bytes.subarray(1, 4)].map((b) => String.fromCharCode(b)).join('')).toBe('PNG');
    const gif = await fetch(`${base}/runs/tiny-run/samples.gif`);
    expect(gif.headers.get('content-type')).toBe('image/gif');
    expect(Buffer.from(await gif.arrayBuffer()).subarray(0, 6).toString('latin1')).toBe('GIF89a');
  });

  it('serves nothing outside the runs folder, and no other file types', async () => {
    for (const path of ['/runs/..%2F..%2Fetc%2Fpasswd', '/runs/tiny-run/checkpoints/latest.json/../../../../x.json', '/runs/tiny-run/config.yaml', '/runs/nope/curves.png', '/elsewhere']) {
      const response = await fetch(`${base}${path}`);
      expect(response.status, path).toBe(404);
      await response.arrayBuffer();
    }
    const outside = await fetch(`${base}/predict?run=..`);
    expect(outside.status).toBe(404);
    await outside.arrayBuffer();
  });

  it("predicts a new sequence with the run's latest checkpoint, as a GIF", async () => {
    const response = await fetch(`${base}/predict?run=tiny-run&seed=7`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/gif');
    const gif = Buffer.from(await response.arrayBuffer());
    expect(gif.subarray(0, 6).toString('latin1')).toBe('GIF89a');
    // The same seed gives the same sequence and the same prediction; another seed another one.
    expect(Buffer.compare(Buffer.from(await predictGif(join(root, 'tiny-run'), 7)), gif)).toBe(0);
    expect(Buffer.compare(Buffer.from(await predictGif(join(root, 'tiny-run'), 8)), gif)).not.toBe(0);
  });
});
