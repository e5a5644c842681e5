/**
 * Reads PyTorch checkpoints (`torch.save`) without Python:
 *
 * - the zip format (PyTorch ≥ 1.6): `<name>/data.pkl` holds the pickled object, whose tensors
 *   refer by persistent id to storages stored raw in `<name>/data/<key>`;
 * - the legacy format (PyTorch < 1.6): magic number, protocol version and system info pickles,
 *   the object pickle, the list of storage keys, then each storage's element count and bytes.
 *
 * The object is unpickled with the restricted unpickler in `pickle.ts`: only containers,
 * `OrderedDict`, tensor rebuilds, storage types and NumPy scalars are allowed.
 * Storages are read only after unpickling, one positioned read each.
 *
 * The object graph is walked once, as the DAG it is (a 652-byte file can share one list 2^40
 * times through the pickle memo), with an explicit stack, a node budget and cycle detection.
 * Tensor views are checked against their storage exactly as PyTorch's `setStorage` does
 * (non-negative sizes, strides and offsets; "out of bounds for storage"), so a corrupted file is
 * a {@link FileFormatError}, never zeros or NaN.
 */
import { FileFormatError } from '../errors.js';
import { type DType, DTYPE_SIZE, type HostTensor, numElements, viewAs } from './host-tensor.js';
import { type ReadLimits, resolveReadLimits } from './limits.js';
import { readFileBytes } from './node-fs.js';
import { type GlobalHandler, type PyObject, type PyValue, PyGlobal, unpickle } from './pickle.js';
import { type ByteSource, ZipArchive, bytesSource, fileSource } from './zip.js';

const STORAGE_DTYPES: Readonly<Record<string, DType>> = {
  FloatStorage: 'F32',
  DoubleStorage: 'F64',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

/** A storage named by a persistent id, before its bytes are read. */
interface StorageRef extends PyObject {
  readonly __pyclass__: 'torch.storage';
  readonly dtype: DType;
  readonly key: string;
  readonly numel: number;
  /** Legacy format views: element offset into the root storage. */
  readonly viewOffset: number;
  /** Legacy format views: elements of the view (the root's `numel` when not a view). */
  readonly viewSize: number;
}

/** A tensor as `_rebuild_tensor_v2` describes it, before its storage is read. */
interface TensorRef extends PyObject {
  readonly __pyclass__: 'torch.Tensor';
  readonly storage: StorageRef;
  readonly offset: number;
  readonly size: number[];
  readonly stride: number[];
}

function isTensorRef(value: unknown): value is TensorRef {
  return typeof value === 'object' && value !== null && (value as PyObject).__pyclass__ === 'torch.Tensor';
}

function isStorageRef(value: unknown): value is StorageRef {
  return typeof value === 'object' && value !== null && (value as PyObject).__pyclass__ === 'torch.storage';
}

function asIntArray(value: PyValue, what: string, file: string): number[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0)) {
    throw new FileFormatError(file, `${what}: expected a tuple of non-negative integers, received ${describe(value)}`);
  }
  return value as number[];
}

function asCount(value: PyValue | undefined, what: string, file: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new FileFormatError(file, `${what}: expected a non-negative integer, received ${describe(value)}`);
  }
  return value;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return `(${value.slice(0, 8).map(describe).join(', ')}${value.length > 8 ? ', …' : ''})`;
  if (typeof value === 'bigint') return String(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined)
    return String(value);
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  return typeof value;
}

