/**
 * The standard Moving MNIST files, read sequence by sequence with positioned reads:
 *
 * - `'mnist_test_seq'`: Srivastava et al.'s `mnist_test_seq.npy`, uint8 `[20, 10000, 64, 64]`,
 *   time-major (as loaded by OpenSTL `load_fixed_set` and DDPAE `load_fixed_set`, which index
 *   `dataset[:, idx]`);
 * - `'conv-tt-lstm'`: NVlabs/conv-tt-lstm `eval_paper/dataloader.py` `MNIST_Dataset`: an `.npz`
 *   with key `data`, uint8 `[N, T, H, W, C]`, divided by 255 on load;
 * - `'predrnn'`: thuml/predrnn-pytorch `core/data_provider/mnist.py` `InputHandle`: an `.npz` with
 *   `clips` `[2, N, 2]` (begin, length of the input and of the output part of each sequence),
 *   `dims` `[1, 3]` (`[C, H, W]`) and `input_raw_data` `[frames, C, H, W]` (float32 in [0, 1] in
 *   the released files); a sequence is its input part followed by its output part.
 */
import { FileFormatError, type HostTensor, oneOf } from '@vid/core';
import { open } from 'node:fs/promises';

import type { IndexedSource } from '../data/dataset.js';
import type { VideoClip } from '../data/video.js';
import { NpyArray, npyHeaderBytes } from '../io/npy.js';
import { NpzFile, writeNpz } from '../io/npz.js';

/** The on-disk formats of Moving MNIST. */
export type MovingMnistFormat = 'mnist_test_seq' | 'conv-tt-lstm' | 'predrnn';

/** Axis order of a Moving MNIST `.npy`: time-major `[T, N, H, W]` (mnist_test_seq.npy) or sequence-major `[N, T, H, W(, C)]`. */
export type MovingMnistLayout = 'time-major' | 'sequence-major';
export const MOVING_MNIST_LAYOUTS: readonly MovingMnistLayout[] = ['time-major', 'sequence-major'];

export const MOVING_MNIST_FORMATS: readonly MovingMnistFormat[] = ['mnist_test_seq', 'conv-tt-lstm', 'predrnn'];

function toPixels(tensor: HostTensor, file: string): Uint8Array | Float32Array {
  if (tensor.dtype === 'U8') return tensor.data as Uint8Array;
  if (tensor.dtype === 'F32') return tensor.data as Float32Array;
  if (
    tensor.dtype === 'F64' ||
    tensor.dtype === 'I32' ||
    tensor.dtype === 'I16' ||
    tensor.dtype === 'U16' ||
    tensor.dtype === 'I8'
  ) {
    return Float32Array.from(tensor.data as ArrayLike<number>);
  }
  throw new FileFormatError(file, `pixels of dtype ${tensor.dtype} are not supported (expected uint8 or a float type)`);
}

/** Transposes `[T, C, H, W]` → `[T, H, W, C]`. */
function chwToHwc<A extends Uint8Array | Float32Array>(data: A, t: number, c: number, h: number, w: number): A {
  if (c === 1) return data;
  const out = new (data.constructor as new (n: number) => A)(data.length);
  for (let f = 0; f < t; f++) {
    for (let ch = 0; ch < c; ch++) {
      for (let p = 0; p < h * w; p++)
        out[((f * h * w + p) * c + ch) as number] = data[((f * c + ch) * h * w + p) as number] as number;
    }
  }
  return out;
}

/** An opened Moving MNIST file: random access to its sequences, `[T, H, W, C]` each. */
export class MovingMnistFile implements IndexedSource<VideoClip> {
  private constructor(
    readonly path: string,
    readonly format: MovingMnistFormat,
    /** Number of sequences. */
    readonly length: number,
    /** `[T, H, W, C]` of a sequence (for PredRNN, of the longest). */
    readonly clipShape: readonly [number, number, number, number],
    private readonly reader: (index: number) => Promise<VideoClip>,
    private readonly closer: () => Promise<void>,
  ) {}

