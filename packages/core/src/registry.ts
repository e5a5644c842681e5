import { ConfigError } from './errors.js';
import { Module } from './module.js';

/**
 * A JSON-serialisable configuration: the constructor options of a {@link Module}, as returned by
 * {@link Module.getConfig}. Nested modules appear as {@link SerializedModule} values.
 */
export type ModuleConfig = { readonly [key: string]: ConfigValue };
/** A value inside a {@link ModuleConfig}. */
export type ConfigValue =
  null | boolean | number | string | readonly ConfigValue[] | { readonly [key: string]: ConfigValue };

/** A module described by its registered class name and its config (tfjs-layers' `{className, config}`). */
// A type alias, not an interface, so that it is assignable to `ConfigValue` (nested configs).
export type SerializedModule = {
  readonly className: string;
  readonly config: ModuleConfig;
};

/** A module class that {@link loadModel}-style code can rebuild: one options object in, a module out. */
export type ModuleClass<M extends Module = Module> = (new (config: never) => M) & { readonly className?: string };

const registry = new Map<string, ModuleClass>();

/**
 * A class's own static `className` (not one inherited from its base class: a subclass that
 * forgets to declare one must not be saved under its parent's name).
 */
function ownClassName(ctor: ModuleClass): string | undefined {
  return Object.prototype.hasOwnProperty.call(ctor, 'className') ? ctor.className : undefined;
}

/**
 * Registers a module class under a name (its static `className`, else the name given, else the
 * constructor's name), so that a saved model can be rebuilt from `{className, config}`, as
 * tfjs-layers' `serialization.registerClass` does. Registering the same class twice is a no-op;
 * a different class under a taken name is an error.
 *
 * Minifiers rename classes: library classes therefore declare `static readonly className`.
 */
export function registerClass<C extends ModuleClass>(ctor: C, name?: string): C {
  const key = ownClassName(ctor) ?? name ?? ctor.name;
  if (!key)
    throw new ConfigError('name', 'a class name (pass one, or declare a static className)', name, 'registerClass');
  const existing = registry.get(key);
  if (existing !== undefined && existing !== ctor) {
    throw new ConfigError('name', `a name not yet registered to another class`, key, 'registerClass');
  }
  registry.set(key, ctor);
  return ctor;
}

/** The class registered under `className`, or a {@link ConfigError} that lists the registered names. */
export function getRegisteredClass(className: string): ModuleClass {
  const ctor = registry.get(className);
  if (ctor === undefined) {
    const known = [...registry.keys()].sort().join(', ') || '(none)';
    throw new ConfigError(
      'className',
      `a registered class (${known}); import the package that defines it (for example @vid/models) before loading`,
      className,
    );
  }
  return ctor;
}

/** The names of every registered class, sorted. */
export function registeredClassNames(): string[] {
  return [...registry.keys()].sort();
}

/** The registered name of a module's class. */
export function classNameOf(module: Module): string {
  const ctor = module.constructor as ModuleClass;
  const name = ownClassName(ctor) ?? ctor.name;
  if (registry.get(name) !== ctor) {
    throw new ConfigError(
      'module',
      `an instance of a registered class (call registerClass(${name}) so it can be saved and loaded)`,
      name,
    );
  }
  return name;
}

/** `{className, config}` of a module (for nesting a module inside another module's config). */
export function serializeModule(module: Module): SerializedModule {
  return { className: classNameOf(module), config: module.getConfig() };
}

/** Rebuilds a module from `{className, config}` (fresh parameters; load weights separately). */
export function deserializeModule<M extends Module = Module>(serialized: SerializedModule): M {
  if (typeof serialized !== 'object' || serialized === null || typeof serialized.className !== 'string') {
    throw new ConfigError('serialized', 'a serialized module {className, config}', serialized, 'deserializeModule');
  }
  const ctor = getRegisteredClass(serialized.className) as unknown as new (config: ModuleConfig) => M;
  return new ctor(serialized.config ?? {});
}

/** Whether a value has the `{className, config}` shape of a {@link SerializedModule}. */
export function isSerializedModule(value: unknown): value is SerializedModule {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { className?: unknown }).className === 'string' &&
    typeof (value as { config?: unknown }).config === 'object'
  );
}

/**
 * The `seed` entry of a config: the seed when it was a number, nothing when it was an `Rng`
 * (a generator is state, not an option; a loaded model gets its weights from the file anyway).
 */
export function seedConfig(seed: unknown): { seed?: number } {
  return typeof seed === 'number' ? { seed } : {};
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function toConfigValue(value: unknown, path: string, context: string): ConfigValue | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ConfigError(path, 'a finite number (configs are JSON)', value, context);
    return value;
  }
  if (Array.isArray(value)) return value.map((item, i) => toConfigValue(item, `${path}[${i}]`, context) ?? null);
  if (value instanceof Module) return serializeModule(value);
  if (isPlainObject(value)) {
    const out: Record<string, ConfigValue> = {};
    for (const [key, item] of Object.entries(value)) {
      const converted = toConfigValue(item, `${path}.${key}`, context);
      if (converted !== undefined) out[key] = converted;
    }
    return out;
  }
  throw new ConfigError(
    path,
    'JSON data (numbers, strings, booleans, arrays, plain objects) or a module',
    value,
    context,
  );
}

/**
 * A module's constructor options as a JSON {@link ModuleConfig}: a deep copy of the plain data,
 * with `undefined` entries dropped, modules as `{className, config}` ({@link serializeModule}),
 * `seed` kept only when it is a number (see {@link seedConfig}),
 * and the keys in `omit` left out (initialiser functions and the like, which the saved weights
 * make unnecessary). Anything else that is not JSON is a {@link ConfigError} naming its path.
 */
export function configOf(options: object, omit: readonly string[] = [], context = 'getConfig'): ModuleConfig {
  const out: Record<string, ConfigValue> = {};
  for (const [key, value] of Object.entries(options)) {
    if (omit.includes(key) || value === undefined) continue;
    if (key === 'seed') {
      Object.assign(out, seedConfig(value));
      continue;
    }
    const converted = toConfigValue(value, key, context);
    if (converted !== undefined) out[key] = converted;
  }
  return out;
}

/**
 * A module option given either as a module or as its `{className, config}` (as `getConfig`
 * writes nested modules): the module, rebuilt when needed. Other values pass through.
 */
export function resolveModule<T>(value: T | SerializedModule): T {
  return isSerializedModule(value) && !(value instanceof Module)
    ? (deserializeModule(value) as unknown as T)
    : (value as T);
}
