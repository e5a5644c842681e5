import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { initBackend } from './backend/select.js';
import { ConfigError } from './errors.js';
import { Module } from './module.js';
import {
  type ModuleConfig,
  classNameOf,
  deserializeModule,
  getRegisteredClass,
  isSerializedModule,
  registerClass,
  serializeModule,
} from './registry.js';

interface ScaleOptions {
  readonly size: number;
}

class Scale extends Module {
  static readonly className = 'test.Scale';
  readonly size: number;
  constructor(options: ScaleOptions) {
    super();
    this.size = options.size;
    this.registerParameter('weight', tf.ones([options.size]));
  }
  override getConfig(): ModuleConfig {
    return { size: this.size };
  }
}

class Unregistered extends Module {}

describe('class registry', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu', log: false });
  });

  it('rebuilds a registered module from {className, config}', () => {
    registerClass(Scale);
    registerClass(Scale); // idempotent
    const original = new Scale({ size: 3 });
    const serialized = serializeModule(original);
    expect(serialized).toEqual({ className: 'test.Scale', config: { size: 3 } });
    expect(isSerializedModule(serialized)).toBe(true);
    const rebuilt = deserializeModule<Scale>(serialized);
    expect(rebuilt).toBeInstanceOf(Scale);
    expect(rebuilt.size).toBe(3);
    expect(getRegisteredClass('test.Scale')).toBe(Scale);
    original.dispose();
    rebuilt.dispose();
  });

  it('refuses unknown names, clashing names and unregistered modules with typed errors', () => {
    expect(() => getRegisteredClass('nope')).toThrow(ConfigError);
    expect(() => getRegisteredClass('nope')).toThrow(/className: expected a registered class/);
    class Other extends Module {
      static readonly className = 'test.Scale';
    }
    expect(() => registerClass(Other)).toThrow(/already|not yet registered/);
    const module = new Unregistered();
    expect(() => classNameOf(module)).toThrow(ConfigError);
    expect(() => module.getConfig()).toThrow(/getConfig/);
    expect(isSerializedModule({ className: 1 })).toBe(false);
  });
});
