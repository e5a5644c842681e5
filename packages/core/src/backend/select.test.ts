import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { BackendError, ConfigError } from '../errors.js';
import { formatBackendReport, initBackend, withTfWarningsOff } from './select.js';

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
      expect(report.line).toMatch(
        /^vid: backend wasm \(@tensorflow\/tfjs-backend-wasm 4\.\d+\.\d+, SIMD, \d+ threads?\)/,
      );
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
    expect(report.forcedBy).toBe('option');
    expect(report.line).toContain("forced by the option backend: 'cpu'");
    expect(report.line).not.toContain('VID_BACKEND');
    expect(tf.getBackend()).toBe('cpu');
    expect(report.attempts.find((a) => a.backend === 'wasm')?.outcome).toBe('not tried');
  });

  it('fails clearly when a forced backend cannot load', async () => {
    const error = await initBackend({ backend: 'gpu', log: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as Error).message).toMatch(/^backend 'gpu' was forced by the option but cannot be used: gpu: /);
    expect((error as Error).message).toMatch(/not installed|native binding is missing|no NVIDIA driver|failed to load/);
  });

  it('rejects an unknown VID_BACKEND', async () => {
    const saved = process.env.VID_BACKEND;
    process.env.VID_BACKEND = 'tpu';
    try {
      expect(() => initBackend({ log: false })).toThrow(ConfigError);
      expect(() => initBackend({ log: false })).toThrow(
        /VID_BACKEND: expected one of gpu, node, webgpu, webgl, wasm, cpu or auto, received "tpu"/,
      );
    } finally {
      if (saved === undefined) delete process.env.VID_BACKEND;
      else process.env.VID_BACKEND = saved;
    }
  });

  it('says VID_BACKEND forced a backend only when the variable did', async () => {
    const saved = process.env.VID_BACKEND;
    process.env.VID_BACKEND = 'gpu';
    try {
      const error = await initBackend({ log: false }).catch((e: unknown) => e);
      expect((error as Error).message).toMatch(/^VID_BACKEND=gpu was forced but cannot be used: gpu: /);
    } finally {
      if (saved === undefined) delete process.env.VID_BACKEND;
      else process.env.VID_BACKEND = saved;
    }
  });

  it('refuses a browser backend in Node with a reason', async () => {
    const error = await initBackend({ backend: 'webgl', log: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as Error).message).toMatch(
      /webgl was forced by the option backend: 'webgl' but does not exist in Node\.js \(webgpu and webgl run in browsers\)/,
    );
  });

  it('prints a full report', async () => {
    const report = await initBackend({ backend: 'wasm', log: false });
    const text = formatBackendReport(report);
    expect(text).toMatch(/backend: +wasm .*forced by the option/);
    expect(text).toContain('selection (in order of preference):');
    expect(text).toContain('@tensorflow/tfjs-node-gpu');
    expect(text).not.toContain('CUDA');
  });

  it('silences tfjs warnings through its PROD flag, patching no global', async () => {
    const warn = console.warn;
    const before = tf.env().getBool('PROD');
    let inside: boolean | undefined;
    await withTfWarningsOff(() => {
      inside = tf.env().getBool('PROD');
      expect(console.warn).toBe(warn);
    });
    expect(inside).toBe(true);
    expect(tf.env().getBool('PROD')).toBe(before);
  });
});
