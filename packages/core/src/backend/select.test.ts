import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { BackendError, ConfigError } from '../errors.js';
import { doctor, formatBackendReport, initBackend } from './select.js';

describe('backend selection', () => {
  it('chooses the fastest backend that loads and says why each one before it was skipped', async () => {
    const lines: string[] = [];
    const report = await initBackend({ backend: 'auto', log: (line) => lines.push(line) });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(report.line);
    // On machines without the native bindings (CI, this repository's default install) wasm wins.
    const native = report.attempts.filter((a) => a.backend === 'gpu' || a.backend === 'node');
    if (report.backend === 'wasm') {
      for (const attempt of native) {
        expect(['skipped', 'failed']).toContain(attempt.outcome);
        expect(report.line).toContain(`${attempt.backend}: ${attempt.reason}`);
      }
      expect(report.line).toMatch(/^vid: backend wasm \(@tensorflow\/tfjs-backend-wasm 4\.\d+\.\d+, SIMD, \d+ threads?\)/);
      expect(report.kernelsAdded).toContain('Conv2DBackpropFilter');
      expect(report.threads).toBeGreaterThanOrEqual(1);
    }
    expect(tf.getBackend()).toBe(report.tfBackend);
    // Gradients are registered (tfjs-core's Node bundle registers none).
    expect(tf.getGradient('Conv2D')).toBeDefined();
    expect(tf.getGradient('Sigmoid')).toBeDefined();
  });

  it('honours a forced backend and says so', async () => {
    const report = await initBackend({ backend: 'cpu', log: false });
    expect(report.backend).toBe('cpu');
    expect(report.forced).toBe(true);
    expect(report.line).toContain('forced by VID_BACKEND=cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(report.attempts.find((a) => a.backend === 'wasm')?.outcome).toBe('not tried');
  });

  it('fails clearly when a forced backend cannot load', async () => {
    const error = await initBackend({ backend: 'gpu', log: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as Error).message).toMatch(/^VID_BACKEND=gpu was forced but cannot be used: gpu: /);
    expect((error as Error).message).toMatch(/not installed|native binding is missing|no NVIDIA driver|failed to load/);
  });

  it('rejects an unknown VID_BACKEND', async () => {
    const saved = process.env.VID_BACKEND;
    process.env.VID_BACKEND = 'tpu';
    try {
      expect(() => initBackend({ log: false })).toThrow(ConfigError);
      expect(() => initBackend({ log: false })).toThrow(/VID_BACKEND: expected one of gpu, node, wasm, cpu or auto, received "tpu"/);
    } finally {
      if (saved === undefined) delete process.env.VID_BACKEND;
      else process.env.VID_BACKEND = saved;
    }
  });

  it('prints a full doctor report', async () => {
    const text = await doctor({ backend: 'wasm' });
    expect(text).toMatch(/backend: +wasm/);
    expect(text).toContain('selection (in order of preference):');
    expect(text).toContain('@tensorflow/tfjs-node-gpu');
    expect(text).toContain('VID_BACKEND');
    const report = await initBackend({ backend: 'wasm', log: false });
    expect(formatBackendReport(report)).toBe(text);
  });
});
