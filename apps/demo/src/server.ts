/**
 * `vid demo`'s server: a static file server on 127.0.0.1 for the demo web app (built by Vite
 * into `dist/web`), plus two read-only routes over the runs folder. It predicts nothing: every
 * prediction runs in the page.
 *
 * - `GET /api/runs`: the runs (folders with `config.json`), with the files the page can show and
 *   the path of the latest checkpoint's `model.safetensors`.
 * - `GET /runs/<run>/<file>`: a file inside the runs folder. Symlink-safe: the runs folder and
 *   the file are both resolved with `realpath`, and anything whose real path is outside the
 *   runs folder is a 404, whether the link points at a file, a folder or `/`. A malformed
 *   `%`-escape is a 400.
 */
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import { resolveCheckpointDir, resolveRunsDir } from '@vid/training/node';

/** Options of {@link startDemo}. */
export interface DemoOptions {
  /** @default 8080 */
  readonly port?: number;
  /** @default runs/ at the repository root */
  readonly runsDir?: string;
  /** The built web app. @default dist/web beside this module */
  readonly webDir?: string;
  readonly log?: (line: string) => void;
}

/** One run, as `GET /api/runs` lists it (paths relative to the runs folder, `/`-separated). */
export interface RunListing {
  readonly name: string;
  /** The run's files the page may fetch (`config.json`, `metrics.jsonl`, `summary.json`, …). */
  readonly files: readonly string[];
  /** The latest checkpoint's weights, or null when the run has none yet. */
  readonly weights: string | null;
}

/** The files of a run that the server serves (by extension) and lists. */
const SERVED = /\.(png|gif|md|json|jsonl|safetensors)$/;
const RUN_FILES = [
  'config.json',
  'run.json',
  'metrics.jsonl',
  'summary.json',
  'summary.md',
  'curves.png',
  'samples.png',
  'samples.gif',
];

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.jsonl': 'application/x-ndjson; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
  '.idx': 'application/octet-stream',
  '.safetensors': 'application/octet-stream',
};

/** A request the server refuses, with its status. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Decodes a URL path, or a 400 for a malformed `%`-escape or a NUL byte. */
function decodePath(path: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    throw new HttpError(400, 'bad request: malformed %-escape in the path');
  }
  if (decoded.includes('\0')) throw new HttpError(400, 'bad request: NUL byte in the path');
  return decoded;
}

/**
 * The real path of `requested` (relative to `root`, which is already a real path) when it is a
 * file strictly inside `root` after every symlink is resolved; otherwise null.
 */
export async function resolveInside(root: string, requested: string): Promise<string | null> {
  const candidate = resolve(root, requested);
  if (!candidate.startsWith(root + sep)) return null;
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    return null;
  }
  if (!real.startsWith(root + sep)) return null;
  try {
    return (await stat(real)).isFile() ? real : null;
  } catch {
    return null;
  }
}

/** The runs in `root` (a real path): folders, really inside it, with a `config.json`. */
export async function listRuns(root: string): Promise<RunListing[]> {
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  const runs: RunListing[] = [];
  for (const entry of entries) {
    if (!(await resolveInside(root, join(entry.name, 'config.json')))) continue;
    const files: string[] = [];
    for (const file of RUN_FILES) if (await resolveInside(root, join(entry.name, file))) files.push(file);
    let weights: string | null = null;
    try {
      const checkpoint = await resolveCheckpointDir(join(root, entry.name));
      const model = join(checkpoint, 'model.safetensors');
      if (await resolveInside(root, relative(root, model))) weights = relative(root, model).split(sep).join('/');
    } catch {
      // no checkpoint yet
    }
    runs.push({ name: entry.name, files, weights });
  }
  return runs.sort((a, b) => b.name.localeCompare(a.name));
}

const defaultWebDir = (): string => fileURLToPath(new URL('./web', import.meta.url));

/** Starts the demo server; resolves when it listens. */
export async function startDemo(options: DemoOptions = {}): Promise<Server> {
  const log = options.log ?? ((line: string) => console.log(line));
  const runsDir = resolveRunsDir(options.runsDir ?? 'runs');
  const webDir = resolve(options.webDir ?? defaultWebDir());
  const webRoot = await realpath(webDir).catch(() => webDir);
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const handle = async (): Promise<void> => {
      if (request.method !== 'GET' && request.method !== 'HEAD') throw new HttpError(405, 'method not allowed');
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const path = decodePath(url.pathname);
      // The runs folder may appear after the server started; resolve its real path per request.
      const runsRoot = await realpath(runsDir).catch(() => null);
      let file: string | null;
      if (path === '/api/runs') {
        const body = JSON.stringify({ runsDir, runs: runsRoot ? await listRuns(runsRoot) : [] });
        response
          .writeHead(200, { 'content-type': TYPES['.json']!, 'cache-control': 'no-store' })
          .end(request.method === 'HEAD' ? undefined : body);
        return;
      }
      if (path.startsWith('/runs/')) {
        const inside = path.slice('/runs/'.length);
        file = runsRoot && SERVED.test(inside) ? await resolveInside(runsRoot, inside) : null;
      } else {
        file = await resolveInside(webRoot, path === '/' ? 'index.html' : path.slice(1));
      }
      if (!file) throw new HttpError(404, 'not found');
      const type = TYPES[extname(file)] ?? 'application/octet-stream';
      const body = await readFile(file);
      response
        .writeHead(200, { 'content-type': type, 'content-length': body.byteLength })
        .end(request.method === 'HEAD' ? undefined : body);
    };
    handle().catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      const message = error instanceof HttpError ? error.message : `vid demo: ${(error as Error).message}`;
      if (!response.headersSent) response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(message);
    });
  });
  const port = options.port ?? 8080;
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => done());
  });
  const address = server.address();
  log(
    `vid demo: http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}/ (runs in ${runsDir}; the page predicts in the browser; Ctrl-C to stop)`,
  );
  return server;
}