function torchGlobals(file: string): Record<string, GlobalHandler> {
  const rebuildTensor = (args: PyValue[]): PyValue => {
    const [storage, offset, size, stride] = args;
    if (!isStorageRef(storage)) throw new FileFormatError(file, '_rebuild_tensor: the first argument is not a storage');
    const ref: TensorRef = {
      __pyclass__: 'torch.Tensor',
      storage,
      offset: asCount(offset, 'tensor storage offset', file),
      size: asIntArray(size as PyValue, 'tensor size', file),
      stride: asIntArray(stride as PyValue, 'tensor stride', file),
    };
    if (ref.size.length !== ref.stride.length) {
      throw new FileFormatError(
        file,
        `tensor size ${describe(ref.size)} and stride ${describe(ref.stride)} have different lengths`,
      );
    }
    return ref;
  };
  const handlers: Record<string, GlobalHandler> = {
    'torch._utils._rebuild_tensor_v2': { call: rebuildTensor },
    'torch._utils._rebuild_tensor': { call: rebuildTensor },
    'torch._utils._rebuild_parameter': { call: (args) => args[0] as PyValue },
    'torch._utils._rebuild_parameter_with_state': { call: (args) => args[0] as PyValue },
    'torch.Size': { call: (args) => (Array.isArray(args[0]) ? args[0] : []) },
    // NumPy scalars (e.g. a best loss saved as numpy.float64): dtype then raw bytes.
    'numpy.dtype': {
      call: (args) => ({ __pyclass__: 'numpy.dtype', str: String(args[0]), littleEndian: true }) as PyObject,
      build: (target, state) => {
        const order = Array.isArray(state) ? state[1] : undefined;
        return { ...(target as PyObject), littleEndian: order !== '>' } as PyObject;
      },
    },
    'numpy.core.multiarray.scalar': { call: (args) => numpyScalar(args, file) },
    'numpy._core.multiarray.scalar': { call: (args) => numpyScalar(args, file) },
  };
  for (const [name, dtype] of Object.entries(STORAGE_DTYPES)) {
    handlers[`torch.${name}`] = { call: () => ({ __pyclass__: 'torch.storage-type', dtype }) as PyObject };
  }
  return handlers;
}

