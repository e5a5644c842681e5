/**
 * `@vid/core/testing`: helpers for parity and leak tests, shared by every package's tests. They
 * throw plain errors with precise messages, so they work under any test runner.
 *
 * @module @vid/core/testing
 */
import * as tf from '@tensorflow/tfjs-core';

import { formatShape } from '../errors.js';
import { type HostTensor, toFloat32Array } from '../io/host-tensor.js';
import { type SafetensorsContents, readSafetensors } from '../io/safetensors.js';
import type { Module } from '../module.js';

/** Something with numbers: a tensor, a host tensor, a typed array or a nested array. */
export type Numeric = tf.Tensor | HostTensor | Float32Array | Float64Array | Int32Array | number[] | number;

function isHost(value: unknown): value is HostTensor {
  return (
    typeof value === 'object' &&
    value !== null &&
    'dtype' in value &&
    'data' in value &&
    'shape' in value &&
    !(value instanceof tf.Tensor)
  );
}

function toArray(value: Numeric): { data: ArrayLike<number>; shape: readonly number[] } {
  if (typeof value === 'number') return { data: [value], shape: [] };
  if (value instanceof tf.Tensor) return { data: value.dataSync() as ArrayLike<number>, shape: value.shape };
  if (isHost(value)) return { data: toFloat32Array(value), shape: value.shape };
  if (Array.isArray(value)) {
    const flat = (value as unknown[]).flat(Infinity) as number[];
    return { data: flat, shape: [flat.length] };
  }
  return { data: value as ArrayLike<number>, shape: [(value as ArrayLike<number>).length] };
}

function unravel(index: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length).fill(0);
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d] as number;
    out[d] = index % n;
    index = Math.floor(index / n);
  }
  return out;
}

/**
 * Switches the active backend (after `initBackend` registered everything), without the cpu
 * backend's one-time "install tfjs-node" banner. For tests that compare backends.
 */
