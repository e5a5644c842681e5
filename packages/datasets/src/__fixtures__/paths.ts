/** Test helpers: where the committed fixtures are, and temporary folders. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `packages/datasets/test/fixtures`. */
export const FIXTURES = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));

/** A committed fixture file. */
export function fixture(...parts: string[]): string {
  return join(FIXTURES, ...parts);
}

/** The expected values that tooling/fixtures/datasets/make_array_fixtures.py wrote. */
export async function expectedArrays(): Promise<Expected> {
  return JSON.parse(await readFile(fixture('arrays', 'expected.json'), 'utf8')) as Expected;
}

export interface RecordedArray {
  readonly shape: number[];
  readonly dtype: string;
  readonly values: number[];
}

export interface Expected {
  readonly npy: Record<string, RecordedArray>;
  readonly npz: Record<string, RecordedArray>;
  readonly idx: Record<string, RecordedArray>;
  readonly moving_mnist_small: { shape: number[]; sha256_per_sequence: string[]; sum_per_sequence: number[] };
  readonly mnist: {
    train_count: number;
    test_count: number;
    train_labels_first10: number[];
    test_labels_first10: number[];
    train0_sum: number;
    train0_sha256: string;
    test0_sum: number;
    train_all_sum: number;
    train_label_counts: number[];
  };
  readonly resize: { input: RecordedArray; outputs: Record<string, RecordedArray> };
}

/** Makes a temporary folder; returns it and a cleanup function. */
export async function tempDir(prefix = 'vid-datasets-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
