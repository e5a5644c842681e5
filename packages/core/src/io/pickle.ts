/**
 * A restricted unpickler: the subset of Python's pickle format (protocols 0–5) that PyTorch state
 * dicts and checkpoints use, and nothing more.
 *
 * Pickle is a program for a stack machine, and `pickle.load` in Python can call any importable
 * function. This one cannot: it builds plain values (None, bool, int, float, str, bytes, list,
 * tuple, dict, set) and calls only the globals in an explicit allow-list, each mapped to a
 * JavaScript function that constructs data. Any other global, and the opcodes that build
 * arbitrary objects (`INST`, `OBJ`, `NEWOBJ` of unlisted classes, `EXT*`, out-of-band buffers),
 * are refused with a {@link FileFormatError} that names the file and the offending global.
 *
 * No file can hang it or make it throw anything but a {@link FileFormatError}: integers decode in
 * linear time and within {@link ReadLimits} (`maxPickleLongBytes`, `maxPickleIntDigits`), the
 * objects it builds are counted (`maxPickleNodes`), text opcodes are parsed strictly (a FLOAT
 * `zz` is an error, not NaN), and nothing recurses, so a 200,000-deep list cannot overflow the
 * JavaScript stack. Dicts are `Map`s, so a key `__proto__` stays a key.
 */
import { FileFormatError, VidError } from '../errors.js';
import { type ReadLimits, resolveReadLimits } from './limits.js';

/** A Python value as the unpickler builds it. Dicts become `Map`s (they keep key order). */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | Map<PyValue, PyValue>
  | Set<PyValue>
  | PyGlobal
  | PyObject;

/** A reference to an allowed Python global (`module.name`). */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** An object built by an allowed constructor that is not plain data (a tensor, a storage type). */
export interface PyObject {
  readonly __pyclass__: string;
  [key: string]: unknown;
}

/** What allowed globals do when called (REDUCE / NEWOBJ) and when given state (BUILD). */
export interface GlobalHandler {
  call?(args: PyValue[]): PyValue;
  build?(target: PyValue, state: PyValue): PyValue;
}

export interface UnpickleOptions {
  /** Display name of the file, for errors. */
  readonly file?: string;
  /** Allowed globals, by `module.name`, in addition to the built-in safe ones. */
  readonly globals?: Readonly<Record<string, GlobalHandler>>;
  /** Resolves persistent ids (PyTorch storages). Without it, persistent ids are refused. */
  readonly persistentLoad?: (pid: PyValue) => PyValue;
  /** Overrides of the process's {@link ReadLimits} (`maxPickleNodes`, `maxPickleLongBytes`, `maxPickleIntDigits`). */
  readonly limits?: Partial<ReadLimits>;
}

const HEX_BYTES = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const INT_TEXT = /^[+-]?\d+$/;
const LONG_TEXT = /^[+-]?\d+L?$/;
const FLOAT_TEXT = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)$/i;
const MEMO_KEY_TEXT = /^\d{1,15}$/;

/** The globals every pickle may use: containers and the byte-string codec of protocol 2. */
const BUILTIN_GLOBALS: Readonly<Record<string, GlobalHandler>> = {
  'collections.OrderedDict': {
    call: (args) => {
      const out = new Map<PyValue, PyValue>();
      const items = args[0];
      if (Array.isArray(items))
        for (const pair of items) if (Array.isArray(pair)) out.set(pair[0] as PyValue, pair[1] as PyValue);
      return out;
    },
    // PyTorch attaches `_metadata` (per-module versions) as an attribute; it is not data.
    build: (target) => target,
  },
  'builtins.set': { call: (args) => new Set(Array.isArray(args[0]) ? args[0] : []) },
  'builtins.frozenset': { call: (args) => new Set(Array.isArray(args[0]) ? args[0] : []) },
  '__builtin__.set': { call: (args) => new Set(Array.isArray(args[0]) ? args[0] : []) },
  '_codecs.encode': {
    call: (args) => {
      const text = typeof args[0] === 'string' ? args[0] : '';
      const out = new Uint8Array(text.length);
      for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
      return out;
    },
  },
};

const MARK = Symbol('mark');
type StackItem = PyValue | typeof MARK;