function numpyScalar(args: PyValue[], file: string): PyValue {
  const [dtype, raw] = args as [PyObject | undefined, PyValue];
  const code = typeof dtype?.str === 'string' ? dtype.str : '';
  if (!(raw instanceof Uint8Array)) throw new FileFormatError(file, 'numpy scalar without bytes');
  const sizes: Readonly<Record<string, number>> = { f8: 8, f4: 4, i8: 8, i4: 4, b1: 1 };
  if (Object.prototype.hasOwnProperty.call(sizes, code) && raw.byteLength < (sizes[code] as number)) {
    throw new FileFormatError(
      file,
      `numpy scalar of dtype "${code}" has ${raw.byteLength} bytes, expected ${sizes[code]}`,
    );
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const le = dtype?.littleEndian !== false;
  switch (code) {
    case 'f8':
      return view.getFloat64(0, le);
    case 'f4':
      return view.getFloat32(0, le);
    case 'i8':
      return Number(view.getBigInt64(0, le));
    case 'i4':
      return view.getInt32(0, le);
    case 'b1':
      return raw[0] !== 0;
    default:
      throw new FileFormatError(file, `numpy scalar of dtype "${code}" is not supported`);
  }
}

function storageFromPid(pid: PyValue, file: string): StorageRef {
  if (!Array.isArray(pid) || pid[0] !== 'storage') {
    throw new FileFormatError(file, 'unsupported persistent id (expected a ("storage", …) tuple)');
  }
  const [, type, key, , numel, view] = pid;
  const dtype = (type as PyObject | null)?.dtype;
  const typeName = type instanceof PyGlobal ? type.qualifiedName : (type as PyObject | null)?.__pyclass__;
  if (typeof dtype !== 'string') {
    throw new FileFormatError(file, `unsupported storage type ${typeName ?? String(type)}`);
  }
  if (typeof key !== 'string' && typeof key !== 'number')
    throw new FileFormatError(file, `storage key: expected a string, received ${describe(key)}`);
  const count = asCount(numel, `storage ${key}: element count`, file);
  let viewOffset = 0;
  let viewSize = count;
  if (Array.isArray(view)) {
    viewOffset = asCount(view[1], `storage view ${key}: offset`, file);
    viewSize = asCount(view[2], `storage view ${key}: size`, file);
    if (viewOffset + viewSize > count) {
      throw new FileFormatError(
        file,
        `storage view ${key}: elements [${viewOffset}, ${viewOffset + viewSize}) are out of bounds for a storage of ${count} elements`,
      );
    }
  }
  return {
    __pyclass__: 'torch.storage',
    dtype: dtype as DType,
    key: String(key),
    numel: count,
    viewOffset,
    viewSize,
  };
}

// The storage type global is called neither by REDUCE nor BUILD: it appears as a bare global
// inside the persistent id tuple. Map it to its dtype before resolving the storage.
function normalisePid(pid: PyValue): PyValue {
  if (!Array.isArray(pid)) return pid;
  const type = pid[1];
  if (
    type instanceof PyGlobal &&
    type.module === 'torch' &&
    Object.prototype.hasOwnProperty.call(STORAGE_DTYPES, type.name)
  ) {
    const copy = [...pid];
    copy[1] = { __pyclass__: 'torch.storage-type', dtype: STORAGE_DTYPES[type.name] } as PyObject;
    return copy;
  }
  return pid;
}

/**
 * Copies a strided view of a storage into a fresh contiguous host tensor, after the bounds
 * check of PyTorch's `setStorage` (aten/src/ATen/native/Resize.h, `checkInBoundsForStorage`).
 */
function materialise(
  ref: TensorRef,
  storage: Uint8Array,
  littleEndian: boolean,
  file: string,
  limits: Readonly<ReadLimits>,
): HostTensor {
  const { dtype } = ref.storage;
  const size = DTYPE_SIZE[dtype];
  const n = numElements(ref.size);
  // The storage the view may use: the view's elements (legacy), bounded by the bytes present.
  const storageElements = Math.min(
    ref.storage.viewSize,
    Math.floor(storage.byteLength / size) - ref.storage.viewOffset,
  );
  let required = 0;
  if (n > 0) {
    required = ref.offset + 1;
    for (let d = 0; d < ref.size.length; d++) required += ((ref.size[d] as number) - 1) * (ref.stride[d] as number);
  }
  if (required > storageElements) {
    throw new FileFormatError(
      file,
      `setStorage: sizes [${ref.size.join(', ')}], strides [${ref.stride.join(', ')}], storage offset ${ref.offset}, and itemsize ${size} requiring a storage size of ${required * size} are out of bounds for storage of size ${Math.max(storageElements, 0) * size}`,
    );
  }
  if (n * size > limits.maxTensorBytes) {
    throw new FileFormatError(
      file,
      `a tensor of size [${ref.size.join(', ')}] needs ${n * size} bytes, more than maxTensorBytes = ${limits.maxTensorBytes} (raise it with setReadLimits() or the limits option)`,
    );
  }
  const data = littleEndian ? storage : swapBytes(storage, size);
  const elements = viewAs(dtype, data.subarray(0, Math.floor(data.byteLength / size) * size));
  const start = ref.offset + ref.storage.viewOffset;
  const rank = ref.size.length;
  // Row-major strides of the logical shape; a tensor with exactly these strides is contiguous.
  let contiguous = true;
  for (let d = rank - 1, expected = 1; d >= 0; d--) {
    const extent = ref.size[d] as number;
    if (extent !== 1 && ref.stride[d] !== expected) contiguous = false;
    expected *= extent;
  }
  const Ctor = elements.constructor as new (length: number) => typeof elements;
  if (contiguous) {
    const out = new Ctor(n);
    (out as unknown as { set(a: ArrayLike<number | bigint>): void }).set(
      elements.subarray(start, start + n) as ArrayLike<number | bigint>,
    );
    return { dtype, shape: ref.size, data: out };
  }
  const out = new Ctor(n) as unknown as Record<number, number | bigint>;
  const index = new Array<number>(rank).fill(0);
  for (let i = 0; i < n; i++) {
    let source = start;
    for (let d = 0; d < rank; d++) source += (index[d] as number) * (ref.stride[d] as number);
    out[i] = (elements as unknown as Record<number, number | bigint>)[source] as number | bigint;
    for (let d = rank - 1; d >= 0; d--) {
      index[d] = (index[d] as number) + 1;
      if ((index[d] as number) < (ref.size[d] as number)) break;
      index[d] = 0;
    }
  }
  return { dtype, shape: ref.size, data: out as unknown as HostTensor['data'] };
}

function swapBytes(bytes: Uint8Array, size: number): Uint8Array {
  if (size === 1) return bytes;
  const out = new Uint8Array(bytes.byteLength);
  for (let i = 0; i < bytes.byteLength; i += size)
    for (let j = 0; j < size; j++) out[i + j] = bytes[i + size - 1 - j] as number;
  return out;
}

type Container = PyValue[] | Map<PyValue, PyValue>;

function isContainer(value: unknown): value is Container {
  return Array.isArray(value) || value instanceof Map;
}

/**
 * Walks the object graph once, depth first with an explicit stack (no recursion), visiting each
 * shared object once. Returns the containers in post-order (children before parents) and the
 * distinct tensor references. Refuses cycles and graphs of more than `maxPickleNodes` objects.
 */
function walkGraph(
  root: PyValue,
  file: string,
  limits: Readonly<ReadLimits>,
): { containers: Container[]; tensors: TensorRef[] } {
  const IN_PROGRESS = 1;
  const DONE = 2;
  const state = new Map<object, number>();
  const containers: Container[] = [];
  const tensors: TensorRef[] = [];
  const stack: Array<{ node: Container; children: Iterator<PyValue> }> = [];
  const count = (): void => {
    if (state.size > limits.maxPickleNodes) {
      throw new FileFormatError(
        file,
        `the checkpoint's object graph has more than maxPickleNodes = ${limits.maxPickleNodes} objects (raise it with setReadLimits() or the limits option)`,
      );
    }
  };
  const enter = (value: PyValue): void => {
    if (isTensorRef(value)) {
      if (!state.has(value)) {
        state.set(value, DONE);
        tensors.push(value);
        count();
      }
      return;
    }
    if (!isContainer(value)) return;
    const seen = state.get(value);
    if (seen === IN_PROGRESS)
      throw new FileFormatError(
        file,
        'the pickled object graph has a cycle (a list or dict that contains itself); checkpoints never need one',
      );
    if (seen === DONE) return;
    state.set(value, IN_PROGRESS);
    count();
    stack.push({
      node: value,
      children: (Array.isArray(value) ? value.values() : value.values()) as Iterator<PyValue>,
    });
  };
  enter(root);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1] as (typeof stack)[number];
    const next = frame.children.next();
    if (next.done) {
      state.set(frame.node, DONE);
      containers.push(frame.node);
      stack.pop();
    } else {
      enter(next.value);
    }
  }
  return { containers, tensors };
}

