/**
 * Checkpoints of a training run, written atomically.
 *
 * ```
 * <run>/checkpoints/
 *   step-000120/
 *     model.safetensors       a vid model file (savePredictor → saveModel): the weights under
 *                             their state-dict names, with class, config and patch size in
 *                             __metadata__; loadModel gives the network, loadPredictor the predictor
 *     optimizer.safetensors   Adam's moments (exp_avg.<param>, exp_avg_sq.<param>)
 *     state.json              step, epoch, data-stream position, RNG state, schedules,
 *                             validation history, Adam's step and lr, the resolved config
 *   latest.json               {"step": 120, "dir": "step-000120"}: the last complete checkpoint
 *   best.json                 {"step": 60, "dir": "step-000060", "validLoss": …}
 * ```
 *
 * A checkpoint is written into a hidden temporary folder (every file flushed to disk), which is
 * then renamed to `step-NNNNNN` (atomic on one file system), and only then does `latest.json`
 * (itself written to a temporary file and renamed) point at it. A crash, a full disk or a kill
 * in the middle leaves the previous checkpoint and pointer intact; the temporary folder is
 * removed (or ignored and cleaned at the next start). The last `keepLast` checkpoints are kept,
 * and the best one besides.
 */
import { constants } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

import {
  type AdamState,
  FileFormatError,
  type HostTensor,
  VidError,
  parseSafetensors,
  serializeSafetensors,
} from '@vid/core';

/** Everything a checkpoint holds. */
export interface CheckpointData {
  readonly step: number;
  /**
   * The model file: `savePredictor`'s bytes (a vid model file, so `loadModel` gives the network
   * and `loadPredictor` the predictor).
   */
  readonly model: Uint8Array;
  readonly optimizer: AdamState;
  /** JSON-serialisable training state (see the training loop). */
  readonly state: Record<string, unknown>;
}

/** A checkpoint read back. */
export interface LoadedCheckpoint extends CheckpointData {
  readonly dir: string;
  /** The model's parameters from the model file, by state-dict name (vid layout). */
  readonly weights: ReadonlyMap<string, HostTensor>;
}

/** Writes bytes to a new file and flushes it; replaceable in tests to simulate a full disk. */
export type FileWriter = (path: string, bytes: Uint8Array) => Promise<void>;

/** A checkpoint could not be written; the previous one is intact. */
export class CheckpointWriteError extends VidError {
  override readonly name = 'CheckpointWriteError';
}

export async function writeFileSynced(path: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o644);
  try {
    let offset = 0;
    while (offset < bytes.byteLength) {
      const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset);
      offset += bytesWritten;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes a small file atomically (temporary file, flush, rename). */
export async function writeAtomic(
  path: string,
  bytes: Uint8Array,
  writer: FileWriter = writeFileSynced,
): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    await writer(temp, bytes);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
}

/** A short reason for a file-system error (ENOSPC, EACCES, …). */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'ENOENT':
      return 'no such file or directory';
    default:
      return (error as Error)?.message ?? String(error);
  }
}

const encoder = new TextEncoder();

/** Name of the folder of the checkpoint at `step`. */
export function checkpointName(step: number): string {
  return `step-${String(step).padStart(6, '0')}`;
}

/** Options of {@link CheckpointManager}. */
export interface CheckpointManagerOptions {
  /** Checkpoints kept besides the best. @default 3 */
  readonly keepLast?: number;
  /** Keep the best checkpoint (by validation loss) even when it is older. @default true */
  readonly keepBest?: boolean;
  /** File writer (tests replace it to simulate a full disk). */
  readonly writeFile?: FileWriter;
}

/** Writes, prunes and reads the checkpoints of one run. */
export class CheckpointManager {
  readonly dir: string;
  readonly keepLast: number;
  readonly keepBest: boolean;
  readonly #writeFile: FileWriter;

  constructor(runDir: string, options: CheckpointManagerOptions = {}) {
    this.dir = join(runDir, 'checkpoints');
    this.keepLast = options.keepLast ?? 3;
    this.keepBest = options.keepBest ?? true;
    this.#writeFile = options.writeFile ?? writeFileSynced;
  }

