import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startDemo } from './server.js';

// A runs folder written by hand (the shape `vid train` writes), a web folder, and a folder
// outside both, with symlinks from inside the runs folder to a file, a folder and `/` outside.
let root: string;
let runs: string;
let server: Server;
let base: string;
const logged: string[] = [];

beforeAll(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'vid-demo-')));
  runs = join(root, 'runs');
  const run = join(runs, 'tiny-run');
  const web = join(root, 'web');
  const outside = join(root, 'outside');
  await mkdir(join(run, 'checkpoints', 'step-000002'), { recursive: true });
  await mkdir(join(web, 'assets'), { recursive: true });
  await mkdir(outside, { recursive: true });
  await writeFile(join(run, 'config.json'), '{"data":{"frameSize":[16,16]}}\n');
  await writeFile(join(run, 'metrics.jsonl'), '{"type":"train","step":1,"loss":0.5}\n');
  await writeFile(join(run, 'summary.json'), '{"model":{}}\n');
  await writeFile(join(run, 'checkpoints', 'latest.json'), '{"dir":"step-000002"}\n');
  await writeFile(join(run, 'checkpoints', 'step-000002', 'state.json'), '{}\n');
  await writeFile(join(run, 'checkpoints', 'step-000002', 'model.safetensors'), new Uint8Array(16));
  await writeFile(join(web, 'index.html'), '<!doctype html><title>vid demo</title>');
  await writeFile(join(web, 'assets', 'app.js'), 'export {};');
  await writeFile(join(outside, 'secret.json'), '{"secret":true}\n');
  await writeFile(join(outside, 'config.json'), '{}\n');
  // Links: to a file outside, to a folder outside (which looks like a run), and to `/`.
  await symlink(join(outside, 'secret.json'), join(run, 'leak.json'));
  await symlink(outside, join(runs, 'linked-run'));
  await symlink('/', join(runs, 'root'));
  // A link that stays inside is fine.
  await symlink(join(run, 'summary.json'), join(run, 'summary-link.json'));
  server = await startDemo({ port: 0, runsDir: runs, webDir: web, log: (line) => logged.push(line) });
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('the demo server has no port');
  base = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
  await rm(root, { recursive: true, force: true });
});

async function status(path: string): Promise<number> {
  const response = await fetch(`${base}${path}`);
  await response.arrayBuffer();
  return response.status;
}

describe('vid demo server', () => {
  it('says where it listens and which runs folder it shows', () => {
    expect(logged.some((line) => line.includes(base) && line.includes(runs))).toBe(true);
  });

  it('serves the web app', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('vid demo');
    const script = await fetch(`${base}/assets/app.js`);
    expect(script.headers.get('content-type')).toContain('text/javascript');
    await script.arrayBuffer();
  });

  it('lists the runs really inside the runs folder, with their files and latest weights', async () => {
    const response = await fetch(`${base}/api/runs`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { runs: Array<{ name: string; files: string[]; weights: string | null }> };
    expect(body.runs.map((r) => r.name)).toEqual(['tiny-run']);
    expect(body.runs[0]!.files).toEqual(['config.json', 'metrics.jsonl', 'summary.json']);
    expect(body.runs[0]!.weights).toBe('tiny-run/checkpoints/step-000002/model.safetensors');
  });

  it("serves a run's files, its weights, and links that stay inside", async () => {
    const config = await fetch(`${base}/runs/tiny-run/config.json`);
    expect(config.status).toBe(200);
    expect(config.headers.get('content-type')).toContain('application/json');
    expect(await config.text()).toContain('frameSize');
    expect(await status('/runs/tiny-run/checkpoints/step-000002/model.safetensors')).toBe(200);
    expect(await status('/runs/tiny-run/summary-link.json')).toBe(200);
  });

  it('refuses symlinks to a file, to a folder and to / outside the runs folder (404)', async () => {
    expect(await status('/runs/tiny-run/leak.json')).toBe(404);
    expect(await status('/runs/linked-run/secret.json')).toBe(404);
    expect(await status('/runs/linked-run/config.json')).toBe(404);
    // Through the link to `/`, a .json file that exists and that the server would otherwise serve.
    expect(await status(`/runs/root${root}/outside/secret.json`)).toBe(404);
    expect(await status('/runs/root/etc/hostname')).toBe(404);
    expect(await status('/runs/root/etc/passwd')).toBe(404);
    expect(await status('/runs/root/proc/self/environ')).toBe(404);
  });

  it('refuses paths that climb out, other file types and unknown paths (404)', async () => {
    for (const path of [
      '/runs/..%2Foutside%2Fsecret.json',
      '/runs/tiny-run/../../outside/secret.json',
      '/runs/%2Fetc%2Fpasswd',
      '/runs/tiny-run/config.yaml',
      '/runs/nope/config.json',
      '/..%2Foutside%2Fsecret.json',
      '/elsewhere',
      '/predict?run=tiny-run',
    ]) {
      expect(await status(path), path).toBe(404);
    }
  });

  it('answers a malformed %-escape or a NUL byte with 400, not 500', async () => {
    expect(await status('/runs/%E0%A4%A')).toBe(400);
    expect(await status('/runs/tiny-run/%zz.json')).toBe(400);
    expect(await status('/%')).toBe(400);
    expect(await status('/runs/tiny-run/config.json%00.png')).toBe(400);
  });
});
