/**
 * The part of `node:zlib` that `@vid/core` uses, for browsers, on fflate (pure JavaScript,
 * synchronous). The browser build of `@vid/core` resolves `node:zlib` to this module, so zip
 * archives with deflated members (`.npz`, compressed `.pt`) read the same in a page.
 */
import { deflateSync, gunzipSync as fflateGunzip, inflateSync } from 'fflate';

/** Node's `maxOutputLength` option, honoured after inflating (fflate cannot stop early). */
interface InflateOptions {
  readonly maxOutputLength?: number;
}

function bounded(out: Uint8Array, options: InflateOptions | undefined): Uint8Array {
  if (options?.maxOutputLength !== undefined && out.byteLength > options.maxOutputLength) {
    throw new RangeError(`Cannot create a Buffer larger than ${options.maxOutputLength} bytes`);
  }
  return out;
}

export function inflateRawSync(data: Uint8Array, options?: InflateOptions): Uint8Array {
  return bounded(inflateSync(data), options);
}

export function gunzipSync(data: Uint8Array, options?: InflateOptions): Uint8Array {
  return bounded(fflateGunzip(data), options);
}

export function deflateRawSync(data: Uint8Array): Uint8Array {
  return deflateSync(data);
}

export default { inflateRawSync, gunzipSync, deflateRawSync };
