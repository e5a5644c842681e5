/**
 * Video decoding through an `ffmpeg` process: frames come back on a pipe as PGM (gray) or PPM
 * (RGB) images, whose own headers carry the frame size, so no probe step is needed. Frames are
 * streamed (the pipe applies back-pressure), every frame of the stream is kept
 * (`-vsync passthrough`: no frame is dropped or duplicated), and a process that hangs is killed
 * after a time-out.
 *
 * Where ffmpeg is found, in order: `options.ffmpegPath`, the `VID_FFMPEG` environment variable,
 * `/usr/bin/ffmpeg` (Debian's package), `ffmpeg` on `PATH`, and the npm package
 * `@ffmpeg-installer/ffmpeg` when it is installed (it ships a static binary inside the npm
 * tarball).
 */
import { FileFormatError, VidError } from '@vid/core';
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';

/** ffmpeg is not installed, or not where it was said to be. */
export class FfmpegNotFoundError extends VidError {
  override readonly name = 'FfmpegNotFoundError';
  constructor(readonly searched: readonly string[]) {
    super(
      `ffmpeg was not found (looked at: ${searched.join(', ')}). Decoding videos (.avi, .webm) needs it. ` +
        'Install it with `apt-get install -y ffmpeg` (Debian/Ubuntu), `brew install ffmpeg` (macOS) or ' +
        '`npm install @ffmpeg-installer/ffmpeg` (a static binary from npm), or point VID_FFMPEG at an ffmpeg executable.',
    );
  }
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

const found = new Map<string, string>();

/** Finds an ffmpeg executable, or throws {@link FfmpegNotFoundError} saying how to install one. */
export async function findFfmpeg(explicit?: string): Promise<string> {
  const key = explicit ?? '';
  const cached = found.get(key);
  if (cached) return cached;
  const searched: string[] = [];
  const candidates: string[] = [];
  if (explicit) candidates.push(explicit);
  else {
    const fromEnv = process.env.VID_FFMPEG;
    if (fromEnv) candidates.push(fromEnv);
    candidates.push('/usr/bin/ffmpeg');
    for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir) candidates.push(join(dir, 'ffmpeg'));
    try {
      const require = createRequire(import.meta.url);
      const installer = require('@ffmpeg-installer/ffmpeg') as { path?: string };
      if (installer.path) candidates.push(installer.path);
    } catch {
      searched.push('@ffmpeg-installer/ffmpeg (not installed)');
    }
  }
  for (const candidate of candidates) {
    if (await isExecutable(candidate)) {
      found.set(key, candidate);
      return candidate;
    }
    searched.push(candidate);
  }
  throw new FfmpegNotFoundError(explicit ? [explicit] : searched.slice(0, 8).concat(searched.length > 8 ? ['…'] : []));
}

/** Whether an ffmpeg executable can be found. */
export async function hasFfmpeg(): Promise<boolean> {
  try {
    await findFfmpeg();
    return true;
  } catch {
    return false;
  }
}

/** One decoded frame. */
export interface DecodedFrame {
  /** `[height, width, channels]` bytes. */
  readonly data: Uint8Array;
  readonly height: number;
  readonly width: number;
  readonly channels: 1 | 3;
}

/** Options of {@link decodeVideo}. */
export interface DecodeVideoOptions {
  /** `'gray'` (one channel, ffmpeg's BT.601 luma) or `'rgb'`. @default 'gray' */
  readonly pixelFormat?: 'gray' | 'rgb';
  /** The ffmpeg executable. @default found by {@link findFfmpeg} */
  readonly ffmpegPath?: string;
  /** Kill ffmpeg and fail when decoding takes longer. @default 120000 */
  readonly timeoutMs?: number;
  /** Stop after this many frames. @default all */
  readonly maxFrames?: number;
}

/** Incremental parser of concatenated binary PNM images (P5 = gray, P6 = RGB). */
class PnmStream {
  private buffer: Uint8Array = new Uint8Array(0);

  push(chunk: Uint8Array): void {
    if (this.buffer.byteLength === 0) {
      this.buffer = chunk;
      return;
    }
    const joined = new Uint8Array(this.buffer.byteLength + chunk.byteLength);
    joined.set(this.buffer, 0);
    joined.set(chunk, this.buffer.byteLength);
    this.buffer = joined;
  }

  /** The next complete frame, or null when more bytes are needed. */
  next(file: string): DecodedFrame | null {
    const b = this.buffer;
    // Header: "P5|P6" ws width ws height ws maxval single-ws.
    let at = 0;
    const tokens: string[] = [];
    while (tokens.length < 4) {
      while (at < b.byteLength && /\s/.test(String.fromCharCode(b[at] as number))) at++;
      if (b[at] === 0x23) {
        while (at < b.byteLength && b[at] !== 0x0a) at++;
        continue;
      }
      const start = at;
      while (at < b.byteLength && !/\s/.test(String.fromCharCode(b[at] as number))) at++;
      if (at >= b.byteLength) return null;
      tokens.push(new TextDecoder().decode(b.subarray(start, at)));
      if (tokens.length === 1 && tokens[0] !== 'P5' && tokens[0] !== 'P6') {
        throw new FileFormatError(file, `ffmpeg wrote an unexpected frame header ${JSON.stringify(tokens[0])}`);
      }
    }
    at++; // the single whitespace after maxval
    const channels = tokens[0] === 'P5' ? 1 : 3;
    const width = Number(tokens[1]);
    const height = Number(tokens[2]);
    const size = width * height * channels;
    if (b.byteLength < at + size) return null;
    const data = b.slice(at, at + size);
    this.buffer = b.subarray(at + size);
    return { data, height, width, channels };
  }
}

