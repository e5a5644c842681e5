/**
 * Reading LPIPS weights: safetensors files, PyTorch `.pth` files (the released LPIPS linear
 * layers, torchvision trunk checkpoints, a saved `lpips.LPIPS` state dict), or tensors in memory,
 * and mapping their names onto the official `lpips.LPIPS` state-dict names that {@link LPIPS}
 * uses.
 */
import type * as tf from '@tensorflow/tfjs-core';
import {
  FileFormatError,
  type HostTensor,
  extractStateDict,
  parseSafetensors,
  readFileBytes,
  readTorchCheckpoint,
} from '@vid/core';

import { type LpipsNet, LPIPS_TRUNKS, sliceOfFeature } from './trunks.js';

/** A tensor by name, on the host or on the backend. */
export type WeightTensor = HostTensor | tf.Tensor;

/**
 * Where LPIPS weights come from: a file path (`.safetensors`, or a PyTorch `.pth`/`.pt`, told
 * apart by their first bytes), the bytes of such a file, or tensors by name.
 */
export type LpipsWeightSource =
  string | Uint8Array | ReadonlyMap<string, WeightTensor> | Readonly<Record<string, WeightTensor>>;

/** The constants of `lpips.ScalingLayer` (`lpips/lpips.py`): ImageNet statistics mapped to [-1, 1]. */
export const LPIPS_SCALING = { shift: [-0.03, -0.088, -0.188], scale: [0.458, 0.448, 0.45] } as const;

function isSafetensors(bytes: Uint8Array): boolean {
  // An 8-byte little-endian header length, then a JSON object.
  return bytes.byteLength > 9 && bytes[8] === 0x7b;
}

/** Reads one source into tensors by name (the names as stored). */
export async function readWeightSource(source: LpipsWeightSource): Promise<Map<string, WeightTensor>> {
  if (typeof source === 'string' || source instanceof Uint8Array) {
    const name = typeof source === 'string' ? source : '<weights bytes>';
    const bytes = typeof source === 'string' ? await readFileBytes(source) : source;
    if (bytes.byteLength < 8)
      throw new FileFormatError(
        name,
        `truncated: ${bytes.byteLength} bytes is too short for a safetensors or PyTorch file`,
      );
    if (isSafetensors(bytes)) return new Map(parseSafetensors(bytes, name).tensors);
    const checkpoint = await readTorchCheckpoint(bytes, name);
    return extractStateDict(checkpoint, { file: name });
  }
  if (source instanceof Map) return new Map(source);
  if (typeof source === 'object' && source !== null) return new Map(Object.entries(source));
  throw new FileFormatError(String(source), 'expected a file path, file bytes, or a map of tensors');
}

/** What {@link normalizeLpipsNames} did to the given names. */
export interface NameMapping {
  /** Official name → given name, for every renamed tensor. */
  readonly renamed: ReadonlyMap<string, string>;
  /** Names dropped on purpose (duplicates, classifier heads), with the reason. */
  readonly dropped: ReadonlyMap<string, string>;
  /** `scaling_layer.*` filled in with the constants of `lpips.ScalingLayer`. */
  readonly filled: readonly string[];
}

/**
 * Maps the names of every known LPIPS weight layout onto `lpips.LPIPS`'s state dict:
 *
 * - `module.` (DataParallel) prefixes are removed;
 * - `lins.{k}.model.1.weight` (the `nn.ModuleList` that lpips ≥ 0.1.3 also registers, the same
 *   tensors as `lin{k}`) becomes `lin{k}.model.1.weight`; the duplicate is dropped;
 * - `lin{k}.model.0.weight` (a `NetLinLayer` built without dropout) becomes `lin{k}.model.1.weight`;
 * - torchvision trunk checkpoints' `features.{i}.*` become `net.slice{k}.{i}.*` (slices of
 *   `lpips/pretrained_networks.py`); their `classifier.*` head is dropped;
 * - missing `scaling_layer.shift`/`scale` are filled with the constants of `lpips.ScalingLayer`.
 *
 * Any other name is kept, so a strict load reports it as unexpected.
 */
export function normalizeLpipsNames(
  net: LpipsNet,
  given: ReadonlyMap<string, WeightTensor>,
): { tensors: Map<string, WeightTensor>; mapping: NameMapping } {
  const out = new Map<string, WeightTensor>();
  const renamed = new Map<string, string>();
  const dropped = new Map<string, string>();
  const candidates: Array<{ name: string; original: string; tensor: WeightTensor; duplicate: boolean }> = [];
  for (const [original, tensor] of given) {
    let name = original.startsWith('module.') ? original.slice('module.'.length) : original;
    let match: RegExpMatchArray | null;
    const duplicate = name.startsWith('lins.');
    if ((match = /^lins\.(\d+)\.model\.(\d+)\.weight$/.exec(name))) {
      name = `lin${match[1]}.model.${match[2]}.weight`;
    }
    if ((match = /^lin(\d+)\.model\.0\.weight$/.exec(name))) {
      name = `lin${match[1]}.model.1.weight`;
    }
    if ((match = /^features\.(\d+)\.(.+)$/.exec(name))) {
      const slice = sliceOfFeature(net, Number(match[1]));
      if (slice === null) {
        dropped.set(original, `torchvision feature ${match[1]} is past the last LPIPS slice`);
        continue;
      }
      name = `net.slice${slice}.${match[1]}.${match[2]}`;
    } else if (/^classifier\./.test(name)) {
      dropped.set(original, "torchvision's classifier head is not part of LPIPS");
      continue;
    }
    candidates.push({ name, original, tensor, duplicate });
  }
  // Prefer a tensor stored under its official name over a renamed duplicate of it.
  candidates.sort((a, b) => Number(a.duplicate) - Number(b.duplicate));
  for (const { name, original, tensor } of candidates) {
    if (out.has(name)) {
      dropped.set(original, `duplicate of ${name}`);
      continue;
    }
    out.set(name, tensor);
    if (name !== original) renamed.set(name, original);
  }
  const filled: string[] = [];
  for (const key of ['shift', 'scale'] as const) {
    const name = `scaling_layer.${key}`;
    if (!out.has(name)) {
      out.set(name, { dtype: 'F32', shape: [1, 3, 1, 1], data: Float32Array.from(LPIPS_SCALING[key]) });
      filled.push(name);
    }
  }
  return { tensors: out, mapping: { renamed, dropped, filled } };
}

/** A hint for a load that misses the trunk or the linear layers. */
export function missingWeightsHint(net: LpipsNet, missing: readonly string[]): string {
  const hints: string[] = [];
  if (missing.some((n) => n.startsWith('net.'))) {
    hints.push(
      `the ${net} trunk is missing: pass torchvision's ${LPIPS_TRUNKS[net].torchvisionWeights} (names features.N.*) or a saved lpips.LPIPS state dict`,
    );
  }
  if (missing.some((n) => n.startsWith('lin'))) {
    hints.push(
      `the linear layers are missing: pass the released lpips weights/v0.1/${net}.pth (names lin0.model.1.weight, …)`,
    );
  }
  return hints.join('; ');
}