/** Replaces every tensor reference in `value` with a host tensor, reading each storage once. */
async function resolveTensors(
  value: PyValue,
  readStorage: (ref: StorageRef) => Promise<Uint8Array>,
  littleEndian: boolean,
  file: string,
  limits: Readonly<ReadLimits>,
): Promise<unknown> {
  const { containers, tensors } = walkGraph(value, file, limits);
  const cache = new Map<string, Promise<Uint8Array>>();
  const load = (ref: StorageRef): Promise<Uint8Array> => {
    let bytes = cache.get(ref.key);
    if (!bytes) {
      bytes = readStorage(ref);
      cache.set(ref.key, bytes);
    }
    return bytes;
  };
  const resolved = new Map<object, unknown>();
  for (const ref of tensors) resolved.set(ref, materialise(ref, await load(ref.storage), littleEndian, file, limits));
  const output = (v: PyValue): unknown =>
    typeof v === 'object' && v !== null && resolved.has(v) ? resolved.get(v) : v;
  // Post-order: every child is resolved before its parent; shared children stay shared.
  for (const container of containers) {
    if (Array.isArray(container)) {
      resolved.set(container, container.map(output));
    } else {
      const out = new Map<unknown, unknown>();
      for (const [k, item] of container) out.set(k, output(item));
      resolved.set(container, out);
    }
  }
  return output(value);
}

/** What a checkpoint holds: Python values, with tensors as {@link HostTensor}s and dicts as Maps. */
export type CheckpointValue = unknown;

/** The file each checkpoint value was read from, so that {@link extractStateDict}'s errors name it. */
const checkpointFiles = new WeakMap<object, string>();

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

/**
 * Reads a `torch.save` file (zip or legacy format) and returns the saved object: dicts as
 * `Map`s, tensors as {@link HostTensor}s. Use {@link extractStateDict} to get the state dict out
 * of a training checkpoint such as `{"epoch": 7, "model_state_dict": …}`.
 */
