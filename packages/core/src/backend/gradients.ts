/**
 * Gradient registration.
 *
 * The Node bundle of `@tensorflow/tfjs-core` (`tf-core.node.js`) registers no gradients; the
 * `@tensorflow/tfjs` union package does it by bundling tfjs-core's `register_all_gradients`
 * module. vid does the same without the union: it imports that module, tfjs-core's own code.
 * In browsers (the `browser` build of `@vid/core`) the import stays as it is, and the
 * application's bundler resolves it to the one tfjs-core of the page (tfjs-core declares the file
 * side-effectful, so no bundler drops it). In Node, where that extensionless ES module cannot be
 * loaded, tsup bundles it into a chunk of `@vid/core`'s dist (Vitest inlines it in tests). Either
 * way its functions share the one engine and the global kernel and gradient registries with the
 * tfjs-core that the application imports, because tfjs-core keeps those on the global object.
 *
 * vid also replaces the gradient of `Conv2D`, which in tfjs rejects dilation > 1, with one that
 * handles dilation through the identity "a dilated kernel is a kernel with zeros inserted":
 * the input gradient is the transposed convolution with the zero-inserted kernel, and the
 * kernel gradient is every d-th tap of the zero-inserted kernel's gradient.
 */
import * as tf from '@tensorflow/tfjs-core';

let ready: Promise<void> | undefined;

/** Registers every tfjs gradient, plus vid's dilation-aware Conv2D gradient. Idempotent. */
export function ensureGradients(): Promise<void> {
  ready ??= (async () => {
    if (!tf.getGradient('Conv2D')) {
      await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
    }
    if (!tf.getGradient('Conv2D')) {
      throw new Error('vid: tfjs-core gradients could not be registered');
    }
    tf.registerGradient(conv2dGradConfig);
  })();
  return ready;
}

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

/** Inserts `d − 1` zeros between the taps of a kernel `[kh, kw, in, out]`. */
function dilateKernel(filter: tf.Tensor4D, dh: number, dw: number): tf.Tensor4D {
  const [kh, kw, ci, co] = filter.shape;
  // [kh, kw, ci, co] → [kh, 1, kw, 1, ci·co], pad the unit axes, merge, crop the trailing zeros.
  const expanded = tf.reshape(filter, [kh, 1, kw, 1, ci * co]);
  const padded = tf.pad(expanded, [
    [0, 0],
    [0, dh - 1],
    [0, 0],
    [0, dw - 1],
    [0, 0],
  ]);
  const merged = tf.reshape(padded, [kh * dh, kw * dw, ci, co]);
  return tf.slice(merged, [0, 0, 0, 0], [(kh - 1) * dh + 1, (kw - 1) * dw + 1, ci, co]) as tf.Tensor4D;
}

function pairOf(value: number | [number, number] | undefined): [number, number] {
  if (value === undefined) return [1, 1];
  return typeof value === 'number' ? [value, value] : value;
}

const conv2dGradConfig: tf.GradConfig = {
  kernelName: 'Conv2D',
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as unknown as {
      strides: [number, number] | number;
      pad: Pad;
      dataFormat: 'NHWC' | 'NCHW';
      dilations: [number, number] | number;
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
    };
    const [dh, dw] = pairOf(dilations);
    const dilated = dh !== 1 || dw !== 1;
    const effective = (): tf.Tensor4D => (dilated ? dilateKernel(filter, dh, dw) : filter);
    return {
      x: () => {
        const kernel = effective();
        return tf.engine().runKernel('Conv2DBackpropInput', { dy: dy as tf.Tensor, filter: kernel }, {
          strides,
          pad,
          dataFormat,
          dimRoundingMode,
          inputShape: x.shape,
        } as unknown as tf.NamedAttrMap) as tf.Tensor;
      },
      filter: () => {
        const kernelShape = dilated
          ? [(filter.shape[0] - 1) * dh + 1, (filter.shape[1] - 1) * dw + 1, filter.shape[2], filter.shape[3]]
          : filter.shape;
        const grad = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: dy as tf.Tensor }, {
          strides,
          pad,
          dataFormat,
          dimRoundingMode,
          filterShape: kernelShape,
        } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
        if (!dilated) return grad;
        // Keep every d-th tap: [(kh−1)·dh + 1, …] → [kh, kw, in, out].
        return tf.stridedSlice(grad, [0, 0, 0, 0], grad.shape, [dh, dw, 1, 1]);
      },
    };
  },
};
