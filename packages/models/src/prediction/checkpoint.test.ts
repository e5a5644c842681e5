import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';
import {
  FileFormatError,
  type HostTensor,
  StateDictError,
  initBackend,
  readSafetensors,
  serializeSafetensors,
  writeSafetensors,
} from '@vid/core';
import { assertClose, fixtureTensor, loadReferenceFixture, referenceFixturePath } from '@vid/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { fixtureConfig, fixtureStateDict, videoFromTorch } from './__fixtures__/reference.js';
import { inferOfficialConfig, isTorchCheckpoint, readOfficialCheckpoint } from './checkpoint.js';
import { ConvRecurrentNet } from './network.js';

const local = (name: string): string => fileURLToPath(new URL(`./__fixtures__/${name}`, import.meta.url));

const net = await loadReferenceFixture('convttlstm-net.safetensors');
const netPt = await referenceFixturePath('convttlstm-net.pt');

let dir: string;
beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
  dir = mkdtempSync(join(tmpdir(), 'vid-tensor-train-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectSameTensors(actual: ReadonlyMap<string, HostTensor>, expected: ReadonlyMap<string, HostTensor>): void {
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  for (const [name, tensor] of expected) {
    const got = actual.get(name)!;
    expect(got.shape, name).toEqual(tensor.shape);
    expect(
      Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength).equals(
        Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength),
      ),
      `${name} bytes`,
    ).toBe(true);
  }
}

describe.runIf(net !== null && netPt !== null)('the official .pt checkpoint (convttlstm-net.pt), in one call', () => {
  it('loads {"epoch", "model_state_dict"} and gives the test-mode outputs of the official model', async () => {
    const fixture = net!;
    const model = await ConvRecurrentNet.fromCheckpoint(netPt!, fixture.metadata.config);
    const frames = videoFromTorch(fixtureTensor(fixture, 'frames'));
    const context = tf.slice(frames, [0, 0, 0, 0, 0], [-1, 10, -1, -1, -1]) as tf.Tensor5D;
    const output = model.predict(context, 5);
    const expected = videoFromTorch(fixtureTensor(fixture, 'output.test'));
    assertClose(output, expected, { atol: 1e-5, name: 'output.test from the .pt checkpoint' });
    tf.dispose([frames, context, output, expected]);
    model.dispose();
  });

  it('infers the configuration from the shapes when none is given, and reads the epoch', async () => {
    const checkpoint = await readOfficialCheckpoint(netPt!);
    expect(checkpoint.format).toBe('pt');
    expect(checkpoint.epoch).toBe(7);
    const model = await ConvRecurrentNet.fromCheckpoint(netPt!);
    expect(model.officialConfig()).toEqual(fixtureConfig(net!));
    expectSameTensors(await model.exportOfficialStateDict(), fixtureStateDict(net!));
    model.dispose();
  });
});