  /** Creates the folder and removes temporary folders left by an interrupted write. */
  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    for (const entry of await readdir(this.dir)) {
      if (entry.startsWith('.') && entry.includes('.tmp'))
        await rm(join(this.dir, entry), { recursive: true, force: true });
    }
  }

  /**
   * Writes a checkpoint atomically and updates `latest.json` (and `best.json` when `isBest`).
   * On failure the previous checkpoint stays intact and a {@link CheckpointWriteError} says why.
   */
  async save(
    data: CheckpointData,
    options: { readonly isBest?: boolean; readonly validLoss?: number } = {},
  ): Promise<string> {
    const name = checkpointName(data.step);
    const finalDir = join(this.dir, name);
    const temp = join(this.dir, `.${name}.${process.pid}.tmp`);
    try {
      if (!(await exists(finalDir))) {
        await rm(temp, { recursive: true, force: true });
        await mkdir(temp, { recursive: true });
        await this.#writeFile(join(temp, 'model.safetensors'), data.model);
        await this.#writeFile(
          join(temp, 'optimizer.safetensors'),
          serializeSafetensors(data.optimizer.tensors, {
            format: 'vid-adam',
            step: String(data.optimizer.step),
            lr: String(data.optimizer.lr),
          }),
        );
        const state = {
          ...data.state,
          step: data.step,
          optimizer: { step: data.optimizer.step, lr: data.optimizer.lr },
        };
        await this.#writeFile(join(temp, 'state.json'), encoder.encode(`${JSON.stringify(state, null, 2)}\n`));
        await rename(temp, finalDir);
      }
      await writeAtomic(
        join(this.dir, 'latest.json'),
        encoder.encode(`${JSON.stringify({ step: data.step, dir: name })}\n`),
        this.#writeFile,
      );
      if (options.isBest) {
        await writeAtomic(
          join(this.dir, 'best.json'),
          encoder.encode(`${JSON.stringify({ step: data.step, dir: name, validLoss: options.validLoss ?? null })}\n`),
          this.#writeFile,
        );
      }
    } catch (error) {
      await rm(temp, { recursive: true, force: true }).catch(() => undefined);
      const previous = await this.latestName().catch(() => null);
      throw new CheckpointWriteError(
        `could not write the checkpoint of step ${data.step} in ${this.dir}: ${describeFsError(error)}. ` +
          (previous
            ? `The last good checkpoint (${previous}) is intact; resume with --resume ${this.dir}/..`
            : 'No earlier checkpoint exists.'),
      );
    }
    await this.prune().catch(() => undefined);
    return finalDir;
  }

  /** The folder name `latest.json` points at, or null. */
  async latestName(): Promise<string | null> {
    const pointer = await readJson(join(this.dir, 'latest.json'));
    return pointer && typeof pointer.dir === 'string' ? pointer.dir : null;
  }

  /** The folder name `best.json` points at, or null. */
  async bestName(): Promise<string | null> {
    const pointer = await readJson(join(this.dir, 'best.json'));
    return pointer && typeof pointer.dir === 'string' ? pointer.dir : null;
  }

  /** Checkpoint folders, oldest first. */
  async list(): Promise<string[]> {
    if (!(await exists(this.dir))) return [];
    return (await readdir(this.dir)).filter((entry) => /^step-\d+$/.test(entry)).sort();
  }

  /** Removes all but the last `keepLast` checkpoints (and the best, and the one latest.json names). */
  async prune(): Promise<void> {
    const all = await this.list();
    const keep = new Set(all.slice(-this.keepLast));
    const latest = await this.latestName();
    if (latest) keep.add(latest);
    if (this.keepBest) {
      const best = await this.bestName();
      if (best) keep.add(best);
    }
    for (const entry of all) if (!keep.has(entry)) await rm(join(this.dir, entry), { recursive: true, force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function readJson(path: string): Promise<Record<string, unknown> | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return null;
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new FileFormatError(path, 'not valid JSON');
  }
}

/**
 * Finds the checkpoint folder of `path`: a checkpoint folder itself (with state.json), a run
 * folder or its `checkpoints/` folder (then the one `latest.json` names, or `best` with
 * `which: 'best'`).
 */
export async function resolveCheckpointDir(path: string, which: 'latest' | 'best' = 'latest'): Promise<string> {
  if (await exists(join(path, 'state.json'))) return path;
  for (const dir of [join(path, 'checkpoints'), path]) {
    const pointer = await readJson(join(dir, `${which}.json`));
    if (pointer && typeof pointer.dir === 'string') {
      const found = join(dir, pointer.dir);
      if (await exists(join(found, 'state.json'))) return found;
      throw new FileFormatError(join(dir, `${which}.json`), `names ${pointer.dir}, which has no state.json`);
    }
  }
  if (!(await exists(path))) throw new FileFormatError(path, 'no such run or checkpoint folder');
  throw new FileFormatError(
    path,
    'not a checkpoint: expected a run folder (with checkpoints/latest.json) or a checkpoint folder (with state.json)',
  );
}

/** Throws a FileFormatError naming the file, the tensor and the first index of a NaN or infinite value. */
function assertFiniteTensors(tensors: ReadonlyMap<string, HostTensor>, file: string): void {
  for (const [name, tensor] of tensors) {
    const data = tensor.data;
    if (!(data instanceof Float32Array || data instanceof Float64Array)) continue;
    for (let i = 0; i < data.length; i++) {
      const value = data[i] as number;
      if (!Number.isFinite(value))
        throw new FileFormatError(
          file,
          `tensor ${name} holds ${value} at index ${i}: the weights are not finite (a diverged run?)`,
        );
    }
  }
}

/**
 * The checkpoint to resume `path` from: a checkpoint folder as it is, or a run's newest
 * checkpoint; when that one is unreadable or not finite, the previous good one, with a message
 * naming both (as a resumed run must not start from a corrupted state).
 */
export async function loadResumeCheckpoint(
  path: string,
  log: (line: string) => void = () => undefined,
): Promise<LoadedCheckpoint> {
  const dir = await resolveCheckpointDir(path);
  try {
    return await loadCheckpoint(dir);
  } catch (error) {
    // A checkpoint folder named directly: that one or nothing.
    if (resolve(dir) === resolve(path)) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    const parent = dirname(dir);
    const newest = basename(dir);
    const earlier = (await readdir(parent))
      .filter((name) => /^step-\d+$/.test(name) && name < newest)
      .sort()
      .reverse();
    for (const name of earlier) {
      try {
        const checkpoint = await loadCheckpoint(join(parent, name));
        log(
          `vid train: the newest checkpoint ${dir} is unusable (${reason}); falls back to the previous good one, ${checkpoint.dir}`,
        );
        return checkpoint;
      } catch {
        // try the one before
      }
    }
    throw new FileFormatError(dir, `${reason}; no earlier checkpoint of ${parent} is usable either`);
  }
}

/** Reads a checkpoint folder (weights and optimizer moments must be finite). */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const read = async (file: string): Promise<Uint8Array> => {
    try {
      return new Uint8Array(await readFile(join(dir, file)));
    } catch (error) {
      throw new FileFormatError(join(dir, file), describeFsError(error));
    }
  };
  const modelBytes = await read('model.safetensors');
  const model = parseSafetensors(modelBytes, join(dir, 'model.safetensors'));
  const optimizer = parseSafetensors(await read('optimizer.safetensors'), join(dir, 'optimizer.safetensors'));
  // A checkpoint of a diverged run is no checkpoint: refuse non-finite weights or moments.
  assertFiniteTensors(model.tensors, join(dir, 'model.safetensors'));
  assertFiniteTensors(optimizer.tensors, join(dir, 'optimizer.safetensors'));
  let state: Record<string, unknown>;
  try {
    state = JSON.parse(new TextDecoder().decode(await read('state.json'))) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof VidError) throw error;
    throw new FileFormatError(join(dir, 'state.json'), 'not valid JSON');
  }
  const opt = state.optimizer as { step: number; lr: number } | undefined;
  if (!opt || typeof state.step !== 'number')
    throw new FileFormatError(join(dir, 'state.json'), 'missing "step" or "optimizer"');
  return {
    dir,
    step: state.step,
    model: modelBytes,
    weights: model.tensors,
    optimizer: { step: opt.step, lr: opt.lr, tensors: optimizer.tensors },
    state,
  };
}
