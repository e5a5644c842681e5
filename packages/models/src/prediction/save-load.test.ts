/**
 * Predictors save and load through `@vid/core`'s one format: `savePredictor` is `saveModel` of the
 * module plus `__metadata__.vid_predictor`; `loadPredictor` is `readModel` plus the wrapper; and
 * `loadModel` of the same file is the network itself. Official checkpoints keep their import
 * (prediction.test.ts, checkpoint.test.ts); files of the removed `predictorWeights` still load.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  FileFormatError,
  type Module,
  Rng,
  StateDictError,
  inspectModel,
  loadModel,
  parseSafetensors,
  saveModel,
  serializeSafetensors,
  writeSafetensors,
} from '@vid/core';
import { expectNoLeakedTensors } from '@vid/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { initTestBackend } from '../__fixtures__/helpers.js';
import { CopyLastFramePredictor } from './baseline.js';
import { EncoderForecaster } from './encoder-forecaster.js';
import { EncoderForecasterPredictor } from './encoder-forecaster-predictor.js';
import { ConvRecurrentNet } from './network.js';
import { ConvRecurrentPredictor } from './network-predictor.js';
import type { VideoPredictor } from './predictor.js';
import { createPredictor, isSavedModel, loadPredictor, savePredictor } from './registry.js';
import type { PredictorSpec } from './spec.js';

let root: string;
let server: Server;
let base: string;
/** Bytes the test server serves, by path. */
const served = new Map<string, Uint8Array>();

