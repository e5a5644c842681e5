/**
 * Test-only: a faster `Conv2DBackpropFilter` for the cpu backend.
 *
 * tfjs-backend-cpu 4.22 computes the filter gradient with `TensorBuffer.get(b, y, x, c)` for
 * every multiply (a variadic call and an index computation each): on the parity fixtures it
 * takes 43 s of a 52 s training step on the smallest one and ~400 s on the others. This is the
 * same sum, Σ_b Σ_y Σ_x x[b, y·s + i − pad, x·s + j − pad, ci] · dy[b, y, x, co], over typed
 * arrays with running offsets and a float64 accumulator. NCHW and anything unusual go to the
 * stock kernel. The lead is asked to move this into `@vid/core`'s cpu setup (see the report);
 * until then only the parity tests register it, so that the cpu suite runs in seconds.
 */
import * as tf from '@tensorflow/tfjs-core';

type CpuBackend = tf.KernelBackend & {
  data: { get(dataId: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
};

let registered = false;

/** Replaces the cpu backend's `Conv2DBackpropFilter` (once per process). */
export function registerFastCpuConv2DBackpropFilter(): void {
  if (registered) return;
  const stock = tf.getKernel('Conv2DBackpropFilter', 'cpu');
  if (!stock) return;
  registered = true;
  tf.unregisterKernel('Conv2DBackpropFilter', 'cpu');
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'cpu',
    kernelFunc: (args) => {
      const { inputs, attrs } = args;
      const backend = args.backend as CpuBackend;
      const x = inputs.x as tf.TensorInfo;
      const dy = inputs.dy as tf.TensorInfo;
      const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
        strides: [number, number] | number;
        pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
        dataFormat: 'NHWC' | 'NCHW';
        dimRoundingMode?: 'floor' | 'round' | 'ceil';
        filterShape: [number, number, number, number];
      };
      if (dataFormat === 'NCHW' || x.dtype !== 'float32') return stock.kernelFunc(args);
      const info = tf.backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        filterShape,
        strides,
        1,
        pad,
        dimRoundingMode,
        false,
        'channelsLast',
      );
      const {
        batchSize,
        inHeight,
        inWidth,
        inChannels,
        outHeight,
        outWidth,
        outChannels,
        filterHeight,
        filterWidth,
        strideHeight,
        strideWidth,
      } = info;
      const top = info.padInfo.top;
      const left = info.padInfo.left;
      const xs = backend.data.get(x.dataId).values;
      const dys = backend.data.get(dy.dataId).values;
      const sums = new Float64Array(filterHeight * filterWidth * inChannels * outChannels);
      for (let b = 0; b < batchSize; b++) {
        for (let yr = 0; yr < outHeight; yr++) {
          for (let yc = 0; yc < outWidth; yc++) {
            const dyOffset = ((b * outHeight + yr) * outWidth + yc) * outChannels;
            for (let wr = 0; wr < filterHeight; wr++) {
              const xr = yr * strideHeight + wr - top;
              if (xr < 0 || xr >= inHeight) continue;
              for (let wc = 0; wc < filterWidth; wc++) {
                const xc = yc * strideWidth + wc - left;
                if (xc < 0 || xc >= inWidth) continue;
                const xOffset = ((b * inHeight + xr) * inWidth + xc) * inChannels;
                const wOffset = (wr * filterWidth + wc) * inChannels * outChannels;
                for (let ci = 0; ci < inChannels; ci++) {
                  const value = xs[xOffset + ci] as number;
                  if (value === 0) continue;
                  const row = wOffset + ci * outChannels;
                  for (let co = 0; co < outChannels; co++)
                    sums[row + co] = (sums[row + co] as number) + value * (dys[dyOffset + co] as number);
                }
              }
            }
          }
        }
      }
      return backend.makeTensorInfo(
        [filterHeight, filterWidth, inChannels, outChannels],
        'float32',
        Float32Array.from(sums),
      );
    },
  });
}
