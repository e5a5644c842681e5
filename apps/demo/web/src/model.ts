/**
 * Loading a predictor in the page from bytes: a vid `.safetensors` (its metadata names the
 * architecture) or an official `torch.save` checkpoint (`.pt`, with the architecture given as
 * JSON). Uses today's @vid/models and @vid/core APIs; `loadModel(bytes)` from @vid/core will
 * replace this file once it lands.
 */
import { type HostTensor, extractStateDict, parseSafetensors, readTorchCheckpoint } from '@vid/core';
import { type PredictorSpec, type VideoPredictor, createPredictor, loadPredictorWeights, validatePredictorSpec } from '@vid/models';

/** Shipped pretrained weights: none yet (another issue ships them); the picker hides the group while empty. */
export const PRETRAINED: ReadonlyArray<{ readonly name: string; readonly url: string; readonly description: string }> = [];

function specFrom(config: unknown, patchSize: number): PredictorSpec {
  if (config !== null && typeof config === 'object' && 'type' in config) return validatePredictorSpec(config, 'the demo');
  return { type: 'convttlstm-net', network: config as Record<string, unknown>, patchSize };
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what} is not valid JSON`);
  }
}

/** Builds a predictor from a weights file's bytes; `configText` is needed for a `.pt`. */
export async function predictorFromBytes(bytes: Uint8Array, name: string, configText = ''): Promise<VideoPredictor> {
  let tensors: ReadonlyMap<string, HostTensor>;
  let config: unknown;
  let patchSize = 1;
  if (/\.safetensors$/i.test(name)) {
    const contents = parseSafetensors(bytes, name);
    tensors = contents.tensors;
    const metadata = contents.metadata ?? {};
    if (metadata.patch_size) patchSize = Number(metadata.patch_size);
    if (metadata.vid_predictor) config = parseJson(metadata.vid_predictor, `${name} __metadata__.vid_predictor`);
    else if (metadata.config) config = parseJson(metadata.config, `${name} __metadata__.config`);
  } else {
    tensors = extractStateDict(await readTorchCheckpoint(bytes, name)) as ReadonlyMap<string, HostTensor>;
  }
  if (configText.trim()) config = parseJson(configText, 'the architecture');
  if (config === undefined) throw new Error(`${name} does not say its architecture: paste the official ConvLSTMNet arguments (or a vid predictor spec) as JSON under "Architecture for a .pt"`);
  const predictor = createPredictor(specFrom(config, patchSize));
  try {
    loadPredictorWeights(predictor, tensors, name);
  } catch (error) {
    predictor.dispose();
    throw error;
  }
  return predictor;
}

/** Fetches bytes, with an error that names the URL. */
export async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}
