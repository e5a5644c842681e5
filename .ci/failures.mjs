// After a failing `pnpm test`: prints, for each task turbo lists under "Failed:", the last lines that
// task printed (its failure summary), then the machine's disk and memory. CI shows only the tail of
// its output, and turbo interleaves the tasks' lines, so without this a failure's reason scrolls away.
import { readFileSync } from 'node:fs';
import { execSync } from 'node:child_process';

const log = process.argv[2];
// eslint-disable-next-line no-control-regex
const text = readFileSync(log, 'utf8').replace(/\u001b\[[0-9;]*m/g, '');
const lines = text.split('\n');
const failed = [...text.matchAll(/^\s*Failed:\s+(.+)$/gm)].flatMap((m) => m[1].split(',').map((s) => s.trim()));
const perTask = Math.max(20, Math.floor(70 / Math.max(1, failed.length)));
console.log(`\n== ci: ${failed.length} failed task(s): ${failed.join(', ') || '(none named by turbo)'}`);
for (const task of failed) {
  const prefix = `${task.replace('#', ':')}: `;
  const own = lines
    .filter((l) => l.startsWith(prefix))
    .map((l) => l.slice(prefix.length))
    .filter((l) => l.trim() && !/^\s*✓/.test(l));
  if (own.length === 0) {
    // No `pkg:task: ` prefixes (another log layout): the log's own tail.
    console.log(`\n== ${task}: no line carries its prefix; the log's last ${perTask} lines`);
    console.log(lines.slice(-perTask).join('\n'));
    continue;
  }
  console.log(
    `\n== ${task}: its last ${Math.min(perTask, own.length)} of ${own.length} lines (passing tests left out)`,
  );
  console.log(own.slice(-perTask).join('\n'));
}
for (const command of ['df -h . /tmp', 'free -m']) {
  try {
    console.log(`\n== ${command}\n${execSync(command, { encoding: 'utf8' }).trim()}`);
  } catch {
    // Not every machine has both; the report is a courtesy.
  }
}
