#!/usr/bin/env node
// Hand-made hostile files for every reader of vid, each with the outcome it must end in. Made
// in memory (nothing large is committed); `node tooling/fuzz/hostile.js <folder>` also writes them
// to a folder, with an index.json, to try them through the command line (`vid predict --weights`,
// `vid eval --data`).
//
// Each case is { name, reader, fileName, bytes, expect, isolated?, rssBudgetMiB? } (see index.d.ts).
// Readers: pickle, pt-zip, pt-legacy, safetensors, npy, npz, idx.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateRawSync, constants as zlibConstants } from 'node:zlib';

const encoder = new TextEncoder();
const latin1 = (text) => Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);

export function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

const u16 = (n) => [n & 0xff, (n >>> 8) & 0xff];
const u32 = (n) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();
export function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.byteLength; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * A ZIP archive as bytes. Each entry: { name, data, method = 0, compressed?, size?, crc?, offset?,
 * extraLength? }: `compressed` replaces the stored bytes (a deflate stream), `size`/`crc` override
 * what the central directory claims, `offset` points the directory entry at another local header.
 */
export function zipBytes(entries) {
  const locals = [];
  const central = [];
  let offset = 0;
  const offsets = [];
  for (const e of entries) {
    const name = encoder.encode(e.name);
    const payload = e.compressed ?? e.data;
    const size = e.size ?? e.data?.byteLength ?? 0;
    const crc = e.crc ?? (e.data ? crc32(e.data) : 0);
    const method = e.method ?? 0;
    if (e.offset === undefined) {
      const local = Uint8Array.from([
        ...u32(0x04034b50),
        ...u16(20),
        0,
        0,
        ...u16(method),
        0,
        0,
        0,
        0,
        ...u32(crc),
        ...u32(payload.byteLength),
        ...u32(size),
        ...u16(name.byteLength),
        0,
        0,
      ]);
      offsets.push(offset);
      locals.push(local, name, payload);
      offset += local.byteLength + name.byteLength + payload.byteLength;
    } else offsets.push(e.offset);
    const extraLength = e.extraLength ?? 0;
    central.push(
      Uint8Array.from([
        ...u32(0x02014b50),
        ...u16(20),
        ...u16(20),
        0,
        0,
        ...u16(method),
        0,
        0,
        0,
        0,
        ...u32(crc),
        ...u32(payload.byteLength),
        ...u32(size),
        ...u16(name.byteLength),
        ...u16(extraLength),
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        ...u32(offsets[offsets.length - 1]),
      ]),
      name,
    );
  }
  const directory = concat(central);
  const end = Uint8Array.from([
    ...u32(0x06054b50),
    0,
    0,
    0,
    0,
    ...u16(entries.length),
    ...u16(entries.length),
    ...u32(directory.byteLength),
    ...u32(offset),
    0,
    0,
  ]);
  return concat([...locals, directory, end]);
}

/**
 * A raw deflate stream of `mib` MiB of zeros, about 1 KiB per MiB: one 1 MiB block compressed
 * once and repeated (each copy ends with a sync flush, so copies can be concatenated), then an
 * empty final block. 2200 copies make the 2.2 MB stream that inflates to 2.3 GB.
 */
export function zerosDeflate(mib) {
  const chunk = deflateRawSync(new Uint8Array(1 << 20), { level: 9, finishFlush: zlibConstants.Z_SYNC_FLUSH });
  const parts = new Array(mib).fill(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  parts.push(Uint8Array.from([0x03, 0x00]));
  return concat(parts);
}

/** A gzip file around a raw deflate stream (CRC and size as given: a bomb is refused before they are checked). */
export function gzipBytes(deflated, crc = 0, size = 0) {
  return concat([
    Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]),
    deflated,
    Uint8Array.from([...u32(crc), ...u32(size)]),
  ]);
}

