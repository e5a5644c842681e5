// Runs a script in a fresh Node process, as a user of the published packages would: the script
// (TypeScript or JavaScript) is bundled with esbuild the way tsup bundles the packages (workspace
// packages from their sources through the `@vid/source` condition, tfjs-core's entry and the
// backends left external, tfjs-core's `dist/` modules bundled), written under the calling
// package's `node_modules/.vid-test/` so that the externals resolve, and run with `node`.
//
// Used by the tests that prove `loadModel` needs nothing but the file: nothing registered in
// the test process reaches the fresh one.
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { tfjsCoreEntryOnly } from '@vid/tsup-config';
import { build } from 'esbuild';

/**
 * @param {object} options
 * @param {string} options.packageDir the calling package's directory (its node_modules resolve the externals)
 * @param {string} options.source the script's source code (ES module, TypeScript allowed)
 * @param {string[]} [options.args] command-line arguments
 * @param {number} [options.timeoutMs]
 * @returns {Promise<string>} the script's stdout
 */
export async function runFreshNode({ packageDir, source, args = [], timeoutMs = 120_000 }) {
  const dir = join(packageDir, 'node_modules', '.vid-test');
  await mkdir(dir, { recursive: true });
  const stem = `fresh-${process.pid}-${Date.now().toString(36)}`;
  const entry = join(dir, `${stem}.ts`);
  const outfile = join(dir, `${stem}.mjs`);
  await writeFile(entry, source);
  try {
    await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      conditions: ['@vid/source'],
      logLevel: 'error',
      external: [
        '@tensorflow/tfjs-backend-cpu',
        '@tensorflow/tfjs-backend-wasm',
        '@tensorflow/tfjs-node',
        '@tensorflow/tfjs-node-gpu',
        'node:*',
      ],
      plugins: [tfjsCoreEntryOnly],
      banner: {
        js: "import { createRequire as __vidCreateRequire } from 'node:module'; const require = __vidCreateRequire(import.meta.url);",
      },
    });
    const { stdout } = await promisify(execFile)(process.execPath, [outfile, ...args], {
      cwd: packageDir,
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } finally {
    await rm(entry, { force: true });
    await rm(outfile, { force: true });
  }
}
