/**
 * Dense optical flow by Horn and Schunck 1981, "Determining Optical Flow" (Artificial
 * Intelligence 17), with tensor ops, batched, and coarse-to-fine with warping for motions larger
 * than a pixel.
 *
 * The flow (u, v) minimises ∬ (I_x u + I_y v + I_t)² + α² (|∇u|² + |∇v|²). Its Euler–Lagrange
 * equations, with the Laplacian approximated by κ(ū − u), are solved by the paper's iterative
 * (Jacobi) scheme:
 *
 *   u^{n+1} = ū^n − I_x (I_x ū^n + I_y v̄^n + I_t) / (α² + I_x² + I_y²)
 *   v^{n+1} = v̄^n − I_y (I_x ū^n + I_y v̄^n + I_t) / (α² + I_x² + I_y²)
 *
 * where ū is the weighted neighbourhood average of the paper's figure (1/6 for the four
 * neighbours, 1/12 for the diagonals). Derivatives: central differences of the mean of the two
 * frames for I_x, I_y, and I_t = I₂ − I₁ (second-order accurate at the temporal midpoint; the
 * paper's 2×2×2 cube estimates are first-order in space, biased by half a pixel).
 *
 * Coarse to fine (Anandan 1989; Brox et al. 2004, section 3): the flow of a coarser level, doubled
 * and upsampled, warps the second frame towards the first; each level solves for the increment,
 * with the smoothness term on the total flow.
 *
 * Convention: the flow (u, v) at pixel (x, y) of frame 1 says where it went in frame 2, in pixels:
 * I₂(x + u, y + v) ≈ I₁(x, y); u is along the width (x, columns), v along the height (y, rows).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  ShapeError,
  assertFinite,
  assertKnownKeys,
  finiteNumber,
  formatShape,
  positiveInteger,
} from '@vid/core';

/** Options of {@link hornSchunck}. */
export interface HornSchunckOptions {
  /**
   * α, the weight of the smoothness term, in the units of the image intensities (the paper's α²
   * is its square). Larger is smoother and slower to converge.
   * @default 0.1
   */
  readonly alpha?: number;
  /** Jacobi iterations per pyramid level (and per warp). @default 100 */
  readonly iterations?: number;
  /**
   * Pyramid levels (each halves the frame size); motion up to about 2^(levels − 1) pixels is
   * resolved. 1 is the plain single-scale method.
   * @default 1
   */
  readonly levels?: number;
  /** Warps (re-linearisations) per level. @default 1 */
  readonly warps?: number;
}

const OPTION_KEYS = ['alpha', 'iterations', 'levels', 'warps'] as const;

/** The neighbourhood average of Horn and Schunck (their fig. 2): 1/6 side neighbours, 1/12 diagonals. */
const AVERAGE_KERNEL = [1 / 12, 1 / 6, 1 / 12, 1 / 6, 0, 1 / 6, 1 / 12, 1 / 6, 1 / 12];

/**
 * The dense optical flow from `frame1` to `frame2`.
 *
 * frame1, frame2: `[batch, height, width, channels]` (1 channel, or 3 taken to luma with ITU-R
 * BT.601 weights) → flow `[batch, height, width, 2]` (u, v in pixels; see the module comment). Not
 * differentiable by design (an input representation, as in Ng et al. 2015); runs in `tf.tidy`.
 */
export function hornSchunck(frame1: tf.Tensor, frame2: tf.Tensor, options: HornSchunckOptions = {}): tf.Tensor4D {
  const context = 'hornSchunck';
  assertKnownKeys(options, OPTION_KEYS, context);
  checkFrame(frame1, 'frame1', context);
  if (!tf.util.arraysEqual(frame1.shape, frame2.shape)) {
    throw new ShapeError(
      'frame2',
      `${formatShape(frame1.shape)} (the shape of frame1)`,
      formatShape(frame2.shape),
      context,
    );
  }
  const alpha = finiteNumber(options.alpha ?? 0.1, 'alpha', context, { min: 0 });
  const iterations = positiveInteger(options.iterations ?? 100, 'iterations', context);
  const levels = positiveInteger(options.levels ?? 1, 'levels', context);
  const warps = positiveInteger(options.warps ?? 1, 'warps', context);
  const [, height, width] = frame1.shape as [number, number, number, number];
  const smallest = Math.min(height, width) / 2 ** (levels - 1);
  if (smallest < 4) {
    throw new ConfigError(
      'levels',
      `at most ${Math.floor(Math.log2(Math.min(height, width) / 4)) + 1} for ${height}×${width} frames (the coarsest level must keep ≥ 4 pixels a side)`,
      levels,
      context,
    );
  }
  assertFinite(frame1, 'frame1', context);
  assertFinite(frame2, 'frame2', context);
  return tf.tidy(() => {
    // Image pyramids, finest first: [batch, H/2^l, W/2^l, 1].
    const first = [grayscale(frame1)];
    const second = [grayscale(frame2)];
    for (let level = 1; level < levels; level++) {
      first.push(downsample(first[level - 1] as tf.Tensor4D));
      second.push(downsample(second[level - 1] as tf.Tensor4D));
    }
    let flow: tf.Tensor4D | null = null;
    for (let level = levels - 1; level >= 0; level--) {
      const i1 = first[level] as tf.Tensor4D;
      const i2 = second[level] as tf.Tensor4D;
      if (flow) {
        // Upsample the coarser flow to this level and double it (its pixels are twice as small).
        flow = tf.mul(tf.image.resizeBilinear(flow, [i1.shape[1], i1.shape[2]], false, true), 2) as tf.Tensor4D;
      } else {
        flow = tf.zeros([i1.shape[0], i1.shape[1], i1.shape[2], 2]) as tf.Tensor4D;
      }
      for (let w = 0; w < warps; w++) flow = refine(i1, i2, flow, alpha, iterations);
    }
    return flow as tf.Tensor4D;
  });
}

