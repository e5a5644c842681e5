// The shared tsup presets of the vid workspace: one for the published libraries, one for the
// private apps. Each package's tsup.config.ts is `export default library({...})` or
// `export default app({...})` with only what differs (entries, platform).
import { defineConfig } from 'tsup';

/**
 * An esbuild plugin that keeps the entry of `@tensorflow/tfjs-core` external while its `dist/`
 * modules may be bundled (used by @vid/core, which bundles tfjs-core's `register_all_gradients`:
 * tfjs-core's Node entry registers no gradients, and that file cannot be loaded by Node on its own).
 */
export const tfjsCoreEntryOnly = {
  name: 'tfjs-core-external-entry-only',
  setup(build) {
    build.onResolve({ filter: /^@tensorflow\/tfjs-core$/ }, (args) => ({ path: args.path, external: true }));
  },
};

/**
 * A published library: ESM, ES2022, declarations, source maps; TensorFlow.js (a peer dependency),
 * the other @vid packages and Node built-ins stay external. `overrides` is one options object, or
 * one per build for a package with several builds (a Node and a browser build into one `dist`:
 * those set `clean: false` and their `build` script clears `dist` first).
 *
 * @param {import('tsup').Options | import('tsup').Options[]} [overrides]
 */
export function library(overrides = {}) {
  const base = {
    entry: ['src/index.ts'],
    format: ['esm'],
    target: 'es2022',
    // The package's tsconfig is a composite project (for `tsc -b`); tsup's declaration build is not.
    dts: { compilerOptions: { composite: false } },
    sourcemap: true,
    clean: true,
    external: [/^@tensorflow\//, /^@vid\//, /^node:/],
  };
  return defineConfig(
    Array.isArray(overrides) ? overrides.map((build) => ({ ...base, ...build })) : { ...base, ...overrides },
  );
}

/**
 * A private app (a command line): ESM for Node 20, source maps, no declarations.
 *
 * @param {import('tsup').Options} [overrides]
 */
export function app(overrides = {}) {
  return defineConfig({
    entry: { index: 'src/index.ts', main: 'src/main.ts' },
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    sourcemap: true,
    clean: true,
    dts: false,
    ...overrides,
  });
}
