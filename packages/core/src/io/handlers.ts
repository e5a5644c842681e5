/**
 * Where {@link saveModel} writes and {@link loadModel} reads: small IO handlers in the manner of
 * tfjs's `tf.io` (`IOHandler`, `indexeddb://`, `downloads://`, `http://`), each moving one
 * safetensors byte buffer. The format itself lives in `model-io.ts`; a handler knows only bytes.
 *
 * | destination or source              | handler                  | save | load | runs in           |
 * | ---------------------------------- | ------------------------ | ---- | ---- | ----------------- |
 * | `'runs/convlstm.safetensors'`      | {@link fileHandler}      | yes  | yes  | Node              |
 * | `'file:///…/model.safetensors'`    | {@link fileHandler}      | yes  | yes  | Node              |
 * | `'https://…/model.safetensors'`    | {@link httpHandler}      | POST | GET  | Node and browsers |
 * | `Uint8Array`, `ArrayBuffer`        | {@link bytesHandler}     | —    | yes  | everywhere        |
 * | `'indexeddb://name'`               | {@link indexedDBHandler} | yes  | yes  | browsers          |
 * | `'downloads://name'`               | {@link downloadHandler}  | yes  | —    | browsers          |
 *
 * Node's file system is reached only through dynamic imports (`node-fs.ts`), so a browser bundle
 * never loads `node:fs`.
 */
import { ConfigError, FileFormatError, VidError } from '../errors.js';
import { readFileBytes, writeAll, writeFileAtomic } from './node-fs.js';

/** What a handler's `save` is given: the file's bytes and, for its records, the model's class. */
export interface ModelArtifacts {
  /** The whole safetensors file. */
  readonly bytes: Uint8Array;
  /** The registered class name of the saved model. */
  readonly className: string;
}

/** What a handler's `save` reports. */
export interface SaveResult {
  /** Where the model went, for messages (a path, a URL, `indexeddb://name`). */
  readonly location: string;
  /** Bytes written. */
  readonly byteLength: number;
}

/**
 * A place a model can be saved to or loaded from (tfjs's `IOHandler`). Write your own to save
 * somewhere else (a cloud bucket, a `FileSystemFileHandle`) and pass it as the destination or
 * source.
 */
export interface ModelIOHandler {
  /** A name for messages and errors. */
  readonly location: string;
  save?(artifacts: ModelArtifacts): Promise<SaveResult>;
  load?(): Promise<Uint8Array>;
}

/** A destination of {@link saveModel}: a path, a URL string, or a handler. */
export type ModelDestination = string | URL | ModelIOHandler;
/** A source of {@link loadModel}: a path, a URL string, the bytes, or a handler. */
export type ModelSource = string | URL | Uint8Array | ArrayBuffer | ModelIOHandler;

/** The URL schemes {@link resolveHandler} routes. */
export const INDEXEDDB_SCHEME = 'indexeddb://';
export const DOWNLOADS_SCHEME = 'downloads://';

function isHandler(value: unknown): value is ModelIOHandler {
  return (
    typeof value === 'object' &&
    value !== null &&
    !(value instanceof Uint8Array) &&
    !(value instanceof ArrayBuffer) &&
    !(value instanceof URL) &&
    (typeof (value as ModelIOHandler).save === 'function' || typeof (value as ModelIOHandler).load === 'function')
  );
}

/**
 * The handler for a destination or source: handlers pass through; bytes get
 * {@link bytesHandler}; `indexeddb://`, `downloads://`, `http(s)://` and `file://` strings or
 * URLs get theirs; any other string is a file path (Node).
 */
export function resolveHandler(target: ModelSource, argument = 'source'): ModelIOHandler {
  if (isHandler(target)) return target;
  if (target instanceof Uint8Array || target instanceof ArrayBuffer) return bytesHandler(target);
  const text = target instanceof URL ? target.href : target;
  if (typeof text !== 'string' || text.length === 0) {
    throw new ConfigError(
      argument,
      'a file path, a URL (http:, https:, file:, indexeddb://, downloads://), bytes (Uint8Array or ArrayBuffer) or an IO handler',
      target,
      argument === 'destination' ? 'saveModel' : 'loadModel',
    );
  }
  const lower = text.toLowerCase();
  if (lower.startsWith(INDEXEDDB_SCHEME)) return indexedDBHandler(text.slice(INDEXEDDB_SCHEME.length));
  if (lower.startsWith(DOWNLOADS_SCHEME)) return downloadHandler(text.slice(DOWNLOADS_SCHEME.length));
  if (lower.startsWith('http://') || lower.startsWith('https://')) return httpHandler(text);
  if (lower.startsWith('file://')) return fileHandler(text);
  return fileHandler(text);
}

