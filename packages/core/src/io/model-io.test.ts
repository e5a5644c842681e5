import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';
import { runFreshNode } from '@vid/vitest-config/fresh-node';
import { IDBFactory } from 'fake-indexeddb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { initBackend } from '../backend/select.js';
import { ConfigError, FileFormatError, StateDictError } from '../errors.js';
import { Conv2d, Linear } from '../layers.js';
import { Module, ModuleList } from '../module.js';
import { type ModuleConfig, deserializeModule, registerClass, serializeModule } from '../registry.js';
import {
  type ModelIOHandler,
  downloadHandler,
  indexedDBHandler,
  listStoredModels,
  removeStoredModel,
} from './handlers.js';
import { MODEL_FORMAT, inspectModel, loadModel, readModel, saveModel } from './model-io.js';
import { parseSafetensors, serializeSafetensors } from './safetensors.js';
import { hostTensor } from './host-tensor.js';

/** A small nested model: Conv2d → Linear, with the Linear inside a config of its own. */
interface TinyNetOptions {
  readonly channels: number;
  readonly head: Linear | { className: string; config: ModuleConfig };
  readonly seed?: number;
}
class TinyNet extends Module {
  static readonly className = 'test.TinyNet';
  readonly conv: Conv2d;
  readonly head: Linear;
  readonly channels: number;
  constructor(options: TinyNetOptions) {
    super();
    this.channels = options.channels;
    this.conv = this.registerModule(
      'conv',
      new Conv2d({ inChannels: 1, outChannels: options.channels, kernelSize: 3, seed: options.seed ?? 0 }),
    );
    const head = options.head instanceof Linear ? options.head : deserializeModule<Linear>(options.head);
    this.head = this.registerModule('head', head);
  }
  override getConfig(): ModuleConfig {
    return { channels: this.channels, head: serializeModule(this.head) };
  }
  apply(x: tf.Tensor4D): tf.Tensor {
    return tf.tidy(() => this.head.apply(tf.relu(this.conv.apply(x))));
  }
}
registerClass(TinyNet);

const here = dirname(fileURLToPath(import.meta.url));

function makeNet(seed: number): TinyNet {
  return new TinyNet({ channels: 4, head: new Linear({ inFeatures: 4, outFeatures: 2, seed: seed + 1 }), seed });
}

async function outputsOf(model: Module, x: tf.Tensor4D): Promise<Float32Array> {
  const y = (model as TinyNet).apply(x);
  const data = (await y.data()) as Float32Array;
  y.dispose();
  return data;
}

