/**
 * Backend selection. vid picks the fastest TensorFlow.js backend that loads, in this order:
 *
 * In Node.js:
 * 1. `gpu`    — `@tensorflow/tfjs-node-gpu` (libtensorflow with CUDA);
 * 2. `node`   — `@tensorflow/tfjs-node` (libtensorflow on the CPU);
 * 3. `wasm`   — `@tensorflow/tfjs-backend-wasm` (XNNPACK, SIMD), with vid's training kernels;
 * 4. `cpu`    — `@tensorflow/tfjs-backend-cpu` (plain JavaScript).
 *
 * In a browser (or a web worker):
 * 1. `webgpu` — `@tensorflow/tfjs-backend-webgpu` (needs `navigator.gpu` and an adapter);
 * 2. `webgl`  — `@tensorflow/tfjs-backend-webgl` (needs WebGL2);
 * 3. `wasm`   — as above, one thread unless the page is cross-origin isolated and asks for more;
 * 4. `cpu`    — as above.
 *
 * A backend that cannot load is skipped with the reason. `VID_BACKEND=<name>` (Node) or
 * `initBackend({backend})` forces one; a forced backend that cannot load is a
 * {@link BackendError} that says why, and who forced it.
 *
 * One line names the backend chosen and why each one before it was skipped;
 * {@link formatBackendReport} prints the full report (`vid doctor` adds what each backend needs).
 *
 * The environment-specific parts live in `node-backends.ts` and `browser-backends.ts`, each
 * loaded only where it runs (the browser build of `@vid/core` does not contain the Node part).
 */
import * as tf from '@tensorflow/tfjs-core';

import { BackendError, ConfigError } from '../errors.js';
import { ensureGradients } from './gradients.js';
import { registerAccurateSum } from './bias-grad.js';

/** vid's names for the backends. */
export type BackendName = 'gpu' | 'node' | 'webgpu' | 'webgl' | 'wasm' | 'cpu';

/** Every backend name, Node's first. */
export const BACKEND_ORDER: readonly BackendName[] = ['gpu', 'node', 'webgpu', 'webgl', 'wasm', 'cpu'];

/** The order of preference in Node.js. */
export const NODE_BACKEND_ORDER: readonly BackendName[] = ['gpu', 'node', 'wasm', 'cpu'];

/** The order of preference in a browser. */
export const BROWSER_BACKEND_ORDER: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

/** The npm package behind each backend. */
export const BACKEND_PACKAGES: Readonly<Record<BackendName, string>> = {
  gpu: '@tensorflow/tfjs-node-gpu',
  node: '@tensorflow/tfjs-node',
  webgpu: '@tensorflow/tfjs-backend-webgpu',
  webgl: '@tensorflow/tfjs-backend-webgl',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

/** The names of tfjs-backend-wasm's binaries (keys of {@link InitBackendOptions.wasmPaths}). */
export type WasmBinaryName =
  'tfjs-backend-wasm.wasm' | 'tfjs-backend-wasm-simd.wasm' | 'tfjs-backend-wasm-threaded-simd.wasm';

/** What happened to one backend during selection. */
export interface BackendAttempt {
  readonly backend: BackendName;
  readonly package: string;
  readonly outcome: 'chosen' | 'skipped' | 'failed' | 'not tried';
  readonly reason: string;
  /** The package version, when it could be read. */
  readonly version?: string;
}

/** The result of {@link initBackend}. */
export interface BackendReport {
  /** vid's name of the backend in use. */
  readonly backend: BackendName;
  /** TensorFlow.js's name of it (`tensorflow`, `webgpu`, `webgl`, `wasm`, `cpu`). */
  readonly tfBackend: string;
  /** Where vid runs. */
  readonly environment: 'node' | 'browser';
  /** Whether `VID_BACKEND` or the `backend` option forced it. */
  readonly forced: boolean;
  /** Who forced it, when {@link forced}. */
  readonly forcedBy?: 'option' | 'VID_BACKEND';
  readonly attempts: readonly BackendAttempt[];
  /** wasm: SIMD in use. */
  readonly simd?: boolean;
  /** wasm: threads in use (1 = single-threaded). */
  readonly threads?: number;
  /** Kernels vid registered or replaced for this backend. */
  readonly kernelsAdded: readonly string[];
  /** The one-line summary that was printed. */
  readonly line: string;
  readonly tfjsVersion: string;
  readonly nodeVersion?: string;
}

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  /**
   * Force a backend, or `auto` to choose. Overrides `VID_BACKEND`.
   * @default process.env.VID_BACKEND ?? 'auto' (Node); 'auto' (browsers)
   */
  readonly backend?: BackendName | 'auto';
  /**
   * Where the one-line summary goes: `true` for stderr (`console.error`; the console in a
   * browser), `false` for nowhere, or a function.
   * @default true
   */
  readonly log?: boolean | ((line: string) => void);
  /**
   * wasm threads. In Node, tfjs-backend-wasm runs one thread as shipped; vid can start its
   * threaded build on worker threads (`'auto'` uses every core up to 8). In a browser `'auto'`
   * means one thread: the threaded build needs a cross-origin isolated page (COOP/COEP headers)
   * and does not survive minification in tfjs 4.22; ask for `n > 1` on an isolated page to try it.
   * 1 disables threads. Also read from `VID_WASM_THREADS` (Node).
   * @default 'auto'
   */
  readonly threads?: number | 'auto';
  /**
   * Where tfjs-backend-wasm's `.wasm` binaries are served (browsers): a folder URL ending in `/`
   * (the files `tfjs-backend-wasm.wasm`, `tfjs-backend-wasm-simd.wasm`, …) or a map from file
   * name to URL, as tfjs's `setWasmPaths`. Bundlers do not copy these files by themselves.
   * @default next to the script (tfjs's default), which a bundled page usually does not serve
   */
  readonly wasmPaths?: string | Partial<Record<WasmBinaryName, string>>;
}