/**
 * The flow between consecutive frames of videos.
 *
 * video: `[batch, time, height, width, channels]` → `[batch, time − 1, height, width, 2]`.
 */
export function videoFlow(video: tf.Tensor, options: HornSchunckOptions = {}): tf.Tensor5D {
  const context = 'videoFlow';
  if (!(video instanceof tf.Tensor) || video.rank !== 5 || (video.shape[1] as number) < 2) {
    const shape = video instanceof tf.Tensor ? formatShape(video.shape) : typeof video;
    throw new ShapeError('video', '[batch, time ≥ 2, height, width, channels]', shape, context);
  }
  const [batch, time, height, width, channels] = video.shape as [number, number, number, number, number];
  return tf.tidy(() => {
    // Every pair at once: frames 0…T−2 and 1…T−1 as one batch of batch·(T − 1) pairs.
    const pairShape = [batch * (time - 1), height, width, channels];
    const before = tf.reshape(tf.slice(video, [0, 0, 0, 0, 0], [batch, time - 1, height, width, channels]), pairShape);
    const after = tf.reshape(tf.slice(video, [0, 1, 0, 0, 0], [batch, time - 1, height, width, channels]), pairShape);
    return tf.reshape(hornSchunck(before, after, options), [batch, time - 1, height, width, 2]) as tf.Tensor5D;
  });
}

/**
 * Bilinear sampling of `image` at (x + u, y + v) for every pixel, coordinates clamped to the
 * frame (replicated border).
 *
 * image: `[batch, height, width, channels]`, flow: `[batch, height, width, 2]` → `[batch, height, width, channels]`.
 */
export function warpBilinear(image: tf.Tensor4D, flow: tf.Tensor4D): tf.Tensor4D {
  const context = 'warpBilinear';
  const [batch, height, width, channels] = image.shape;
  if (
    flow.rank !== 4 ||
    flow.shape[0] !== batch ||
    flow.shape[1] !== height ||
    flow.shape[2] !== width ||
    flow.shape[3] !== 2
  ) {
    throw new ShapeError(
      'flow',
      `[${batch}, ${height}, ${width}, 2] (the image's batch and size; u, v)`,
      formatShape(flow.shape),
      context,
    );
  }
  return tf.tidy(() => {
    const columns = tf.reshape(tf.range(0, width, 1, 'float32'), [1, 1, width]);
    const rows = tf.reshape(tf.range(0, height, 1, 'float32'), [1, height, 1]);
    // [batch, H, W, 2] → u, v: [batch, H, W]
    const u = tf.reshape(tf.slice(flow, [0, 0, 0, 0], [batch, height, width, 1]), [batch, height, width]);
    const v = tf.reshape(tf.slice(flow, [0, 0, 0, 1], [batch, height, width, 1]), [batch, height, width]);
    const x = tf.clipByValue(tf.add(columns, u), 0, width - 1);
    const y = tf.clipByValue(tf.add(rows, v), 0, height - 1);
    const x0 = tf.floor(x);
    const y0 = tf.floor(y);
    const wx = tf.expandDims(tf.sub(x, x0), 3); // [batch, H, W, 1]
    const wy = tf.expandDims(tf.sub(y, y0), 3);
    const x1 = tf.minimum(tf.add(x0, 1), width - 1);
    const y1 = tf.minimum(tf.add(y0, 1), height - 1);
    // Flat pixel indices into [batch·H·W, channels].
    const base = tf.reshape(tf.mul(tf.range(0, batch, 1, 'float32'), height * width), [batch, 1, 1]);
    const flat = tf.reshape(image, [batch * height * width, channels]);
    const at = (yy: tf.Tensor, xx: tf.Tensor): tf.Tensor =>
      tf.reshape(tf.gather(flat, tf.cast(tf.add(base, tf.add(tf.mul(yy, width), xx)), 'int32')), [
        batch,
        height,
        width,
        channels,
      ]);
    const top = tf.add(tf.mul(at(y0, x0), tf.sub(1, wx)), tf.mul(at(y0, x1), wx));
    const bottom = tf.add(tf.mul(at(y1, x0), tf.sub(1, wx)), tf.mul(at(y1, x1), wx));
    return tf.add(tf.mul(top, tf.sub(1, wy)), tf.mul(bottom, wy)) as tf.Tensor4D;
  });
}

