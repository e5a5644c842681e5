// Checks every workspace package.json's internal (@vid/*) dependencies against the dependency
// graph written in the root README (the fenced block after "Dependencies point one way"):
//
//   core ← cells ← {attention, tensor-train} ← models ← training ← pretrained ← apps
//   core ← {datasets, metrics} ← {training, apps}
//
// `a ← b` means b may depend on a (and on everything a may depend on). `apps` stands for every
// workspace under apps/. A package named in the README that does not exist yet is allowed (it is
// skipped); a package that exists but is missing from the README is an error, and so is every
// dependency the graph does not allow. Runs first in @vid/pack-check's `test` (needs no build).
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');

/**
 * Dependencies the README graph does not allow but the tree still has, each with its reason.
 * Each is printed as a warning; an entry that is no longer needed is an error (remove it).
 */
const KNOWN_EXCEPTIONS = {
  '@vid/cli -> @vid/train': 'the vid command dispatches to the apps',
  '@vid/cli -> @vid/eval': 'the vid command dispatches to the apps',
  '@vid/cli -> @vid/demo': 'the vid command dispatches to the apps',
};

/** Parses the graph block of a README into `group name → set of names it may depend on`. */
export function parseGraph(readme) {
  const match = /Dependencies point one way[^\n]*\n+```[^\n]*\n([\s\S]*?)```/.exec(readme);
  if (!match) throw new Error('README.md: no dependency graph (a fenced block after "Dependencies point one way")');
  const direct = new Map(); // name → names it depends on directly
  const add = (from, to) => {
    if (!direct.has(from)) direct.set(from, new Set());
    direct.get(from).add(to);
  };
  for (const line of match[1]
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)) {
    const groups = line.split('←').map((g) =>
      g
        .trim()
        .replace(/^\{|\}$/g, '')
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean),
    );
    if (groups.length < 2 || groups.some((g) => g.length === 0))
      throw new Error(`README.md: cannot read the graph line "${line}"`);
    for (let i = 1; i < groups.length; i++) for (const from of groups[i]) for (const to of groups[i - 1]) add(from, to);
    for (const group of groups) for (const name of group) if (!direct.has(name)) direct.set(name, new Set());
  }
  // Transitive closure: a node may depend on everything upstream of it.
  const allowed = new Map();
  const visit = (name, seen = new Set()) => {
    for (const up of direct.get(name) ?? []) {
      if (!seen.has(up)) {
        seen.add(up);
        visit(up, seen);
      }
    }
    return seen;
  };
  for (const name of direct.keys()) allowed.set(name, visit(name));
  return allowed;
}

function workspaces() {
  const out = [];
  for (const dir of ['packages', 'apps']) {
    for (const entry of readdirSync(join(root, dir))) {
      const file = join(root, dir, entry, 'package.json');
      if (!existsSync(file)) continue;
      const manifest = JSON.parse(readFileSync(file, 'utf8'));
      out.push({
        group: dir === 'apps' ? 'apps' : manifest.name.replace(/^@vid\//, ''),
        manifest,
        file: `${dir}/${entry}/package.json`,
      });
    }
  }
  return out;
}

export function checkGraph(readme, list) {
  const allowed = parseGraph(readme);
  const names = new Map(list.map((w) => [w.manifest.name, w.group]));
  const errors = [];
  const warnings = [];
  const used = new Set();
  for (const { group, manifest, file } of list) {
    if (!allowed.has(group)) {
      errors.push(`${file}: ${manifest.name} is not in the README's dependency graph (add it)`);
      continue;
    }
    const deps = {
      ...manifest.dependencies,
      ...manifest.peerDependencies,
      ...manifest.optionalDependencies,
      ...manifest.devDependencies,
    };
    for (const dep of Object.keys(deps)) {
      if (!names.has(dep)) continue; // external, or tooling (@vid/tsconfig, @vid/*-config)
      const target = names.get(dep);
      if (allowed.get(group).has(target)) continue;
      const key = `${manifest.name} -> ${dep}`;
      if (KNOWN_EXCEPTIONS[key]) {
        used.add(key);
        warnings.push(`${file}: ${key} breaks the graph; allowed for now: ${KNOWN_EXCEPTIONS[key]}`);
      } else {
        errors.push(
          `${file}: ${manifest.name} depends on ${dep}, but the README graph does not let ${group} depend on ${target} (allowed: ${[...allowed.get(group)].sort().join(', ') || 'nothing'})`,
        );
      }
    }
  }
  for (const key of Object.keys(KNOWN_EXCEPTIONS)) {
    if (!used.has(key))
      errors.push(`tooling/pack-check/check-graph.mjs: the exception "${key}" is no longer needed; remove it`);
  }
  return { errors, warnings };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const readmePath = process.argv[2] ?? join(root, 'README.md');
  const { errors, warnings } = checkGraph(readFileSync(readmePath, 'utf8'), workspaces());
  for (const w of warnings) console.warn(`warning: ${w}`);
  if (errors.length) {
    for (const e of errors) console.error(`error: ${e}`);
    process.exit(1);
  }
  console.log(`dependency graph: every package.json agrees with ${readmePath}`);
}