/** What a backend attempt returns to the selector. */
export type TryResult =
  | { ok: true; simd?: boolean; threads?: number; kernels?: string[]; detail: string; version?: string }
  | { ok: false; outcome: 'skipped' | 'failed'; reason: string; version?: string };

/** The settings a backend attempt needs. */
export interface TryContext {
  readonly threads: number | 'auto';
  readonly wasmPaths?: InitBackendOptions['wasmPaths'];
}

let current: Promise<BackendReport> | undefined;
let currentKey: string | undefined;

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

function envValue(name: string): string | undefined {
  return isNode ? process.env[name] : undefined;
}

function parseBackend(value: string | undefined, source: string): BackendName | 'auto' {
  if (value === undefined || value === '' || value === 'auto') return 'auto';
  const v = value.toLowerCase();
  if ((BACKEND_ORDER as readonly string[]).includes(v)) return v as BackendName;
  throw new ConfigError(source, `one of ${BACKEND_ORDER.join(', ')} or auto`, value, 'backend selection');
}

/**
 * Chooses and initialises the backend (once per process or page: later calls return the same
 * report, unless they force a different backend). Registers gradients, and vid's kernels for
 * wasm.
 */
export function initBackend(options: InitBackendOptions = {}): Promise<BackendReport> {
  if (
    options.backend !== undefined &&
    options.backend !== 'auto' &&
    !(BACKEND_ORDER as readonly string[]).includes(options.backend)
  ) {
    throw new ConfigError('backend', `one of ${BACKEND_ORDER.join(', ')} or auto`, options.backend, 'initBackend');
  }
  const forcedBy =
    options.backend !== undefined
      ? options.backend === 'auto'
        ? undefined
        : 'option'
      : envValue('VID_BACKEND')
        ? 'VID_BACKEND'
        : undefined;
  const requested = options.backend ?? parseBackend(envValue('VID_BACKEND'), 'VID_BACKEND');
  const threads = options.threads ?? parseThreads(envValue('VID_WASM_THREADS'));
  const key = `${requested}:${threads}`;
  if (current && (currentKey === key || requested === 'auto')) return current;
  currentKey = key;
  const context: TryContext = { threads, wasmPaths: options.wasmPaths };
  current = select(requested, requested === 'auto' ? undefined : forcedBy, context, options.log ?? true).catch(
    (error: unknown) => {
      current = undefined;
      currentKey = undefined;
      throw error;
    },
  );
  return current;
}

/** The report of the backend chosen so far, if any. */
export async function currentBackend(): Promise<BackendReport | undefined> {
  return current;
}

function parseThreads(value: string | undefined): number | 'auto' {
  if (value === undefined || value === '' || value === 'auto') return 'auto';
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new ConfigError('VID_WASM_THREADS', 'a positive integer or auto', value, 'backend selection');
  return n;
}

/** How a forced backend is named in messages. */
function forcedText(requested: BackendName, forcedBy: 'option' | 'VID_BACKEND'): string {
  return forcedBy === 'VID_BACKEND'
    ? `forced by VID_BACKEND=${requested}`
    : `forced by the option backend: '${requested}'`;
}

