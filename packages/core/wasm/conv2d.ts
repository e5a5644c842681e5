/**
 * AssemblyScript source of vid's wasm SIMD kernel for the filter gradient of a 2-D convolution
 * (NHWC, dilation 1, float32). `scripts/build-wasm.mjs` compiles it into
 * `src/backend/simd/kernels.generated.ts`; it is not part of the TypeScript build.
 *
 * For a range of output rows r = n·OH + oy, in [r0, r1):
 *
 *   dw[kh, kw, ci, co] = Σ x[n, oy·sh + kh − top, ox·sw + kw − left, ci] · dy[n, oy, ox, co]
 *
 * taps that fall in the padding are skipped. `dw` is overwritten. Each tile of dw (4 input
 * channels × 8 output channels) stays in eight SIMD registers over one row of output pixels,
 * which reads x with one splat per channel and dy with two vector loads per pixel, and packs
 * nothing. Pointers are byte offsets into the imported memory (the wasm backend's heap).
 */

function tile4x8(xp: usize, dp: usize, wp: usize, xStep: usize, dStep: usize, count: i32, coBytes: usize): void {
  const w1 = wp + coBytes;
  const w2 = w1 + coBytes;
  const w3 = w2 + coBytes;
  let a00 = v128.load(wp);
  let a01 = v128.load(wp, 16);
  let a10 = v128.load(w1);
  let a11 = v128.load(w1, 16);
  let a20 = v128.load(w2);
  let a21 = v128.load(w2, 16);
  let a30 = v128.load(w3);
  let a31 = v128.load(w3, 16);
  for (let i = 0; i < count; i++) {
    const d0 = v128.load(dp);
    const d1 = v128.load(dp, 16);
    let s = v128.load32_splat(xp);
    a00 = f32x4.add(a00, f32x4.mul(s, d0));
    a01 = f32x4.add(a01, f32x4.mul(s, d1));
    s = v128.load32_splat(xp, 4);
    a10 = f32x4.add(a10, f32x4.mul(s, d0));
    a11 = f32x4.add(a11, f32x4.mul(s, d1));
    s = v128.load32_splat(xp, 8);
    a20 = f32x4.add(a20, f32x4.mul(s, d0));
    a21 = f32x4.add(a21, f32x4.mul(s, d1));
    s = v128.load32_splat(xp, 12);
    a30 = f32x4.add(a30, f32x4.mul(s, d0));
    a31 = f32x4.add(a31, f32x4.mul(s, d1));
    xp += xStep;
    dp += dStep;
  }
  v128.store(wp, a00);
  v128.store(wp, a01, 16);
  v128.store(w1, a10);
  v128.store(w1, a11, 16);
  v128.store(w2, a20);
  v128.store(w2, a21, 16);
  v128.store(w3, a30);
  v128.store(w3, a31, 16);
}

function tile1x8(xp: usize, dp: usize, wp: usize, xStep: usize, dStep: usize, count: i32): void {
  let a0 = v128.load(wp);
  let a1 = v128.load(wp, 16);
  for (let i = 0; i < count; i++) {
    const s = v128.load32_splat(xp);
    a0 = f32x4.add(a0, f32x4.mul(s, v128.load(dp)));
    a1 = f32x4.add(a1, f32x4.mul(s, v128.load(dp, 16)));
    xp += xStep;
    dp += dStep;
  }
  v128.store(wp, a0);
  v128.store(wp, a1, 16);
}

function tile1x4(xp: usize, dp: usize, wp: usize, xStep: usize, dStep: usize, count: i32): void {
  let a = v128.load(wp);
  for (let i = 0; i < count; i++) {
    a = f32x4.add(a, f32x4.mul(v128.load32_splat(xp), v128.load(dp)));
    xp += xStep;
    dp += dStep;
  }
  v128.store(wp, a);
}

function tile1x1(xp: usize, dp: usize, wp: usize, xStep: usize, dStep: usize, count: i32): void {
  let a = load<f32>(wp);
  for (let i = 0; i < count; i++) {
    a += load<f32>(xp) * load<f32>(dp);
    xp += xStep;
    dp += dStep;
  }
  store<f32>(wp, a);
}