/** One warp at one level: the Jacobi iterations for the total flow `flow + increment`. */
function refine(i1: tf.Tensor4D, i2: tf.Tensor4D, flow: tf.Tensor4D, alpha: number, iterations: number): tf.Tensor4D {
  return tf.tidy(() => {
    const warped = warpBilinear(i2, flow);
    const mean = tf.mul(tf.add(i1, warped), 0.5) as tf.Tensor4D;
    const [ix, iy] = gradients(mean); // [batch, H, W, 1] each
    // Linearised around the current flow w0: I_x du + I_y dv + (I₂(w0) − I₁) = 0, and with
    // u = u0 + du the residual is I_x u + I_y v + I_t' with I_t' = I₂(w0) − I₁ − I_x u0 − I_y v0.
    const [batch, height, width] = i1.shape;
    const u0 = tf.slice(flow, [0, 0, 0, 0], [batch, height, width, 1]);
    const v0 = tf.slice(flow, [0, 0, 0, 1], [batch, height, width, 1]);
    const it = tf.sub(tf.sub(warped, i1), tf.add(tf.mul(ix, u0), tf.mul(iy, v0)));
    const denominator = tf.add(alpha * alpha, tf.add(tf.square(ix), tf.square(iy)));
    const gradient = tf.concat([ix, iy], 3); // [batch, H, W, 2]: (I_x, I_y)
    const kernel = tf.tile(tf.reshape(tf.tensor1d(AVERAGE_KERNEL), [3, 3, 1, 1]), [1, 1, 2, 1]); // [3, 3, 2, 1] depthwise
    let current: tf.Tensor4D = flow;
    for (let n = 0; n < iterations; n++) {
      const next = tf.tidy(() => {
        // ū, v̄ with replicated borders: [batch, H + 2, W + 2, 2] → depthwise 3×3 → [batch, H, W, 2]
        const average = tf.depthwiseConv2d(padEdge(current), kernel as tf.Tensor4D, 1, 'valid');
        // (I_x ū + I_y v̄ + I_t) / (α² + I_x² + I_y²): [batch, H, W, 1]
        const residual = tf.div(tf.add(tf.sum(tf.mul(gradient, average), 3, true), it), denominator);
        return tf.sub(average, tf.mul(gradient, residual)) as tf.Tensor4D;
      });
      if (current !== flow) current.dispose();
      current = next;
    }
    return current;
  });
}

/** Central differences with replicated borders: I_x, I_y of `[batch, H, W, 1]`. */
function gradients(image: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D] {
  const [batch, height, width] = image.shape;
  const padded = padEdge(image); // [batch, H + 2, W + 2, 1]
  const ix = tf.mul(
    tf.sub(
      tf.slice(padded, [0, 1, 2, 0], [batch, height, width, 1]),
      tf.slice(padded, [0, 1, 0, 0], [batch, height, width, 1]),
    ),
    0.5,
  );
  const iy = tf.mul(
    tf.sub(
      tf.slice(padded, [0, 2, 1, 0], [batch, height, width, 1]),
      tf.slice(padded, [0, 0, 1, 0], [batch, height, width, 1]),
    ),
    0.5,
  );
  return [ix as tf.Tensor4D, iy as tf.Tensor4D];
}

/** Pads one pixel on each side by replicating the border (a symmetric mirror pad of 1). */
function padEdge(x: tf.Tensor4D): tf.Tensor4D {
  return tf.mirrorPad(
    x,
    [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ],
    'symmetric',
  );
}

/** Halves the frame size: a 2×2 box average (odd sizes drop their last row/column). */
function downsample(image: tf.Tensor4D): tf.Tensor4D {
  return tf.avgPool(image, 2, 2, 'valid');
}

/** `[batch, H, W, 1 | 3]` → `[batch, H, W, 1]` (ITU-R BT.601 luma for colour). */
function grayscale(frame: tf.Tensor): tf.Tensor4D {
  const channels = frame.shape[3] as number;
  if (channels === 1) return tf.cast(frame, 'float32') as tf.Tensor4D;
  return tf.sum(tf.mul(tf.cast(frame, 'float32'), tf.tensor1d([0.299, 0.587, 0.114])), 3, true) as tf.Tensor4D;
}

function checkFrame(frame: tf.Tensor, argument: string, context: string): void {
  if (!(frame instanceof tf.Tensor)) throw new ShapeError(argument, 'a tf.Tensor', typeof frame, context);
  if (frame.rank !== 4 || (frame.shape[3] !== 1 && frame.shape[3] !== 3)) {
    throw new ShapeError(argument, '[batch, height, width, 1 or 3]', formatShape(frame.shape), context);
  }
}
