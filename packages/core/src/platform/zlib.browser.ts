/**
 * The part of `node:zlib` that `@vid/core` uses, for browsers, on fflate (pure JavaScript). The
 * browser build of `@vid/core` resolves `node:zlib` to this module, so zip archives with deflated
 * members (`.npz`, compressed `.pt`) and `.gz` files read the same in a page, through the same
 * bounded, streaming `inflateBounded` as in Node.
 */
import { Gunzip, Inflate, deflateSync, gunzipSync as fflateGunzip, inflateSync } from 'fflate';

/** Node's `maxOutputLength` option, honoured after inflating (fflate's one-shot API cannot stop early). */
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

type Listener = (value?: unknown) => void;

/**
 * The subset of a Node zlib transform stream that `inflateBounded` drives: `write`/`end`/
 * `destroy`, and `data`/`end`/`error`/`close`/`drain` events. fflate inflates synchronously on
 * each push, so `write` always returns true (no back-pressure) and the output arrives as `data`
 * events during the call, in order; after `destroy` nothing more is emitted.
 */
class InflateStream {
  readonly #listeners = new Map<string, Listener[]>();
  readonly #inflater: Inflate | Gunzip;
  #closed = false;

  constructor(kind: 'raw' | 'gzip') {
    const onData = (chunk: Uint8Array, final: boolean): void => {
      if (this.#closed) return;
      if (chunk.byteLength > 0) this.#emit('data', chunk);
      if (final && !this.#closed) {
        this.#emit('end');
        this.#close();
      }
    };
    this.#inflater = kind === 'raw' ? new Inflate(onData) : new Gunzip(onData);
  }

  on(event: string, listener: Listener): this {
    this.#listeners.set(event, [...(this.#listeners.get(event) ?? []), listener]);
    return this;
  }

  once(event: string, listener: Listener): this {
    const wrapped: Listener = (value) => {
      this.#listeners.set(
        event,
        (this.#listeners.get(event) ?? []).filter((entry) => entry !== wrapped),
      );
      listener(value);
    };
    return this.on(event, wrapped);
  }

  write(chunk: Uint8Array): boolean {
    this.#push(chunk, false);
    return true;
  }

  end(): void {
    this.#push(new Uint8Array(0), true);
  }

  destroy(): void {
    this.#close();
  }

  #push(chunk: Uint8Array, final: boolean): void {
    if (this.#closed) return;
    try {
      this.#inflater.push(chunk, final);
    } catch (error) {
      this.#emit('error', error instanceof Error ? error : new Error(String(error)));
      this.#close();
    }
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#emit('close');
  }

  #emit(event: string, value?: unknown): void {
    for (const listener of this.#listeners.get(event) ?? []) listener(value);
  }
}

export function createInflateRaw(): InflateStream {
  return new InflateStream('raw');
}

export function createGunzip(): InflateStream {
  return new InflateStream('gzip');
}

export default { inflateRawSync, gunzipSync, deflateRawSync, createInflateRaw, createGunzip };
