import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ConfigError, FileFormatError } from '@vid/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { cliErrorMessage } from './errors.js';
import { ensureFolder, writeOutput } from './report.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vid-eval-errors-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('command-line errors', () => {
  it('prefixes "vid" once, never "vid: vid"', () => {
    expect(cliErrorMessage(new ConfigError('--future', 'a positive integer', 'x'), 'vid')).toBe(
      'vid: --future: expected a positive integer, received "x"',
    );
    expect(cliErrorMessage(new ConfigError('--size', 'HEIGHTxWIDTH', '3', 'vid predict'), 'vid')).toBe(
      'vid predict: --size: expected HEIGHTxWIDTH, received "3"',
    );
    expect(cliErrorMessage(new FileFormatError('w.pt', 'truncated'), 'vid eval')).toBe('vid eval: w.pt: truncated');
  });

  it('turns file-system errors into one line naming the path, and leaves bugs alone', () => {
    const enotdir = Object.assign(new Error("ENOTDIR: not a directory, open 'a/b'"), {
      code: 'ENOTDIR',
      path: 'a/b',
      syscall: 'open',
    });
    expect(cliErrorMessage(enotdir, 'vid')).toBe('vid: a/b: a part of the path is not a directory');
    expect(cliErrorMessage(new TypeError('x is undefined'), 'vid')).toBeUndefined();
  });

  it('says that --out is a file, not a folder, and that an output folder is missing', async () => {
    const file = join(dir, 'results.md');
    await writeFile(file, 'x');
    await expect(ensureFolder(file, '--out')).rejects.toThrow(
      new FileFormatError(file, '--out: is a file, expected a folder'),
    );
    await expect(ensureFolder(join(file, 'deeper'), '--out')).rejects.toThrow(
      /--out: .*results\.md is a file, expected a folder/,
    );
    await expect(writeOutput(join(dir, 'missing', 'out.gif'), 'x')).rejects.toThrow(
      /the folder .*missing does not exist/,
    );
    await expect(writeOutput(join(file, 'out.gif'), 'x')).rejects.toThrow(/results\.md is a file, not a folder/);
  });
});
