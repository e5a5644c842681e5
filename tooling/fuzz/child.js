// The child of the fuzz harness: reads cases[start..count) of a job and prints, for each,
// `S <index>` before and `R <json>` after. See index.js.
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

import { checks } from './checks.js';

const [job, startText, countText] = process.argv.slice(2);
const { module, cases } = JSON.parse(await readFile(job, 'utf8'));
const { readers } = await import(pathToFileURL(module).href);
const write = (line) => new Promise((resolve) => process.stdout.write(`${line}\n`, resolve));

/** A typed vid error: a VidError subclass (by name, so that two module copies still agree) that names the file. */
function typed(error, path) {
  return (
    error instanceof Error &&
    /^(VidError|FileFormatError|ConfigError|ShapeError|StateDictError|BackendError)$/.test(error.name) &&
    error.message.includes(path)
  );
}

for (let i = Number(startText); i < Number(countText); i++) {
  const c = cases[i];
  await write(`S ${i}`);
  const started = performance.now();
  let outcome;
  let detail;
  try {
    const value = await readers[c.reader](c.path);
    const verdict = c.expect.check ? checks[c.expect.check](value) : checks.valid(value);
    if (verdict !== true) {
      outcome = 'wrong';
      detail = `data that fails the check ${c.expect.check ?? 'valid'}: ${verdict}`;
    } else if (c.expect.kind === 'error') {
      outcome = 'wrong';
      detail = 'expected an error, read data';
    } else {
      outcome = 'data';
      detail = 'read';
    }
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    detail = message.slice(0, 400);
    if (!typed(error, c.path)) outcome = 'untyped';
    else if (c.expect.kind === 'data') outcome = 'wrong';
    else if (c.expect.pattern && !new RegExp(c.expect.pattern).test(error.message)) {
      outcome = 'wrong';
      detail = `message does not match /${c.expect.pattern}/: ${detail}`;
    } else outcome = 'typed';
  }
  const ms = performance.now() - started;
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  await write(`R ${JSON.stringify({ name: c.name, reader: c.reader, outcome, detail, ms, peakRssMiB })}`);
}
