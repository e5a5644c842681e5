/**
 * Loading a predictor in the page from bytes, through @vid/models' `loadPredictor` (what
 * @vid/core's `loadModel` reads, plus the predictor wrapper): a vid model file (`savePredictor`;
 * its metadata names the architecture), or an official `torch.save` checkpoint (`.pt`, with the
 * official `ConvLSTMNet` arguments pasted as JSON: the official import).
 */
import { ConfigError } from '@vid/core';
import { type VideoPredictor, isSavedModel, loadPredictor } from '@vid/models';
import { DEFAULT_PRETRAINED, PRETRAINED as SHIPPED, PRETRAINED_NAMES } from '@vid/pretrained';

/**
 * The shipped weights (@vid/pretrained): their files are assets of the page (Vite follows the
 * package's `new URL('../weights/…', import.meta.url)`), fetched when picked.
 */
export const PRETRAINED: ReadonlyArray<{ readonly name: string; readonly url: string; readonly description: string }> =
  PRETRAINED_NAMES.map((name) => ({
    name,
    url: SHIPPED[name].url().href,
    description: SHIPPED[name].description,
  }));

/** The model the page loads when the visitor has not picked one (`?model=` names another). */
export const DEFAULT_MODEL = DEFAULT_PRETRAINED;

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what} is not valid JSON`);
  }
}

/** Builds a predictor from a weights file's bytes; `configText` (the architecture) is needed for a `.pt`. */
export async function predictorFromBytes(bytes: Uint8Array, name: string, configText = ''): Promise<VideoPredictor> {
  // A vid model file carries its architecture: the pasted one is for official checkpoints.
  const pasted =
    configText.trim() && !isSavedModel(bytes)
      ? (parseJson(configText, 'the architecture') as Record<string, unknown>)
      : undefined;
  try {
    return await loadPredictor(bytes, { name, ...(pasted !== undefined ? { config: pasted } : {}) });
  } catch (error) {
    if (pasted === undefined && error instanceof ConfigError && error.field === 'config') {
      throw new Error(
        `${name} does not say its architecture: paste the official ConvLSTMNet arguments (or a vid predictor spec) as JSON under "Architecture for a .pt"`,
      );
    }
    throw error;
  }
}

/** Fetches bytes, with an error that names the URL. */
export async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}