describe('checkpoint formats of the official code (convttlstm-scheduled fixtures)', () => {
  it('tells torch.save files from safetensors by their first bytes, also when a header length ends in 0x80', () => {
    expect(isTorchCheckpoint(Uint8Array.of(0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0, 0))).toBe(true); // zip (PyTorch ≥ 1.6)
    expect(isTorchCheckpoint(Uint8Array.of(0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9))).toBe(true); // legacy pickle, torch's magic number
    // A safetensors header padded to 128 bytes: its length's low byte is 0x80, as a pickle's first byte.
    let metadata = { pad: '' };
    let bytes = serializeSafetensors(new Map(), metadata);
    metadata = { pad: 'x'.repeat(128 - (bytes.byteLength - 8)) };
    bytes = serializeSafetensors(new Map(), metadata);
    expect(bytes[0]).toBe(0x80);
    expect(isTorchCheckpoint(bytes)).toBe(false);
  });

  it('reads the DistributedDataParallel layout ("module." names) and a bare legacy-format state dict', async () => {
    const reference = fixtureStateDict(await readSafetensors(local('convttlstm-scheduled.safetensors')));
    const ddp = await readOfficialCheckpoint(local('convttlstm-scheduled-ddp.pt'));
    expect(ddp.epoch).toBe(3);
    expectSameTensors(ddp.stateDict, reference);
    const bare = await readOfficialCheckpoint(readFileSync(local('convttlstm-scheduled-bare.pt')), { name: 'bare.pt' });
    expectSameTensors(bare.stateDict, reference);
    const model = await ConvRecurrentNet.fromCheckpoint(local('convttlstm-scheduled-ddp.pt'));
    expect(model.officialConfig().skip_stride).toBe(1);
    expect(model.officialConfig().kernel_size).toEqual([3, 5]);
    model.dispose();
  });

  it('infers each fixture configuration from its shapes (all but output_sigmoid, which has no parameter)', async () => {
    const names = ['convttlstm-net.safetensors', 'convlstm-net.safetensors', 'convttlstm-lags.safetensors'];
    const contents = [
      await readSafetensors(local('convttlstm-scheduled.safetensors')),
      ...(await Promise.all(names.map((n) => loadReferenceFixture(n)))),
    ];
    for (const fixture of contents) {
      if (!fixture) continue;
      const config = fixtureConfig(fixture) as Record<string, unknown>;
      const inferred = inferOfficialConfig(fixtureStateDict(fixture)) as unknown as Record<string, unknown>;
      const comparable = (c: Record<string, unknown>): Record<string, unknown> => {
        const { output_sigmoid: _sigmoid, cell_params: params, ...rest } = c;
        return c.cell === 'convlstm' ? rest : { ...rest, cell_params: params };
      };
      expect(comparable(inferred), String(config.cell)).toEqual(comparable(config));
    }
  });
});

describe('export to safetensors with the official names (for the official PyTorch code)', () => {
  it('round-trips the official tensors bit for bit, with the constructor arguments in the metadata', async () => {
    const fixture = await readSafetensors(local('convttlstm-scheduled.safetensors'));
    const model = ConvRecurrentNet.fromConfig(fixtureConfig(fixture) as never);
    model.loadStateDict(fixtureStateDict(fixture), { layout: 'torch' });
    const path = join(dir, 'exported.safetensors');
    await model.saveSafetensors(path);
    const written = await readSafetensors(path);
    expectSameTensors(written.tensors, fixtureStateDict(fixture));
    expect(JSON.parse(written.metadata.config!)).toEqual(fixtureConfig(fixture));
    expect(written.metadata.format).toBe('pt');
    // And back, with no configuration: it comes from the metadata.
    const reloaded = await ConvRecurrentNet.fromCheckpoint(path);
    expectSameTensors(await reloaded.exportOfficialStateDict(), fixtureStateDict(fixture));
    model.dispose();
    reloaded.dispose();
  });
});

