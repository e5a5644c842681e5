/**
 * Float64 dense linear algebra on the host, for the Fréchet distance: the symmetric
 * eigendecomposition by Householder tridiagonalisation and the implicit QL algorithm (the
 * EISPACK `tred2`/`tql2` pair, as described in Wilkinson & Reinsch, "Handbook for Automatic
 * Computation II", 1971, and used by JAMA), and a few matrix helpers. Matrices are row-major
 * `Float64Array`s of `n × n`.
 */
import { ConfigError, VidError } from '@vid/core';

/** Eigenvalues (ascending) and eigenvectors (column `j` of `vectors` belongs to `values[j]`). */
export interface SymmetricEigen {
  readonly values: Float64Array;
  /** `n × n` row-major; `vectors[i * n + j]` is component `i` of eigenvector `j`. */
  readonly vectors: Float64Array;
}

function checkSquare(matrix: Float64Array, n: number, name: string): void {
  if (!Number.isInteger(n) || n < 1 || matrix.length !== n * n) {
    throw new ConfigError(
      name,
      `a ${n} × ${n} row-major matrix (${n * n} values)`,
      `${matrix.length} values`,
      'linalg',
    );
  }
}

/**
 * The eigendecomposition of a symmetric matrix (only the lower triangle is read). Accurate to
 * float64 rounding relative to the largest eigenvalue; O(n³).
 */
export function symmetricEigen(matrix: Float64Array, n: number): SymmetricEigen {
  checkSquare(matrix, n, 'matrix');
  // V starts as the matrix and ends as the eigenvectors; d the diagonal, e the off-diagonal.
  const V = Float64Array.from(matrix);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tridiagonalize(V, d, e, n);
  // The QL rotations mix pairs of columns of V: work on W = Vᵀ, whose rows are contiguous.
  const W = new Float64Array(n * n);
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) W[c * n + r] = V[r * n + c] as number;
  diagonalize(W, d, e, n);
  // Sort ascending, permuting the eigenvectors along.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (d[a] as number) - (d[b] as number));
  const values = Float64Array.from(order, (i) => d[i] as number);
  const vectors = new Float64Array(n * n);
  for (let col = 0; col < n; col++) {
    const source = (order[col] as number) * n;
    for (let row = 0; row < n; row++) vectors[row * n + col] = W[source + row] as number;
  }
  return { values, vectors };
}

/** Householder reduction to tridiagonal form (`tred2`), accumulating the transformations in V. */
function tridiagonalize(V: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  const at = (r: number, c: number): number => V[r * n + c] as number;
  for (let j = 0; j < n; j++) d[j] = at(n - 1, j);
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k] as number);
    if (scale === 0) {
      e[i] = d[i - 1] as number;
      for (let j = 0; j < i; j++) {
        d[j] = at(i - 1, j);
        V[i * n + j] = 0;
        V[j * n + i] = 0;
      }
    } else {
      // Generate the Householder vector.
      for (let k = 0; k < i; k++) {
        d[k] = (d[k] as number) / scale;
        h += (d[k] as number) * (d[k] as number);
      }
      let f = d[i - 1] as number;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      // Apply the similarity transformation to the remaining columns.
      for (let j = 0; j < i; j++) {
        f = d[j] as number;
        V[j * n + i] = f;
        g = (e[j] as number) + at(j, j) * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += at(k, j) * (d[k] as number);
          e[k] = (e[k] as number) + at(k, j) * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] = (e[j] as number) / h;
        f += (e[j] as number) * (d[j] as number);
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] = (e[j] as number) - hh * (d[j] as number);
      for (let j = 0; j < i; j++) {
        f = d[j] as number;
        g = e[j] as number;
        for (let k = j; k <= i - 1; k++) V[k * n + j] = at(k, j) - (f * (e[k] as number) + g * (d[k] as number));
        d[j] = at(i - 1, j);
        V[i * n + j] = 0;
      }
    }
    d[i] = h;
  }
  // Accumulate the transformations.
  for (let i = 0; i < n - 1; i++) {
    V[(n - 1) * n + i] = at(i, i);
    V[i * n + i] = 1;
    const h = d[i + 1] as number;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = at(k, i + 1) / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += at(k, i + 1) * at(k, j);
        for (let k = 0; k <= i; k++) V[k * n + j] = at(k, j) - g * (d[k] as number);
      }
    }
    for (let k = 0; k <= i; k++) V[k * n + i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = at(n - 1, j);
    V[(n - 1) * n + j] = 0;
  }
  V[(n - 1) * n + (n - 1)] = 1;
  e[0] = 0;
}