/** A small pickle writer (protocol 2), enough for state dicts and the hostile cases. */
export class Pickle {
  constructor(protocol = 2) {
    this.parts = protocol === 0 ? [] : [0x80, protocol];
  }
  op(...bytes) {
    for (const b of bytes) this.parts.push(b);
    return this;
  }
  text(text) {
    return this.op(...latin1(text));
  }
  str(text) {
    const bytes = encoder.encode(text);
    return this.op(0x58, ...u32(bytes.byteLength), ...bytes);
  }
  int(n) {
    if (Number.isInteger(n) && n >= 0 && n < 256) return this.op(0x4b, n);
    if (Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31) return this.op(0x4a, ...u32(n >>> 0));
    const value = BigInt(n);
    const bytes = [];
    let v = BigInt.asUintN(64, value);
    for (let i = 0; i < 8; i++) {
      bytes.push(Number(v & 0xffn));
      v >>= 8n;
    }
    return this.op(0x8a, 8, ...bytes);
  }
  global(module, name) {
    return this.text(`c${module}\n${name}\n`);
  }
  tuple(items) {
    this.op(0x28);
    for (const item of items) item(this);
    return this.op(0x74);
  }
  put(i) {
    return this.op(0x71, i);
  }
  get(i) {
    return this.op(0x68, i);
  }
  bytes() {
    return Uint8Array.from([...this.parts, 0x2e]);
  }
}

/** Pushes `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())`. */
function tensor(
  p,
  { key = '0', type = 'FloatStorage', numel = 6, offset = 0, size = [2, 3], stride = [3, 1], view } = {},
) {
  p.global('torch._utils', '_rebuild_tensor_v2');
  p.op(0x28); // MARK: the arguments
  p.tuple([
    (q) => q.str('storage'),
    (q) => q.global('torch', type),
    (q) => q.str(key),
    (q) => q.str('cpu'),
    (q) => q.int(numel),
    ...(view === undefined
      ? []
      : [
          (q) =>
            view === null ? q.op(0x4e) : q.tuple(view.map((v) => (r) => (typeof v === 'string' ? r.str(v) : r.int(v)))),
        ]),
  ]);
  p.op(0x51); // BINPERSID
  p.int(offset);
  p.tuple(size.map((d) => (q) => q.int(d)));
  p.tuple(stride.map((d) => (q) => q.int(d)));
  p.op(0x89); // False
  p.global('collections', 'OrderedDict').op(0x29, 0x52); // OrderedDict()
  p.op(0x74, 0x52); // TUPLE, REDUCE
  return p;
}

/** A state dict pickle: `{name: tensor(spec) | (p) => push anything}`. */
function stateDict(entries, protocol = 2) {
  const p = new Pickle(protocol);
  p.op(0x7d); // EMPTY_DICT
  for (const [name, spec] of entries) {
    p.str(name);
    if (typeof spec === 'function') spec(p);
    else tensor(p, spec);
    p.op(0x73); // SETITEM
  }
  return p.bytes();
}

const floats = (values) => new Uint8Array(Float32Array.from(values).buffer);
const SIX = floats([1, 2, 3, 4, 5, 6]);

/** A zip-format `.pt` (as `torch.save` ≥ 1.6): `archive/data.pkl`, `archive/data/<key>`. */
export function torchZip(pickle, storages = { 0: SIX }, extra = {}) {
  return zipBytes([
    { name: 'archive/data.pkl', data: pickle, ...(extra.pickle ?? {}) },
    { name: 'archive/byteorder', data: encoder.encode('little') },
    ...Object.entries(storages).map(([key, data]) => ({ name: `archive/data/${key}`, data })),
    { name: 'archive/version', data: encoder.encode('3\n') },
  ]);
}

/** A legacy `.pt` (torch.save < 1.6): magic, protocol, sys info, the object, the keys, the storages. */
export function torchLegacy(pickle, storages = [['0', 6, SIX]]) {
  const magic = new Pickle().op(0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19).bytes();
  const protocol = new Pickle().op(0x4d, ...u16(1001)).bytes();
  const sys = new Pickle()
    .op(0x7d)
    .str('protocol_version')
    .op(0x4d, ...u16(1001), 0x73)
    .str('little_endian')
    .op(0x88, 0x73)
    .str('type_sizes')
    .op(0x7d, 0x73)
    .bytes();
  const keys = new Pickle().op(0x5d, 0x28);
  for (const [key] of storages) keys.str(key);
  keys.op(0x65);
  const parts = [magic, protocol, sys, pickle, keys.bytes()];
  for (const [, numel, data] of storages) {
    const count = new Uint8Array(8);
    new DataView(count.buffer).setBigInt64(0, BigInt(numel), true);
    parts.push(count, data);
  }
  return concat(parts);
}