describe('errors that name the keys, the file and the configuration', () => {
  let stateDict: Map<string, HostTensor>;
  let config: Record<string, unknown>;
  beforeAll(async () => {
    const fixture = await readSafetensors(local('convttlstm-scheduled.safetensors'));
    stateDict = fixtureStateDict(fixture);
    config = fixtureConfig(fixture);
  });

  it('lists unexpected keys (a fixture file with its gradients and data is not a checkpoint)', async () => {
    const path = local('convttlstm-scheduled.safetensors');
    const error = await ConvRecurrentNet.fromCheckpoint(path, config as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateDictError);
    expect((error as StateDictError).unexpected).toContain('grad.layers.output.bias');
    expect((error as Error).message).toMatch(
      /convttlstm-scheduled\.safetensors: the checkpoint does not match the convttlstm configuration: unexpected keys \(\d+\): .*grad\.layers\.b0l0\.layers\.0\.weight.*frames/,
    );
  });

  it('lists missing keys', async () => {
    const partial = new Map(stateDict);
    partial.delete('layers.b1l0.layers_.1.weight');
    partial.delete('layers.output.bias');
    const path = join(dir, 'partial.safetensors');
    await writeSafetensors(path, partial);
    const error = await ConvRecurrentNet.fromCheckpoint(path, config as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateDictError);
    expect((error as StateDictError).missing).toEqual(['layers.b1l0.layers_.1.weight', 'layers.output.bias']);
    expect((error as Error).message).toMatch(
      /partial\.safetensors: .*missing keys \(2\): layers\.b1l0\.layers_\.1\.weight, layers\.output\.bias/,
    );
  });

  it('explains a channel mismatch with the configuration the checkpoint implies', async () => {
    const path = join(dir, 'clean.safetensors');
    await writeSafetensors(path, stateDict);
    const wrongChannels = { ...config, input_channels: 3 };
    const error = await ConvRecurrentNet.fromCheckpoint(path, wrongChannels as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateDictError);
    const message = (error as Error).message;
    expect(message).toMatch(
      /layers\.b0l0\.layers\.1\.weight: checkpoint \[16, 5, 3, 5\], configuration \[16, 6, 3, 5\]/,
    );
    expect(message).toMatch(/layers\.output\.weight: checkpoint \[2, 11, 1, 1\], configuration \[3, 11, 1, 1\]/);
    expect(message).toMatch(/input_channels: configuration 3, checkpoint 2/);
    const wrongHidden = {
      inputChannels: 2,
      layersPerBlock: [1, 1, 2],
      hiddenChannels: [4, 8, 5],
      skipStride: 1,
      order: 2,
      steps: 3,
      ranks: 3,
      kernelSize: [3, 5] as const,
    };
    await expect(ConvRecurrentNet.fromCheckpoint(path, wrongHidden)).rejects.toThrow(
      /hidden_channels: configuration \[4,8,5\], checkpoint \[4,6,5\]/,
    );
    const wrongCell = { ...config, cell: 'convlstm' };
    await expect(ConvRecurrentNet.fromCheckpoint(path, wrongCell as never)).rejects.toThrow(
      /cell: configuration "convlstm", checkpoint "convttlstm"/,
    );
  });

  it('rejects bad official configurations, truncated files and wrong formats', async () => {
    const path = join(dir, 'clean.safetensors');
    await writeSafetensors(path, stateDict);
    await expect(
      ConvRecurrentNet.fromCheckpoint(path, { ...config, cell_params: { order: 4, steps: 3, rank: 3 } } as never),
    ).rejects.toThrow(/order: expected an order ≤ steps \(3\), received 4/);
    await expect(
      ConvRecurrentNet.fromCheckpoint(path, { ...config, cell_params: { order: 2, steps: 3, rank: 0 } } as never),
    ).rejects.toThrow(/cell_params\.rank: expected a positive integer, received 0/);
    await expect(ConvRecurrentNet.fromCheckpoint(path, '{"cell": "convttlstm",')).rejects.toThrow(
      /config: expected JSON text/,
    );
    const bytes = readFileSync(path);
    await expect(
      ConvRecurrentNet.fromCheckpoint(bytes.subarray(0, bytes.length - 100), config as never, {
        name: 'truncated.safetensors',
      }),
    ).rejects.toThrow(FileFormatError);
    await expect(ConvRecurrentNet.fromCheckpoint(join(dir, 'missing.pt'))).rejects.toThrow(/missing\.pt: no such file/);
    await expect(
      ConvRecurrentNet.fromCheckpoint(new Uint8Array(0), config as never, { name: 'empty.pt' }),
    ).rejects.toThrow(/empty\.pt: the file is empty/);
    await expect(ConvRecurrentNet.fromCheckpoint(path, config as never, { outputSigmoid: true })).rejects.toThrow(
      /outputSigmoid: expected no outputSigmoid option when a config is given/,
    );
  });
});
