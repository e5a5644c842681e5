/**
 * Multi-threaded wasm in Node.
 *
 * tfjs-backend-wasm ships a threaded SIMD build (Emscripten pthreads, with a Node-aware worker
 * script) but turns it off in Node (`WASM_HAS_MULTITHREAD_SUPPORT` is false when `IS_NODE`,
 * tensorflow/tfjs#3830), for two reasons this module works around, without patching the
 * package:
 *
 * 1. The pthread workers are started from a `blob:` URL, which Node's `Worker` cannot load.
 *    vid writes the package's own worker script (`wasmWorkerContents`) to a file in the
 *    temporary directory, with one addition: `importScripts` evaluates the package's threaded
 *    factory file from disk instead of the `blob:` URL. While the backend initialises,
 *    `URL.createObjectURL` returns that file's path for the worker blob.
 * 2. The C++ side sizes its thread pool as `min(requested, logical cores / 2)` (it assumes two
 *    hyper-threads per core), which is 1 on a two-core machine. While the module is
 *    instantiated, `os.cpus()` reports twice the requested count, so the pool gets exactly the
 *    number of threads asked for.
 *
 * XNNPACK's convolutions and matmuls then run on that many threads; element-wise kernels stay
 * single-threaded (that is how the package is built). Workers are unref'd by Emscripten, so the
 * process still exits normally. If anything fails, the backend falls back to one thread.
 */
type WasmModule = typeof import('@tensorflow/tfjs-backend-wasm');

import * as tf from '@tensorflow/tfjs-core';

/**
 * Prepares the wasm backend (before `tf.setBackend('wasm')`) to run `threads` threads. Returns
 * the number it will try to use: `threads`, or 1 if threading cannot be set up.
 */
export async function enableNodeWasmThreads(
  wasm: WasmModule,
  threads: number,
  packageDir: string | undefined,
): Promise<number> {
  if (threads <= 1 || !packageDir) return 1;
  try {
    const [fs, path, os, crypto, { createRequire }] = await Promise.all([
      import('node:fs/promises'),
      import('node:path'),
      import('node:os'),
      import('node:crypto'),
      import('node:module'),
    ]);
    if (typeof SharedArrayBuffer === 'undefined' || typeof URL.createObjectURL !== 'function') return 1;
    const require = createRequire(path.join(packageDir, 'package.json'));
    const workerModule = path.join(packageDir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js');
    const factory = path.join(packageDir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
    const contents = (require(workerModule) as { wasmWorkerContents?: string }).wasmWorkerContents;
    if (typeof contents !== 'string') return 1;
    await fs.access(factory);
    // The package escapes newlines the same way before it makes its Blob.
    const source = [
      contents.replace(/\n/g, '\\n'),
      ';(function () {',
      '  var fs = require("fs");',
      `  var factory = ${JSON.stringify(factory)};`,
      '  global.importScripts = function () {',
      '    (0, eval)(fs.readFileSync(factory, "utf8") + "\\n//# sourceURL=" + factory);',
      '  };',
      '})();',
      '',
    ].join('\n');
    const hash = crypto.createHash('sha256').update(source).digest('hex').slice(0, 16);
    const workerPath = path.join(os.tmpdir(), `vid-tfjs-wasm-worker-${hash}.js`);
    const existing = await fs.readFile(workerPath, 'utf8').catch(() => undefined);
    if (existing !== source) {
      const temp = `${workerPath}.${process.pid}.tmp`;
      await fs.writeFile(temp, source);
      await fs.rename(temp, workerPath);
    }

    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    wasm.setThreadsCount(threads);

    // Both patches last only while the backend initialises (see the module comment).
    const createObjectURL = URL.createObjectURL.bind(URL);
    URL.createObjectURL = (object: Blob | MediaSource) =>
      object instanceof Blob && object.type === 'application/javascript' ? workerPath : createObjectURL(object as Blob);
    const nodeOs = require('node:os') as typeof import('node:os');
    const cpus = nodeOs.cpus;
    const real = cpus.call(nodeOs);
    nodeOs.cpus = () =>
      Array.from({ length: 2 * threads }, (_, i) => real[i % real.length] as import('node:os').CpuInfo);
    restore = () => {
      URL.createObjectURL = createObjectURL;
      nodeOs.cpus = cpus;
    };
    return threads;
  } catch {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    return 1;
  }
}

let restore: (() => void) | undefined;

/** Undoes the temporary patches of {@link enableNodeWasmThreads} (after the backend is ready). */
export function restoreAfterWasmInit(): void {
  restore?.();
  restore = undefined;
}

/**
 * XNNPACK's thread pool starts its threads once, at initialisation, and they never exit; each
 * running pthread's worker is ref'd by Emscripten, which would keep Node alive after the
 * program is done. vid unrefs them (Node ends unref'd workers when the process exits).
 */
export function unrefWasmWorkers(): void {
  const backend = tf.findBackend('wasm') as unknown as {
    wasm?: { PThread?: { runningWorkers?: Array<{ unref?(): void }>; unusedWorkers?: Array<{ unref?(): void }> } };
  } | null;
  const pthread = backend?.wasm?.PThread;
  if (!pthread) return;
  for (const worker of [...(pthread.runningWorkers ?? []), ...(pthread.unusedWorkers ?? [])]) worker.unref?.();
}