function safetensors(header, data = new Uint8Array(0)) {
  const json = encoder.encode(typeof header === 'string' ? header : JSON.stringify(header));
  const length = new Uint8Array(8);
  new DataView(length.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  return concat([length, json, data]);
}

function npy(headerText, data = new Uint8Array(0), major = 1) {
  const text = latin1(headerText);
  const prefix =
    major === 1
      ? [0x93, ...latin1('NUMPY'), 1, 0, ...u16(text.byteLength)]
      : [0x93, ...latin1('NUMPY'), major, 0, ...u32(text.byteLength)];
  return concat([Uint8Array.from(prefix), text, data]);
}
const npyHeader = (dict) => {
  const text = `${dict}`;
  const total = Math.ceil((10 + text.length + 1) / 64) * 64;
  return `${text.padEnd(total - 11, ' ')}\n`;
};
const F4_2x3 = npy(npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), SIX);

function idx(shape, data, type = 0x08) {
  return concat([
    Uint8Array.from([0, 0, type, shape.length]),
    ...shape.map((d) => Uint8Array.from([(d >>> 24) & 0xff, (d >>> 16) & 0xff, (d >>> 8) & 0xff, d & 0xff])),
    data,
  ]);
}

const error = (pattern) => ({ kind: 'error', pattern });
const BOMB = 'inflates to more than|maxInflateRatio|maxInflatedBytes';
const data = (check) => ({ kind: 'data', ...(check ? { check } : {}) });

