/**
 * The browser half of backend selection: webgpu → webgl → wasm → cpu. Each backend package is
 * imported only when it is tried, so a bundler splits it into its own chunk.
 *
 * wasm and COOP/COEP: tfjs-backend-wasm's threaded build needs `SharedArrayBuffer`, which a
 * browser exposes only on a cross-origin isolated page (served with
 * `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`).
 * vid runs wasm with one thread unless the page is isolated and `threads > 1` is asked for; so a
 * page on a plain static host still runs wasm.
 */
import * as tf from '@tensorflow/tfjs-core';

import {
  BACKEND_PACKAGES,
  type BackendName,
  type TryContext,
  type TryResult,
  type WasmBinaryName,
  firstLine,
} from './select.js';
import { registerWasmTrainingKernels } from './wasm-kernels.js';
import { type EmscriptenHeap, guardWasmHeap } from './wasm-memory.js';

/** How long a backend may take to initialise before vid gives up on it. */
const INIT_TIMEOUT_MS = 60_000;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(
      () => fail(new Error(`${what} did not finish within ${INIT_TIMEOUT_MS / 1000} s`)),
      INIT_TIMEOUT_MS,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Tries one backend in a browser (or a web worker). */
export async function tryBrowserBackend(name: BackendName, context: TryContext): Promise<TryResult> {
  switch (name) {
    case 'webgpu':
      return tryWebGpu();
    case 'webgl':
      return tryWebGl();
    case 'wasm':
      return tryWasm(context);
    case 'cpu':
      return tryCpu();
    default:
      return { ok: false, outcome: 'skipped', reason: `${name} needs Node.js` };
  }
}

async function setBackend(name: string, pkg: string): Promise<string> {
  try {
    const ok = await withTimeout(tf.setBackend(name), `${pkg}'s initialisation`);
    return ok ? '' : `${pkg} did not initialise`;
  } catch (error) {
    return `${pkg} failed to initialise: ${firstLine(error)}`;
  }
}

async function tryWebGpu(): Promise<TryResult> {
  const pkg = BACKEND_PACKAGES.webgpu;
  const gpu = (globalThis.navigator as (Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }) | undefined)?.gpu;
  if (!gpu)
    return {
      ok: false,
      outcome: 'skipped',
      reason: 'navigator.gpu is missing (WebGPU needs a recent Chrome, Edge or Safari, and a secure context)',
    };
  let adapter: unknown;
  try {
    adapter = await gpu.requestAdapter();
  } catch (error) {
    return { ok: false, outcome: 'skipped', reason: `no WebGPU adapter (${firstLine(error)})` };
  }
  if (!adapter)
    return {
      ok: false,
      outcome: 'skipped',
      reason: 'no WebGPU adapter (the GPU or its driver is blocklisted, or WebGPU is disabled)',
    };
  try {
    await import('@tensorflow/tfjs-backend-webgpu');
  } catch (error) {
    return { ok: false, outcome: 'failed', reason: `${pkg} failed to load: ${firstLine(error)}` };
  }
  const failure = await setBackend('webgpu', pkg);
  if (failure) return { ok: false, outcome: 'failed', reason: failure };
  return { ok: true, detail: `${pkg} ${tf.version_core}` };
}

function hasWebGl2(): boolean {
  try {
    if (typeof document !== 'undefined') return document.createElement('canvas').getContext('webgl2') !== null;
    if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(1, 1).getContext('webgl2') !== null;
  } catch {
    return false;
  }
  return false;
}

async function tryWebGl(): Promise<TryResult> {
  const pkg = BACKEND_PACKAGES.webgl;
  if (!hasWebGl2())
    return {
      ok: false,
      outcome: 'skipped',
      reason: 'WebGL2 is not available (no GPU, or hardware acceleration is off)',
    };
  try {
    await import('@tensorflow/tfjs-backend-webgl');
  } catch (error) {
    return { ok: false, outcome: 'failed', reason: `${pkg} failed to load: ${firstLine(error)}` };
  }
  const failure = await setBackend('webgl', pkg);
  if (failure) return { ok: false, outcome: 'failed', reason: failure };
  const renderer = webGlRenderer();
  return {
    ok: true,
    detail: `${pkg} ${tf.version_core}, WebGL ${tf.env().getNumber('WEBGL_VERSION')}${renderer ? `, ${renderer}` : ''}`,
  };
}

