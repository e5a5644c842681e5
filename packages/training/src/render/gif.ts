/**
 * A GIF89a encoder (animated, looping) for sample videos: a fixed palette (256 grays when every
 * frame is gray, else a 6×6×6 colour cube plus 40 grays), variable-width LZW as the GIF
 * specification (W3C GIF89a, sec. 22 and appendix F) describes, and a NETSCAPE2.0 loop block.
 */

/** An RGB frame `[height, width, 3]` in bytes. */
export interface GifFrame {
  readonly data: Uint8Array;
}

/** Options of {@link encodeGif}. */
export interface GifOptions {
  /** Delay between frames in milliseconds (GIF stores hundredths). @default 200 */
  readonly delayMs?: number;
  /** Loops: 0 forever. @default 0 */
  readonly loop?: number;
}

class ByteWriter {
  #bytes = new Uint8Array(1 << 16);
  #length = 0;

  byte(value: number): void {
    if (this.#length === this.#bytes.length) {
      const grown = new Uint8Array(this.#bytes.length * 2);
      grown.set(this.#bytes);
      this.#bytes = grown;
    }
    this.#bytes[this.#length++] = value & 0xff;
  }

  bytes(values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) this.byte(values[i] as number);
  }

  u16(value: number): void {
    this.byte(value & 0xff);
    this.byte((value >> 8) & 0xff);
  }

  ascii(text: string): void {
    for (const c of text) this.byte(c.charCodeAt(0));
  }

  result(): Uint8Array {
    return this.#bytes.slice(0, this.#length);
  }
}

/** The palette and a pixel → index mapping. */
function palette(gray: boolean): { table: Uint8Array; index: (r: number, g: number, b: number) => number } {
  const table = new Uint8Array(256 * 3);
  if (gray) {
    for (let i = 0; i < 256; i++) table.set([i, i, i], i * 3);
    return { table, index: (r) => r };
  }
  const levels = [0, 51, 102, 153, 204, 255];
  for (let i = 0; i < 216; i++) table.set([levels[Math.floor(i / 36)] as number, levels[Math.floor(i / 6) % 6] as number, levels[i % 6] as number], i * 3);
  for (let i = 0; i < 40; i++) {
    const v = Math.round((i * 255) / 39);
    table.set([v, v, v], (216 + i) * 3);
  }
  return {
    table,
    index: (r, g, b) => {
      if (r === g && g === b) return 216 + Math.round((r * 39) / 255);
      return Math.round(r / 51) * 36 + Math.round(g / 51) * 6 + Math.round(b / 51);
    },
  };
}

/** LZW-compresses 8-bit indices into GIF image data sub-blocks (minimum code size 8). */
export function lzwEncode(indices: Uint8Array, out: ByteWriter | null = null): Uint8Array {
  const writer = out ?? new ByteWriter();
  const minCodeSize = 8;
  const clearCode = 1 << minCodeSize;
  const endCode = clearCode + 1;
  let codeSize = minCodeSize + 1;
  let nextCode = endCode + 1;
  let table = new Map<number, number>();
  // Codes are packed least-significant bit first into bytes, then into sub-blocks of ≤ 255 bytes.
  const block: number[] = [];
  let bitBuffer = 0;
  let bitCount = 0;
  const flushBlock = (): void => {
    if (block.length === 0) return;
    writer.byte(block.length);
    writer.bytes(block);
    block.length = 0;
  };
  const emit = (code: number): void => {
    bitBuffer |= code << bitCount;
    bitCount += codeSize;
    while (bitCount >= 8) {
      block.push(bitBuffer & 0xff);
      bitBuffer >>>= 8;
      bitCount -= 8;
      if (block.length === 255) flushBlock();
    }
  };
  writer.byte(minCodeSize);
  emit(clearCode);
  if (indices.length > 0) {
    let prefix = indices[0] as number;
    for (let i = 1; i < indices.length; i++) {
      const k = indices[i] as number;
      const key = prefix * 256 + k;
      const found = table.get(key);
      if (found !== undefined) {
        prefix = found;
        continue;
      }
      emit(prefix);
      if (nextCode === 4096) {
        emit(clearCode);
        table = new Map();
        nextCode = endCode + 1;
        codeSize = minCodeSize + 1;
      } else {
        if (nextCode >= 1 << codeSize) codeSize++;
        table.set(key, nextCode++);
      }
      prefix = k;
    }
    emit(prefix);
  }
  emit(endCode);
  if (bitCount > 0) {
    block.push(bitBuffer & 0xff);
    bitCount = 0;
  }
  flushBlock();
  writer.byte(0); // block terminator
  return out ? new Uint8Array(0) : writer.result();
}

/** Encodes RGB frames of one size as an animated GIF. */
export function encodeGif(frames: readonly GifFrame[], width: number, height: number, options: GifOptions = {}): Uint8Array {
  if (frames.length === 0) throw new Error('encodeGif: at least one frame');
  const pixels = width * height;
  for (const frame of frames) if (frame.data.length !== pixels * 3) throw new Error(`encodeGif: frame of ${frame.data.length} bytes, expected ${pixels * 3} (${width}×${height} RGB)`);
  const gray = frames.every((f) => {
    for (let p = 0; p < pixels; p++) if (f.data[p * 3] !== f.data[p * 3 + 1] || f.data[p * 3] !== f.data[p * 3 + 2]) return false;
    return true;
  });
  const { table, index } = palette(gray);
  const w = new ByteWriter();
  w.ascii('GIF89a');
  w.u16(width);
  w.u16(height);
  w.byte(0xf7); // global colour table, 8-bit colour resolution, 256 entries
  w.byte(0); // background colour index
  w.byte(0); // pixel aspect ratio
  w.bytes(table);
  // NETSCAPE2.0 application extension: loop count.
  w.bytes([0x21, 0xff, 0x0b]);
  w.ascii('NETSCAPE2.0');
  w.bytes([0x03, 0x01]);
  w.u16(options.loop ?? 0);
  w.byte(0);
  const delay = Math.max(1, Math.round((options.delayMs ?? 200) / 10));
  const indices = new Uint8Array(pixels);
  for (const frame of frames) {
    // Graphic control extension: no disposal, no transparency, the delay.
    w.bytes([0x21, 0xf9, 0x04, 0x00]);
    w.u16(delay);
    w.bytes([0x00, 0x00]);
    // Image descriptor: the whole screen, no local colour table, not interlaced.
    w.byte(0x2c);
    w.u16(0);
    w.u16(0);
    w.u16(width);
    w.u16(height);
    w.byte(0);
    for (let p = 0; p < pixels; p++) indices[p] = index(frame.data[p * 3] as number, frame.data[p * 3 + 1] as number, frame.data[p * 3 + 2] as number);
    lzwEncode(indices, w);
  }
  w.byte(0x3b);
  return w.result();
}

export { ByteWriter };