export async function readTorchCheckpoint(
  input: string | Uint8Array,
  name?: string,
  options: { readonly limits?: Partial<ReadLimits> } = {},
): Promise<CheckpointValue> {
  const display = name ?? (typeof input === 'string' ? input : '<checkpoint bytes>');
  const limits = resolveReadLimits(options.limits);
  const source: ByteSource = typeof input === 'string' ? await fileSource(input) : bytesSource(input, display);
  try {
    const head = await source.read(0, Math.min(4, source.size));
    let value: CheckpointValue;
    if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) {
      value = await readZipCheckpoint(source, display, limits);
    } else if (head[0] === 0x80) {
      const bytes = typeof input === 'string' ? await readFileBytes(input) : input;
      value = await readLegacyCheckpoint(bytes, display, limits);
    } else {
      throw new FileFormatError(
        display,
        'not a PyTorch checkpoint: expected a zip archive (torch.save ≥ 1.6) or a legacy pickle stream',
      );
    }
    if (typeof value === 'object' && value !== null) checkpointFiles.set(value, display);
    return value;
  } finally {
    await source.close();
  }
}

async function readZipCheckpoint(
  source: ByteSource,
  file: string,
  limits: Readonly<ReadLimits>,
): Promise<CheckpointValue> {
  const archive = await ZipArchive.open(source, { limits });
  const pickleName =
    archive.names().find((n) => /^[^/]+\/data\.pkl$/.test(n)) ?? archive.names().find((n) => n.endsWith('data.pkl'));
  if (!pickleName) {
    throw new FileFormatError(
      file,
      `not a PyTorch checkpoint: the zip archive has no <name>/data.pkl (entries: ${archive.names().slice(0, 8).join(', ')})`,
    );
  }
  const prefix = pickleName.slice(0, -'data.pkl'.length);
  let littleEndian = true;
  if (archive.entries.has(`${prefix}byteorder`)) {
    littleEndian = new TextDecoder().decode(await archive.read(`${prefix}byteorder`)).trim() !== 'big';
  }
  const pickle = await archive.read(pickleName);
  const { value } = unpickle(pickle, {
    file,
    limits,
    globals: torchGlobals(file),
    persistentLoad: (pid) => storageFromPid(normalisePid(pid), file),
  });
  return resolveTensors(
    value,
    async (ref) => {
      const entry = `${prefix}data/${ref.key}`;
      const bytes = await archive.read(entry);
      const expected = ref.numel * DTYPE_SIZE[ref.dtype];
      if (bytes.byteLength < expected) {
        throw new FileFormatError(file, `storage ${entry} has ${bytes.byteLength} bytes, expected ${expected}`);
      }
      return bytes;
    },
    littleEndian,
    file,
    limits,
  );
}