/** Runs the pickle program in `bytes` (starting at `offset`) and returns its value and end. */
export function unpickle(
  bytes: Uint8Array,
  options: UnpickleOptions = {},
  offset = 0,
): { value: PyValue; end: number } {
  const file = options.file ?? '<pickle>';
  // Null prototype: a global named "constructor" or "__proto__" can never resolve to Object's.
  const globals: Record<string, GlobalHandler> = Object.assign(
    Object.create(null) as Record<string, GlobalHandler>,
    BUILTIN_GLOBALS,
    options.globals,
  );
  const limits = resolveReadLimits(options.limits);
  let nodes = 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: StackItem[] = [];
  const memo = new Map<number, PyValue>();
  const latin1 = new TextDecoder('latin1');
  const utf8 = new TextDecoder('utf-8');
  let pos = offset;

  const fail = (detail: string): never => {
    throw new FileFormatError(file, `pickle at byte ${pos}: ${detail}`);
  };
  const need = (n: number): void => {
    if (n < 0 || pos + n > bytes.byteLength) fail(`truncated: needs ${n} more bytes, ${bytes.byteLength - pos} left`);
  };
  const take = (n: number): Uint8Array => {
    need(n);
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const readLine = (): string => {
    const start = pos;
    while (pos < bytes.byteLength && bytes[pos] !== 0x0a) pos++;
    if (pos >= bytes.byteLength) fail('truncated: unterminated text line');
    const line = latin1.decode(bytes.subarray(start, pos));
    pos++;
    return line;
  };
  const pop = (): PyValue => {
    const item = stack.pop();
    if (item === undefined) fail('stack underflow');
    if (item === MARK) fail('unexpected mark');
    return item as PyValue;
  };
  const top = (): PyValue => {
    const item = stack[stack.length - 1];
    if (item === undefined || item === MARK) fail('stack underflow');
    return item as PyValue;
  };
  const popMark = (): PyValue[] => {
    let i = stack.length - 1;
    while (i >= 0 && stack[i] !== MARK) i--;
    if (i < 0) fail('no mark on the stack');
    const items = stack.splice(i + 1) as PyValue[];
    stack.pop();
    return items;
  };
  /** Counts one built object against `maxPickleNodes`. */
  const node = (): void => {
    if (++nodes > limits.maxPickleNodes) {
      fail(
        `more than maxPickleNodes = ${limits.maxPickleNodes} objects (raise it with setReadLimits() or the limits option)`,
      );
    }
  };
  const toNumber = (value: bigint): number | bigint =>
    value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  /** A two's-complement little-endian integer, in linear time (one hex parse, not n shifts). */
  const decodeLong = (raw: Uint8Array): number | bigint => {
    const n = raw.byteLength;
    if (n === 0) return 0;
    if (n > limits.maxPickleLongBytes) {
      fail(
        `a ${n}-byte integer is longer than maxPickleLongBytes = ${limits.maxPickleLongBytes} (raise it with setReadLimits() or the limits option)`,
      );
    }
    const digits = new Array<string>(n);
    for (let i = 0; i < n; i++) digits[i] = HEX_BYTES[raw[n - 1 - i] as number] as string;
    let value = BigInt(`0x${digits.join('')}`);
    if ((raw[n - 1] as number) & 0x80) value -= 1n << BigInt(8 * n);
    return toNumber(value);
  };
  /** A text integer (INT/LONG opcodes), digits only, at most `maxPickleIntDigits` of them. */
  const parseIntText = (line: string, pattern: RegExp, opcode: string): number | bigint => {
    if (!pattern.test(line)) fail(`${opcode}: ${JSON.stringify(line.slice(0, 40))} is not an integer`);
    const digits = line.replace(/^[+-]/, '').replace(/L$/, '');
    if (digits.length > limits.maxPickleIntDigits) {
      fail(
        `${opcode}: ${digits.length} digits exceed maxPickleIntDigits = ${limits.maxPickleIntDigits} (raise it with setReadLimits() or the limits option)`,
      );
    }
    return toNumber(BigInt(line.replace(/L$/, '')));
  };
  const parseFloatText = (line: string): number => {
    const text = line.trim();
    if (!FLOAT_TEXT.test(text)) fail(`FLOAT: ${JSON.stringify(text.slice(0, 40))} is not a number`);
    const lower = text.toLowerCase().replace(/^\+/, '');
    if (lower === 'nan' || lower === '-nan') return Number.NaN;
    if (lower.startsWith('inf')) return Number.POSITIVE_INFINITY;
    if (lower.startsWith('-inf')) return Number.NEGATIVE_INFINITY;
    return Number(text);
  };
  const parseMemoKey = (line: string, opcode: string): number => {
    if (!MEMO_KEY_TEXT.test(line)) fail(`${opcode}: memo key ${JSON.stringify(line.slice(0, 40))} is not an integer`);
    return Number(line);
  };
  /** Runs an allowed global's handler; anything it throws becomes a FileFormatError. */
  const runHandler = (what: string, body: () => PyValue): PyValue => {
    try {
      return body();
    } catch (error) {
      if (error instanceof VidError) throw error;
      return fail(`${what}: ${(error as Error).message}`);
    }
  };
  const resolveGlobal = (module: string, name: string): PyGlobal => {
    const key = `${module}.${name}`;
    if (!Object.prototype.hasOwnProperty.call(globals, key)) {
      fail(
        `refusing to load global "${key}": only the safe subset that PyTorch state dicts use is allowed (${Object.keys(globals).join(', ')})`,
      );
    }
    return new PyGlobal(module, name);
  };
  const callGlobal = (callable: PyValue, args: PyValue, opcode: string): PyValue => {
    if (!(callable instanceof PyGlobal)) fail(`${opcode} on a non-callable value`);
    const name = (callable as PyGlobal).qualifiedName;
    const handler = globals[name];
    if (!handler?.call) fail(`${opcode}: "${name}" cannot be called`);
    node();
    return runHandler(`${opcode} ${name}`, () => handler!.call!(Array.isArray(args) ? args : []));
  };
  const setItems = (target: PyValue, items: PyValue[]): void => {
    if (!(target instanceof Map)) fail('SETITEM(S) on a value that is not a dict');
    for (let i = 0; i + 1 < items.length; i += 2)
      (target as Map<PyValue, PyValue>).set(items[i] as PyValue, items[i + 1] as PyValue);
  };
  const appendItems = (target: PyValue, items: PyValue[]): void => {
    if (!Array.isArray(target)) fail('APPEND(S) on a value that is not a list');
    // One at a time: spreading 200,000 items into push() would overflow the call stack.
    for (const item of items) (target as PyValue[]).push(item);
  };

  for (;;) {
    need(1);
    const opcode = bytes[pos++] as number;
    switch (opcode) {
      case 0x80: // PROTO
        need(1);
        if ((bytes[pos] as number) > 5) fail(`unsupported pickle protocol ${bytes[pos]}`);
        pos++;
        break;
      case 0x95: // FRAME
        take(8);
        break;
      case 0x2e: // STOP
        return { value: pop(), end: pos };
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x30: // POP
        stack.pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x49: {
        // INT (text); "I01"/"I00" are booleans in protocol 0.
        const line = readLine();
        if (line === '01') stack.push(true);
        else if (line === '00') stack.push(false);
        else stack.push(parseIntText(line, INT_TEXT, 'INT'));
        break;
      }
      case 0x4a: // BININT
        need(4);
        stack.push(view.getInt32(pos, true));
        pos += 4;
        break;
      case 0x4b: // BININT1
        need(1);
        stack.push(bytes[pos++] as number);
        break;
      case 0x4d: // BININT2
        need(2);
        stack.push(view.getUint16(pos, true));
        pos += 2;
        break;
      case 0x4c: // LONG (text)
        stack.push(parseIntText(readLine(), LONG_TEXT, 'LONG'));
        break;
      case 0x8a: {
        // LONG1
        need(1);
        const n = bytes[pos++] as number;
        stack.push(decodeLong(take(n)));
        break;
      }
      case 0x8b: {
        // LONG4
        need(4);
        const n = view.getInt32(pos, true);
        pos += 4;
        stack.push(decodeLong(take(n)));
        break;
      }
      case 0x46: // FLOAT (text)
        stack.push(parseFloatText(readLine()));
        break;
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x53: {
        // STRING (quoted text)
        const line = readLine();
        const quote = line[0];
        if (line.length < 2 || (quote !== "'" && quote !== '"') || line[line.length - 1] !== quote) {
          fail(`STRING: ${JSON.stringify(line.slice(0, 40))} is not a quoted string`);
        }
        stack.push(line.slice(1, -1));
        break;
      }
      case 0x54: {
        // BINSTRING
        need(4);
        const n = view.getInt32(pos, true);
        pos += 4;
        stack.push(latin1.decode(take(n)));
        break;
      }
      case 0x55: {
        // SHORT_BINSTRING
        need(1);
        const n = bytes[pos++] as number;
        stack.push(latin1.decode(take(n)));
        break;
      }
      case 0x56: // UNICODE (raw-unicode-escape line)
        stack.push(
          readLine().replace(/\\u([0-9a-fA-F]{4})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16))),
        );
        break;
      case 0x58: {
        // BINUNICODE
        need(4);
        const n = view.getUint32(pos, true);
        pos += 4;
        stack.push(utf8.decode(take(n)));
        break;
      }
      case 0x8c: {
        // SHORT_BINUNICODE
        need(1);
        const n = bytes[pos++] as number;
        stack.push(utf8.decode(take(n)));
        break;
      }
      case 0x8d: {
        // BINUNICODE8
        need(8);
        const n = Number(view.getBigUint64(pos, true));
        pos += 8;
        stack.push(utf8.decode(take(n)));
        break;
      }
      case 0x42: {
        // BINBYTES
        need(4);
        const n = view.getUint32(pos, true);
        pos += 4;
        stack.push(take(n).slice());
        break;
      }
      case 0x43: {
        // SHORT_BINBYTES
        need(1);
        const n = bytes[pos++] as number;
        stack.push(take(n).slice());
        break;
      }
      case 0x8e: // BINBYTES8
      case 0x96: {
        // BYTEARRAY8
        need(8);
        const n = Number(view.getBigUint64(pos, true));
        pos += 8;
        stack.push(take(n).slice());
        break;
      }
      case 0x5d: // EMPTY_LIST
        node();
        stack.push([]);
        break;
      case 0x61: {
        // APPEND
        const value = pop();
        appendItems(top(), [value]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x6c: // LIST
        node();
        stack.push(popMark());
        break;
      case 0x29: // EMPTY_TUPLE
        node();
        stack.push([]);
        break;
      case 0x74: // TUPLE
        node();
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        node();
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        node();
        const b = pop();
        const a = pop();
        stack.push([a, b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        node();
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push([a, b, c]);
        break;
      }
      case 0x7d: // EMPTY_DICT
        node();
        stack.push(new Map());
        break;
      case 0x64: {
        // DICT
        node();
        const items = popMark();
        const dict = new Map<PyValue, PyValue>();
        setItems(dict, items);
        stack.push(dict);
        break;
      }
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x8f: // EMPTY_SET
        node();
        stack.push(new Set());
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const set = top();
        if (!(set instanceof Set)) fail('ADDITEMS on a value that is not a set');
        for (const item of items) (set as Set<PyValue>).add(item);
        break;
      }
      case 0x91: // FROZENSET
        node();
        stack.push(new Set(popMark()));
        break;
      case 0x67: // GET
        pushMemo(parseMemoKey(readLine(), 'GET'));
        break;
      case 0x68: // BINGET
        need(1);
        pushMemo(bytes[pos++] as number);
        break;
      case 0x6a: // LONG_BINGET
        need(4);
        pushMemo(view.getUint32(pos, true));
        pos += 4;
        break;
      case 0x70: // PUT
        memo.set(parseMemoKey(readLine(), 'PUT'), top());
        break;
      case 0x71: // BINPUT
        need(1);
        memo.set(bytes[pos++] as number, top());
        break;
      case 0x72: // LONG_BINPUT
        need(4);
        memo.set(view.getUint32(pos, true), top());
        pos += 4;
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x63: {
        // GLOBAL
        const module = readLine();
        const name = readLine();
        stack.push(resolveGlobal(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(resolveGlobal(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const callable = pop();
        stack.push(callGlobal(callable, args, 'REDUCE'));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args); allowed only for listed classes.
        const args = pop();
        const cls = pop();
        stack.push(callGlobal(cls, args, 'NEWOBJ'));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const target = pop();
        const cls =
          target !== null && typeof target === 'object' && '__pyclass__' in target
            ? (target as PyObject).__pyclass__
            : target instanceof Map
              ? 'collections.OrderedDict'
              : undefined;
        const handler = cls ? globals[cls] : undefined;
        if (!handler?.build) fail(`BUILD on a value whose class does not accept state${cls ? ` (${cls})` : ''}`);
        stack.push(runHandler(`BUILD ${cls}`, () => handler!.build!(target, state)));
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!options.persistentLoad) fail('persistent ids are not allowed here');
        stack.push(runHandler('persistent id', () => options.persistentLoad!(pid)));
        break;
      }
      case 0x50: {
        // PERSID (text)
        const pid = readLine();
        if (!options.persistentLoad) fail('persistent ids are not allowed here');
        stack.push(runHandler('persistent id', () => options.persistentLoad!(pid)));
        break;
      }
      case 0x69: // INST
      case 0x6f: // OBJ
      case 0x92: // NEWOBJ_EX
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: // EXT4
      case 0x97: // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        fail(`refusing opcode 0x${opcode.toString(16)}: it can build arbitrary objects and is outside the safe subset`);
        break;
      default:
        fail(`unknown opcode 0x${opcode.toString(16)} (corrupted or not a pickle)`);
    }
  }

  function pushMemo(index: number): void {
    if (!memo.has(index)) fail(`memo key ${index} was never stored`);
    stack.push(memo.get(index) as PyValue);
  }
}