/** 4 input channels against one output channel (the last 1–3 output channels). */
function tile4x1(xp: usize, dp: usize, wp: usize, xStep: usize, dStep: usize, count: i32, coBytes: usize): void {
  let a = f32x4.splat(0);
  for (let i = 0; i < count; i++) {
    a = f32x4.add(a, f32x4.mul(v128.load(xp), v128.load32_splat(dp)));
    xp += xStep;
    dp += dStep;
  }
  store<f32>(wp, load<f32>(wp) + f32x4.extract_lane(a, 0));
  store<f32>(wp + coBytes, load<f32>(wp + coBytes) + f32x4.extract_lane(a, 1));
  store<f32>(wp + 2 * coBytes, load<f32>(wp + 2 * coBytes) + f32x4.extract_lane(a, 2));
  store<f32>(wp + 3 * coBytes, load<f32>(wp + 3 * coBytes) + f32x4.extract_lane(a, 3));
}

/** One input channel (`xp`) against every output channel, over `count` pixels. */
function channelRow(xp: usize, dp: usize, wp: usize, xStep: usize, dStep: usize, count: i32, co: i32): void {
  let o = 0;
  for (; o + 8 <= co; o += 8) tile1x8(xp, dp + ((<usize>o) << 2), wp + ((<usize>o) << 2), xStep, dStep, count);
  for (; o + 4 <= co; o += 4) tile1x4(xp, dp + ((<usize>o) << 2), wp + ((<usize>o) << 2), xStep, dStep, count);
  for (; o < co; o++) tile1x1(xp, dp + ((<usize>o) << 2), wp + ((<usize>o) << 2), xStep, dStep, count);
}

export function conv2dFilterGrad(
  x: usize,
  dy: usize,
  dw: usize,
  h: i32,
  w: i32,
  ci: i32,
  oh: i32,
  ow: i32,
  co: i32,
  kh: i32,
  kw: i32,
  sh: i32,
  sw: i32,
  top: i32,
  left: i32,
  r0: i32,
  r1: i32,
): void {
  const coBytes = (<usize>co) << 2;
  const ciBytes = (<usize>ci) << 2;
  const xStep = (<usize>(sw * ci)) << 2;
  memory.fill(dw, 0, <usize>(kh * kw * ci) * coBytes);
  for (let r = r0; r < r1; r++) {
    const n = r / oh;
    const oy = r - n * oh;
    const dyRow = dy + <usize>r * <usize>ow * coBytes;
    for (let i = 0; i < kh; i++) {
      const iy = oy * sh + i - top;
      if (iy < 0 || iy >= h) continue;
      const xRow = x + <usize>(n * h + iy) * <usize>w * ciBytes;
      for (let j = 0; j < kw; j++) {
        // The output columns whose tap j lands inside the row: 0 ≤ ox·sw + j − left < w.
        const lo = left - j;
        const hi = w - 1 + left - j;
        if (hi < 0) continue;
        const ox0 = lo > 0 ? (lo + sw - 1) / sw : 0;
        const ox1 = min(hi / sw + 1, ow);
        const count = ox1 - ox0;
        if (count <= 0) continue;
        const xBase = xRow + <usize>(ox0 * sw + j - left) * ciBytes;
        const dBase = dyRow + <usize>ox0 * coBytes;
        const wTap = dw + <usize>((i * kw + j) * ci) * coBytes;
        let c = 0;
        for (; c + 4 <= ci; c += 4) {
          const xp = xBase + ((<usize>c) << 2);
          const wp = wTap + <usize>c * coBytes;
          let o = 0;
          for (; o + 8 <= co; o += 8) {
            tile4x8(xp, dBase + ((<usize>o) << 2), wp + ((<usize>o) << 2), xStep, coBytes, count, coBytes);
          }
          for (; o + 4 <= co; o += 4) {
            for (let q = 0; q < 4; q++) {
              const off = (<usize>o) << 2;
              tile1x4(xp + ((<usize>q) << 2), dBase + off, wp + <usize>q * coBytes + off, xStep, coBytes, count);
            }
          }
          for (; o < co; o++) {
            tile4x1(xp, dBase + ((<usize>o) << 2), wp + ((<usize>o) << 2), xStep, coBytes, count, coBytes);
          }
        }
        for (; c < ci; c++) {
          channelRow(xBase + ((<usize>c) << 2), dBase, wTap + <usize>c * coBytes, xStep, coBytes, count, co);
        }
      }
    }
  }
}