// --- Files (Node) --------------------------------------------------------------------------------

/**
 * A file on disk (Node only): `path` or a `file://` URL. Saving is atomic (a temporary file beside
 * the target, flushed and renamed over it), so a crash never leaves half a model behind.
 */
export function fileHandler(pathOrUrl: string | URL): ModelIOHandler {
  const display = pathOrUrl instanceof URL ? pathOrUrl.href : pathOrUrl;
  const path = async (): Promise<string> => {
    if (pathOrUrl instanceof URL || pathOrUrl.toLowerCase().startsWith('file://')) {
      const { fileURLToPath } = await import('node:url');
      return fileURLToPath(pathOrUrl);
    }
    return pathOrUrl;
  };
  return {
    location: display,
    async save({ bytes }) {
      const file = await path();
      await writeFileAtomic(file, (handle) => writeAll(handle, bytes));
      return { location: file, byteLength: bytes.byteLength };
    },
    async load() {
      return readFileBytes(await path());
    },
  };
}

// --- Bytes ------------------------------------------------------------------------------------------

/** Bytes in memory as a source (they are read, not copied). */
export function bytesHandler(bytes: Uint8Array | ArrayBuffer): ModelIOHandler {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  return {
    location: `<${view.byteLength} bytes>`,
    load: async () => view,
  };
}

// --- HTTP --------------------------------------------------------------------------------------------

/** Options of {@link httpHandler}. */
export interface HttpHandlerOptions {
  /** Extra `fetch` options (headers, credentials, …) for both directions. */
  readonly requestInit?: RequestInit;
  /** The method that saves. @default 'POST' */
  readonly saveMethod?: 'POST' | 'PUT';
  /** A `fetch` to use instead of the global one. */
  readonly fetch?: typeof fetch;
}

/**
 * A URL (Node ≥ 18 and browsers, through `fetch`): `load` GETs the file; `save` sends the bytes as
 * `application/octet-stream` with `POST` (or `PUT`). A status outside 2xx is an error that names
 * the URL and the status.
 */
export function httpHandler(url: string | URL, options: HttpHandlerOptions = {}): ModelIOHandler {
  const href = url instanceof URL ? url.href : url;
  const fetcher = (): typeof fetch => {
    const f = options.fetch ?? globalThis.fetch;
    if (typeof f !== 'function') throw new FileFormatError(href, 'no fetch() in this environment (pass options.fetch)');
    return f;
  };
  return {
    location: href,
    async save({ bytes }) {
      let response: Response;
      try {
        response = await fetcher()(href, {
          ...options.requestInit,
          method: options.saveMethod ?? 'POST',
          headers: {
            'content-type': 'application/octet-stream',
            ...(options.requestInit?.headers as Record<string, string> | undefined),
          },
          body: bytes as unknown as BodyInit,
        });
      } catch (error) {
        throw new FileFormatError(href, `request failed: ${(error as Error).message}`);
      }
      if (!response.ok)
        throw new FileFormatError(href, `the server answered ${response.status} ${response.statusText} (expected 2xx)`);
      return { location: href, byteLength: bytes.byteLength };
    },
    async load() {
      let response: Response;
      try {
        response = await fetcher()(href, { ...options.requestInit, method: 'GET' });
      } catch (error) {
        throw new FileFormatError(href, `request failed: ${(error as Error).message}`);
      }
      if (!response.ok)
        throw new FileFormatError(href, `the server answered ${response.status} ${response.statusText} (expected 200)`);
      return new Uint8Array(await response.arrayBuffer());
    },
  };
}

// --- IndexedDB (browsers) ------------------------------------------------------------------------

/** The IndexedDB database and object store that `indexeddb://` models live in. */
export const MODEL_DATABASE = 'vid-models';
export const MODEL_STORE = 'models';

interface StoredModel {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly className: string;
  readonly savedAt: string;
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

async function openModelDatabase(factory: IDBFactory | undefined, location: string): Promise<IDBDatabase> {
  const idb = factory ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (!idb)
    throw new FileFormatError(
      location,
      'no IndexedDB in this environment (indexeddb:// needs a browser, or pass options.indexedDB)',
    );
  const open = idb.open(MODEL_DATABASE, 1);
  open.onupgradeneeded = () => {
    if (!open.result.objectStoreNames.contains(MODEL_STORE))
      open.result.createObjectStore(MODEL_STORE, { keyPath: 'name' });
  };
  return request(open);
}

async function withStore<T>(
  factory: IDBFactory | undefined,
  location: string,
  mode: IDBTransactionMode,
  body: (store: IDBObjectStore) => IDBRequest<T>,
): Promise<T> {
  const db = await openModelDatabase(factory, location);
  try {
    const tx = db.transaction(MODEL_STORE, mode);
    const done = new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    });
    const result = await request(body(tx.objectStore(MODEL_STORE)));
    await done;
    return result;
  } catch (error) {
    throw error instanceof VidError
      ? error
      : new FileFormatError(location, `IndexedDB: ${(error as Error).message ?? String(error)}`);
  } finally {
    db.close();
  }
}

