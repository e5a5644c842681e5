/**
 * Run directories.
 *
 * ```
 * runs/<name>/
 *   config.json         the resolved configuration (every field, defaults filled in)
 *   run.json            what ran: command, versions, backend, start time, status, data, model size
 *   metrics.jsonl       training and validation records, one JSON object per line
 *   checkpoints/        step-NNNNNN/{model,optimizer}.safetensors + state.json, latest.json, best.json
 *   curves.png          training loss and validation loss/MSE against steps
 *   samples.png         input | ground truth | prediction rows for a few validation sequences
 *   samples.gif         the same, animated
 *   summary.json        final validation metrics of the model and of the copy-last-frame baseline
 *   summary.md          the same as a Markdown table
 * ```
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';

import { VidError } from '@vid/core';

import { describeFsError } from './checkpoints.js';

/** The run directory cannot be used. */
export class RunDirectoryError extends VidError {
  override readonly name = 'RunDirectoryError';
}

/** The root of the vid workspace containing `from` (a folder with pnpm-workspace.yaml), or null. */
export function findWorkspaceRoot(from = process.cwd()): string | null {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml')) && existsSync(join(dir, 'apps', 'train'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/** Where relative run paths are anchored: the workspace root when inside one, else the working directory. */
export function runsBase(): string {
  return findWorkspaceRoot() ?? process.cwd();
}

/** Resolves the runs folder of a configuration. */
export function resolveRunsDir(runsDir: string): string {
  return isAbsolute(runsDir) ? runsDir : resolve(runsBase(), runsDir);
}

/** A default run name: `<preset>-YYYYMMDD-HHMMSS`. */
export function defaultRunName(preset: string, date = new Date()): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${preset}-${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}-${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
}

/**
 * Creates the run directory and checks that it can be written (a probe file is written and
 * removed), so that a read-only or full disk is reported before training starts.
 */
export async function prepareRunDir(dir: string): Promise<void> {
  if (existsSync(dir) && !statSync(dir).isDirectory())
    throw new RunDirectoryError(`run directory ${dir}: exists and is not a directory`);
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw new RunDirectoryError(`run directory ${dir}: cannot be created (${describeFsError(error)})`);
  }
  const probe = join(dir, `.write-test-${process.pid}`);
  try {
    await writeFile(probe, 'vid');
    await rm(probe, { force: true });
  } catch (error) {
    await rm(probe, { force: true }).catch(() => undefined);
    throw new RunDirectoryError(`run directory ${dir}: cannot be written (${describeFsError(error)})`);
  }
}