/** dst[i] += src[i] for i < n (floats), in order. */
export function addInto(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
}

/**
 * The forward convolution, for the output rows r = n·OH + oy in [r0, r1):
 *
 *   y[n, oy, ox, co] = bias[co] + Σ x[n, oy·sh + kh − top, ox·sw + kw − left, ci] · w[kh, kw, ci, co]
 *
 * For one output pixel and one kernel row, the taps (kw, ci) that land inside the image are one
 * contiguous run of x and of w's rows, so each tile walks runs: 4 pixels × 8 output channels in
 * eight SIMD registers (one splat of x per pixel and two vector loads of w per step), with
 * 1-pixel tiles at the borders, where the runs are shorter.
 */
function fwd4x8(
  xp: usize,
  pixelStep: usize,
  wp: usize,
  rows: i32,
  xRowStep: usize,
  wRowStep: usize,
  run: i32,
  coBytes: usize,
  yp: usize,
  bp: usize,
  accumulate: bool,
): void {
  const y1 = yp + coBytes;
  const y2 = y1 + coBytes;
  const y3 = y2 + coBytes;
  let a00 = f32x4.splat(0);
  let a01 = f32x4.splat(0);
  if (bp != 0) {
    a00 = v128.load(bp);
    a01 = v128.load(bp, 16);
  }
  let a10 = a00;
  let a11 = a01;
  let a20 = a00;
  let a21 = a01;
  let a30 = a00;
  let a31 = a01;
  if (accumulate) {
    a00 = v128.load(yp);
    a01 = v128.load(yp, 16);
    a10 = v128.load(y1);
    a11 = v128.load(y1, 16);
    a20 = v128.load(y2);
    a21 = v128.load(y2, 16);
    a30 = v128.load(y3);
    a31 = v128.load(y3, 16);
  }
  for (let r = 0; r < rows; r++) {
    let x0 = xp;
    let q = wp;
    for (let t = 0; t < run; t++) {
      const w0 = v128.load(q);
      const w1 = v128.load(q, 16);
      let s = v128.load32_splat(x0);
      a00 = f32x4.add(a00, f32x4.mul(s, w0));
      a01 = f32x4.add(a01, f32x4.mul(s, w1));
      s = v128.load32_splat(x0 + pixelStep);
      a10 = f32x4.add(a10, f32x4.mul(s, w0));
      a11 = f32x4.add(a11, f32x4.mul(s, w1));
      s = v128.load32_splat(x0 + 2 * pixelStep);
      a20 = f32x4.add(a20, f32x4.mul(s, w0));
      a21 = f32x4.add(a21, f32x4.mul(s, w1));
      s = v128.load32_splat(x0 + 3 * pixelStep);
      a30 = f32x4.add(a30, f32x4.mul(s, w0));
      a31 = f32x4.add(a31, f32x4.mul(s, w1));
      x0 += 4;
      q += coBytes;
    }
    xp += xRowStep;
    wp += wRowStep;
  }
  v128.store(yp, a00);
  v128.store(yp, a01, 16);
  v128.store(y1, a10);
  v128.store(y1, a11, 16);
  v128.store(y2, a20);
  v128.store(y2, a21, 16);
  v128.store(y3, a30);
  v128.store(y3, a31, 16);
}

