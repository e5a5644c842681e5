/**
 * Backend selection. vid picks the fastest TensorFlow.js backend that loads, in this order:
 *
 * 1. `gpu`  — `@tensorflow/tfjs-node-gpu` (libtensorflow with CUDA);
 * 2. `node` — `@tensorflow/tfjs-node` (libtensorflow on the CPU);
 * 3. `wasm` — `@tensorflow/tfjs-backend-wasm` (XNNPACK, SIMD), with vid's training kernels;
 * 4. `cpu`  — `@tensorflow/tfjs-backend-cpu` (plain JavaScript).
 *
 * The native packages are optional: their install script downloads libtensorflow, which fails
 * without network access or CUDA, and then their binding is missing. Such a backend is skipped
 * with the reason. `VID_BACKEND=gpu|node|wasm|cpu` (or `initBackend({backend})`) forces one; a
 * forced backend that cannot load is a {@link BackendError} that says why.
 *
 * One line names the backend chosen and why each one before it was skipped; {@link doctor}
 * prints the full report.
 */
import * as tf from '@tensorflow/tfjs-core';

import { BackendError, ConfigError } from '../errors.js';
import { ensureGradients } from './gradients.js';
import { registerAccurateSum } from './bias-grad.js';
import { registerWasmTrainingKernels } from './wasm-kernels.js';
import { enableNodeWasmThreads, restoreAfterWasmInit, unrefWasmWorkers } from './wasm-threads.js';

/** vid's names for the backends, in order of preference. */
export type BackendName = 'gpu' | 'node' | 'wasm' | 'cpu';

export const BACKEND_ORDER: readonly BackendName[] = ['gpu', 'node', 'wasm', 'cpu'];

