import { doctor } from '@vid/core';
import type { Command } from 'commander';

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