async function readLegacyCheckpoint(
  bytes: Uint8Array,
  file: string,
  limits: Readonly<ReadLimits>,
): Promise<CheckpointValue> {
  const options = { file, limits, globals: torchGlobals(file) };
  const magic = unpickle(bytes, options, 0);
  if (typeof magic.value !== 'bigint' || magic.value !== LEGACY_MAGIC) {
    throw new FileFormatError(file, 'not a PyTorch checkpoint: a pickle stream without the legacy magic number');
  }
  const protocol = unpickle(bytes, options, magic.end);
  if (protocol.value !== 1001)
    throw new FileFormatError(file, `unsupported legacy protocol version ${String(protocol.value)}`);
  const sysInfo = unpickle(bytes, options, protocol.end);
  const sys = sysInfo.value instanceof Map ? sysInfo.value : new Map();
  const littleEndian = sys.get('little_endian') !== false;
  const main = unpickle(
    bytes,
    { ...options, persistentLoad: (pid) => storageFromPid(normalisePid(pid), file) },
    sysInfo.end,
  );
  const keys = unpickle(bytes, options, main.end);
  if (!Array.isArray(keys.value)) throw new FileFormatError(file, 'corrupted legacy checkpoint: no storage key list');
  // Collect each root storage's dtype from the tensors that use it.
  const dtypes = new Map<string, DType>();
  for (const ref of walkGraph(main.value, file, limits).tensors) dtypes.set(ref.storage.key, ref.storage.dtype);
  const storages = new Map<string, Uint8Array>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = keys.end;
  for (const key of keys.value) {
    const k = String(key);
    if (pos + 8 > bytes.byteLength) throw new FileFormatError(file, `truncated: storage ${k} is missing`);
    const numel = view.getBigInt64(pos, littleEndian);
    pos += 8;
    if (numel < 0n) throw new FileFormatError(file, `storage ${k}: negative element count ${numel}`);
    const size = DTYPE_SIZE[dtypes.get(k) ?? 'F32'];
    const length = Number(numel) * size;
    if (pos + length > bytes.byteLength) {
      throw new FileFormatError(file, `truncated: storage ${k} needs ${length} bytes, ${bytes.byteLength - pos} left`);
    }
    storages.set(k, bytes.subarray(pos, pos + length));
    pos += length;
  }
  return resolveTensors(
    main.value,
    async (ref) => {
      const data = storages.get(ref.key);
      if (!data) throw new FileFormatError(file, `storage ${ref.key} is referenced but not stored`);
      if (data.byteLength < ref.numel * DTYPE_SIZE[ref.dtype]) {
        throw new FileFormatError(
          file,
          `storage ${ref.key} has ${data.byteLength} bytes, its tensors declare ${ref.numel * DTYPE_SIZE[ref.dtype]}`,
        );
      }
      return data;
    },
    littleEndian,
    file,
    limits,
  );
}

function isHostTensor(value: unknown): value is HostTensor {
  return (
    typeof value === 'object' &&
    value !== null &&
    'dtype' in value &&
    'shape' in value &&
    'data' in value &&
    ArrayBuffer.isView((value as HostTensor).data)
  );
}

/** Keys under which training scripts commonly store the model's state dict. */
const STATE_DICT_KEYS = ['model_state_dict', 'state_dict', 'model', 'net', 'network'];

/**
 * Finds the state dict in a checkpoint: the checkpoint itself when it maps names to tensors,
 * else the first of `model_state_dict`, `state_dict`, `model`, `net`, `network` (or `key`).
 * `stripPrefix` removes a prefix such as `module.` (DataParallel) from every name.
 */
export function extractStateDict(
  checkpoint: CheckpointValue,
  options: { readonly key?: string; readonly stripPrefix?: string; readonly file?: string } = {},
): Map<string, HostTensor> {
  const file =
    options.file ??
    (typeof checkpoint === 'object' && checkpoint !== null ? checkpointFiles.get(checkpoint) : undefined) ??
    '<checkpoint>';
  if (!(checkpoint instanceof Map))
    throw new FileFormatError(file, 'expected a dict at the top level of the checkpoint');
  const isStateDict = (m: Map<unknown, unknown>): boolean =>
    m.size > 0 && [...m.entries()].every(([k, v]) => typeof k === 'string' && isHostTensor(v));
  let dict: Map<unknown, unknown> | undefined;
  if (options.key !== undefined) {
    const value = checkpoint.get(options.key);
    if (!(value instanceof Map)) {
      throw new FileFormatError(
        file,
        `no state dict under "${options.key}" (top-level keys: ${[...checkpoint.keys()].map(String).join(', ')})`,
      );
    }
    dict = value;
  } else if (isStateDict(checkpoint)) {
    dict = checkpoint;
  } else {
    for (const key of STATE_DICT_KEYS) {
      const value = checkpoint.get(key);
      if (value instanceof Map && isStateDict(value)) {
        dict = value;
        break;
      }
    }
  }
  if (!dict) {
    throw new FileFormatError(
      file,
      `no state dict found: expected a dict of tensors, or one under ${STATE_DICT_KEYS.join(' / ')} (top-level keys: ${[...checkpoint.keys()].map(String).join(', ')})`,
    );
  }
  const out = new Map<string, HostTensor>();
  for (const [k, v] of dict) {
    if (!isHostTensor(v)) continue;
    const key = String(k);
    out.set(
      options.stripPrefix && key.startsWith(options.stripPrefix) ? key.slice(options.stripPrefix.length) : key,
      v,
    );
  }
  return out;
}
