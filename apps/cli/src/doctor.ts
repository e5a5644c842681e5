import { type BackendName, type InitBackendOptions, formatBackendReport, initBackend } from '@vid/core';
import type { Command } from 'commander';

/**
 * What each backend needs, for the doctor report. Kept here, in the app, not in `@vid/core`:
 * these are install notes for people, and the CUDA versions are those tfjs-node-gpu 4.22 was
 * built against.
 */
export const BACKEND_REQUIREMENTS: ReadonlyArray<readonly [BackendName, string]> = [
  [
    'gpu',
    '@tensorflow/tfjs-node-gpu, Linux x86-64, an NVIDIA driver, CUDA 11.2 and cuDNN 8.1, and network access at install',
  ],
  ['node', '@tensorflow/tfjs-node, Linux/macOS/Windows x86-64 (or macOS arm64), network access at install'],
  ['webgpu', 'browsers only: @tensorflow/tfjs-backend-webgpu (installed with @vid/core) and navigator.gpu'],
  ['webgl', 'browsers only: @tensorflow/tfjs-backend-webgl (installed with @vid/core) and WebGL2'],
  ['wasm', '@tensorflow/tfjs-backend-wasm (installed with @vid/core); any platform'],
  ['cpu', '@tensorflow/tfjs-backend-cpu (installed with @vid/core); any platform, slowest'],
];

/** Initialises the backend (quietly) and returns the full report, with what each backend needs. */
export async function doctor(options: Omit<InitBackendOptions, 'log'> = {}): Promise<string> {
  const report = await initBackend({ ...options, log: false });
  return [
    formatBackendReport(report),
    '',
    'what each backend needs:',
    ...BACKEND_REQUIREMENTS.map(([name, needs]) => `  ${name.padEnd(6)} ${needs}`),
    '  force one with VID_BACKEND=gpu|node|wasm|cpu; set wasm threads with VID_WASM_THREADS',
  ].join('\n');
}

/** `vid doctor`: which TensorFlow.js backend runs here, and why the faster ones do not. */
export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('print the backend report: which TensorFlow.js backend runs, and why each faster one was skipped')
    .option('--backend <name>', 'force a backend: gpu, node, wasm or cpu (default: VID_BACKEND or auto)')
    .action(async (options: { backend?: 'gpu' | 'node' | 'wasm' | 'cpu' }) => {
      console.log(await doctor({ backend: options.backend }));
    });
}
