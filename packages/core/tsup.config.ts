import { fileURLToPath } from 'node:url';

import { library, tfjsCoreEntryOnly } from '@vid/tsup-config';

const source = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/** The tfjs backends and fflate stay external in both builds (dependencies of `@vid/core`). */
const external = [
  /^@tensorflow\/tfjs-(backend-cpu|backend-wasm|backend-webgl|backend-webgpu|node|node-gpu)$/,
  /^fflate$/,
];

export default library([
  /**
   * Node build (`dist/index.js`, the `import` condition). `@tensorflow/tfjs-core` is a peer
   * dependency and stays external; its `dist/register_all_gradients` module is bundled into a
   * chunk of its own, because tfjs-core's Node entry registers no gradients and Node cannot load
   * that extensionless ES module by itself (see src/backend/gradients.ts). The chunk is named
   * `register_all_gradients-<hash>.js`, which package.json's `sideEffects` lists.
   */
  {
    entry: { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts' },
    platform: 'neutral',
    clean: false,
    splitting: true,
    external: [...external, /^node:/],
    esbuildOptions(options) {
      options.chunkNames = '[name]-[hash]';
    },
    esbuildPlugins: [tfjsCoreEntryOnly],
    noExternal: [/^@tensorflow\/tfjs-core\/dist\//],
  },
  /**
   * Browser build (`dist/browser/index.js`, the `browser` condition), for bundlers. tfjs-core's
   * own `dist/register_all_gradients` stays an external import (the application's bundler
   * resolves it to the one tfjs-core; tfjs-core declares it side-effectful). Node built-ins are
   * replaced: `node:zlib` by fflate, the rest by a module that throws a clear error, and the Node
   * half of backend selection by a stub, so no `node:` import reaches a page.
   */
  {
    entry: { 'browser/index': 'src/index.ts' },
    platform: 'browser',
    dts: false,
    clean: false,
    splitting: true,
    removeNodeProtocol: false,
    external: [...external, /^@tensorflow\/tfjs-core(\/dist\/register_all_gradients\.js)?$/],
    esbuildOptions(options) {
      options.chunkNames = 'browser/[name]-[hash]';
    },
    esbuildPlugins: [
      {
        name: 'vid-browser-platform',
        setup(build) {
          build.onResolve({ filter: /^node:zlib$/ }, () => ({ path: source('src/platform/zlib.browser.ts') }));
          build.onResolve({ filter: /^node:/ }, () => ({ path: source('src/platform/node-only.browser.ts') }));
          build.onResolve({ filter: /\/node-backends\.js$/ }, () => ({
            path: source('src/backend/node-backends.browser.ts'),
          }));
        },
      },
    ],
  },
]);
