import * as tf from '@tensorflow/tfjs-core';
import { initBackend, inspectModel, saveModel } from '@vid/core';
import { expectSaveLoadRoundTrip } from '@vid/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';

import { LPIPS } from './lpips.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

describe('saveModel / loadModel: LPIPS', () => {
  it('rebuilds the trunk and input convention and gives identical distances', async () => {
    const model = new LPIPS({ net: 'squeeze', preset: 'convttlstm', seed: 3 });
    const [x0, x1] = [
      tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 1),
      tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 2),
    ];
    const info = await inspectModel((await saveModel(model)).bytes);
    expect(info.className).toBe('LPIPS');
    expect(info.config).toEqual({ net: 'squeeze', inputRange: model.inputRange, rescale: model.rescale, seed: 3 });
    await expectSaveLoadRoundTrip(model, (m) => (m as LPIPS).distance(x0, x1));
    tf.dispose([x0, x1]);
    model.dispose();
  });
});
