// Bundling the test page (or one package) with each bundler vid supports in browsers: Vite 8
// (rolldown), Vite 7 (Rollup), esbuild and webpack 5. Every build resolves the `browser` export
// condition, minifies, and keeps tfjs and the page's other imports as they come.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** Builds `entry` (in `root`) into `outDir` as a browser bundle; returns the output JS files. */
export async function bundle(bundler, { root, entry, outDir, external = [] }) {
  if (bundler === 'vite8' || bundler === 'vite7') {
    const { build } = await import(bundler === 'vite8' ? 'vite' : 'vite7');
    await build({
      root,
      logLevel: 'error',
      configFile: false,
      build: {
        outDir,
        emptyOutDir: true,
        reportCompressedSize: false,
        chunkSizeWarningLimit: 100_000,
        ...(entry.endsWith('.html') ? {} : { lib: { entry: join(root, entry), formats: ['es'], fileName: 'bundle' } }),
        ...(bundler === 'vite8' ? { rolldownOptions: { external } } : { rollupOptions: { external } }),
      },
    });
  } else if (bundler === 'esbuild') {
    const esbuild = await import('esbuild');
    await esbuild.build({
      entryPoints: [join(root, entry)],
      bundle: true,
      minify: true,
      format: 'esm',
      splitting: true,
      platform: 'browser',
      target: 'es2022',
      outdir: outDir,
      external,
      logLevel: 'error',
    });
  } else if (bundler === 'webpack') {
    const { default: webpack } = await import('webpack');
    const stats = await new Promise((done, fail) =>
      webpack(
        {
          mode: 'production',
          target: 'web',
          context: root,
          entry: `./${entry}`,
          output: { path: outDir, filename: 'main.js', module: true, chunkFormat: 'module', clean: true },
          experiments: { outputModule: true, topLevelAwait: true },
          externalsType: 'module',
          externals: external,
          performance: { hints: false },
        },
        (error, result) => (error ? fail(error) : done(result)),
      ),
    );
    if (stats.hasErrors()) throw new Error(stats.toString({ all: false, errors: true }));
  } else {
    throw new Error(`unknown bundler ${bundler}`);
  }
  return listJs(outDir);
}

function listJs(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listJs(path));
    else if (entry.name.endsWith('.js') || entry.name.endsWith('.mjs')) out.push(path);
  }
  return out;
}

/** Minified and gzip bytes of some files, summed. */
export function sizeOf(files) {
  let minified = 0;
  let gzip = 0;
  for (const file of files) {
    const bytes = readFileSync(file);
    minified += bytes.byteLength;
    gzip += gzipSync(bytes, { level: 9 }).byteLength;
  }
  return { minified, gzip };
}

/** An index.html that loads a bundle's entry as a module. */
export function writeHtml(outDir, script) {
  writeFileSync(
    join(outDir, 'index.html'),
    `<!doctype html><html><head><meta charset="utf-8"></head><body><pre id="log"></pre><script type="module" src="./${script}"></script></body></html>\n`,
  );
}
