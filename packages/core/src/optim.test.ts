import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { initBackend } from './backend/select.js';
import { Adam, clipGradNorm } from './optim.js';
import { assertClose, expectNoLeakedTensors } from './testing/index.js';

const fixtures = join(import.meta.dirname, '..', 'test', 'fixtures');

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

describe('Adam', () => {
  it('reproduces torch.optim.Adam step by step (plain, weight decay + custom betas/eps, amsgrad)', async () => {
    const cases = JSON.parse(await readFile(join(fixtures, 'adam-expected.json'), 'utf8')) as Array<{
      options: { lr: number; betas?: [number, number]; eps?: number; weight_decay?: number; amsgrad?: boolean };
      p0: number[];
      grads: number[][];
      after: number[][];
      shape: number[];
    }>;
    for (const c of cases) {
      await expectNoLeakedTensors(() => {
        const p = tf.tidy(() => tf.variable(tf.tensor(c.p0, c.shape)));
        const adam = new Adam([['p', p]], {
          lr: c.options.lr,
          betas: c.options.betas,
          eps: c.options.eps,
          weightDecay: c.options.weight_decay,
          amsgrad: c.options.amsgrad,
        });
        c.grads.forEach((g, step) => {
          const grad = tf.tensor(g, c.shape);
          adam.applyGradients(new Map([['p', grad]]));
          grad.dispose();
          assertClose(p, c.after[step] as number[], {
            rtol: 1e-5,
            atol: 1e-7,
            name: `${JSON.stringify(c.options)} step ${step + 1}`,
            checkShape: false,
          });
        });
        adam.dispose();
        p.dispose();
      });
    }
  });

  it('exports and restores its state so that training continues exactly', async () => {
    const run = async (resumeAt: number | null): Promise<number[]> => {
      let p = tf.tidy(() => tf.variable(tf.tensor([1, -2, 3])));
      let adam = new Adam([['p', p]], { lr: 0.1 });
      for (let step = 0; step < 5; step++) {
        if (step === resumeAt) {
          const state = await adam.exportState();
          const values = await p.data();
          adam.dispose();
          p.dispose();
          p = tf.tidy(() => tf.variable(tf.tensor(values)));
          adam = new Adam([['p', p]], { lr: 0.5 });
          adam.loadState(state);
        }
        const { value, grads } = adam.computeGradients(() => tf.sum(tf.mul(tf.square(p), tf.tensor([1, 2, 3]))));
        adam.applyGradients(grads);
        value.dispose();
        grads.forEach((g) => g.dispose());
      }
      const out = [...(await p.data())];
      adam.dispose();
      p.dispose();
      return out;
    };
    expect(await run(2)).toEqual(await run(null));
  });

  it('clips by global norm like torch.nn.utils.clip_grad_norm_', async () => {
    const c = JSON.parse(await readFile(join(fixtures, 'clip-expected.json'), 'utf8')) as {
      g1: number[];
      g2: number[];
      maxNorm: number;
      total: number;
      clipped1: number[];
      clipped2: number[];
    };
    const grads = new Map([
      ['a', tf.tensor(c.g1)],
      ['b', tf.tensor(c.g2)],
    ]);
    const { grads: clipped, totalNorm } = clipGradNorm(grads, c.maxNorm);
    expect(totalNorm).toBeCloseTo(c.total, 4);
    assertClose(clipped.get('a')!, c.clipped1, { rtol: 1e-5, checkShape: false });
    assertClose(clipped.get('b')!, c.clipped2, { rtol: 1e-5, checkShape: false });
    [...grads.values(), ...clipped.values()].forEach((t) => t.dispose());
  });

  it('rejects bad options', () => {
    const p = tf.tidy(() => tf.variable(tf.zeros([1])));
    expect(() => new Adam([['p', p]], { lr: -1 })).toThrow(/lr: expected a number ≥ 0, received -1/);
    expect(() => new Adam([])).toThrow(/params: expected at least one trainable parameter/);
    p.dispose();
  });
});