beforeAll(async () => {
  await initTestBackend();
  root = await mkdtemp(join(tmpdir(), 'vid-predictor-io-'));
  server = createServer((req, res) => {
    const bytes = served.get(req.url ?? '');
    if (req.method !== 'GET' || bytes === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(Buffer.from(bytes));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((done) => server.close(() => done()));
  await rm(root, { recursive: true, force: true });
});

function randomVideo(shape: [number, number, number, number, number], seed: number): tf.Tensor5D {
  return tf.tensor5d(new Rng(seed).fillUniform(new Float32Array(shape.reduce((a, b) => a * b, 1))), shape);
}

async function predictionsOf(
  predictor: { predict(context: tf.Tensor5D, futureFrames: number): tf.Tensor5D },
  context: tf.Tensor5D,
  futureFrames: number,
): Promise<Float32Array> {
  const output = predictor.predict(context, futureFrames);
  const values = (await output.data()) as Float32Array;
  output.dispose();
  return values;
}

const CASES: ReadonlyArray<{
  readonly name: string;
  readonly spec: PredictorSpec;
  readonly frames: [number, number, number, number, number];
  readonly className: string;
}> = [
  {
    name: 'ConvRecurrentNet, convlstm cells, 2×2 patches',
    spec: {
      type: 'conv-recurrent-net',
      patchSize: 2,
      network: {
        cell: 'convlstm',
        inputChannels: 4,
        layersPerBlock: [1, 1],
        hiddenChannels: [3, 2],
        skipStride: 1,
        kernelSize: 3,
        outputSigmoid: true,
      },
    },
    frames: [2, 3, 8, 8, 1],
    className: 'ConvRecurrentNet',
  },
  {
    name: 'ConvRecurrentNet, convttlstm cells (official arguments)',
    spec: {
      type: 'conv-recurrent-net',
      network: {
        input_channels: 2,
        layers_per_block: [1, 1],
        hidden_channels: [3, 2],
        skip_stride: 1,
        cell: 'convttlstm',
        cell_params: { order: 2, steps: 3, rank: 2 },
        kernel_size: 3,
        bias: true,
        output_sigmoid: false,
      },
    },
    frames: [1, 4, 6, 5, 2],
    className: 'ConvRecurrentNet',
  },
  {
    name: 'EncoderForecaster on 2×2 patches (previous-frame forecaster)',
    spec: {
      type: 'encoder-forecaster',
      options: {
        frameSize: [8, 8],
        frameChannels: 1,
        patchSize: 2,
        hiddenChannels: [3, 2],
        kernelSize: 3,
        peephole: 'spatial',
        forecasterInput: 'previous-frame',
      },
    },
    frames: [2, 3, 8, 8, 1],
    className: 'EncoderForecaster',
  },
];

describe('savePredictor → loadPredictor: the same predictions from a file, bytes and a URL', () => {
  for (const { name, spec, frames, className } of CASES) {
    it(name, async () => {
      const predictor = createPredictor(spec, { seed: 3 });
      const context = randomVideo(frames, 1);
      const expected = await predictionsOf(predictor, context, 3);

      const file = join(root, `${className}-${frames.join('x')}.safetensors`);
      const saved = await savePredictor(predictor, file, { metadata: { run: 'test' } });
      expect(saved.location).toBe(file);
      expect(saved.className).toBe(className);
      const info = await inspectModel(file);
      expect(info.className).toBe(className);
      expect(info.extra.run).toBe('test');
      expect(JSON.parse(info.extra.vid_predictor as string)).toEqual(
        spec.type === 'conv-recurrent-net' ? { type: spec.type, patchSize: spec.patchSize ?? 1 } : { type: spec.type },
      );

      served.set(`/${className}.safetensors`, saved.bytes);
      const sources: ReadonlyArray<[string, string | Uint8Array]> = [
        ['file', file],
        ['bytes', saved.bytes],
        ['url', `${base}/${className}.safetensors`],
      ];
      for (const [kind, source] of sources) {
        const loaded = await loadPredictor(source);
        expect(loaded.kind, kind).toBe(predictor.kind);
        expect(loaded.constructor, kind).toBe(predictor.constructor);
        expect(loaded.channels).toBe(predictor.channels);
        expect(loaded.sizeMultiple).toBe(predictor.sizeMultiple);
        expect(Array.from(await predictionsOf(loaded, context, 3)), kind).toEqual(Array.from(expected));
        // The loaded predictor's spec rebuilds the same architecture.
        const rebuilt = createPredictor(loaded.spec);
        expect(rebuilt.module?.getConfig()).toEqual(predictor.module?.getConfig());
        rebuilt.dispose();
        loaded.dispose();
      }
      context.dispose();
      predictor.dispose();
    });
  }

  it('leaks no tensor', async () => {
    const predictor = createPredictor(CASES[0]!.spec, { seed: 1 });
    const { bytes } = await savePredictor(predictor);
    await expectNoLeakedTensors(async () => (await loadPredictor(bytes)).dispose(), 'loadPredictor');
    predictor.dispose();
  });
});

describe('loadModel of a predictor file: the module itself', () => {
  it("ConvRecurrentNet (patch size 1): its predict is the predictor's", async () => {
    const spec: PredictorSpec = {
      type: 'conv-recurrent-net',
      network: {
        cell: 'convttlstm',
        inputChannels: 1,
        layersPerBlock: [2],
        hiddenChannels: [3],
        order: 2,
        steps: 2,
        ranks: 2,
        kernelSize: 3,
      },
    };
    const predictor = createPredictor(spec, { seed: 6 });
    const file = join(root, 'net.safetensors');
    await savePredictor(predictor, file);
    const net = await loadModel(file);
    expect(net).toBeInstanceOf(ConvRecurrentNet);
    const context = randomVideo([2, 3, 6, 6, 1], 2);
    expect(Array.from(await predictionsOf(net as ConvRecurrentNet, context, 2))).toEqual(
      Array.from(await predictionsOf(predictor, context, 2)),
    );
    tf.dispose([context]);
    net.dispose();
    predictor.dispose();
  });

  it("EncoderForecaster (patches inside the module): its predict is the predictor's", async () => {
    const predictor = createPredictor(CASES[2]!.spec, { seed: 6 });
    const { bytes } = await savePredictor(predictor);
    const model = await loadModel(bytes);
    expect(model).toBeInstanceOf(EncoderForecaster);
    const context = randomVideo([1, 3, 8, 8, 1], 4);
    expect(Array.from(await predictionsOf(model as EncoderForecaster, context, 2))).toEqual(
      Array.from(await predictionsOf(predictor, context, 2)),
    );
    context.dispose();
    model.dispose();
    predictor.dispose();
  });

  it('a module saved by saveModel alone loads as a predictor (patch size 1)', async () => {
    const net = new ConvRecurrentNet({
      cell: 'convlstm',
      inputChannels: 1,
      layersPerBlock: [1],
      hiddenChannels: [2],
      kernelSize: 3,
      seed: 2,
    });
    const model = new EncoderForecaster({
      frameSize: [4, 4],
      patchSize: 2,
      hiddenChannels: [2],
      kernelSize: 3,
      seed: 2,
    });
    const loadedNet = await loadPredictor((await saveModel(net)).bytes);
    expect(loadedNet).toBeInstanceOf(ConvRecurrentPredictor);
    expect((loadedNet as ConvRecurrentPredictor).patchSize).toBe(1);
    const loadedModel = await loadPredictor((await saveModel(model)).bytes);
    expect(loadedModel).toBeInstanceOf(EncoderForecasterPredictor);
    for (const m of [net, model, loadedNet, loadedModel] as Array<Module | VideoPredictor>) m.dispose();
  });
});

describe('predictor files: refusals and the non-strict option', () => {
  it('a file with extra tensors fails, listing them; {strict: false} loads it', async () => {
    const predictor = createPredictor(CASES[0]!.spec, { seed: 1 });
    const { bytes } = await savePredictor(predictor);
    const contents = parseSafetensors(bytes, 'predictor');
    const tensors = new Map(contents.tensors);
    const extra = { dtype: 'F32' as const, shape: [2], data: new Float32Array([1, 2]) };
    tensors.set('grad.layers.output.bias', extra);
    tensors.set('frames', extra);
    const file = join(root, 'with-extras.safetensors');
    await writeSafetensors(file, tensors, { ...contents.metadata });
    const error = await loadPredictor(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateDictError);
    expect((error as Error).message).toMatch(
      /unexpected tensors \(2\): grad\.layers\.output\.bias, frames \(pass \{strict: false\} to skip them\)/,
    );
    expect((error as Error).message).toContain(file);
    const loaded = await loadPredictor(file, { strict: false });
    const context = randomVideo([1, 2, 8, 8, 1], 5);
    expect(Array.from(await predictionsOf(loaded, context, 2))).toEqual(
      Array.from(await predictionsOf(predictor, context, 2)),
    );
    context.dispose();
    loaded.dispose();
    predictor.dispose();
  });

  it('refuse a parameter-free baseline, a config for a vid file, a model that is not a predictor, a bad vid_predictor', async () => {
    await expect(savePredictor(new CopyLastFramePredictor())).rejects.toThrow(
      /savePredictor: predictor: expected a predictor with parameters \(conv-recurrent-net or encoder-forecaster\); a parameter-free baseline has nothing to save, createPredictor\(\{"type":"copy-last-frame","channels":1\}\) rebuilds it, received "copy-last-frame"/,
    );
    const predictor = createPredictor(CASES[0]!.spec, { seed: 1 });
    await expect(savePredictor(predictor, undefined, { metadata: { vid_predictor: '{}' } })).rejects.toThrow(
      /metadata\.vid_predictor: expected a key other than vid_predictor/,
    );
    const { bytes } = await savePredictor(predictor);
    await expect(
      loadPredictor(bytes, { name: 'net.safetensors', config: { type: 'copy-last-frame' } }),
    ).rejects.toThrow(
      /loadPredictor\(net\.safetensors\): config: expected no config: a vid model file holds its architecture/,
    );
    await expect(loadPredictor(bytes, { patchSize: 2 })).rejects.toBeInstanceOf(ConfigError);
    const contents = parseSafetensors(bytes, 'predictor');
    const tampered = serializeSafetensors(contents.tensors, {
      ...contents.metadata,
      vid_predictor: '{"type":"encoder-forecaster"}',
    });
    await expect(loadPredictor(tampered, { name: 'tampered.safetensors' })).rejects.toThrow(
      /expectClass: expected a model of class EncoderForecaster, received "ConvRecurrentNet"/,
    );
    const patch = serializeSafetensors(contents.tensors, {
      ...contents.metadata,
      vid_predictor: '{"type":"conv-recurrent-net","patchSize":0}',
    });
    await expect(loadPredictor(patch, { name: 'patch.safetensors' })).rejects.toThrow(
      /patch\.safetensors: .*vid_predictor\.patchSize: expected a positive integer, received 0/,
    );
    const other = await saveModel((predictor as ConvRecurrentPredictor).module.output);
    await expect(loadPredictor(other.bytes, { name: 'dict.safetensors' })).rejects.toThrow(FileFormatError);
    await expect(loadPredictor(other.bytes, { name: 'dict.safetensors' })).rejects.toThrow(
      /not a video predictor: expected a model of class ConvRecurrentNet or EncoderForecaster, received a Conv2d \(load it with loadModel\)/,
    );
    await expect(loadPredictor(new Uint8Array(0), { name: 'empty.safetensors' })).rejects.toThrow(
      /empty\.safetensors: the file is empty/,
    );
    predictor.dispose();
  });
});

describe('files of the removed predictorWeights (PyTorch layouts, the whole spec in vid_predictor)', () => {
  it('still load, read-only, through the import branch', async () => {
    for (const { spec, frames } of CASES) {
      const predictor = createPredictor(spec, { seed: 8 });
      // What predictorWeights wrote: the torch-layout state dict and the spec as JSON.
      const legacy = serializeSafetensors(await predictor.module!.exportStateDict({ layout: 'torch' }), {
        format: 'pt',
        vid_predictor: JSON.stringify(predictor.spec),
      });
      expect(isSavedModel(legacy)).toBe(false);
      expect(isSavedModel((await savePredictor(predictor)).bytes)).toBe(true);
      const loaded = await loadPredictor(legacy, { name: 'legacy.safetensors' });
      const context = randomVideo(frames, 9);
      expect(Array.from(await predictionsOf(loaded, context, 2))).toEqual(
        Array.from(await predictionsOf(predictor, context, 2)),
      );
      context.dispose();
      loaded.dispose();
      predictor.dispose();
    }
  });
});