/**
 * Decodes the frames of a video, one at a time, as an async iterable. The ffmpeg process is
 * killed when the loop stops early. A file that ffmpeg cannot decode gives a
 * {@link FileFormatError} naming it with ffmpeg's message; a missing ffmpeg gives
 * {@link FfmpegNotFoundError}.
 */
export async function* decodeVideo(path: string, options: DecodeVideoOptions = {}): AsyncGenerator<DecodedFrame> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new FileFormatError(path, 'is not a file (expected a video file)');
  } catch (error) {
    if (error instanceof FileFormatError) throw error;
    throw new FileFormatError(path, 'no such file (expected a video file)');
  }
  const ffmpeg = await findFfmpeg(options.ffmpegPath);
  const gray = (options.pixelFormat ?? 'gray') === 'gray';
  const args = ['-hide_banner', '-nostdin', '-v', 'error', '-i', path, '-map', '0:v:0', '-vsync', 'passthrough'];
  if (options.maxFrames !== undefined) args.push('-frames:v', String(options.maxFrames));
  args.push('-f', 'image2pipe', '-c:v', gray ? 'pgm' : 'ppm', '-pix_fmt', gray ? 'gray' : 'rgb24', '-');
  const child = spawn(ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 4000) stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on('close', (code) => resolve(code));
    child.on('error', () => resolve(-1));
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs ?? 120_000);
  const parser = new PnmStream();
  let frames = 0;
  let finished = false;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      parser.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      for (let frame = parser.next(path); frame; frame = parser.next(path)) {
        frames++;
        yield frame;
      }
    }
    const code = await exited;
    if (timedOut)
      throw new FileFormatError(
        path,
        `ffmpeg did not finish decoding within ${options.timeoutMs ?? 120_000} ms (killed)`,
      );
    if (code !== 0 || frames === 0) {
      const message = stderr.trim().split('\n').slice(-3).join(' | ') || `exit code ${code}`;
      throw new FileFormatError(
        path,
        `ffmpeg could not decode this video${frames ? ` after ${frames} frames` : ''}: ${message}`,
      );
    }
    finished = true;
  } finally {
    clearTimeout(timer);
    if (!finished && child.exitCode === null) child.kill('SIGKILL');
  }
}

/** A whole decoded video in memory. */
export interface DecodedVideo {
  /** `[frames, height, width, channels]` bytes. */
  readonly frames: Uint8Array;
  readonly shape: readonly [number, number, number, number];
}

/** Decodes a whole video into memory, `[frames, height, width, channels]`. */
export async function readVideo(path: string, options: DecodeVideoOptions = {}): Promise<DecodedVideo> {
  const frames: DecodedFrame[] = [];
  for await (const frame of decodeVideo(path, options)) {
    const first = frames[0];
    if (first && (frame.height !== first.height || frame.width !== first.width)) {
      throw new FileFormatError(
        path,
        `the frame size changes from ${first.width}×${first.height} to ${frame.width}×${frame.height} at frame ${frames.length}`,
      );
    }
    frames.push(frame);
  }
  const first = frames[0] as DecodedFrame;
  const size = first.data.byteLength;
  const out = new Uint8Array(frames.length * size);
  frames.forEach((frame, i) => out.set(frame.data, i * size));
  return { frames: out, shape: [frames.length, first.height, first.width, first.channels] };
}

/**
 * Counts the frames of a video's first video stream without decoding it (ffmpeg copies the
 * packets to a null muxer and reports the count). Exact for the intra/predicted-frame codecs of
 * KTH (MPEG-4 part 2) and SSv2 (VP8/VP9).
 */
export async function countVideoFrames(
  path: string,
  options: Pick<DecodeVideoOptions, 'ffmpegPath' | 'timeoutMs'> = {},
): Promise<number> {
  try {
    if (!(await stat(path)).isFile()) throw new Error('not a file');
  } catch {
    throw new FileFormatError(path, 'no such file (expected a video file)');
  }
  const ffmpeg = await findFfmpeg(options.ffmpegPath);
  const child = spawn(
    ffmpeg,
    ['-hide_banner', '-nostdin', '-v', 'error', '-stats', '-i', path, '-map', '0:v:0', '-c', 'copy', '-f', 'null', '-'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8000);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const code = await new Promise<number | null>((resolve) => {
    child.on('close', resolve);
    child.on('error', () => resolve(-1));
  });
  clearTimeout(timer);
  const matches = [...stderr.matchAll(/frame=\s*(\d+)/g)];
  const last = matches[matches.length - 1];
  if (code !== 0 || !last) {
    const message =
      stderr
        .replace(/frame=.*?(\r|\n)/g, '')
        .trim()
        .split('\n')
        .slice(-3)
        .join(' | ') || `exit code ${code}`;
    throw new FileFormatError(path, `ffmpeg could not read this video: ${message}`);
  }
  return Number(last[1]);
}