export async function useBackend(name: 'wasm' | 'cpu' | 'tensorflow'): Promise<void> {
  if (name === 'cpu' && !tf.findBackend('cpu')) await import('@tensorflow/tfjs-backend-cpu');
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} could not be initialised`);
  if (name === 'cpu') (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
}

/** Options of {@link assertClose}. */
export interface CloseOptions {
  /** Absolute tolerance. @default 0 */
  readonly atol?: number;
  /** Tolerance relative to each expected element: |a − e| ≤ atol + rtol·|e|. @default 0 */
  readonly rtol?: number;
  /**
   * Tolerance relative to the largest expected magnitude: |a − e| ≤ tol · max|e|. This is the
   * measure of the parity tests ("1e-4 relative to the largest magnitude").
   */
  readonly relativeToMax?: number;
  /** Name for the message. */
  readonly name?: string;
  /** Require equal shapes (ignored for plain arrays). @default true */
  readonly checkShape?: boolean;
}

/** The comparison of two arrays: the worst element and the errors. */
export interface CloseReport {
  readonly ok: boolean;
  readonly maxAbsError: number;
  readonly maxRelativeToMax: number;
  readonly worstIndex: number[];
  readonly actual: number;
  readonly expected: number;
  readonly message: string;
}

/** Compares two arrays element by element and describes the worst element. */
export function compareClose(actual: Numeric, expected: Numeric, options: CloseOptions = {}): CloseReport {
  const a = toArray(actual);
  const e = toArray(expected);
  const name = options.name ?? 'value';
  const shapeKnown =
    !Array.isArray(actual) && !Array.isArray(expected) && !ArrayBuffer.isView(actual) && !ArrayBuffer.isView(expected);
  if ((options.checkShape ?? true) && shapeKnown && !tf.util.arraysEqual([...a.shape], [...e.shape])) {
    return {
      ok: false,
      maxAbsError: Infinity,
      maxRelativeToMax: Infinity,
      worstIndex: [],
      actual: NaN,
      expected: NaN,
      message: `${name}: shape ${formatShape(a.shape)} differs from the expected ${formatShape(e.shape)}`,
    };
  }
  if (a.data.length !== e.data.length) {
    return {
      ok: false,
      maxAbsError: Infinity,
      maxRelativeToMax: Infinity,
      worstIndex: [],
      actual: NaN,
      expected: NaN,
      message: `${name}: ${a.data.length} elements, expected ${e.data.length}`,
    };
  }
  let scale = 0;
  for (let i = 0; i < e.data.length; i++) scale = Math.max(scale, Math.abs(e.data[i] as number));
  let ok = true;
  let worst = -1;
  let worstExcess = -Infinity;
  let maxAbs = 0;
  for (let i = 0; i < a.data.length; i++) {
    const x = a.data[i] as number;
    const y = e.data[i] as number;
    const err = Math.abs(x - y);
    const bothNaN = Number.isNaN(x) && Number.isNaN(y);
    let limit = (options.atol ?? 0) + (options.rtol ?? 0) * Math.abs(y);
    if (options.relativeToMax !== undefined) limit = Math.max(limit, options.relativeToMax * scale);
    const excess = bothNaN ? -Infinity : Number.isNaN(err) ? Infinity : err - limit;
    if (!bothNaN) maxAbs = Math.max(maxAbs, Number.isNaN(err) ? Infinity : err);
    if (excess > 0) ok = false;
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  const index = worst >= 0 ? unravel(worst, e.shape.length ? e.shape : [e.data.length]) : [];
  const actualValue = worst >= 0 ? (a.data[worst] as number) : NaN;
  const expectedValue = worst >= 0 ? (e.data[worst] as number) : NaN;
  const relative = scale > 0 ? maxAbs / scale : maxAbs;
  const tolerance = [
    options.atol !== undefined ? `atol ${options.atol}` : '',
    options.rtol !== undefined ? `rtol ${options.rtol}` : '',
    options.relativeToMax !== undefined ? `${options.relativeToMax} × max|expected| (${scale.toExponential(3)})` : '',
  ]
    .filter(Boolean)
    .join(', ');
  const message =
    `${name}: ${ok ? 'within' : 'exceeds'} tolerance (${tolerance || 'exact'}); ` +
    `worst element at [${index.join(', ')}]: actual ${actualValue}, expected ${expectedValue}, ` +
    `|error| ${Math.abs(actualValue - expectedValue).toExponential(3)}; max |error| ${maxAbs.toExponential(3)}, relative to max ${relative.toExponential(3)}`;
  return {
    ok,
    maxAbsError: maxAbs,
    maxRelativeToMax: relative,
    worstIndex: index,
    actual: actualValue,
    expected: expectedValue,
    message,
  };
}

/** Throws unless `actual` is close to `expected` (see {@link CloseOptions}); the message names the worst element. */
export function assertClose(actual: Numeric, expected: Numeric, options: CloseOptions = {}): CloseReport {
  const report = compareClose(actual, expected, options);
  if (!report.ok) throw new Error(report.message);
  return report;
}

/**
 * Runs `fn` and throws if it leaves more tensors alive than before (what it returns is
 * disposed first). Works with sync and async functions.
 */
export async function expectNoLeakedTensors<T>(fn: () => T | Promise<T>, name = 'function'): Promise<void> {
  const before = tf.memory().numTensors;
  const result = await fn();
  const leftovers: tf.Tensor[] = [];
  const collect = (value: unknown): void => {
    if (value instanceof tf.Tensor) leftovers.push(value);
    else if (Array.isArray(value)) value.forEach(collect);
    else if (value instanceof Map) value.forEach(collect);
    else if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype)
      Object.values(value).forEach(collect);
  };
  collect(result);
  for (const t of leftovers) if (!t.isDisposed) t.dispose();
  const after = tf.memory().numTensors;
  if (after !== before) {
    throw new Error(
      `${name} leaked ${after - before} tensor(s): tf.memory().numTensors was ${before} before and ${after} after`,
    );
  }
}

const isCI = (): boolean => typeof process !== 'undefined' && (process.env.CI === 'true' || process.env.CI === '1');

let fixtureDir: string | null | undefined;

/**
 * Finds `shared/fixtures/reference`: `$VID_FIXTURES`, else `../shared/fixtures/reference` beside
 * the repository (found by walking up to `pnpm-workspace.yaml`), else `shared/fixtures/reference`
 * inside it, else in any ancestor directory.
 */
export async function referenceFixtureDir(): Promise<string | null> {
  if (fixtureDir !== undefined) return fixtureDir;
  const fs = await import('node:fs');
  const path = await import('node:path');
  const candidates: string[] = [];
  if (process.env.VID_FIXTURES) candidates.push(process.env.VID_FIXTURES);
  let dir = process.cwd();
  for (let i = 0; i < 8; i++) {
    if (fs.existsSync(path.join(dir, 'pnpm-workspace.yaml'))) {
      candidates.push(
        path.join(dir, '..', 'shared', 'fixtures', 'reference'),
        path.join(dir, 'shared', 'fixtures', 'reference'),
      );
      break;
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  // Then any ancestor's shared/fixtures/reference (a git worktree may sit deeper than ../).
  for (let up = process.cwd(), i = 0; i < 8; i++) {
    candidates.push(path.join(up, 'shared', 'fixtures', 'reference'));
    const parent = path.dirname(up);
    if (parent === up) break;
    up = parent;
  }
  fixtureDir = candidates.find((c) => fs.existsSync(c)) ?? null;
  return fixtureDir;
}

/**
 * The path of a reference fixture, or `null` when the fixture directory is missing. Under
 * `CI=true` a missing fixture throws: CI always has `../shared`.
 */
export async function referenceFixturePath(name: string): Promise<string | null> {
  const dir = await referenceFixtureDir();
  const fs = await import('node:fs');
  const path = await import('node:path');
  const file = dir ? path.join(dir, name) : null;
  if (file && fs.existsSync(file)) return file;
  const message = `reference fixture ${name} not found (looked in ${dir ?? '$VID_FIXTURES and ../shared/fixtures/reference beside the repository'})`;
  if (isCI()) throw new Error(`${message}; CI must have ../shared`);
  console.warn(`vid: skipping: ${message}`);
  return null;
}

/** Whether a reference fixture exists (throws under CI when it does not). Use with `describe.runIf`. */
export async function hasReferenceFixture(name: string): Promise<boolean> {
  return (await referenceFixturePath(name)) !== null;
}

/** Loads a safetensors reference fixture (throws under CI when missing, returns null elsewhere). */
export async function loadReferenceFixture(name: string): Promise<SafetensorsContents | null> {
  const file = await referenceFixturePath(name);
  return file ? readSafetensors(file) : null;
}

/** Parses a JSON string from a fixture's `__metadata__`. */
export function fixtureMetadata<T = unknown>(contents: SafetensorsContents, key: string): T {
  const raw = contents.metadata[key];
  if (raw === undefined)
    throw new Error(`fixture metadata has no "${key}" (keys: ${Object.keys(contents.metadata).join(', ')})`);
  try {
    return JSON.parse(raw) as T;
  } catch {
    return raw as unknown as T;
  }
}

/** A fixture tensor by name, with a message listing the names when it is absent. */
export function fixtureTensor(contents: SafetensorsContents, name: string): HostTensor {
  const tensor = contents.tensors.get(name);
  if (!tensor) throw new Error(`fixture has no tensor "${name}" (has: ${[...contents.tensors.keys()].join(', ')})`);
  return tensor;
}

/**
 * Central finite differences of a scalar function with respect to every element of `x`, in
 * float32: `(f(x + ε e_i) − f(x − ε e_i)) / 2ε`. For gradient checks on tiny shapes.
 */
export function numericalGradient(f: (x: tf.Tensor) => tf.Scalar, x: tf.Tensor, epsilon = 1e-2): Float32Array {
  const base = x.dataSync().slice() as Float32Array;
  const out = new Float32Array(base.length);
  for (let i = 0; i < base.length; i++) {
    const plus = base.slice();
    plus[i] = (plus[i] as number) + epsilon;
    const minus = base.slice();
    minus[i] = (minus[i] as number) - epsilon;
    const fp = tf.tidy(() => f(tf.tensor(plus, x.shape)).dataSync()[0] as number);
    const fm = tf.tidy(() => f(tf.tensor(minus, x.shape)).dataSync()[0] as number);
    out[i] = (fp - fm) / (2 * epsilon);
  }
  return out;
}

/**
 * Central finite differences of `loss` with respect to the value of `variable` (a parameter), as
 * {@link numericalGradient}; the variable has its own value again afterwards, even if `loss` throws.
 */
export function numericalVariableGradient(variable: tf.Variable, loss: () => tf.Scalar, epsilon = 1e-2): Float32Array {
  const original = tf.clone(variable);
  try {
    return numericalGradient(
      (value) => {
        variable.assign(value);
        return loss();
      },
      original,
      epsilon,
    );
  } finally {
    variable.assign(original);
    original.dispose();
  }
}

/**
 * Gradients of `loss` with respect to every parameter of `module`, by dotted name and in PyTorch
 * layout (through each parameter's layout), ready to compare with gradients saved by PyTorch; and
 * the loss value. The caller disposes the gradients.
 */
export function torchGradients(
  module: Module,
  loss: () => tf.Scalar,
): { value: number; grads: Map<string, tf.Tensor> } {
  const named = module.namedParameters();
  const layouts = module.parameterLayouts();
  const { value, grads } = tf.variableGrads(
    loss,
    named.map(([, v]) => v),
  );
  const out = new Map<string, tf.Tensor>();
  try {
    for (const [name, variable] of named) {
      const grad = grads[variable.name];
      if (!grad) throw new Error(`torchGradients: no gradient for the parameter ${name}`);
      const layout = layouts.get(name);
      out.set(name, layout ? layout.toTorch(grad) : tf.clone(grad));
    }
    return { value: (value.dataSync() as Float32Array)[0] as number, grads: out };
  } finally {
    tf.dispose([value, ...Object.values(grads)]);
  }
}

/** The tensors whose names start with `prefix`, with the prefix removed (a fixture's sub-model). */
export function tensorsWithPrefix(
  tensors: ReadonlyMap<string, HostTensor> | SafetensorsContents,
  prefix: string,
): Map<string, HostTensor> {
  const source = tensors instanceof Map ? tensors : (tensors as SafetensorsContents).tensors;
  const out = new Map<string, HostTensor>();
  for (const [name, tensor] of source) if (name.startsWith(prefix)) out.set(name.slice(prefix.length), tensor);
  return out;
}

/**
 * Saves `model` with `saveModel` (to bytes), loads it back with `loadModel` and checks that the
 * loaded model has the same class, config and parameter names, and that `run` gives bit-identical
 * outputs on both. `run` returns the tensors to compare (they are disposed here). Disposes the
 * loaded model, not `model`. Throws an Error that says what differs.
 */
export async function expectSaveLoadRoundTrip(
  model: Module,
  run: (model: Module) => tf.Tensor | readonly tf.Tensor[],
): Promise<void> {
  const { saveModel, loadModel } = await import('../io/model-io.js');
  const { bytes } = await saveModel(model);
  const loaded = await loadModel(bytes);
  try {
    const name = model.constructor.name;
    if (loaded.constructor !== model.constructor) throw new Error(`${name}: loaded a ${loaded.constructor.name}`);
    const [a, b] = [JSON.stringify(model.getConfig()), JSON.stringify(loaded.getConfig())];
    if (a !== b) throw new Error(`${name}: config differs after loading: saved ${a}, loaded ${b}`);
    const [keysA, keysB] = [[...model.stateDict().keys()].join(', '), [...loaded.stateDict().keys()].join(', ')];
    if (keysA !== keysB) throw new Error(`${name}: parameters differ: saved ${keysA}, loaded ${keysB}`);
    const toList = (value: tf.Tensor | readonly tf.Tensor[]): tf.Tensor[] =>
      value instanceof tf.Tensor ? [value] : [...value];
    const expected = toList(run(model));
    const actual = toList(run(loaded));
    try {
      if (expected.length !== actual.length)
        throw new Error(`${name}: ${expected.length} outputs before, ${actual.length} after`);
      for (let i = 0; i < expected.length; i++) {
        const [e, o] = [expected[i] as tf.Tensor, actual[i] as tf.Tensor];
        if (!tf.util.arraysEqual(e.shape, o.shape))
          throw new Error(`${name}: output ${i} has shape ${formatShape(o.shape)}, expected ${formatShape(e.shape)}`);
        const [ed, od] = [e.dataSync(), o.dataSync()];
        for (let k = 0; k < ed.length; k++) {
          if (!Object.is(ed[k], od[k]))
            throw new Error(`${name}: output ${i} differs at flat index ${k}: ${od[k]} after loading, ${ed[k]} before`);
        }
      }
    } finally {
      tf.dispose([...expected, ...actual]);
    }
  } finally {
    loaded.dispose();
  }
}
