import { deflateRawSync } from 'node:zlib';

import { describe, expect, it } from 'vitest';

import { ConfigError, FileFormatError } from '../errors.js';
import { DEFAULT_READ_LIMITS, getReadLimits, setReadLimits } from './limits.js';
import { parseSafetensors, serializeSafetensors } from './safetensors.js';
import { inflateBounded } from './zip.js';

const tensor = { dtype: 'F32' as const, shape: [1], data: new Float32Array([1]) };

describe('read limits', () => {
  it('refuses past a limit, and a per-call or process-wide raise lets the file through', () => {
    const bytes = serializeSafetensors({ a: tensor, b: tensor, c: tensor });
    expect(() => parseSafetensors(bytes, 'three.safetensors', { limits: { maxSafetensorsTensors: 2 } })).toThrow(
      /three\.safetensors: .*more than maxSafetensorsTensors = 2/,
    );
    expect(parseSafetensors(bytes, 'three.safetensors', { limits: { maxSafetensorsTensors: 3 } }).tensors.size).toBe(3);
    const previous = setReadLimits({ maxSafetensorsTensors: 2 });
    try {
      expect(() => parseSafetensors(bytes, 'three.safetensors')).toThrow(FileFormatError);
    } finally {
      setReadLimits(previous);
    }
    expect(getReadLimits()).toEqual(DEFAULT_READ_LIMITS);
  });

  it('validates limits', () => {
    expect(() => setReadLimits({ maxInflateRatio: -1 })).toThrow(ConfigError);
    expect(() => setReadLimits({ maxInflateRatio: Number.NaN })).toThrow(ConfigError);
    expect(() => setReadLimits({ nope: 1 } as never)).toThrow(/one of maxInflatedBytes/);
    expect(getReadLimits()).toEqual(DEFAULT_READ_LIMITS);
  });

  it('inflates a legitimate stream, and refuses one past its ratio unless raised', async () => {
    const zeros = new Uint8Array(20 * 2 ** 20);
    const deflated = new Uint8Array(deflateRawSync(zeros));
    const options = {
      format: 'raw' as const,
      compressedSize: deflated.byteLength,
      read: async (at: number, n: number) => deflated.subarray(at, at + n),
      file: 'zeros.zip',
      what: 'entry "z"',
    };
    await expect(inflateBounded({ ...options, declaredSize: zeros.byteLength })).rejects.toThrow(
      /zeros\.zip: entry "z": .*maxInflateRatio = 100/,
    );
    const out = await inflateBounded({ ...options, declaredSize: zeros.byteLength, limits: { maxInflateRatio: 2000 } });
    expect(out.byteLength).toBe(zeros.byteLength);
    await expect(inflateBounded({ ...options, declaredSize: 1000, limits: { maxInflateRatio: 2000 } })).rejects.toThrow(
      /more than the 1000 bytes its directory declares/,
    );
    const small = new Uint8Array(deflateRawSync(new Uint8Array(1000).fill(7)));
    const back = await inflateBounded({
      format: 'raw',
      compressedSize: small.byteLength,
      declaredSize: 1000,
      read: async (at, n) => small.subarray(at, at + n),
      file: 'f',
      what: '',
    });
    expect(back.every((b) => b === 7)).toBe(true);
  });
});