  /**
   * Opens a file, detecting its format from the extension and the `.npz` keys unless given. A
   * `.npy` array's axis order is `layout`: `'time-major'` (the default: `mnist_test_seq.npy`'s
   * `[time, sequences, height, width]`) or `'sequence-major'` (`[sequences, time, height,
   * width(, channels)]`). A 5-D `.npy` needs its layout stated, and a shape that cannot be the
   * layout (such as one clip `[T, H, W, 1]`) is an error naming the file, the shape and the layouts tried.
   */
  static async open(
    path: string,
    options: { readonly format?: MovingMnistFormat; readonly layout?: MovingMnistLayout } = {},
  ): Promise<MovingMnistFile> {
    const format = options.format
      ? oneOf(options.format, MOVING_MNIST_FORMATS, 'format', 'MovingMnistFile.open')
      : undefined;
    const layout =
      options.layout !== undefined
        ? oneOf(options.layout, MOVING_MNIST_LAYOUTS, 'layout', 'MovingMnistFile.open')
        : undefined;
    if (format === 'mnist_test_seq' || (!format && path.endsWith('.npy'))) {
      const array = await NpyArray.open(path);
      try {
        const shape = array.shape;
        const tried = layout ? [layout] : (['time-major'] as const);
        const refuse = (why: string): never => {
          throw new FileFormatError(
            path,
            `shape [${shape.join(', ')}] cannot be ${tried.map((l) => `${l} ${l === 'time-major' ? '[time, sequences, height, width] (mnist_test_seq.npy)' : '[sequences, time, height, width(, channels)]'}`).join(' or ')}: ${why}${layout ? '' : "; state the layout: { layout: 'time-major' | 'sequence-major' } (data.layout in a training configuration)"}`,
          );
        };
        // A frame is at least 2×2 pixels: a last axis of 1 is a channel axis, not a width.
        if (shape.length === 4 && shape[3] === 1)
          refuse('its last axis of 1 is a channel axis (one clip [time, height, width, 1]?), not a frame width');
        if (shape.length === 5 && !layout)
          refuse(
            'a 5-D array is time-major [time, sequences, height, width, 1] or sequence-major [sequences, time, height, width, channels]',
          );
        if (shape.length !== 4 && shape.length !== 5) {
          throw new FileFormatError(
            path,
            `expected a ${layout ?? 'time-major'} Moving MNIST array ${layout === 'sequence-major' ? '[sequences, time, height, width(, channels)]' : '[time, sequences, height, width] like mnist_test_seq.npy ([20, 10000, 64, 64])'}, found shape [${shape.join(', ')}]`,
          );
        }
        if (shape.length === 5 && layout === 'time-major' && shape[4] !== 1)
          refuse('a time-major array holds one channel');
        const sequenceMajor = layout === 'sequence-major';
        const [a, b, h, w] = shape as [number, number, number, number];
        const c = shape.length === 5 ? (shape[4] as number) : 1;
        const [t, n] = sequenceMajor ? [b, a] : [a, b];
        return new MovingMnistFile(
          path,
          'mnist_test_seq',
          n,
          [t, h, w, c],
          async (index) => {
            if (sequenceMajor)
              return { frames: toPixels(await array.readSlab([index]), path), shape: [t, h, w, c], id: `${index}` };
            // Sequence `index` is the slab [:, index]: T positioned reads of H·W elements.
            const slab = await array.readSlab([[0, t], index]);
            return { frames: toPixels(slab, path), shape: [t, h, w, 1], id: `${index}` };
          },
          () => array.close(),
        );
      } catch (error) {
        await array.close();
        throw error;
      }
    }
    const npz = await NpzFile.open(path);
    try {
      const keys = npz.keys();
      const detected: MovingMnistFormat | undefined =
        format ??
        (keys.includes('data')
          ? 'conv-tt-lstm'
          : keys.includes('input_raw_data') && keys.includes('clips')
            ? 'predrnn'
            : undefined);
      if (detected === 'conv-tt-lstm') {
        if (!npz.has('data'))
          throw new FileFormatError(
            path,
            `a conv-tt-lstm Moving MNIST .npz needs the key "data" (it has: ${keys.join(', ')})`,
          );
        const array = await npz.array('data');
        const shape = array.shape;
        if (shape.length !== 5) {
          throw new FileFormatError(
            path,
            `"data" must be [sequences, time, height, width, channels] (conv-tt-lstm MNIST_Dataset), found shape [${shape.join(', ')}]`,
          );
        }
        const [n, t, h, w, c] = shape as [number, number, number, number, number];
        return new MovingMnistFile(
          path,
          'conv-tt-lstm',
          n,
          [t, h, w, c],
          async (index) => ({
            frames: toPixels(await array.readSlab([index]), path),
            shape: [t, h, w, c],
            id: `${index}`,
          }),
          () => npz.close(),
        );
      }
      if (detected === 'predrnn') {
        for (const key of ['clips', 'dims', 'input_raw_data']) {
          if (!npz.has(key))
            throw new FileFormatError(
              path,
              `a PredRNN Moving MNIST .npz needs the keys clips, dims and input_raw_data (it has: ${keys.join(', ')})`,
            );
        }
        const clips = await npz.read('clips');
        const dims = await npz.read('dims');
        const raw = await npz.array('input_raw_data');
        if (clips.shape.length !== 3 || clips.shape[0] !== 2 || clips.shape[2] !== 2) {
          throw new FileFormatError(
            path,
            `"clips" must be [2, sequences, 2] (begin and length of the input and output parts), found shape [${clips.shape.join(', ')}]`,
          );
        }
        if (raw.shape.length !== 4)
          throw new FileFormatError(
            path,
            `"input_raw_data" must be [frames, channels, height, width], found shape [${raw.shape.join(', ')}]`,
          );
        const [frames, c, h, w] = raw.shape as [number, number, number, number];
        const dimValues = Array.from(dims.data as ArrayLike<number | bigint>, Number);
        if (dimValues.length < 3 || dimValues[0] !== c || dimValues[1] !== h || dimValues[2] !== w) {
          throw new FileFormatError(
            path,
            `"dims" ${JSON.stringify(dimValues)} does not match input_raw_data's [channels, height, width] = [${c}, ${h}, ${w}]`,
          );
        }
        const n = clips.shape[1] as number;
        const table = Array.from(clips.data as ArrayLike<number | bigint>, Number);
        const part = (k: number, i: number): [number, number] => [
          table[(k * n + i) * 2] as number,
          table[(k * n + i) * 2 + 1] as number,
        ];
        let longest = 0;
        for (let i = 0; i < n; i++) {
          const [b0, l0] = part(0, i);
          const [b1, l1] = part(1, i);
          if (b0 < 0 || b1 < 0 || b0 + l0 > frames || b1 + l1 > frames) {
            throw new FileFormatError(
              path,
              `clips entry ${i} ([${b0}, +${l0}], [${b1}, +${l1}]) is outside input_raw_data's ${frames} frames`,
            );
          }
          longest = Math.max(longest, l0 + l1);
        }
        return new MovingMnistFile(
          path,
          'predrnn',
          n,
          [longest, h, w, c],
          async (index) => {
            const [b0, l0] = part(0, index);
            const [b1, l1] = part(1, index);
            const input = toPixels(await raw.readSlab([[b0, b0 + l0]]), path);
            const output = toPixels(await raw.readSlab([[b1, b1 + l1]]), path);
            const joined = new (input.constructor as new (n: number) => Uint8Array | Float32Array)(
              input.length + output.length,
            );
            joined.set(input, 0);
            joined.set(output as never, input.length);
            return { frames: chwToHwc(joined, l0 + l1, c, h, w), shape: [l0 + l1, h, w, c], id: `${index}` };
          },
          () => npz.close(),
        );
      }
      throw new FileFormatError(
        path,
        `not a known Moving MNIST .npz: expected the key "data" (conv-tt-lstm) or "clips", "dims", "input_raw_data" (PredRNN), found ${keys.join(', ') || 'no arrays'}`,
      );
    } catch (error) {
      await npz.close();
      throw error;
    }
  }

