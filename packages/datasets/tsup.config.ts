import { fileURLToPath } from 'node:url';

import { library } from '@vid/tsup-config';

export default library([
  /** Node entry (`dist/index.js`): everything, PNG, ffmpeg and the dataset folders included. */
  { platform: 'node', clean: false },
  /**
   * Browser entry (`dist/browser.js`, the `browser` condition): `src/browser.ts`, with the one
   * Node seam `io/fs.ts` replaced by `io/fs.browser.ts`. pngjs and ffmpeg are not reachable from it.
   */
  {
    entry: { browser: 'src/browser.ts' },
    platform: 'browser',
    clean: false,
    removeNodeProtocol: false,
    esbuildPlugins: [
      {
        name: 'vid-datasets-browser-fs',
        setup(build) {
          const fsBrowser = fileURLToPath(new URL('src/io/fs.browser.ts', import.meta.url));
          build.onResolve({ filter: /\/fs\.js$/ }, () => ({ path: fsBrowser }));
          build.onResolve({ filter: /^node:/ }, (args) => ({
            errors: [{ text: `${args.path} reached the browser entry (from ${args.importer})` }],
          }));
        },
      },
    ],
  },
]);
