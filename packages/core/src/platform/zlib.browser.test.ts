import { deflateRawSync as nodeDeflateRaw, gzipSync as nodeGzip } from 'node:zlib';

import { describe, expect, it } from 'vitest';

import { createGunzip, createInflateRaw } from './zlib.browser.js';

/** Drives a stream as `inflateBounded` does: listeners first, then 64 KiB writes, then end. */
function drive(stream: ReturnType<typeof createInflateRaw>, compressed: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    stream.on('data', (chunk) => chunks.push(chunk as Uint8Array));
    stream.on('end', () => {
      const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
      let at = 0;
      for (const c of chunks) {
        out.set(c, at);
        at += c.byteLength;
      }
      resolve(out);
    });
    stream.on('error', reject);
    for (let at = 0; at < compressed.byteLength; at += 65536) stream.write(compressed.subarray(at, at + 65536));
    stream.end();
  });
}

describe('the browser zlib shim (fflate)', () => {
  const data = new Uint8Array(300_000).map((_, i) => (i * 7919) % 251);

  it('streams raw deflate and gzip like Node', async () => {
    expect(await drive(createInflateRaw(), nodeDeflateRaw(data))).toEqual(data);
    expect(await drive(createGunzip(), nodeGzip(data))).toEqual(data);
  });

  it('reports corrupted data as an error event and stops after destroy', async () => {
    await expect(drive(createInflateRaw(), new Uint8Array([0xff, 0xff, 0xff, 0xff]))).rejects.toThrow();
    const stream = createInflateRaw();
    let events = 0;
    stream.on('data', () => {
      events += 1;
      stream.destroy();
    });
    let closed = 0;
    stream.on('close', () => (closed += 1));
    const compressed = nodeDeflateRaw(data);
    for (let at = 0; at < compressed.byteLength; at += 1024) stream.write(compressed.subarray(at, at + 1024));
    expect(events).toBe(1);
    expect(closed).toBe(1);
  });
});