  /** Sequence `index` as `[T, H, W, C]` pixels (bytes for uint8 files, floats otherwise). */
  get(index: number): Promise<VideoClip> {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      return Promise.reject(new FileFormatError(this.path, `sequence index ${index} is outside [0, ${this.length})`));
    }
    return this.reader(index);
  }

  close(): Promise<void> {
    return this.closer();
  }
}

/** Options of {@link writeMovingMnistFile}. */
export interface WriteMovingMnistOptions {
  readonly format: MovingMnistFormat;
  /** Deflate the `.npz` members (as `np.savez_compressed`). @default false */
  readonly compress?: boolean;
  /** PredRNN only: frames of the input part of each sequence. @default half the sequence */
  readonly inputLength?: number;
}

function toBytes(clip: VideoClip): Uint8Array {
  if (clip.frames instanceof Uint8Array) return clip.frames;
  return Uint8Array.from(clip.frames, (v) => Math.min(255, Math.max(0, Math.round(v * 255))));
}

/**
 * Writes sequences (all of one shape) in one of the standard formats. `mnist_test_seq` is
 * written sequence by sequence with positioned writes, so the sequences need not all be in memory
 * at once (pass an {@link IndexedSource}, e.g. `MovingMnist.fixedSet`); the `.npz` formats are
 * assembled in memory.
 */
