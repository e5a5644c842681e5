// The fuzz harness of the vid workspace (see index.d.ts for the API).
//
// Each case's bytes are written to a temporary folder; a child process (Node with tsx, so that it
// can import a reader module written in TypeScript, and with the `@vid/source` condition, so that
// workspace packages resolve to their sources) reads them one by one and reports each outcome on
// stdout. The parent is the watchdog: a case that runs past the time budget is a hang, and a child
// whose resident memory passes the budget (polled from /proc, and checked against the child's own
// peak RSS after each case) is over budget; either way the child is killed and a fresh one carries
// on with the next case. A case marked `isolated` runs alone in its own child, so that its peak RSS
// is its own.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./child.js', import.meta.url));
const TSX = import.meta.resolve('tsx');

async function rssMiB(pid) {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Runs `cases[start..]` in one child until it ends or the watchdog kills it; returns results. */
function runChild(job, cases, start, options, onResult) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@vid/source', '--import', TSX, CHILD, job, String(start), String(cases.length)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let current = -1;
    let startedAt = 0;
    let killedAs;
    let buffer = '';
    let stderr = '';
    const budgetOf = (i) => cases[i]?.rssBudgetMiB ?? options.rssBudgetMiB;
    const kill = (outcome, detail) => {
      if (killedAs) return;
      killedAs = { outcome, detail };
      child.kill('SIGKILL');
    };
    const timer = setInterval(async () => {
      if (current < 0 || killedAs) return;
      if (Date.now() - startedAt > options.timeoutMs) kill('hang', `no result after ${options.timeoutMs} ms`);
      const rss = await rssMiB(child.pid);
      if (rss !== undefined && rss > budgetOf(current))
        kill('over-budget', `RSS ${rss.toFixed(0)} MiB > ${budgetOf(current)} MiB`);
    }, 20);
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    child.stdout.on('data', (chunk) => {
      buffer += chunk.toString();
      let newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (line.startsWith('S ')) {
          current = Number(line.slice(2));
          startedAt = Date.now();
        } else if (line.startsWith('R ')) {
          const result = JSON.parse(line.slice(2));
          const index = current;
          current = -1;
          if (result.peakRssMiB > budgetOf(index)) {
            onResult(index, {
              ...result,
              outcome: 'over-budget',
              detail: `peak RSS ${result.peakRssMiB.toFixed(0)} MiB > ${budgetOf(index)} MiB; ${result.detail}`,
            });
            kill('restart', 'peak RSS is per process: start afresh');
          } else {
            onResult(index, result);
          }
        }
      }
    });
    child.on('exit', (code, signal) => {
      clearInterval(timer);
      if (current >= 0) {
        const c = cases[current];
        const outcome = killedAs && killedAs.outcome !== 'restart' ? killedAs.outcome : 'untyped';
        const detail =
          killedAs && killedAs.outcome !== 'restart'
            ? killedAs.detail
            : `the child died (code ${code}, signal ${signal}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`;
        onResult(current, { name: c.name, reader: c.reader, outcome, detail });
        resolve(current + 1);
      } else {
        resolve(killedAs ? -2 : -1);
      }
    });
  });
}

export async function runFuzz(options) {
  const resolved = { timeoutMs: 10_000, rssBudgetMiB: 512, ...options };
  const dir = await mkdtemp(join(tmpdir(), 'vid-fuzz-'));
  const results = new Array(options.cases.length);
  try {
    const specs = [];
    for (const [i, c] of options.cases.entries()) {
      const path = join(dir, `${String(i).padStart(5, '0')}-${c.fileName}`);
      await writeFile(path, c.bytes);
      specs.push({ name: c.name, reader: c.reader, path, expect: c.expect });
    }
    const run = async (indices) => {
      const job = join(dir, `job-${indices[0]}.json`);
      await writeFile(
        job,
        JSON.stringify({ module: options.module, cases: indices.map((i) => ({ ...specs[i], index: i })) }),
      );
      const subset = indices.map((i) => options.cases[i]);
      let start = 0;
      while (start >= 0 && start < indices.length) {
        const last = { value: start };
        const next = await runChild(job, subset, start, resolved, (local, result) => {
          results[indices[local]] = result;
          last.value = local + 1;
        });
        // -1: the child ran to the end; -2: killed between cases (a restart); else resume there.
        start = next === -1 ? -1 : next === -2 ? last.value : next;
      }
    };
    const shared = [];
    for (const [i, c] of options.cases.entries()) if (!c.isolated) shared.push(i);
    if (shared.length > 0) await run(shared);
    for (const [i, c] of options.cases.entries()) if (c.isolated) await run([i]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return results.map(
    (r, i) =>
      r ?? { name: options.cases[i].name, reader: options.cases[i].reader, outcome: 'untyped', detail: 'no result' },
  );
}

/** mulberry32: a small seeded generator, so that every run mutates the same way. */
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function mutate(bytes, seed, count) {
  const random = generator(seed);
  const out = [];
  for (let k = 0; k < count; k++) {
    if (k % 3 === 0) {
      const length = Math.floor(random() * bytes.byteLength);
      out.push({ name: `truncate-${length}`, bytes: bytes.slice(0, length) });
    } else {
      const copy = bytes.slice();
      const flips = 1 + Math.floor(random() * 4);
      // Half of the flips land in the first 512 bytes, where the headers and pickles are.
      const where = [];
      for (let f = 0; f < flips; f++) {
        const span = random() < 0.5 ? Math.min(512, copy.byteLength) : copy.byteLength;
        const at = Math.floor(random() * span);
        copy[at] = (copy[at] ^ (1 + Math.floor(random() * 255))) & 0xff;
        where.push(at);
      }
      out.push({ name: `flip-${where.join('-')}`, bytes: copy });
    }
  }
  return out;
}

export function fuzzTable(results) {
  const columns = ['typed', 'data', 'hang', 'over-budget', 'untyped', 'wrong'];
  const rows = new Map();
  for (const r of results) {
    const row = rows.get(r.reader) ?? { cases: 0, typed: 0, data: 0, hang: 0, 'over-budget': 0, untyped: 0, wrong: 0 };
    row.cases++;
    row[r.outcome]++;
    rows.set(r.reader, row);
  }
  const lines = [
    '| reader | cases | typed error | correct data | hang | over budget | untyped | wrong |',
    '|---|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const [reader, row] of rows)
    lines.push(`| ${reader} | ${row.cases} | ${columns.map((c) => row[c]).join(' | ')} |`);
  return lines.join('\n');
}

export { hostileCases } from './hostile.js';