/** The npm package behind each backend. */
export const BACKEND_PACKAGES: Readonly<Record<BackendName, string>> = {
  gpu: '@tensorflow/tfjs-node-gpu',
  node: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

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
  /** TensorFlow.js's name of it (`tensorflow`, `wasm`, `cpu`). */
  readonly tfBackend: string;
  /** Whether `VID_BACKEND` or the `backend` option forced it. */
  readonly forced: boolean;
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
   * @default process.env.VID_BACKEND ?? 'auto'
   */
  readonly backend?: BackendName | 'auto';
  /**
   * Where the one-line summary goes: `true` for stderr, `false` for nowhere, or a function.
   * @default true
   */
  readonly log?: boolean | ((line: string) => void);
  /**
   * wasm threads. In Node, tfjs-backend-wasm runs one thread as shipped; vid can start its
   * threaded build on worker threads. `'auto'` uses every core up to 8, 1 disables threads.
   * Also read from `VID_WASM_THREADS`.
   * @default 'auto'
   */
  readonly threads?: number | 'auto';
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
 * Chooses and initialises the backend (once per process: later calls return the same report,
 * unless they force a different backend). Registers gradients, and vid's kernels for wasm.
 */
export function initBackend(options: InitBackendOptions = {}): Promise<BackendReport> {
  const requested = options.backend ?? parseBackend(envValue('VID_BACKEND'), 'VID_BACKEND');
  const threads = options.threads ?? parseThreads(envValue('VID_WASM_THREADS'));
  const key = `${requested}:${threads}`;
  if (current && (currentKey === key || requested === 'auto')) return current;
  currentKey = key;
  current = select(requested, threads, options.log ?? true).catch((error: unknown) => {
    current = undefined;
    currentKey = undefined;
    throw error;
  });
  return current;
}

/** The report of the backend chosen so far, if any. */
export async function currentBackend(): Promise<BackendReport | undefined> {
  return current;
}

function parseThreads(value: string | undefined): number | 'auto' {
  if (value === undefined || value === '' || value === 'auto') return 'auto';
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError('VID_WASM_THREADS', 'a positive integer or auto', value, 'backend selection');
  return n;
}

interface NodeTools {
  require(base: string): NodeRequire;
  exists(path: string): Promise<boolean>;
  readdir(path: string): Promise<string[]>;
  dirname(path: string): string;
  join(...parts: string[]): string;
  fileUrl(path: string): string;
  cpus(): number;
}

async function nodeTools(): Promise<NodeTools> {
  const [{ createRequire }, fs, path, url, os] = await Promise.all([
    import('node:module'),
    import('node:fs/promises'),
    import('node:path'),
    import('node:url'),
    import('node:os'),
  ]);
  return {
    require: (base) => createRequire(base),
    exists: (p) => fs.access(p).then(() => true, () => false),
    readdir: (p) => fs.readdir(p).catch(() => []),
    dirname: path.dirname,
    join: path.join,
    fileUrl: (p) => url.pathToFileURL(p).href,
    cpus: () => (typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length),
  };
}

/**
 * Finds a package from vid's own location, the working directory or the main script, so that
 * optional backends installed by an application (not by `@vid/core`) are found too.
 */
function locate(tools: NodeTools, pkg: string): { require: NodeRequire; dir: string; version?: string } | undefined {
  const bases = [import.meta.url, tools.fileUrl(`${process.cwd()}/`)];
  if (process.argv[1]) bases.push(tools.fileUrl(process.argv[1]));
  for (const base of bases) {
    try {
      const req = tools.require(base);
      const manifest = req.resolve(`${pkg}/package.json`);
      const version = (req(manifest) as { version?: string }).version;
      return { require: req, dir: tools.dirname(manifest), version };
    } catch {
      // not found from this base
    }
  }
  return undefined;
}

/** Runs `fn` with console.warn/log silenced (native packages print kernel re-registration noise). */
async function quietly<T>(fn: () => Promise<T> | T): Promise<T> {
  const { warn, log } = console;
  console.warn = () => undefined;
  console.log = () => undefined;
  try {
    return await fn();
  } finally {
    console.warn = warn;
    console.log = log;
  }
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n').find((l) => l.trim().length > 0) ?? message).trim();
}

type TryResult = { ok: true; simd?: boolean; threads?: number; kernels?: string[]; detail: string } | { ok: false; outcome: 'skipped' | 'failed'; reason: string };

async function tryNative(tools: NodeTools, name: 'gpu' | 'node', located: ReturnType<typeof locate>): Promise<TryResult> {
  const pkg = BACKEND_PACKAGES[name];
  if (!located) return { ok: false, outcome: 'skipped', reason: `${pkg} is not installed` };
  if (name === 'gpu' && !(await tools.exists('/proc/driver/nvidia/version'))) {
    return { ok: false, outcome: 'skipped', reason: 'no NVIDIA driver (/proc/driver/nvidia/version not found)' };
  }
  const libDir = tools.join(located.dir, 'lib');
  const napi = (await tools.readdir(libDir)).filter((d) => d.startsWith('napi-v'));
  let binding = false;
  for (const dir of napi) if (await tools.exists(tools.join(libDir, dir, 'tfjs_binding.node'))) binding = true;
  if (!binding) {
    return { ok: false, outcome: 'skipped', reason: `${pkg} is installed but its native binding is missing (its install script could not download libtensorflow)` };
  }
  try {
    await quietly(() => located.require(pkg));
  } catch (error) {
    return { ok: false, outcome: 'failed', reason: `${pkg} failed to load: ${firstLine(error)}` };
  }
  if (!(await tf.setBackend('tensorflow'))) {
    return { ok: false, outcome: 'failed', reason: `${pkg} loaded but the tensorflow backend did not initialise` };
  }
  return { ok: true, detail: `${pkg}${located.version ? ` ${located.version}` : ''}` };
}

async function tryWasm(tools: NodeTools | undefined, threads: number | 'auto', located: ReturnType<typeof locate> | undefined): Promise<TryResult> {
  const pkg = BACKEND_PACKAGES.wasm;
  let wasmModule: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    wasmModule = located ? (located.require(pkg) as typeof wasmModule) : await import('@tensorflow/tfjs-backend-wasm');
  } catch (error) {
    return { ok: false, outcome: located || !tools ? 'failed' : 'skipped', reason: located ? `${pkg} failed to load: ${firstLine(error)}` : `${pkg} is not installed` };
  }
  let threadCount = 1;
  if (tools) {
    const wanted = threads === 'auto' ? Math.min(8, tools.cpus()) : threads;
    if (wanted > 1) threadCount = await enableNodeWasmThreads(wasmModule, wanted, located?.dir);
  }
  let ok = false;
  let failure = '';
  const listeners = isNode ? processListeners() : undefined;
  try {
    ok = await quietly(() => tf.setBackend('wasm'));
  } catch (error) {
    failure = firstLine(error);
  } finally {
    restoreAfterWasmInit();
    if (listeners) removeAddedListeners(listeners);
  }
  if (!ok && threadCount > 1) {
    // The threaded build did not start: fall back to the single-threaded one.
    threadCount = 1;
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    wasmModule.setThreadsCount(1);
    try {
      ok = await tf.setBackend('wasm');
    } catch (error) {
      failure = firstLine(error);
    }
  }
  if (!ok) return { ok: false, outcome: 'failed', reason: `${pkg} failed to initialise${failure ? `: ${failure}` : ' its WebAssembly module'}` };
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  if (threadCount > 1) {
    threadCount = wasmModule.getThreadsCount();
    unrefWasmWorkers();
  }
  const kernels = registerWasmTrainingKernels();
  const version = located?.version ?? wasmModule.version_wasm;
  return {
    ok: true,
    simd: Boolean(simd),
    threads: threadCount,
    kernels,
    detail: `${pkg}${version ? ` ${version}` : ''}, ${simd ? 'SIMD' : 'no SIMD'}, ${threadCount} thread${threadCount === 1 ? '' : 's'}`,
  };
}

