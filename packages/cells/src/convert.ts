/**
 * Converts ConvLSTM parameters between the fused form (`conv`, one convolution on
 * `concat[x, h]`) and the unfused one (`conv_x` with the bias, `conv_h`). The two are the same
 * model: the fused kernel is the unfused kernels concatenated on the input-channel axis, input
 * first. Works on whole state dicts (stacks, encoder-forecasters): every `<prefix>.conv_x.weight`
 * / `<prefix>.conv_h.weight` pair (or `<prefix>.conv.weight`) is converted, every other entry is
 * passed through.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  type HostTensor,
  type StateDictInput,
  type StateDictLayout,
  StateDictError,
  hostToTensor,
  oneOf,
} from '@vid/core';

/** Options of {@link convertConvLSTMStateDict}. */
export interface ConvertConvLSTMOptions {
  /** The form to convert to. */
  readonly to: 'fused' | 'unfused';
  /**
   * The layout of the given (and returned) tensors: vid kernels `[kh, kw, in, out]`, PyTorch
   * `[out, in, kh, kw]`.
   * @default 'vid'
   */
  readonly layout?: StateDictLayout;
}

const toTensor = (value: tf.Tensor | HostTensor, name: string): tf.Tensor =>
  value instanceof tf.Tensor ? tf.clone(value) : hostToTensor(value, name);

/**
 * Returns a new state dict (new tensors, which the caller disposes) with every ConvLSTM cell in
 * the requested form; load it with `loadStateDict` into a model built with `fused` set to match.
 */
export function convertConvLSTMStateDict(
  stateDict: StateDictInput,
  options: ConvertConvLSTMOptions,
): Map<string, tf.Tensor> {
  const context = 'convertConvLSTMStateDict';
  const to = oneOf(options.to, ['fused', 'unfused'] as const, 'to', context);
  const layout = oneOf(options.layout ?? 'vid', ['vid', 'torch'] as const, 'layout', context);
  // The input-channel axis of a kernel.
  const axis = layout === 'vid' ? 2 : 1;
  const entries = new Map<string, tf.Tensor | HostTensor>(
    stateDict instanceof Map
      ? [...(stateDict as ReadonlyMap<string, tf.Tensor | HostTensor>)]
      : Object.entries(stateDict),
  );
  const out = new Map<string, tf.Tensor>();
  const done = new Set<string>();
  try {
    for (const [name, value] of entries) {
      if (done.has(name)) continue;
      const match = /^(.*?)(conv_x|conv_h|conv)\.(weight|bias)$/.exec(name);
      const prefix = match?.[1] ?? '';
      if (to === 'fused' && match && match[2] !== 'conv') {
        const wx = entries.get(`${prefix}conv_x.weight`);
        const wh = entries.get(`${prefix}conv_h.weight`);
        if (!wh)
          throw new StateDictError(`${context}: ${name} has no ${prefix}conv_h.weight beside it`, [
            `${prefix}conv_h.weight`,
          ]);
        // Without input (inputChannels 0) conv_h carries the bias and is the whole kernel.
        const bias = entries.get(`${prefix}conv_x.bias`) ?? entries.get(`${prefix}conv_h.bias`);
        out.set(
          `${prefix}conv.weight`,
          tf.tidy(() =>
            wx
              ? tf.concat([toTensor(wx, `${prefix}conv_x.weight`), toTensor(wh, `${prefix}conv_h.weight`)], axis)
              : toTensor(wh, `${prefix}conv_h.weight`),
          ),
        );
        if (bias) out.set(`${prefix}conv.bias`, toTensor(bias, `${prefix}conv.bias`));
        for (const key of ['conv_x.weight', 'conv_h.weight', 'conv_x.bias', 'conv_h.bias']) done.add(`${prefix}${key}`);
      } else if (to === 'unfused' && match && match[2] === 'conv') {
        const weight = entries.get(`${prefix}conv.weight`);
        if (!weight)
          throw new StateDictError(`${context}: ${name} has no ${prefix}conv.weight beside it`, [
            `${prefix}conv.weight`,
          ]);
        const bias = entries.get(`${prefix}conv.bias`);
        const kernel = toTensor(weight, `${prefix}conv.weight`);
        const shape = kernel.shape;
        const gates = (layout === 'vid' ? shape[3] : shape[0]) as number;
        const hidden = gates / 4;
        const inputs = (shape[axis] as number) - hidden;
        if (!Number.isInteger(hidden) || inputs < 0) {
          kernel.dispose();
          throw new StateDictError(
            `${context}: ${prefix}conv.weight of shape [${shape.join(', ')}] is not a ConvLSTM kernel (${layout} layout: 4·hidden outputs, ≥ hidden inputs)`,
          );
        }
        if (inputs > 0) {
          const [wx, wh] = tf.split(kernel, [inputs, hidden], axis);
          kernel.dispose();
          out.set(`${prefix}conv_x.weight`, wx as tf.Tensor);
          out.set(`${prefix}conv_h.weight`, wh as tf.Tensor);
          if (bias) out.set(`${prefix}conv_x.bias`, toTensor(bias, `${prefix}conv.bias`));
        } else {
          out.set(`${prefix}conv_h.weight`, kernel);
          if (bias) out.set(`${prefix}conv_h.bias`, toTensor(bias, `${prefix}conv.bias`));
        }
        done.add(`${prefix}conv.weight`).add(`${prefix}conv.bias`);
      } else {
        out.set(name, toTensor(value, name));
      }
    }
  } catch (error) {
    for (const tensor of out.values()) tensor.dispose();
    throw error;
  }
  return out;
}
