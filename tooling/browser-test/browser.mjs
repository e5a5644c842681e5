// Shared by the browser tests: headless Chromium from npm, and a static file server.
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';

import chromium from '@sparticuz/chromium';
import { chromium as playwright } from 'playwright-core';

/** The Chromium flags of the browser tests (WebGL2 comes from SwiftShader). */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
];

/** Launches the Chromium that @sparticuz/chromium ships (unpacked to /tmp on first use). */
export async function launchChromium() {
  const executablePath = await chromium.executablePath();
  // Chromium takes its default locale from the environment; a POSIX one ("en-US@posix") is not a
  // valid language tag, and Intl (uPlot's date formats) throws on it. Pages get en-US.
  return playwright.launch({
    executablePath,
    headless: true,
    args: CHROMIUM_FLAGS,
    env: { ...process.env, LANG: 'en_US.UTF-8', LC_ALL: 'en_US.UTF-8' },
  });
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/**
 * Serves `dir` on 127.0.0.1 (a free port), plus `mounts`: URL prefix → { name: file }. No
 * COOP/COEP headers, as a plain static host. Every request's path is recorded in `requests`.
 */
export async function serveStatic(dir, mounts = {}) {
  const requests = [];
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
    requests.push(`${request.method} ${path}`);
    let file;
    for (const [prefix, files] of Object.entries(mounts)) {
      if (path.startsWith(prefix)) file = files[path.slice(prefix.length)];
    }
    if (!file) {
      const relative = normalize(path === '/' ? '/index.html' : path);
      if (relative.includes('..')) return response.writeHead(400).end();
      file = join(dir, relative);
    }
    let size;
    try {
      const info = statSync(file);
      if (!info.isFile()) throw new Error('not a file');
      size = info.size;
    } catch {
      return response.writeHead(404).end('not found');
    }
    response.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': size,
    });
    if (request.method === 'HEAD') return response.end();
    createReadStream(file).pipe(response);
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((done) => server.close(done)) };
}
