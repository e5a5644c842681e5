/** Convolution helpers shared by the cells and the network. */
import * as tf from '@tensorflow/tfjs-core';

/**
 * A stride-1 convolution with PyTorch's symmetric padding `k // 2` (equal to "same" for the odd
 * kernels vid accepts) and an optional bias, as one fused kernel (`FusedConv2D` on wasm: the
 * bias is added inside XNNPACK's convolution).
 *
 * x: `[batch, height, width, in]`, weight: `[kh, kw, in, out]`, bias: `[out]` →
 * `[batch, height, width, out]`.
 */
export function convSame(x: tf.Tensor4D, weight: tf.Tensor, bias: tf.Tensor | null): tf.Tensor4D {
  return tf.fused.conv2d({
    x,
    filter: weight as tf.Tensor4D,
    strides: 1,
    pad: 'same',
    bias: bias ?? undefined,
  });
}