function checkStoreName(name: string, scheme: string): string {
  if (typeof name !== 'string' || name.length === 0)
    throw new ConfigError('name', `a non-empty model name after ${scheme}`, name, 'resolveHandler');
  return name;
}

/**
 * A model kept in the browser's IndexedDB (`indexeddb://name`): database `vid-models`, store
 * `models`, one record `{name, bytes, className, savedAt}` per model. Saving under a taken name
 * replaces it (one transaction, so never half a model).
 */
export function indexedDBHandler(name: string, options: { readonly indexedDB?: IDBFactory } = {}): ModelIOHandler {
  const key = checkStoreName(name, INDEXEDDB_SCHEME);
  const location = `${INDEXEDDB_SCHEME}${key}`;
  return {
    location,
    async save({ bytes, className }) {
      // A copy, so that later edits of the caller's buffer do not reach the stored one.
      const record: StoredModel = { name: key, bytes: bytes.slice(), className, savedAt: new Date().toISOString() };
      await withStore(options.indexedDB, location, 'readwrite', (store) => store.put(record));
      return { location, byteLength: bytes.byteLength };
    },
    async load() {
      const record = await withStore<StoredModel | undefined>(options.indexedDB, location, 'readonly', (store) =>
        store.get(key),
      );
      if (record === undefined) throw new FileFormatError(location, 'no model stored under this name');
      return record.bytes instanceof Uint8Array ? record.bytes : new Uint8Array(record.bytes as ArrayBufferLike);
    },
  };
}

/** The models stored in IndexedDB: name → `{className, byteLength, savedAt}` (tfjs's `listModels`). */
export async function listStoredModels(
  options: { readonly indexedDB?: IDBFactory } = {},
): Promise<Record<string, { className: string; byteLength: number; savedAt: string }>> {
  const records = await withStore<StoredModel[]>(
    options.indexedDB,
    INDEXEDDB_SCHEME,
    'readonly',
    (store) => store.getAll() as IDBRequest<StoredModel[]>,
  );
  return Object.fromEntries(
    records.map((r) => [
      `${INDEXEDDB_SCHEME}${r.name}`,
      { className: r.className, byteLength: r.bytes.byteLength, savedAt: r.savedAt },
    ]),
  );
}

/** Deletes a model stored in IndexedDB (`indexeddb://name` or `name`); a missing one is an error. */
export async function removeStoredModel(
  name: string,
  options: { readonly indexedDB?: IDBFactory } = {},
): Promise<void> {
  const key = checkStoreName(
    name.startsWith(INDEXEDDB_SCHEME) ? name.slice(INDEXEDDB_SCHEME.length) : name,
    INDEXEDDB_SCHEME,
  );
  const location = `${INDEXEDDB_SCHEME}${key}`;
  const count = await withStore(options.indexedDB, location, 'readonly', (store) => store.count(key));
  if (count === 0) throw new FileFormatError(location, 'no model stored under this name');
  await withStore(options.indexedDB, location, 'readwrite', (store) => store.delete(key));
}

// --- Downloads (browsers) -------------------------------------------------------------------------

/**
 * Saves by having the browser download the file (`downloads://name` → `name.safetensors`), as
 * tfjs's `downloads://`. Save only; load the downloaded file with the bytes of a file input
 * (`new Uint8Array(await file.arrayBuffer())`).
 */
export function downloadHandler(name: string): ModelIOHandler {
  const key = checkStoreName(name, DOWNLOADS_SCHEME);
  const fileName = /\.safetensors$/i.test(key) ? key : `${key}.safetensors`;
  const location = `${DOWNLOADS_SCHEME}${key}`;
  return {
    location,
    async save({ bytes }) {
      const doc = (globalThis as { document?: Document }).document;
      if (doc === undefined || typeof URL.createObjectURL !== 'function') {
        throw new FileFormatError(
          location,
          'downloads:// needs a browser (document and URL.createObjectURL); in Node save to a file path',
        );
      }
      const url = URL.createObjectURL(new Blob([bytes as unknown as BlobPart], { type: 'application/octet-stream' }));
      try {
        const anchor = doc.createElement('a');
        anchor.href = url;
        anchor.download = fileName;
        anchor.click();
      } finally {
        // Revoke after the click has started the download.
        setTimeout(() => URL.revokeObjectURL(url), 0);
      }
      return { location: fileName, byteLength: bytes.byteLength };
    },
  };
}