/** 4 pixels × 4 output channels. */
function fwd4x4(
  xp: usize,
  pixelStep: usize,
  wp: usize,
  rows: i32,
  xRowStep: usize,
  wRowStep: usize,
  run: i32,
  coBytes: usize,
  yp: usize,
  bp: usize,
  lanes: i32,
): void {
  let a0 = f32x4.splat(0);
  if (bp != 0) a0 = v128.load(bp);
  let a1 = a0;
  let a2 = a0;
  let a3 = a0;
  for (let r = 0; r < rows; r++) {
    let x0 = xp;
    let q = wp;
    for (let t = 0; t < run; t++) {
      const w0 = v128.load(q);
      a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(x0), w0));
      a1 = f32x4.add(a1, f32x4.mul(v128.load32_splat(x0 + pixelStep), w0));
      a2 = f32x4.add(a2, f32x4.mul(v128.load32_splat(x0 + 2 * pixelStep), w0));
      a3 = f32x4.add(a3, f32x4.mul(v128.load32_splat(x0 + 3 * pixelStep), w0));
      x0 += 4;
      q += coBytes;
    }
    xp += xRowStep;
    wp += wRowStep;
  }
  if (lanes == 4) {
    v128.store(yp, a0);
    v128.store(yp + coBytes, a1);
    v128.store(yp + 2 * coBytes, a2);
    v128.store(yp + 3 * coBytes, a3);
  } else {
    storeLanes(yp, a0, lanes);
    storeLanes(yp + coBytes, a1, lanes);
    storeLanes(yp + 2 * coBytes, a2, lanes);
    storeLanes(yp + 3 * coBytes, a3, lanes);
  }
}

/** The first `lanes` (1–3) floats of `v` at `p`. */
function storeLanes(p: usize, v: v128, lanes: i32): void {
  v128.store32_lane(p, v, 0);
  if (lanes > 1) v128.store32_lane(p, v, 1, 4);
  if (lanes > 2) v128.store32_lane(p, v, 2, 8);
}

/** One pixel × 8 output channels. */
function fwd1x8(
  xp: usize,
  wp: usize,
  rows: i32,
  xRowStep: usize,
  wRowStep: usize,
  run: i32,
  coBytes: usize,
  yp: usize,
  bp: usize,
): void {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  if (bp != 0) {
    a0 = v128.load(bp);
    a1 = v128.load(bp, 16);
  }
  for (let r = 0; r < rows; r++) {
    let x0 = xp;
    let q = wp;
    for (let t = 0; t < run; t++) {
      const s = v128.load32_splat(x0);
      a0 = f32x4.add(a0, f32x4.mul(s, v128.load(q)));
      a1 = f32x4.add(a1, f32x4.mul(s, v128.load(q, 16)));
      x0 += 4;
      q += coBytes;
    }
    xp += xRowStep;
    wp += wRowStep;
  }
  v128.store(yp, a0);
  v128.store(yp, a1, 16);
}

/** One pixel × 4 output channels. */
function fwd1x4(
  xp: usize,
  wp: usize,
  rows: i32,
  xRowStep: usize,
  wRowStep: usize,
  run: i32,
  coBytes: usize,
  yp: usize,
  bp: usize,
): void {
  let a = f32x4.splat(0);
  if (bp != 0) a = v128.load(bp);
  for (let r = 0; r < rows; r++) {
    let x0 = xp;
    let q = wp;
    for (let t = 0; t < run; t++) {
      a = f32x4.add(a, f32x4.mul(v128.load32_splat(x0), v128.load(q)));
      x0 += 4;
      q += coBytes;
    }
    xp += xRowStep;
    wp += wRowStep;
  }
  v128.store(yp, a);
}

/** One pixel × 1 output channel. */
function fwd1x1(
  xp: usize,
  wp: usize,
  rows: i32,
  xRowStep: usize,
  wRowStep: usize,
  run: i32,
  coBytes: usize,
  yp: usize,
  bp: usize,
): void {
  let a: f32 = 0;
  if (bp != 0) a = load<f32>(bp);
  for (let r = 0; r < rows; r++) {
    let x0 = xp;
    let q = wp;
    for (let t = 0; t < run; t++) {
      a += load<f32>(x0) * load<f32>(q);
      x0 += 4;
      q += coBytes;
    }
    xp += xRowStep;
    wp += wRowStep;
  }
  store<f32>(yp, a);
}

/** One output pixel, every output channel, taps j0 ≤ j < j1 of each kernel row. */
function fwdPixel(
  xp: usize,
  wp: usize,
  rows: i32,
  xRowStep: usize,
  wRowStep: usize,
  run: i32,
  co: i32,
  yp: usize,
  bp: usize,
): void {
  const coBytes = (<usize>co) << 2;
  let o = 0;
  for (; o + 8 <= co; o += 8) {
    const off = (<usize>o) << 2;
    fwd1x8(xp, wp + off, rows, xRowStep, wRowStep, run, coBytes, yp + off, bp != 0 ? bp + off : 0);
  }
  for (; o + 4 <= co; o += 4) {
    const off = (<usize>o) << 2;
    fwd1x4(xp, wp + off, rows, xRowStep, wRowStep, run, coBytes, yp + off, bp != 0 ? bp + off : 0);
  }
  for (; o < co; o++) {
    const off = (<usize>o) << 2;
    fwd1x1(xp, wp + off, rows, xRowStep, wRowStep, run, coBytes, yp + off, bp != 0 ? bp + off : 0);
  }
}

