// Bundle size of each package in a browser build, with Vite 8 and esbuild (`pnpm --filter
// @vid/browser-test sizes`, after the browser test has installed the tarballs in .work/project).
// Each package is bundled alone from its tarball (`export * from '@vid/<name>'`), minified, with
// TensorFlow.js and the other vid packages external; lazily loaded chunks (the tfjs backends'
// glue in @vid/core, fflate) count too.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { bundle, sizeOf } from './bundlers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const project = join(here, '.work', 'project');
if (!existsSync(join(project, 'node_modules', '@vid'))) {
  console.error('sizes: run the browser test first (node run.mjs): it installs the tarballs in .work/project');
  process.exit(1);
}
const names = readdirSync(join(project, 'node_modules', '@vid')).map((n) => `@vid/${n}`);
const kB = (n) => `${(n / 1024).toFixed(1)} kB`;
const rows = [];
for (const name of names) {
  const entry = `size-${name.slice(5)}.js`;
  writeFileSync(join(project, entry), `export * from '${name}';\n`);
  const others = names.filter((n) => n !== name);
  const row = [name];
  for (const bundler of ['vite8', 'esbuild']) {
    const outDir = join(project, `sizes-${bundler}`, name.slice(5));
    mkdirSync(outDir, { recursive: true });
    const external =
      bundler === 'esbuild'
        ? ['@tensorflow/*', ...others]
        : (id) => id.startsWith('@tensorflow/') || others.includes(id);
    const { minified, gzip } = sizeOf(await bundle(bundler, { root: project, entry, outDir, external }));
    row.push(kB(minified), kB(gzip));
  }
  rows.push(row);
  console.error(row.join('  '));
}
console.log('| package | Vite 8 minified | Vite 8 gzip | esbuild minified | esbuild gzip |');
console.log('|---|---:|---:|---:|---:|');
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
