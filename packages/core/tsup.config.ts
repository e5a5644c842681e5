import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts' },
  format: ['esm'],
  target: 'es2022',
  platform: 'neutral',
  dts: { compilerOptions: { composite: false } },
  sourcemap: true,
  clean: true,
  splitting: true,
  // `@tensorflow/tfjs-core` is a peer dependency and stays external; its
  // `dist/register_all_gradients` module is bundled, because tfjs-core's Node entry registers no
  // gradients and that file cannot be loaded by Node on its own (see src/backend/gradients.ts).
  external: [/^@tensorflow\/tfjs-(backend-cpu|backend-wasm|node|node-gpu)$/, /^node:/],
  esbuildPlugins: [
    {
      name: 'tfjs-core-external-entry-only',
      setup(build) {
        build.onResolve({ filter: /^@tensorflow\/tfjs-core$/ }, (args) => ({ path: args.path, external: true }));
      },
    },
  ],
  noExternal: [/^@tensorflow\/tfjs-core\/dist\//],
});