export function conv2dForward(
  x: usize,
  w: usize,
  bias: usize,
  y: usize,
  h: i32,
  width: i32,
  ci: i32,
  oh: i32,
  ow: i32,
  co: i32,
  kh: i32,
  kw: i32,
  sh: i32,
  sw: i32,
  top: i32,
  left: i32,
  r0: i32,
  r1: i32,
): void {
  const coBytes = (<usize>co) << 2;
  const ciBytes = (<usize>ci) << 2;
  const xRowStep = <usize>width * ciBytes;
  const wRowStep = <usize>(kw * ci) * coBytes;
  const pixelStep = <usize>sw * ciBytes;
  // Whether 16-byte loads at the last channels of w and of the bias stay inside the memory.
  const memoryEnd = (<u64>memory.size()) << 16;
  const wEnd = <u64>w + <u64>(kh * kw * ci) * <u64>coBytes;
  const overRead = wEnd + 16 <= memoryEnd && (bias == 0 || <u64>bias + <u64>coBytes + 16 <= memoryEnd);
  // Output columns whose taps all land inside the row: ox·sw − left ≥ 0 and ox·sw − left + kw ≤ width.
  let inner0 = left > 0 ? (left + sw - 1) / sw : 0;
  let inner1 = width - kw + left >= 0 ? (width - kw + left) / sw + 1 : 0;
  if (inner1 > ow) inner1 = ow;
  if (inner0 > inner1) inner0 = inner1;
  for (let r = r0; r < r1; r++) {
    const n = r / oh;
    const oy = r - n * oh;
    // Kernel rows inside the image.
    const iy0 = oy * sh - top;
    const i0 = iy0 < 0 ? -iy0 : 0;
    const i1 = min(kh, h - iy0);
    const rows = i1 - i0;
    const yRow = y + <usize>r * <usize>ow * coBytes;
    if (rows <= 0) {
      // Every tap is padding: the bias alone.
      for (let ox = 0; ox < ow; ox++) {
        const yp = yRow + <usize>ox * coBytes;
        if (bias != 0) memory.copy(yp, bias, coBytes);
        else memory.fill(yp, 0, coBytes);
      }
      continue;
    }
    const xTop = x + <usize>(n * h + iy0 + i0) * xRowStep;
    const wTop = w + <usize>i0 * wRowStep;
    for (let ox = 0; ox < ow; ox++) {
      if (ox == inner0) {
        // The interior, 4 pixels at a time for each block of 8 (then 4) output channels.
        const groups = (inner1 - inner0) >> 2;
        if (groups > 0) {
          const xStart = xTop + <usize>(inner0 * sw - left) * ciBytes;
          const yStart = yRow + <usize>inner0 * coBytes;
          const run = kw * ci;
          // Split by kernel rows only when w's slice for one block of 8 output channels
          // (rows · KW·Ci × 8 floats) would not stay in the first-level cache over a row of
          // pixels; each later kernel row then adds into y.
          const split = rows * run > 1024;
          const passes = split ? rows : 1;
          const passRows = split ? 1 : rows;
          let o = 0;
          for (; o + 8 <= co; o += 8) {
            const off = (<usize>o) << 2;
            const bp = bias != 0 ? bias + off : 0;
            for (let i = 0; i < passes; i++) {
              const xi = xStart + <usize>i * xRowStep;
              const wi = wTop + <usize>i * wRowStep + off;
              for (let g = 0; g < groups; g++) {
                const p = <usize>(g << 2);
                fwd4x8(
                  xi + p * pixelStep,
                  pixelStep,
                  wi,
                  passRows,
                  xRowStep,
                  wRowStep,
                  run,
                  coBytes,
                  yStart + p * coBytes + off,
                  bp,
                  i > 0,
                );
              }
            }
          }
          // Then 4 channels at a time. The last 1–3 channels use the same tile and store only
          // theirs: its loads of w and of the bias then reach past the channels into the next
          // row of w (or past its end, which is why the kernel checks that the memory goes on).
          for (; o < co && (o + 4 <= co || overRead); o += 4) {
            const off = (<usize>o) << 2;
            const bp = bias != 0 ? bias + off : 0;
            const lanes = min(4, co - o);
            for (let g = 0; g < groups; g++) {
              const p = <usize>(g << 2);
              fwd4x4(
                xStart + p * pixelStep,
                pixelStep,
                wTop + off,
                rows,
                xRowStep,
                wRowStep,
                run,
                coBytes,
                yStart + p * coBytes + off,
                bp,
                lanes,
              );
            }
          }
          if (o < co) {
            // The last output channels (fewer than 4), pixel by pixel.
            for (let g = 0; g < groups << 2; g++) {
              const p = <usize>g;
              const xp = xStart + p * pixelStep;
              const yp = yStart + p * coBytes;
              for (let oo = o; oo < co; oo++) {
                const off = (<usize>oo) << 2;
                fwd1x1(xp, wTop + off, rows, xRowStep, wRowStep, run, coBytes, yp + off, bias != 0 ? bias + off : 0);
              }
            }
          }
          ox += groups << 2;
          if (ox >= ow) break;
        }
      }
      // A border pixel (or one left over from the groups of 4): only the taps inside the row.
      const ix0 = ox * sw - left;
      const j0 = ix0 < 0 ? -ix0 : 0;
      const j1 = min(kw, width - ix0);
      const yp = yRow + <usize>ox * coBytes;
      if (j1 <= j0) {
        if (bias != 0) memory.copy(yp, bias, coBytes);
        else memory.fill(yp, 0, coBytes);
        continue;
      }
      fwdPixel(
        xTop + <usize>(ix0 + j0) * ciBytes,
        wTop + <usize>(j0 * ci) * coBytes,
        rows,
        xRowStep,
        wRowStep,
        (j1 - j0) * ci,
        co,
        yp,
        bias,
      );
    }
  }
}