async function select(
  requested: BackendName | 'auto',
  forcedBy: 'option' | 'VID_BACKEND' | undefined,
  context: TryContext,
  log: boolean | ((line: string) => void),
): Promise<BackendReport> {
  const order = isNode ? NODE_BACKEND_ORDER : BROWSER_BACKEND_ORDER;
  const attempt: (name: BackendName, context: TryContext) => Promise<TryResult> = isNode
    ? (await import('./node-backends.js')).tryNodeBackend
    : (await import('./browser-backends.js')).tryBrowserBackend;
  const forced = requested !== 'auto';
  if (forced && !order.includes(requested)) {
    const where = isNode ? 'Node.js' : 'a browser';
    const which = isNode ? 'webgpu and webgl run in browsers' : 'gpu and node need Node.js';
    throw new BackendError(
      `${requested} was ${forcedText(requested, forcedBy ?? 'option')} but does not exist in ${where} (${which}); choose one of ${order.join(', ')}`,
    );
  }
  const attempts: BackendAttempt[] = [];
  let chosen: { name: BackendName; result: TryResult & { ok: true } } | undefined;
  for (const name of order) {
    if (forced && name !== requested) {
      attempts.push({
        backend: name,
        package: BACKEND_PACKAGES[name],
        outcome: 'not tried',
        reason: `${requested} was ${forcedText(requested, forcedBy ?? 'option')}`,
      });
      continue;
    }
    if (chosen) {
      attempts.push({
        backend: name,
        package: BACKEND_PACKAGES[name],
        outcome: 'not tried',
        reason: `${chosen.name} was chosen first`,
      });
      continue;
    }
    const result = await attempt(name, context);
    if (result.ok) {
      chosen = { name, result };
      attempts.push({
        backend: name,
        package: BACKEND_PACKAGES[name],
        outcome: 'chosen',
        reason: result.detail,
        version: result.version,
      });
    } else {
      attempts.push({
        backend: name,
        package: BACKEND_PACKAGES[name],
        outcome: result.outcome,
        reason: result.reason,
        version: result.version,
      });
    }
  }
  if (!chosen) {
    const why = attempts
      .filter((a) => a.outcome !== 'not tried')
      .map((a) => `${a.backend}: ${a.reason}`)
      .join('; ');
    throw new BackendError(
      forced
        ? forcedBy === 'VID_BACKEND'
          ? `VID_BACKEND=${requested} was forced but cannot be used: ${why}`
          : `backend '${requested}' was forced by the option but cannot be used: ${why}`
        : `no TensorFlow.js backend could be loaded (${why}). Install @tensorflow/tfjs-backend-wasm or @tensorflow/tfjs-backend-cpu.`,
    );
  }
  await ensureGradients();
  // Accurate float32 sums for bias gradients (bias-grad.ts), on every backend vid registers kernels for.
  registerAccurateSum();
  const skipped = attempts.filter((a) => a.outcome === 'skipped' || a.outcome === 'failed');
  const line =
    `vid: backend ${chosen.name} (${chosen.result.detail})` +
    (forced && forcedBy ? ` — ${forcedText(requested as BackendName, forcedBy)}` : '') +
    (skipped.length ? `; skipped ${skipped.map((a) => `${a.backend}: ${a.reason}`).join('; ')}` : '');
  if (log === true) console.error(line);
  else if (typeof log === 'function') log(line);
  return {
    backend: chosen.name,
    tfBackend: tf.getBackend(),
    environment: isNode ? 'node' : 'browser',
    forced,
    ...(forced && forcedBy ? { forcedBy } : {}),
    attempts,
    simd: chosen.result.simd,
    threads: chosen.result.threads,
    kernelsAdded: chosen.result.kernels ?? [],
    line,
    tfjsVersion: tf.version_core,
    nodeVersion: isNode ? process.versions.node : undefined,
  };
}

/** The first non-empty line of an error's message. */
export function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n').find((l) => l.trim().length > 0) ?? message).trim();
}

/**
 * Runs `fn` with TensorFlow.js's own warnings off (its `PROD` flag: native packages re-register
 * kernels noisily). Only the flag changes, and it is restored; no global is patched.
 */
export async function withTfWarningsOff<T>(fn: () => Promise<T> | T): Promise<T> {
  const flags = tf.env();
  const before = flags.getBool('PROD');
  flags.set('PROD', true);
  try {
    return await fn();
  } finally {
    flags.set('PROD', before);
  }
}

/** A multi-line report of a backend selection (the backend, versions, and every attempt). */
export function formatBackendReport(report: BackendReport): string {
  const forced =
    report.forcedBy === 'VID_BACKEND' ? ', forced by VID_BACKEND' : report.forced ? ', forced by the option' : '';
  const lines = [
    `backend:      ${report.backend} (TensorFlow.js backend "${report.tfBackend}")${forced}`,
    `tfjs-core:    ${report.tfjsVersion}`,
  ];
  if (report.nodeVersion) lines.push(`node:         ${report.nodeVersion}`);
  if (report.simd !== undefined) lines.push(`wasm SIMD:    ${report.simd ? 'yes' : 'no'}`);
  if (report.threads !== undefined) lines.push(`wasm threads: ${report.threads}`);
  if (report.kernelsAdded.length) lines.push(`vid kernels:  ${report.kernelsAdded.join(', ')}`);
  lines.push('', 'selection (in order of preference):');
  for (const a of report.attempts) {
    lines.push(`  ${a.backend.padEnd(6)} ${a.outcome.padEnd(9)} ${a.package}${a.version ? `@${a.version}` : ''}`);
    lines.push(`         ${a.reason}`);
  }
  return lines.join('\n');
}