type Listener = (...args: unknown[]) => void;
type ProcessListeners = Record<'uncaughtException' | 'unhandledRejection', Listener[]>;

function processListeners(): ProcessListeners {
  const emitter = process as unknown as { listeners(e: string): Listener[] };
  return { uncaughtException: emitter.listeners('uncaughtException'), unhandledRejection: emitter.listeners('unhandledRejection') };
}

/**
 * Emscripten's Node runtime installs `uncaughtException` and `unhandledRejection` handlers that
 * rethrow, so any later unhandled error in the application prints the whole minified wasm glue
 * source. vid removes the handlers the wasm backend added, restoring Node's default behaviour.
 */
function removeAddedListeners(before: ProcessListeners): void {
  for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
    const emitter = process as unknown as { listeners(e: string): Listener[] };
    for (const listener of emitter.listeners(event)) {
      if (!before[event].includes(listener)) (process as NodeJS.EventEmitter).removeListener(event, listener);
    }
  }
}

async function tryCpu(located: ReturnType<typeof locate> | undefined): Promise<TryResult> {
  const pkg = BACKEND_PACKAGES.cpu;
  try {
    if (located) located.require(pkg);
    else await import('@tensorflow/tfjs-backend-cpu');
  } catch (error) {
    return { ok: false, outcome: 'failed', reason: `${pkg} failed to load: ${firstLine(error)}` };
  }
  if (!(await tf.setBackend('cpu'))) return { ok: false, outcome: 'failed', reason: `${pkg} did not initialise` };
  // The cpu backend greets Node users once with a banner recommending tfjs-node; vid already
  // printed why it is on cpu.
  (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  return { ok: true, detail: `${pkg}${located?.version ? ` ${located.version}` : ''}, plain JavaScript` };
}

async function select(requested: BackendName | 'auto', threads: number | 'auto', log: boolean | ((line: string) => void)): Promise<BackendReport> {
  const tools = isNode ? await nodeTools() : undefined;
  const attempts: BackendAttempt[] = [];
  const candidates = requested === 'auto' ? BACKEND_ORDER : [requested];
  let chosen: { name: BackendName; result: TryResult & { ok: true } } | undefined;
  for (const name of BACKEND_ORDER) {
    if (!candidates.includes(name)) {
      attempts.push({ backend: name, package: BACKEND_PACKAGES[name], outcome: 'not tried', reason: `VID_BACKEND=${requested}` });
      continue;
    }
    if (chosen) {
      attempts.push({ backend: name, package: BACKEND_PACKAGES[name], outcome: 'not tried', reason: `${chosen.name} was chosen first` });
      continue;
    }
    const located = tools ? locate(tools, BACKEND_PACKAGES[name]) : undefined;
    let result: TryResult;
    if (name === 'gpu' || name === 'node') {
      result = tools ? await tryNative(tools, name, located) : { ok: false, outcome: 'skipped', reason: 'not running in Node.js' };
    } else if (name === 'wasm') {
      result = await tryWasm(tools, threads, located);
    } else {
      result = await tryCpu(located);
    }
    if (result.ok) {
      chosen = { name, result };
      attempts.push({ backend: name, package: BACKEND_PACKAGES[name], outcome: 'chosen', reason: result.detail, version: located?.version });
    } else {
      attempts.push({ backend: name, package: BACKEND_PACKAGES[name], outcome: result.outcome, reason: result.reason, version: located?.version });
    }
  }
  if (!chosen) {
    const why = attempts.filter((a) => a.outcome !== 'not tried').map((a) => `${a.backend}: ${a.reason}`).join('; ');
    throw new BackendError(
      requested === 'auto'
        ? `no TensorFlow.js backend could be loaded (${why}). Install @tensorflow/tfjs-backend-wasm or @tensorflow/tfjs-backend-cpu.`
        : `VID_BACKEND=${requested} was forced but cannot be used: ${why}`,
    );
  }
  await ensureGradients();
  // Accurate float32 sums for bias gradients (bias-grad.ts), on every backend vid registers kernels for.
  registerAccurateSum();
  const skipped = attempts.filter((a) => a.outcome === 'skipped' || a.outcome === 'failed');
  const forced = requested !== 'auto';
  const line =
    `vid: backend ${chosen.name} (${chosen.result.detail})` +
    (forced ? ` — forced by VID_BACKEND=${requested}` : '') +
    (skipped.length ? `; skipped ${skipped.map((a) => `${a.backend}: ${a.reason}`).join('; ')}` : '');
  if (log === true) console.error(line);
  else if (typeof log === 'function') log(line);
  return {
    backend: chosen.name,
    tfBackend: tf.getBackend(),
    forced,
    attempts,
    simd: chosen.result.simd,
    threads: chosen.result.threads,
    kernelsAdded: chosen.result.kernels ?? [],
    line,
    tfjsVersion: tf.version_core,
    nodeVersion: isNode ? process.versions.node : undefined,
  };
}

/** A multi-line report of the backend selection, for `vid doctor`. */
export function formatBackendReport(report: BackendReport): string {
  const lines = [
    `backend:      ${report.backend} (TensorFlow.js backend "${report.tfBackend}")${report.forced ? ', forced' : ''}`,
    `tfjs-core:    ${report.tfjsVersion}`,
  ];
  if (report.nodeVersion) lines.push(`node:         ${report.nodeVersion}`);
  if (report.simd !== undefined) lines.push(`wasm SIMD:    ${report.simd ? 'yes' : 'no'}`);
  if (report.threads !== undefined) lines.push(`wasm threads: ${report.threads}`);
  if (report.kernelsAdded.length) lines.push(`vid kernels:  ${report.kernelsAdded.join(', ')}`);
  lines.push('', 'selection (in order of preference):');
  for (const a of report.attempts) {
    lines.push(`  ${a.backend.padEnd(5)} ${a.outcome.padEnd(9)} ${a.package}${a.version ? `@${a.version}` : ''}`);
    lines.push(`        ${a.reason}`);
  }
  lines.push(
    '',
    'what each backend needs:',
    '  gpu   @tensorflow/tfjs-node-gpu, Linux x86-64, an NVIDIA driver, CUDA 11.2 and cuDNN 8.1, and network access at install',
    '  node  @tensorflow/tfjs-node, Linux/macOS/Windows x86-64 (or macOS arm64), network access at install',
    '  wasm  @tensorflow/tfjs-backend-wasm (installed with @vid/core); any platform',
    '  cpu   @tensorflow/tfjs-backend-cpu (installed with @vid/core); any platform, slowest',
    '  force one with VID_BACKEND=gpu|node|wasm|cpu; set wasm threads with VID_WASM_THREADS',
  );
  return lines.join('\n');
}

/** Initialises the backend (quietly) and returns the full report as text. */
export async function doctor(options: Omit<InitBackendOptions, 'log'> = {}): Promise<string> {
  const report = await initBackend({ ...options, log: false });
  return formatBackendReport(report);
}