/**
 * Copies `x` `[N, H, W, C]` into `out` `[N, HP, WP, C]` at row `top` and column `left`, with
 * zeros around it (and cropped where `HP`/`WP` end first): the input of a convolution whose
 * pixels are then all interior, so that every one goes through the 4-pixel tiles.
 */
export function pad2d(
  x: usize,
  out: usize,
  n: i32,
  h: i32,
  w: i32,
  c: i32,
  top: i32,
  left: i32,
  hp: i32,
  wp: i32,
): void {
  const cBytes = (<usize>c) << 2;
  memory.fill(out, 0, <usize>n * <usize>hp * <usize>wp * cBytes);
  const rows = min(h, hp - top);
  const cols = min(w, wp - left);
  if (rows <= 0 || cols <= 0) return;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < rows; y++) {
      const dst = out + (<usize>(b * hp + y + top) * <usize>wp + <usize>left) * cBytes;
      const src = x + <usize>(b * h + y) * <usize>w * cBytes;
      memory.copy(dst, src, <usize>cols * cBytes);
    }
  }
}

/**
 * The filter of a convolution's input gradient: `out[i, j, o, c] = w[KH − 1 − i, KW − 1 − j, c, o]`
 * (flipped in space, input and output channels swapped), from `w` `[KH, KW, Ci, Co]`.
 */
export function flipFilter(w: usize, out: usize, kh: i32, kw: i32, ci: i32, co: i32): void {
  const taps = kh * kw;
  const tapFloats = <usize>ci * <usize>co;
  for (let t = 0; t < taps; t++) {
    const src = w + <usize>(taps - 1 - t) * tapFloats * 4;
    const dst = out + <usize>t * tapFloats * 4;
    for (let c = 0; c < ci; c++) {
      const row = src + <usize>c * <usize>co * 4;
      for (let o = 0; o < co; o++) {
        store<f32>(dst + (<usize>o * <usize>ci + <usize>c) * 4, load<f32>(row + ((<usize>o) << 2)));
      }
    }
  }
}