/**
 * Implicit QL iterations on the tridiagonal matrix (`tql2`), rotating the eigenvectors along:
 * `W` holds them as rows (the transpose of `tql2`'s V).
 */
function diagonalize(W: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i] as number;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    // Find a small subdiagonal element.
    tst1 = Math.max(tst1, Math.abs(d[l] as number) + Math.abs(e[l] as number));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m] as number) <= eps * tst1) break;
      m++;
    }
    // If m == l, d[l] is already an eigenvalue; otherwise iterate.
    if (m > l) {
      let iterations = 0;
      do {
        if (++iterations > 100)
          throw new VidError(`symmetricEigen: the QL iteration did not converge for eigenvalue ${l} of ${n}`);
        // Compute the implicit shift.
        let g = d[l] as number;
        let p = ((d[l + 1] as number) - g) / (2 * (e[l] as number));
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = (e[l] as number) / (p + r);
        d[l + 1] = (e[l] as number) * (p + r);
        const dl1 = d[l + 1] as number;
        let h = g - (d[l] as number);
        for (let i = l + 2; i < n; i++) d[i] = (d[i] as number) - h;
        f += h;
        // Implicit QL transformation.
        p = d[m] as number;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1] as number;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * (e[i] as number);
          h = c * p;
          r = Math.hypot(p, e[i] as number);
          e[i + 1] = s * r;
          s = (e[i] as number) / r;
          c = p / r;
          p = c * (d[i] as number) - s * g;
          d[i + 1] = h + s * (c * g + s * (d[i] as number));
          // Accumulate the rotation in eigenvectors i and i + 1 (rows of W).
          const rowI = i * n;
          const rowI1 = rowI + n;
          for (let k = 0; k < n; k++) {
            const vi = W[rowI + k] as number;
            const vi1 = W[rowI1 + k] as number;
            W[rowI1 + k] = s * vi + c * vi1;
            W[rowI + k] = c * vi - s * vi1;
          }
        }
        p = (-s * s2 * c3 * el1 * (e[l] as number)) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l] as number) > eps * tst1);
    }
    d[l] = (d[l] as number) + f;
    e[l] = 0;
  }
}

/** `a · b` for `n × n` row-major matrices. */
export function matMul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let k = 0; k < n; k++) {
      const aik = a[row + k] as number;
      if (aik === 0) continue;
      const bRow = k * n;
      for (let j = 0; j < n; j++) out[row + j] = (out[row + j] as number) + aik * (b[bRow + j] as number);
    }
  }
  return out;
}

/** The trace of an `n × n` matrix. */
export function trace(a: Float64Array, n: number): number {
  let t = 0;
  for (let i = 0; i < n; i++) t += a[i * n + i] as number;
  return t;
}

/**
 * The principal square root of a symmetric positive semi-definite matrix,
 * `V · diag(√max(λ, 0)) · Vᵀ` (eigenvalues below 0 are rounding and are clipped).
 */
export function sqrtPsd(matrix: Float64Array, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(matrix, n);
  // scaled = V · diag(√λ)
  const scaled = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const root = Math.sqrt(Math.max(values[j] as number, 0));
    for (let i = 0; i < n; i++) scaled[i * n + j] = (vectors[i * n + j] as number) * root;
  }
  // out = scaled · Vᵀ
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += (scaled[i * n + j] as number) * (vectors[k * n + j] as number);
      out[i * n + k] = s;
    }
  }
  return out;
}

/** `(a + aᵀ) / 2`, in place. */
export function symmetrize(a: Float64Array, n: number): Float64Array {
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = ((a[i * n + j] as number) + (a[j * n + i] as number)) / 2;
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
  }
  return a;
}