export async function writeMovingMnistFile(
  path: string,
  sequences: IndexedSource<VideoClip> | readonly VideoClip[],
  options: WriteMovingMnistOptions,
): Promise<void> {
  const format = oneOf(options.format, MOVING_MNIST_FORMATS, 'format', 'writeMovingMnistFile');
  const source: IndexedSource<VideoClip> = Array.isArray(sequences)
    ? { length: sequences.length, get: (i: number) => sequences[i] as VideoClip }
    : (sequences as IndexedSource<VideoClip>);
  const n = source.length;
  if (n < 1) throw new FileFormatError(path, 'nothing to write (no sequences)');
  const first = await source.get(0);
  const [t, h, w, c] = first.shape;
  const check = (clip: VideoClip, i: number): void => {
    if (clip.shape.some((d, k) => d !== first.shape[k])) {
      throw new FileFormatError(
        path,
        `sequence ${i} has shape [${clip.shape.join(', ')}], the first has [${first.shape.join(', ')}]`,
      );
    }
  };
  if (format === 'mnist_test_seq') {
    if (c !== 1) throw new FileFormatError(path, `mnist_test_seq holds one channel, the sequences have ${c}`);
    const head = npyHeaderBytes('|u1', [t, n, h, w]);
    const handle = await open(path, 'w');
    try {
      await handle.write(head, 0, head.byteLength, 0);
      await handle.truncate(head.byteLength + t * n * h * w);
      for (let i = 0; i < n; i++) {
        const clip = i === 0 ? first : await source.get(i);
        check(clip, i);
        const bytes = toBytes(clip);
        for (let f = 0; f < t; f++) {
          await handle.write(bytes, f * h * w, h * w, head.byteLength + (f * n + i) * h * w);
        }
      }
    } finally {
      await handle.close();
    }
    return;
  }
  const all = new Uint8Array(n * t * h * w * c);
  for (let i = 0; i < n; i++) {
    const clip = i === 0 ? first : await source.get(i);
    check(clip, i);
    all.set(toBytes(clip), i * t * h * w * c);
  }
  if (format === 'conv-tt-lstm') {
    await writeNpz(path, { data: { dtype: 'U8', shape: [n, t, h, w, c], data: all } }, { compress: options.compress });
    return;
  }
  const inputLength = options.inputLength ?? Math.floor(t / 2);
  if (!Number.isInteger(inputLength) || inputLength < 0 || inputLength > t) {
    throw new FileFormatError(path, `inputLength must be an integer in [0, ${t}], received ${inputLength}`);
  }
  // PredRNN layout: frames [N·T, C, H, W] float32, clips [2, N, 2] int32, dims [1, 3] int32.
  const raw = new Float32Array(n * t * c * h * w);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < t; f++) {
      for (let p = 0; p < h * w; p++) {
        for (let ch = 0; ch < c; ch++) {
          raw[(((i * t + f) * c + ch) * h * w + p) as number] =
            (all[((i * t + f) * h * w + p) * c + ch] as number) / 255;
        }
      }
    }
  }
  const clips = new Int32Array(2 * n * 2);
  for (let i = 0; i < n; i++) {
    clips[i * 2] = i * t;
    clips[i * 2 + 1] = inputLength;
    clips[(n + i) * 2] = i * t + inputLength;
    clips[(n + i) * 2 + 1] = t - inputLength;
  }
  await writeNpz(
    path,
    {
      clips: { dtype: 'I32', shape: [2, n, 2], data: clips },
      dims: { dtype: 'I32', shape: [1, 3], data: Int32Array.from([c, h, w]) },
      input_raw_data: { dtype: 'F32', shape: [n * t, c, h, w], data: raw },
    },
    { compress: options.compress },
  );
}