function webGlRenderer(): string | undefined {
  try {
    const gl = (tf.backend() as unknown as { gpgpu?: { gl?: WebGL2RenderingContext } }).gpgpu?.gl;
    return gl ? String(gl.getParameter(gl.RENDERER)) : undefined;
  } catch {
    return undefined;
  }
}

/** The URL tfjs-backend-wasm will fetch for `file`, when {@link TryContext.wasmPaths} says. */
function wasmUrl(paths: TryContext['wasmPaths'], file: WasmBinaryName): string | undefined {
  if (paths === undefined) return undefined;
  const raw = typeof paths === 'string' ? `${paths}${file}` : paths[file];
  if (raw === undefined) return undefined;
  try {
    return new URL(raw, globalThis.location?.href).href;
  } catch {
    return raw;
  }
}

async function tryWasm(context: TryContext): Promise<TryResult> {
  const pkg = BACKEND_PACKAGES.wasm;
  let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    wasm = await import('@tensorflow/tfjs-backend-wasm');
  } catch (error) {
    return { ok: false, outcome: 'failed', reason: `${pkg} failed to load: ${firstLine(error)}` };
  }
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const threads = context.threads === 'auto' ? 1 : context.threads;
  const threaded = threads > 1 && isolated;
  if (!threaded) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  else wasm.setThreadsCount(threads);
  if (context.wasmPaths !== undefined) wasm.setWasmPaths(context.wasmPaths);
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const file: WasmBinaryName = threaded
    ? 'tfjs-backend-wasm-threaded-simd.wasm'
    : simd
      ? 'tfjs-backend-wasm-simd.wasm'
      : 'tfjs-backend-wasm.wasm';
  // A missing binary is the usual failure: check it first, so the reason names the URL.
  const url = wasmUrl(context.wasmPaths, file);
  if (context.wasmPaths !== undefined && url === undefined) {
    return {
      ok: false,
      outcome: 'failed',
      reason: `the wasmPaths option has no URL for ${file} (give a folder URL ending in '/', or a map with that key)`,
    };
  }
  if (url !== undefined) {
    const status = await fetch(url, { method: 'HEAD' }).then(
      (response) => (response.ok ? '' : `HTTP ${response.status}`),
      (error: unknown) => firstLine(error),
    );
    if (status)
      return {
        ok: false,
        outcome: 'failed',
        reason: `could not fetch its binary ${url} (${status}); serve the .wasm files of @tensorflow/tfjs-backend-wasm/dist/ there, or pass initBackend({ wasmPaths }) the URL that serves them`,
      };
  }
  const failure = await setBackend('wasm', pkg);
  if (failure) {
    const hint =
      url === undefined
        ? `; its binary ${file} was looked for next to the script: pass initBackend({ wasmPaths: '<folder URL>/' }) where the .wasm files of @tensorflow/tfjs-backend-wasm/dist/ are served`
        : '';
    return { ok: false, outcome: 'failed', reason: `${failure}${hint}` };
  }
  const kernels = registerWasmTrainingKernels();
  const heap = (tf.findBackend('wasm') as unknown as { wasm?: EmscriptenHeap } | null)?.wasm;
  if (heap) guardWasmHeap(heap);
  const count = threaded ? wasm.getThreadsCount() : 1;
  const why =
    threads > 1 && !isolated
      ? ' (the page is not cross-origin isolated: COOP/COEP headers are needed for threads)'
      : '';
  return {
    ok: true,
    simd,
    threads: count,
    kernels,
    detail: `${pkg} ${wasm.version_wasm}, ${simd ? 'SIMD' : 'no SIMD'}, ${count} thread${count === 1 ? '' : 's'}${why}`,
  };
}

async function tryCpu(): Promise<TryResult> {
  const pkg = BACKEND_PACKAGES.cpu;
  try {
    await import('@tensorflow/tfjs-backend-cpu');
  } catch (error) {
    return { ok: false, outcome: 'failed', reason: `${pkg} failed to load: ${firstLine(error)}` };
  }
  const failure = await setBackend('cpu', pkg);
  if (failure) return { ok: false, outcome: 'failed', reason: failure };
  return { ok: true, detail: `${pkg} ${tf.version_core}, plain JavaScript` };
}
