// Packs every package under packages/, checks each tarball with publint and
// are-the-types-wrong, then installs all tarballs with npm into an empty temporary project and
// imports every package there — with Node (runtime) and with tsc (types) — as an npm user would.
//
// Runs as this workspace's `test` task (turbo builds the packages first).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');
const packagesDir = join(root, 'packages');
const work = mkdtempSync(join(tmpdir(), 'vid-pack-check-'));
const tarballs = join(work, 'tarballs');
const project = join(work, 'project');
const bin = (name) => join(import.meta.dirname, 'node_modules', '.bin', name);
const run = (command, args, cwd, options = {}) => {
  console.log(`$ ${[command, ...args].join(' ')}${cwd ? `   (in ${cwd})` : ''}`);
  return execFileSync(command, args, {
    cwd,
    stdio: options.capture ? 'pipe' : 'inherit',
    encoding: 'utf8',
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
};

let failed = false;
try {
  const names = readdirSync(packagesDir).filter((d) => !d.startsWith('.'));
  const packages = names.map((dir) => ({
    dir: join(packagesDir, dir),
    manifest: JSON.parse(readFileSync(join(packagesDir, dir, 'package.json'), 'utf8')),
  }));
  // turbo builds only this workspace's dependencies before this test: a package missing from
  // them would be packed while (or before) it builds.
  const own = JSON.parse(readFileSync(join(root, 'tooling', 'pack-check', 'package.json'), 'utf8'));
  const missing = packages
    .map((pkg) => pkg.manifest.name)
    .filter((name) => !(name in { ...own.dependencies, ...own.devDependencies }));
  if (missing.length > 0) {
    throw new Error(
      `tooling/pack-check/package.json: add ${missing.join(', ')} to its dependencies ("workspace:*"), so that turbo builds them before packing`,
    );
  }
  const files = [];
  for (const pkg of packages) {
    const out = run('pnpm', ['pack', '--pack-destination', tarballs], pkg.dir, { capture: true });
    const file = out.trim().split('\n').pop().trim();
    files.push({ name: pkg.manifest.name, file: file.startsWith('/') ? file : join(tarballs, file) });
  }
  for (const { name, file } of files) {
    console.log(`\n# ${name}`);
    // pnpm pack already replaced workspace:^ and catalog: ranges and applied publishConfig.
    const listing = run('tar', ['-xOzf', file, 'package/package.json'], undefined, { capture: true });
    const manifest = JSON.parse(listing);
    for (const field of ['dependencies', 'peerDependencies']) {
      for (const [dep, range] of Object.entries(manifest[field] ?? {})) {
        if (/^(workspace|catalog):/.test(range))
          throw new Error(`${name}: ${field}.${dep} is still "${range}" in the tarball`);
      }
    }
    if (JSON.stringify(manifest.exports).includes('@vid/source'))
      throw new Error(`${name}: the tarball's exports still contain the @vid/source condition`);
    const entries = run('tar', ['-tzf', file], undefined, { capture: true }).split('\n');
    if (!entries.includes('package/LICENSE'))
      throw new Error(`${name}: the tarball has no LICENSE (the package's prepack copies the root one)`);
    run(bin('publint'), ['run', file, '--strict']);
    run(bin('attw'), [file, '--profile', 'esm-only', '--format', 'table-flipped']);
  }

  // An empty project that installs the tarballs from disk and the rest from the registry.
  console.log('\n# installing the tarballs into an empty project with npm');
  const deps = Object.fromEntries(files.map(({ name, file }) => [name, `file:${file}`]));
  deps['@tensorflow/tfjs-core'] = '4.22.0';
  writeFileSync(join(project + '.json'), '');
  execFileSync('mkdir', ['-p', project]);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify(
      {
        name: 'vid-consumer',
        private: true,
        type: 'module',
        dependencies: deps,
        devDependencies: { typescript: '5.9.3', '@types/node': '20.19.43' },
      },
      null,
      2,
    ),
  );
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], project);
  // Every subpath entry too (e.g. @vid/training/node), from the packages' own export maps.
  const entries = packages.flatMap((pkg) =>
    Object.keys(pkg.manifest.publishConfig?.exports ?? pkg.manifest.exports ?? {})
      // Pattern exports (`./weights/*` of @vid/pretrained) are files, not modules.
      .filter((key) => key !== '.' && key !== './package.json' && !key.includes('*'))
      .map((key) => `${pkg.manifest.name}/${key.slice(2)}`),
  );
  const imports = [...files.map(({ name }) => name), ...entries]
    .map((name, i) => `import * as p${i} from '${name}';`)
    .join('\n');
  const entryNames = [...files.map(({ name }) => name), ...entries];
  writeFileSync(
    join(project, 'smoke.mjs'),
    `${imports}
import * as tf from '@tensorflow/tfjs-core';
const modules = { ${entryNames.map((name, i) => `'${name}': p${i}`).join(', ')} };
for (const [name, m] of Object.entries(modules)) {
  const exports = Object.keys(m);
  if (exports.length === 0) throw new Error(name + ' exports nothing');
  console.log(name.padEnd(20), exports.length, 'exports');
}
const core = modules['@vid/core'];
const report = await core.initBackend({ log: (line) => console.log(line) });
const conv = new core.Conv2d({ inChannels: 1, outChannels: 2, kernelSize: 3, seed: 1 });
const grad = tf.grad((x) => tf.sum(conv.apply(x)))(tf.ones([1, 4, 4, 1]));
console.log('backend', report.backend, '— a conv2d gradient of shape', grad.shape.join('x'), 'computed from the installed tarballs');
const cells = modules['@vid/cells'];
const net = new cells.ConvLSTM({ inputChannels: 1, hiddenChannels: 2, kernelSize: 3, numLayers: 2, seed: 1 });
const saved = await core.saveModel(net);
const loaded = await core.loadModel(saved.bytes);
const clip = tf.ones([1, 2, 4, 4, 1]);
const same = tf.all(tf.equal(net.apply(clip).output, loaded.apply(clip).output)).dataSync()[0];
if (!same || loaded.constructor.className !== 'ConvLSTM') throw new Error('saveModel/loadModel from the tarballs: the loaded ConvLSTM differs');
console.log('saveModel/loadModel: a', loaded.constructor.className, 'of', saved.bytes.byteLength, 'bytes round-trips from the installed tarballs');
`,
  );
  run('node', ['smoke.mjs'], project);
  writeFileSync(
    join(project, 'types.ts'),
    `${imports}\nimport { Rng, type BackendName } from '@vid/core';\nconst backend: BackendName = 'wasm';\nconst rng = new Rng(1);\nconsole.log(backend, rng.uniform(), ${entryNames.map((_, i) => `p${i}`).join(', ')});\n`,
  );
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          lib: ['ES2023', 'DOM'],
        },
        files: ['types.ts'],
      },
      null,
      2,
    ),
  );
  run(join(project, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], project);
  console.log(
    '\npack-check: every package packs, passes publint and attw, installs with npm, imports and type-checks.',
  );
} catch (error) {
  failed = true;
  console.error(`\npack-check failed: ${error.message}`);
} finally {
  rmSync(work, { recursive: true, force: true });
  rmSync(project + '.json', { force: true });
}
process.exit(failed ? 1 : 0);
