/**
 * The Node.js half of backend selection: native libtensorflow (`gpu`, `node`), wasm on worker
 * threads, and cpu, each found from vid's location, the working directory or the main script.
 * Loaded by `select.ts` only in Node; the browser build of `@vid/core` replaces this module.
 */
import * as tf from '@tensorflow/tfjs-core';

import {
  BACKEND_PACKAGES,
  type BackendName,
  type TryContext,
  type TryResult,
  firstLine,
  withTfWarningsOff,
} from './select.js';
import { startSimdKernelWorkers } from './simd/node-pool.js';
import { registerWasmTrainingKernels } from './wasm-kernels.js';
import { type EmscriptenHeap, guardWasmHeap } from './wasm-memory.js';
import { enableNodeWasmThreads, restoreAfterWasmInit, unrefWasmWorkers } from './wasm-threads.js';

interface NodeTools {
  require(base: string): NodeJS.Require;
  exists(path: string): Promise<boolean>;
  readdir(path: string): Promise<string[]>;
  dirname(path: string): string;
  join(...parts: string[]): string;
  fileUrl(path: string): string;
  cpus(): number;
}

let toolsPromise: Promise<NodeTools> | undefined;

function nodeTools(): Promise<NodeTools> {
  toolsPromise ??= (async () => {
    const [{ createRequire }, fs, path, url, os] = await Promise.all([
      import('node:module'),
      import('node:fs/promises'),
      import('node:path'),
      import('node:url'),
      import('node:os'),
    ]);
    return {
      require: (base: string) => createRequire(base),
      exists: (p: string) =>
        fs.access(p).then(
          () => true,
          () => false,
        ),
      readdir: (p: string) => fs.readdir(p).catch(() => []),
      dirname: path.dirname,
      join: path.join,
      fileUrl: (p: string) => url.pathToFileURL(p).href,
      cpus: () => (typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length),
    };
  })();
  return toolsPromise;
}

type Located = { require: NodeJS.Require; dir: string; version?: string } | undefined;

/**
 * Finds a package from vid's own location, the working directory or the main script, so that
 * optional backends installed by an application (not by `@vid/core`) are found too.
 */
function locate(tools: NodeTools, pkg: string): Located {
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

/** Tries one backend in Node.js. */
export async function tryNodeBackend(name: BackendName, context: TryContext): Promise<TryResult> {
  const tools = await nodeTools();
  const located = locate(tools, BACKEND_PACKAGES[name]);
  const version = located?.version;
  let result: TryResult;
  if (name === 'gpu' || name === 'node') result = await tryNative(tools, name, located);
  else if (name === 'wasm') result = await tryWasm(tools, context.threads, located);
  else if (name === 'cpu') result = await tryCpu(located);
  else result = { ok: false, outcome: 'skipped', reason: `${name} runs in browsers only` };
  return version ? { ...result, version } : result;
}

async function tryNative(tools: NodeTools, name: 'gpu' | 'node', located: Located): Promise<TryResult> {
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
    return {
      ok: false,
      outcome: 'skipped',
      reason: `${pkg} is installed but its native binding is missing (its install script could not download libtensorflow)`,
    };
  }
  try {
    await withTfWarningsOff(() => located.require(pkg));
  } catch (error) {
    return { ok: false, outcome: 'failed', reason: `${pkg} failed to load: ${firstLine(error)}` };
  }
  if (!(await tf.setBackend('tensorflow'))) {
    return { ok: false, outcome: 'failed', reason: `${pkg} loaded but the tensorflow backend did not initialise` };
  }
  return { ok: true, detail: `${pkg}${located.version ? ` ${located.version}` : ''}` };
}

async function tryWasm(tools: NodeTools, threads: number | 'auto', located: Located): Promise<TryResult> {
  const pkg = BACKEND_PACKAGES.wasm;
  let wasmModule: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    wasmModule = located ? (located.require(pkg) as typeof wasmModule) : await import('@tensorflow/tfjs-backend-wasm');
  } catch (error) {
    return {
      ok: false,
      outcome: located ? 'failed' : 'skipped',
      reason: located ? `${pkg} failed to load: ${firstLine(error)}` : `${pkg} is not installed`,
    };
  }
  let threadCount = 1;
  const wanted = threads === 'auto' ? Math.min(8, tools.cpus()) : threads;
  if (wanted > 1) threadCount = await enableNodeWasmThreads(wasmModule, wanted, located?.dir);
  let ok = false;
  let failure = '';
  const listeners = processListeners();
  try {
    ok = await withTfWarningsOff(() => tf.setBackend('wasm'));
  } catch (error) {
    failure = firstLine(error);
  } finally {
    restoreAfterWasmInit();
    removeAddedListeners(listeners);
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
  if (!ok)
    return {
      ok: false,
      outcome: 'failed',
      reason: `${pkg} failed to initialise${failure ? `: ${failure}` : ' its WebAssembly module'}`,
    };
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  if (threadCount > 1) {
    threadCount = wasmModule.getThreadsCount();
    unrefWasmWorkers();
  }
  const kernels = registerWasmTrainingKernels();
  const heap = (tf.findBackend('wasm') as unknown as { wasm?: EmscriptenHeap } | null)?.wasm;
  if (heap) guardWasmHeap(heap);
  const backend = tf.findBackend('wasm');
  if (backend && threadCount > 1) await startSimdKernelWorkers(backend, threadCount);
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
  return {
    uncaughtException: emitter.listeners('uncaughtException'),
    unhandledRejection: emitter.listeners('unhandledRejection'),
  };
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

async function tryCpu(located: Located): Promise<TryResult> {
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