/** Every hostile case, all readers. The 2.3 GB bombs are built once and shared. */
export function hostileCases() {
  const cases = [];
  const add = (reader, name, fileName, bytes, expect, extra = {}) =>
    cases.push({ reader, name, fileName, bytes, expect, ...extra });

  // --- pickle ------------------------------------------------------------------------------------
  const long4 = (n) =>
    concat([Uint8Array.from([0x80, 0x02, 0x8b, ...u32(n)]), new Uint8Array(n).fill(1), Uint8Array.from([0x2e])]);
  add('pickle', 'long4-256KiB', 'long4-256k.pkl', long4(262144), data('long4'), { isolated: true });
  add('pickle', 'long4-8MiB', 'long4-8m.pkl', long4(8 << 20), error('maxPickleLongBytes'));
  add(
    'pickle',
    'long4-negative-length',
    'long4-neg.pkl',
    Uint8Array.from([0x80, 0x02, 0x8b, 0xff, 0xff, 0xff, 0xff, 0x2e]),
    error('truncated'),
  );
  add('pickle', 'INT-non-digits', 'int.pkl', latin1('I12abc\n.'), error('INT: "12abc" is not an integer'));
  add('pickle', 'LONG-non-digits', 'long.pkl', latin1('Lzz\n.'), error('LONG: "zz" is not an integer'));
  add('pickle', 'INT-5000-digits', 'int5000.pkl', latin1(`I${'9'.repeat(5000)}\n.`), error('maxPickleIntDigits'));
  add('pickle', 'FLOAT-zz', 'float.pkl', latin1('Fzz\n.'), error('FLOAT: "zz" is not a number'));
  add('pickle', 'FLOAT-inf-ok', 'float-inf.pkl', latin1('Finf\n.'), data('infinity'));
  add('pickle', 'STRING-unquoted', 'string.pkl', latin1('Sabc\n.'), error('not a quoted string'));
  add('pickle', 'GET-bad-key', 'get.pkl', latin1('(gabc\n.'), error('memo key'));
  add(
    'pickle',
    'self-referential-list',
    'selfref.pkl',
    Uint8Array.from([0x80, 0x02, 0x5d, 0x71, 0x00, 0x68, 0x00, 0x61, 0x2e]),
    data('selfref'),
  );
  const deep = 200_000;
  add(
    'pickle',
    'list-200000-deep',
    'deep.pkl',
    concat([
      Uint8Array.from([0x80, 0x02]),
      new Uint8Array(deep).fill(0x5d),
      new Uint8Array(deep - 1).fill(0x61),
      Uint8Array.from([0x2e]),
    ]),
    data('deep'),
  );
  add(
    'pickle',
    'appends-200000',
    'appends.pkl',
    concat([Uint8Array.from([0x80, 0x02, 0x5d, 0x28]), new Uint8Array(deep).fill(0x4e), Uint8Array.from([0x65, 0x2e])]),
    data('appends'),
  );
  add(
    'pickle',
    'os.system',
    'os.pkl',
    latin1("cos\nsystem\n(S'echo pwned'\ntR."),
    error('refusing to load global "os.system"'),
  );
  add(
    'pickle',
    'builtins.eval-protocol-4',
    'eval.pkl',
    concat([
      Uint8Array.from([0x80, 0x04, 0x8c, 8]),
      latin1('builtins'),
      Uint8Array.from([0x8c, 4]),
      latin1('eval'),
      Uint8Array.from([0x93, 0x2e]),
    ]),
    error('refusing to load global "builtins.eval"'),
  );
  add('pickle', 'INST', 'inst.pkl', latin1("(ios\nsystem\nS'id'\n."), error('refusing opcode 0x69'));
  add(
    'pickle',
    'global-constructor',
    'ctor.pkl',
    latin1('ccollections\nconstructor\n.'),
    error('refusing to load global'),
  );
  add(
    'pickle',
    'dict-key-__proto__',
    'proto.pkl',
    new Pickle()
      .op(0x7d)
      .str('__proto__')
      .op(0x7d)
      .str('polluted')
      .op(0x88, 0x73, 0x73)
      .str('constructor')
      .op(0x88, 0x73)
      .bytes(),
    data('protoKeys'),
  );
  add('pickle', 'unknown-opcode', 'unknown.pkl', Uint8Array.from([0x80, 0x02, 0xff, 0x2e]), error('unknown opcode'));
  add(
    'pickle',
    'stack-underflow',
    'underflow.pkl',
    Uint8Array.from([0x80, 0x02, 0x73, 0x2e]),
    error('stack underflow'),
  );
  add(
    'pickle',
    'BINUNICODE8-huge',
    'huge.pkl',
    Uint8Array.from([0x80, 0x04, 0x8d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x2e]),
    error('truncated'),
  );

  // --- .pt, zip format ---------------------------------------------------------------------------
  add('pt-zip', 'valid', 'valid.pt', torchZip(stateDict([['w', {}]])), data('six'));
  add(
    'pt-zip',
    'size-1000-on-6-elements',
    'size1000.pt',
    torchZip(stateDict([['w', { size: [1000], stride: [1] }]])),
    error('out of bounds for storage'),
  );
  add(
    'pt-zip',
    'offset-minus-3',
    'offset.pt',
    torchZip(stateDict([['w', { offset: -3, size: [3], stride: [1] }]])),
    error('storage offset: expected a non-negative integer'),
  );
  add(
    'pt-zip',
    'stride-outside-storage',
    'stride.pt',
    torchZip(stateDict([['w', { size: [2, 3], stride: [3, 5] }]])),
    error('out of bounds for storage'),
  );
  add(
    'pt-zip',
    'negative-stride',
    'negstride.pt',
    torchZip(stateDict([['w', { size: [2, 3], stride: [-3, 1] }]])),
    error('tensor stride'),
  );
  add(
    'pt-zip',
    'size-minus-1',
    'sizeneg.pt',
    torchZip(stateDict([['w', { size: [-1], stride: [1] }]])),
    error('tensor size'),
  );
  add(
    'pt-zip',
    'size-1e10',
    'size1e10.pt',
    torchZip(stateDict([['w', { size: [1e10], stride: [1] }]])),
    error('out of bounds for storage'),
  );
  add(
    'pt-zip',
    'int64-stride-outside',
    'i64.pt',
    torchZip(stateDict([['w', { type: 'LongStorage', numel: 3, size: [3], stride: [2] }]]), { 0: new Uint8Array(24) }),
    error('out of bounds for storage'),
  );
  add(
    'pt-zip',
    '24-byte-storage-2GB-broadcast',
    'broadcast.pt',
    torchZip(stateDict([['w', { size: [600_000_000], stride: [0] }]]), { 0: new Uint8Array(24) }),
    error('maxTensorBytes'),
  );
  add(
    'pt-zip',
    'storage-numel-larger-than-record',
    'short-record.pt',
    torchZip(stateDict([['w', { numel: 600, size: [600], stride: [1] }]]), { 0: new Uint8Array(24) }),
    error('has 24 bytes, expected 2400'),
  );
  // 40 levels of [x, x] through the memo: 2^40 leaves when walked as a tree.
  const dag = new Pickle().op(0x7d).str('w');
  tensor(dag, {}).op(0x71, 0); // memo 0 = the tensor
  for (let level = 0; level < 40; level++)
    dag
      .op(0x73)
      .str(`level${level}`)
      .op(0x5d, 0x28)
      .get(level)
      .get(level)
      .op(0x65)
      .put(level + 1);
  dag.op(0x73);
  add('pt-zip', 'shared-refs-2^40', 'dag.pt', torchZip(dag.bytes()), data('dag'), {
    isolated: true,
    rssBudgetMiB: 200,
  });
  const cycle = new Pickle().op(0x7d).str('w');
  tensor(cycle, {}).op(0x73).str('loop').op(0x5d, 0x71, 9, 0x68, 9, 0x61, 0x73);
  add('pt-zip', 'cycle', 'cycle.pt', torchZip(cycle.bytes()), error('cycle'));
  const deepPt = concat([
    Uint8Array.from([0x80, 0x02, 0x7d]),
    new Pickle(0).str('deep').bytes().subarray(0, -1),
    new Uint8Array(deep).fill(0x5d),
    new Uint8Array(deep - 1).fill(0x61),
    Uint8Array.from([0x73, 0x2e]),
  ]);
  add('pt-zip', 'list-200000-deep', 'deep.pt', torchZip(deepPt), data('valid'));
  add(
    'pt-zip',
    'names-__proto__-constructor',
    'proto.pt',
    torchZip(
      stateDict([
        ['__proto__', {}],
        ['constructor', {}],
      ]),
    ),
    data('protoTensors'),
  );
  add(
    'pt-zip',
    'storage-type-constructor',
    'stype.pt',
    torchZip(stateDict([['w', { type: 'constructor' }]])),
    error('refusing to load global "torch.constructor"'),
  );
  add(
    'pt-zip',
    'LONG-non-digits-in-data.pkl',
    'long.pt',
    torchZip(concat([latin1('(dVw\nLzz\ns.')])),
    error('LONG: "zz" is not an integer'),
  );
  const goodZip = torchZip(stateDict([['w', {}]]));
  const badCrc = goodZip.slice();
  const storageAt = findBytes(badCrc, encoder.encode('archive/data/0')) + 'archive/data/0'.length;
  badCrc[storageAt] ^= 0x40;
  add('pt-zip', 'crc-mismatch', 'crc.pt', badCrc, error('bad CRC-32'));
  const bomb = zerosDeflate(2200);
  for (const claim of [1000, 2200 * 2 ** 20, 200 * 2 ** 20]) {
    add(
      'pt-zip',
      `data.pkl-deflate-bomb-claims-${claim}`,
      `bomb-${claim}.pt`,
      torchZip(stateDict([['w', {}]]), { 0: SIX }, { pickle: { method: 8, compressed: bomb, size: claim, crc: 0 } }),
      error(BOMB),
      { isolated: claim === 1000, rssBudgetMiB: 300 },
    );
  }
  const pkl = stateDict([['w', {}]]);
  add(
    'pt-zip',
    'five-overlapping-entries',
    'overlap.pt',
    zipBytes([
      { name: 'archive/data.pkl', data: pkl },
      ...[1, 2, 3, 4, 5].map((i) => ({ name: `archive/data/${i}`, data: pkl, offset: 0 })),
    ]),
    error('overlap'),
  );
  const extraFlip = goodZip.slice();
  const cd = findBytes(extraFlip, Uint8Array.from([0x50, 0x4b, 0x01, 0x02]));
  extraFlip[cd + 30] = 0xff;
  add('pt-zip', 'extra-length-flipped', 'extra.pt', extraFlip, error('corrupted central directory|extra'));

  // --- .pt, legacy format ------------------------------------------------------------------------
  add('pt-legacy', 'valid', 'valid-legacy.pt', torchLegacy(stateDict([['w', { view: null }]])), data('six'));
  add(
    'pt-legacy',
    'numel-minus-8',
    'numel-8.pt',
    torchLegacy(stateDict([['w', { view: null }]]), [['0', -8, SIX]]),
    error('negative element count'),
  );
  add(
    'pt-legacy',
    'numel-minus-1e6',
    'numel-1e6.pt',
    torchLegacy(stateDict([['w', { view: null }]]), [['0', -1e6, SIX]]),
    error('negative element count'),
  );
  add(
    'pt-legacy',
    'pid-numel-minus-1e6',
    'pid-numel.pt',
    torchLegacy(stateDict([['w', { view: null, numel: -1e6 }]])),
    error('element count'),
  );
  add(
    'pt-legacy',
    'view-outside-root',
    'view.pt',
    torchLegacy(stateDict([['w', { view: ['v', 4, 6], size: [6], stride: [1] }]])),
    error('out of bounds'),
  );
  add(
    'pt-legacy',
    'size-1000',
    'size1000-legacy.pt',
    torchLegacy(stateDict([['w', { view: null, size: [1000], stride: [1] }]])),
    error('out of bounds for storage'),
  );

  // --- safetensors ---------------------------------------------------------------------------------
  add(
    'safetensors',
    'valid',
    'valid.safetensors',
    safetensors({ w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] } }, SIX),
    data('six'),
  );
  add(
    'safetensors',
    'names-__proto__-constructor',
    'proto.safetensors',
    safetensors(
      `{"__proto__":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"constructor":{"dtype":"F32","shape":[2,3],"data_offsets":[24,48]},"__metadata__":{"__proto__":"x"}}`,
      concat([SIX, SIX]),
    ),
    data('protoTensors'),
  );
  const many = 150_000;
  let header = '{';
  for (let i = 0; i < many; i++) header += `${i ? ',' : ''}"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`;
  add(
    'safetensors',
    '150000-zero-size-tensors',
    'many.safetensors',
    safetensors(`${header}}`),
    error('maxSafetensorsTensors'),
  );
  add(
    'safetensors',
    'header-length-2^63',
    'len.safetensors',
    concat([Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0x80]), encoder.encode('{}')]),
    error('maxSafetensorsHeaderBytes'),
  );
  add(
    'safetensors',
    'shape-minus-1',
    'neg.safetensors',
    safetensors({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 24] } }, SIX),
    error('non-negative integers'),
  );
  add(
    'safetensors',
    'shape-1e10',
    'big.safetensors',
    safetensors({ w: { dtype: 'F32', shape: [1e10], data_offsets: [0, 24] } }, SIX),
    error('expected 40000000000'),
  );
  add(
    'safetensors',
    'overlapping-offsets',
    'overlap.safetensors',
    safetensors(
      {
        a: { dtype: 'F32', shape: [6], data_offsets: [0, 24] },
        b: { dtype: 'F32', shape: [6], data_offsets: [0, 24] },
      },
      SIX,
    ),
    error('hole or an overlap'),
  );
  add(
    'safetensors',
    'json-nested-100000',
    'nested.safetensors',
    safetensors(`{"__metadata__":${'['.repeat(100000)}${']'.repeat(100000)}}`),
    error('__metadata__ must be an object|JSON'),
  );

  // --- npy -------------------------------------------------------------------------------------------
  add('npy', 'valid', 'valid.npy', F4_2x3, data('six'));
  add(
    'npy',
    'header-nested-20000',
    'nested.npy',
    npy(
      npyHeader(`{'descr': '<f4', 'fortran_order': False, 'shape': ${'('.repeat(20000)}${')'.repeat(20000)}, }`),
      new Uint8Array(0),
    ),
    error('maxNpyHeaderDepth'),
  );
  add(
    'npy',
    'header-4GiB-claim',
    'hdr.npy',
    Uint8Array.from([0x93, ...latin1('NUMPY'), 2, 0, 0xff, 0xff, 0xff, 0xff, 0x7b]),
    error('maxNpyHeaderBytes'),
  );
  add(
    'npy',
    'shape-minus-1',
    'neg.npy',
    npy(npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"), SIX),
    error('non-negative'),
  );
  add(
    'npy',
    'shape-1e10',
    'big.npy',
    npy(npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (10000000000,), }"), SIX),
    error('truncated'),
  );
  add(
    'npy',
    'key-__proto__',
    'proto.npy',
    npy(npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), '__proto__': {'polluted': True}, }"), SIX),
    error('keys'),
  );
  add(
    'npy',
    'descr-object',
    'object.npy',
    npy(npyHeader("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }"), SIX),
    error('unsupported .npy dtype'),
  );

  // --- npz (the member is `data.npy`, conv-tt-lstm's key, so that `vid eval --data` reads it) ---
  add('npz', 'valid', 'valid.npz', zipBytes([{ name: 'data.npy', data: F4_2x3 }]), data('six'));
  for (const claim of [1000, 2200 * 2 ** 20, 200 * 2 ** 20]) {
    add(
      'npz',
      `deflate-bomb-claims-${claim}`,
      `bomb-${claim}.npz`,
      zipBytes([{ name: 'data.npy', data: undefined, method: 8, compressed: bomb, size: claim, crc: 0 }]),
      error(BOMB),
      { isolated: true, rssBudgetMiB: 300 },
    );
  }
  add(
    'npz',
    'five-overlapping-entries',
    'overlap.npz',
    zipBytes([
      { name: 'data.npy', data: F4_2x3 },
      ...[1, 2, 3, 4, 5].map((i) => ({ name: `y${i}.npy`, data: F4_2x3, offset: 0 })),
    ]),
    error('overlap'),
  );
  const npzCrc = zipBytes([{ name: 'data.npy', data: F4_2x3 }]);
  npzCrc[30 + 'data.npy'.length + F4_2x3.byteLength - 1] ^= 0x01;
  add('npz', 'crc-mismatch', 'crc.npz', npzCrc, error('bad CRC-32'));
  const npzExtra = zipBytes([{ name: 'data.npy', data: F4_2x3 }]);
  npzExtra[findBytes(npzExtra, Uint8Array.from([0x50, 0x4b, 0x01, 0x02])) + 30] = 0xff;
  add('npz', 'extra-length-flipped', 'extra.npz', npzExtra, error('corrupted central directory|extra'));
  add(
    'npz',
    'member-nested-header',
    'nested.npz',
    zipBytes([
      {
        name: 'data.npy',
        data: npy(
          npyHeader(`{'descr': '<f4', 'fortran_order': False, 'shape': ${'('.repeat(20000)}${')'.repeat(20000)}, }`),
        ),
      },
    ]),
    error('maxNpyHeaderDepth'),
  );

  // --- IDX and .gz -----------------------------------------------------------------------------------
  add('idx', 'valid', 'valid-idx1-ubyte', idx([6], Uint8Array.from([1, 2, 3, 4, 5, 6])), data('six'));
  add('idx', 'shape-2^32-1', 'big-idx1-ubyte', idx([0xffffffff], Uint8Array.from([1, 2, 3])), error('truncated'));
  add('idx', 'rank-255', 'rank-idx', Uint8Array.from([0, 0, 8, 255, 0, 0, 0, 1]), error('truncated'));
  add('idx', 'gzip-bomb', 'bomb-idx3-ubyte.gz', gzipBytes(bomb), error(BOMB), { isolated: true, rssBudgetMiB: 300 });
  add(
    'idx',
    'gzip-truncated',
    'trunc-idx1-ubyte.gz',
    gzipBytes(deflateRawSync(idx([6], Uint8Array.from([1, 2, 3, 4, 5, 6])))).subarray(0, 14),
    error('corrupted or truncated gzip'),
  );
  return cases;
}

function findBytes(haystack, needle) {
  outer: for (let i = 0; i + needle.byteLength <= haystack.byteLength; i++) {
    for (let j = 0; j < needle.byteLength; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

// `node tooling/fuzz/hostile.js <folder>`: write every case and an index.json.
if (import.meta.url === `file://${process.argv[1]}`) {
  const folder = process.argv[2];
  if (!folder) {
    console.error('usage: node tooling/fuzz/hostile.js <folder>');
    process.exit(1);
  }
  await mkdir(folder, { recursive: true });
  const index = [];
  for (const c of hostileCases()) {
    const file = `${c.reader}--${c.fileName}`;
    await writeFile(join(folder, file), c.bytes);
    index.push({ file, reader: c.reader, name: c.name, expect: c.expect, bytes: c.bytes.byteLength });
  }
  await writeFile(join(folder, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
  console.log(`${index.length} hostile files in ${folder}`);
}
