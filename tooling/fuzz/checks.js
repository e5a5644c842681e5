// What "correct data" means for each hostile case that must read (see hostile.js), and for the
// mutated fixtures: every tensor holds as many elements as its shape says, and nothing reached
// Object.prototype. Walks iteratively: some values are 200,000 levels deep.
const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).length;

function isTensor(v) {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.dtype === 'string' &&
    Array.isArray(v.shape) &&
    ArrayBuffer.isView(v.data)
  );
}

function unpolluted() {
  if (Object.getOwnPropertyNames(Object.prototype).length !== prototypeKeys)
    return 'Object.prototype gained properties';
  if ({}.polluted !== undefined) return 'Object.prototype.polluted is set';
  return true;
}

/** Every tensor reachable from `value` (each container visited once). */
function tensors(value) {
  const out = [];
  const seen = new Set();
  const stack = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null || seen.has(v)) continue;
    seen.add(v);
    if (isTensor(v)) out.push(v);
    else if (v instanceof Map) for (const item of v.values()) stack.push(item);
    else if (Array.isArray(v)) for (const item of v) stack.push(item);
    else if (!ArrayBuffer.isView(v)) for (const item of Object.values(v)) stack.push(item);
  }
  return out;
}

const isSix = (t) => t.data.length === 6 && Array.from(t.data, Number).every((x, i) => x === i + 1);

export const checks = {
  valid(value) {
    for (const t of tensors(value)) {
      const n = t.shape.reduce((a, b) => a * b, 1);
      if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) return `shape [${t.shape}]`;
      if (t.data.length !== n) return `a tensor of shape [${t.shape}] holds ${t.data.length} elements`;
    }
    return unpolluted();
  },
  six(value) {
    const found = tensors(value);
    if (!found.some(isSix)) return 'no tensor with the values 1..6';
    return checks.valid(value);
  },
  long4: (v) => (typeof v === 'bigint' && v > 0n ? true : `a ${typeof v}`),
  infinity: (v) => (v === Number.POSITIVE_INFINITY ? true : String(v)),
  selfref: (v) => (Array.isArray(v) && v[0] === v ? true : 'not a list that contains itself'),
  deep(v) {
    let depth = 0;
    while (Array.isArray(v) && v.length === 1) {
      v = v[0];
      depth++;
    }
    return depth === 199_999 ? true : `depth ${depth}`;
  },
  appends: (v) => (Array.isArray(v) && v.length === 200_000 ? true : 'wrong length'),
  protoKeys(v) {
    if (!(v instanceof Map) || !v.has('__proto__') || !v.has('constructor')) return 'the keys are lost';
    if (Object.getPrototypeOf(v) !== Map.prototype) return 'the map lost its prototype';
    return unpolluted();
  },
  protoTensors(value) {
    const map = value instanceof Map ? value : value.tensors;
    for (const name of ['__proto__', 'constructor']) {
      const t = map.get(name);
      if (!isTensor(t) || !isSix(t)) return `tensor "${name}" is lost or wrong`;
    }
    if (value.metadata && !Object.prototype.hasOwnProperty.call(value.metadata, '__proto__'))
      return 'metadata "__proto__" is lost';
    return unpolluted();
  },
  dag(value) {
    const last = value.get('level39');
    if (!Array.isArray(last) || last[0] !== last[1]) return 'level39 is not [x, x] with x shared';
    return checks.six(value.get('w'));
  },
};