describe('saveModel / loadModel', () => {
  let dir: string;
  let x: tf.Tensor4D;
  beforeAll(async () => {
    await initBackend({ backend: 'cpu', log: false });
    dir = await mkdtemp(join(tmpdir(), 'vid-model-io-'));
    x = tf.randomUniform([2, 5, 5, 1], -1, 1, 'float32', 3) as tf.Tensor4D;
  });
  afterAll(async () => {
    x.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips Linear and Conv2d through a file with their architecture', async () => {
    const before = tf.memory().numTensors;
    for (const layer of [
      new Linear({ inFeatures: 3, outFeatures: 5, seed: 7 }),
      new Linear({ inFeatures: 3, outFeatures: 5, bias: false }),
      new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: [3, 2], padding: [1, 1, 0, 1], dilation: 1, seed: 2 }),
      new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: 3, stride: 2, padding: 'valid' }),
    ]) {
      const path = join(dir, `${layer.constructor.name}.safetensors`);
      await saveModel(layer, path);
      const loaded = await loadModel(path);
      expect(loaded).toBeInstanceOf(layer.constructor);
      expect(loaded.getConfig()).toEqual(layer.getConfig());
      const input =
        layer instanceof Linear
          ? tf.randomNormal([4, 3], 0, 1, 'float32', 1)
          : tf.randomNormal([1, 7, 7, 2], 0, 1, 'float32', 1);
      const a = layer instanceof Linear ? layer.apply(input) : layer.apply(input as tf.Tensor4D);
      const b = loaded instanceof Linear ? loaded.apply(input) : (loaded as Conv2d).apply(input as tf.Tensor4D);
      expect(await b.data()).toEqual(await a.data());
      tf.dispose([input, a, b]);
      layer.dispose();
      loaded.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('writes the format marker, version, class and config into __metadata__, weights in vid layout', async () => {
    const net = makeNet(1);
    const saved = await saveModel(net, undefined, { metadata: { run: 'abc' } });
    expect(saved.location).toBeNull();
    const contents = parseSafetensors(saved.bytes);
    expect(contents.metadata).toMatchObject({
      format: MODEL_FORMAT,
      format_version: '1',
      class_name: 'test.TinyNet',
      layout: 'vid',
      run: 'abc',
    });
    expect(JSON.parse(contents.metadata.config as string)).toEqual({
      channels: 4,
      head: { className: 'Linear', config: { inFeatures: 4, outFeatures: 2, bias: true, seed: 2 } },
    });
    expect([...contents.tensors.keys()]).toEqual(['conv.weight', 'conv.bias', 'head.weight', 'head.bias']);
    expect(contents.tensors.get('conv.weight')?.shape).toEqual([3, 3, 1, 4]);
    const info = await inspectModel(saved.bytes);
    expect(info.className).toBe('test.TinyNet');
    expect(info.extra).toEqual({ run: 'abc' });
    net.dispose();
  });

  it('loads from bytes (Uint8Array and ArrayBuffer), a file path and a file: URL, with identical outputs', async () => {
    const net = makeNet(4);
    const expected = await outputsOf(net, x);
    const path = join(dir, 'tiny.safetensors');
    const saved = await saveModel(net, path);
    expect(saved.location).toBe(path);
    expect(new Uint8Array(await readFile(path))).toEqual(saved.bytes);
    // The atomic writer leaves no temporary file behind.
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const copy = saved.bytes.slice();
    const sources = [path, pathToFileURL(path).href, pathToFileURL(path), saved.bytes, copy.buffer];
    for (const source of sources) {
      const loaded = await loadModel<TinyNet>(source);
      expect(await outputsOf(loaded, x)).toEqual(expected);
      loaded.dispose();
    }
    // Saving to a file: URL works too.
    const viaUrl = join(dir, 'tiny-url.safetensors');
    await saveModel(net, pathToFileURL(viaUrl).href);
    expect(new Uint8Array(await readFile(viaUrl))).toEqual(saved.bytes);
    net.dispose();
  });

  it('loads from a URL served on 127.0.0.1, and saves by POST', async () => {
    const net = makeNet(5);
    const expected = await outputsOf(net, x);
    const { bytes } = await saveModel(net);
    let posted: Buffer | null = null;
    const server: Server = createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/models/tiny.safetensors') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(Buffer.from(bytes));
      } else if (req.method === 'POST' && req.url === '/upload') {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          posted = Buffer.concat(chunks);
          res.writeHead(201).end();
        });
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const loaded = await loadModel<TinyNet>(`${base}/models/tiny.safetensors`);
      expect(await outputsOf(loaded, x)).toEqual(expected);
      loaded.dispose();
      await saveModel(net, `${base}/upload`);
      expect(new Uint8Array(posted as unknown as Buffer)).toEqual(bytes);
      const missing = loadModel(`${base}/nothing.safetensors`);
      await expect(missing).rejects.toThrow(FileFormatError);
      await expect(missing).rejects.toThrow(/nothing\.safetensors: the server answered 404/);
    } finally {
      await new Promise((done) => server.close(done));
      net.dispose();
    }
  });

  it('saves to and loads from IndexedDB (indexeddb://name), lists and removes', async () => {
    const indexedDB = new IDBFactory();
    const previous = (globalThis as { indexedDB?: unknown }).indexedDB;
    (globalThis as { indexedDB?: unknown }).indexedDB = indexedDB;
    try {
      const net = makeNet(6);
      const expected = await outputsOf(net, x);
      const saved = await saveModel(net, 'indexeddb://tiny');
      expect(saved.location).toBe('indexeddb://tiny');
      const loaded = await loadModel<TinyNet>('indexeddb://tiny');
      expect(await outputsOf(loaded, x)).toEqual(expected);
      loaded.dispose();
      // An explicit handler with its own factory reads the same store.
      const again = await loadModel<TinyNet>(indexedDBHandler('tiny', { indexedDB }));
      again.dispose();
      expect(await listStoredModels()).toEqual({
        'indexeddb://tiny': {
          className: 'test.TinyNet',
          byteLength: saved.bytes.byteLength,
          savedAt: expect.any(String),
        },
      });
      await removeStoredModel('indexeddb://tiny');
      await expect(loadModel('indexeddb://tiny')).rejects.toThrow(
        /indexeddb:\/\/tiny: no model stored under this name/,
      );
      await expect(removeStoredModel('tiny')).rejects.toThrow(FileFormatError);
      net.dispose();
    } finally {
      (globalThis as { indexedDB?: unknown }).indexedDB = previous;
    }
  });

  it('downloads://name clicks a download link in a browser, and says why not in Node', async () => {
    const net = makeNet(7);
    await expect(saveModel(net, 'downloads://tiny')).rejects.toThrow(/downloads:\/\/ needs a browser/);
    const clicked: Array<{ href: string; download: string }> = [];
    const anchor = {
      href: '',
      download: '',
      click() {
        clicked.push({ href: this.href, download: this.download });
      },
    };
    const g = globalThis as { document?: unknown };
    g.document = { createElement: () => anchor };
    try {
      const result = await downloadHandler('tiny').save!({ bytes: new Uint8Array(8), className: 'x' });
      expect(result.location).toBe('tiny.safetensors');
      expect(clicked).toEqual([{ href: expect.stringMatching(/^blob:/), download: 'tiny.safetensors' }]);
    } finally {
      delete g.document;
      net.dispose();
    }
  });

  it('accepts a custom handler (tfjs-style IOHandler)', async () => {
    const net = makeNet(8);
    let stored: Uint8Array | null = null;
    const handler: ModelIOHandler = {
      location: 'memory://one',
      save: async ({ bytes }) => {
        stored = bytes;
        return { location: 'memory://one', byteLength: bytes.byteLength };
      },
      load: async () => stored as unknown as Uint8Array,
    };
    await saveModel(net, handler);
    const loaded = await loadModel<TinyNet>(handler);
    expect(await outputsOf(loaded, x)).toEqual(await outputsOf(net, x));
    loaded.dispose();
    net.dispose();
  });

  describe('strictness and bad files', () => {
    /** The saved bytes of `net` with `edit` applied to its tensors and metadata. */
    async function edited(
      net: Module,
      edit: (tensors: Map<string, ReturnType<typeof hostTensor>>, metadata: Record<string, string>) => void,
    ): Promise<Uint8Array> {
      const { bytes } = await saveModel(net);
      const contents = parseSafetensors(bytes);
      const tensors = new Map(contents.tensors);
      const metadata = { ...contents.metadata };
      edit(tensors, metadata);
      return serializeSafetensors(tensors, metadata);
    }

    it('fails on extra tensors (a fixture with gradients) and lists them; strict: false skips them and says which', async () => {
      const net = makeNet(9);
      const before = tf.memory().numTensors;
      const bytes = await edited(net, (tensors) => {
        tensors.set('grad.conv.weight', hostTensor(new Float32Array(36), [3, 3, 1, 4]));
        tensors.set('inputs', hostTensor(new Float32Array(2), [2]));
      });
      const strict = loadModel(bytes);
      await expect(strict).rejects.toThrow(StateDictError);
      await expect(strict).rejects.toThrow(
        /unexpected tensors \(2\): grad\.conv\.weight, inputs \(pass \{strict: false\} to skip them\)/,
      );
      const error = await loadModel(bytes).catch((e: StateDictError) => e);
      expect((error as StateDictError).unexpected).toEqual(['grad.conv.weight', 'inputs']);
      expect(tf.memory().numTensors).toBe(before);
      const { model, skipped } = await readModel<TinyNet>(bytes, { strict: false });
      expect(skipped).toEqual(['grad.conv.weight', 'inputs']);
      expect(await outputsOf(model, x)).toEqual(await outputsOf(net, x));
      model.dispose();
      net.dispose();
    });

    it('fails on missing tensors even when not strict, naming them', async () => {
      const net = makeNet(10);
      const bytes = await edited(net, (tensors) => tensors.delete('head.bias'));
      await expect(loadModel(bytes)).rejects.toThrow(/missing tensors \(1\): head\.bias/);
      await expect(loadModel(bytes, { strict: false })).rejects.toThrow(StateDictError);
      net.dispose();
    });

    it('names dtype and shape mismatches', async () => {
      const net = makeNet(11);
      const bytes = await edited(net, (tensors) => {
        tensors.set('head.bias', hostTensor(new Int32Array(2), [2], 'I32'));
        tensors.set('conv.bias', hostTensor(new Float32Array(5), [5]));
      });
      const error = (await loadModel(bytes).catch((e: unknown) => e)) as StateDictError;
      expect(error).toBeInstanceOf(StateDictError);
      expect(error.message).toMatch(/conv\.bias: expected shape \[4\], received \[5\]/);
      expect(error.message).toMatch(/head\.bias: expected dtype F32, received I32/);
      expect(error.mismatched).toHaveLength(2);
      net.dispose();
    });

    it('refuses files that are not vid models, newer versions, unknown classes and broken configs', async () => {
      const net = makeNet(12);
      const bare = serializeSafetensors({ w: hostTensor([1, 2], [2]) });
      await expect(loadModel(bare)).rejects.toThrow(/not a vid model .*no __metadata__: a bare state dict/);
      const newer = await edited(net, (_, m) => (m.format_version = '2'));
      await expect(loadModel(newer)).rejects.toThrow(/format_version: expected ≤ 1 .* received 2/);
      const unknown = await edited(net, (_, m) => (m.class_name = 'NoSuchNet'));
      await expect(loadModel(unknown)).rejects.toThrow(/className: expected a registered class .*received "NoSuchNet"/);
      const broken = await edited(net, (_, m) => (m.config = '{"channels": 4'));
      await expect(loadModel(broken)).rejects.toThrow(/__metadata__\.config: expected JSON/);
      await expect(loadModel(await saveModel(net).then((s) => s.bytes), { expectClass: 'Linear' })).rejects.toThrow(
        /expected a model of class Linear, received "test\.TinyNet"/,
      );
      await expect(loadModel(join(dir, 'missing.safetensors'))).rejects.toThrow(/missing\.safetensors: no such file/);
      await writeFile(join(dir, 'truncated.safetensors'), (await saveModel(net)).bytes.subarray(0, 40));
      await expect(loadModel(join(dir, 'truncated.safetensors'))).rejects.toThrow(FileFormatError);
      await expect(loadModel(42 as unknown as string)).rejects.toThrow(ConfigError);
      net.dispose();
    });

    it('refuses to save a module that cannot describe itself', async () => {
      class Bare extends Module {}
      const list = new ModuleList([new Linear({ inFeatures: 1, outFeatures: 1 })]);
      await expect(saveModel(new Bare())).rejects.toThrow(/registerClass\(Bare\)/);
      await expect(saveModel(list)).rejects.toThrow(ConfigError);
      await expect(saveModel(makeNet(1), undefined, { metadata: { config: 'x' } })).rejects.toThrow(/metadata\.config/);
      list.dispose();
    });
  });

  it('loads in a fresh Node process with nothing but the file', async () => {
    const net = new Conv2d({ inChannels: 1, outChannels: 2, kernelSize: 3, seed: 5 });
    const path = join(dir, 'fresh.safetensors');
    await saveModel(net, path);
    const y = net.apply(x);
    const expected = Array.from(await y.data());
    y.dispose();
    net.dispose();
    const stdout = await runFreshNode({
      packageDir: resolve(here, '..', '..'),
      args: [path],
      source: [
        `import * as tf from '@tensorflow/tfjs-core';`,
        `import { initBackend, loadModel } from '@vid/core';`,
        `await initBackend({ backend: 'cpu', log: false });`,
        `const model = await loadModel(process.argv[2]);`,
        `const x = tf.randomUniform([2, 5, 5, 1], -1, 1, 'float32', 3);`,
        `process.stdout.write(JSON.stringify({ className: model.constructor.className, y: Array.from(model.apply(x).dataSync()) }));`,
      ].join('\n'),
    });
    const result = JSON.parse(stdout) as { className: string; y: number[] };
    expect(result.className).toBe('Conv2d');
    expect(result.y).toEqual(expected);
  }, 60_000);
});
