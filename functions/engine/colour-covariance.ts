/**
 * Colour statistics with the channels' covariance, and the linear map that gives an image another
 * image's colour mean and covariance while moving its colours the least: the Monge–Kantorovich
 * (optimal transport) map between the two Gaussians,
 *   A = Σs^-½ (Σs^½ Σt Σs^½)^½ Σs^-½,   y = A (x − μs) + μt.
 * Per-channel mean and deviation (colorStd) match each channel alone; a style whose colours run along
 * one axis of RGB (blue-to-yellow, say) needs the cross terms too.
 */

/** A 3×3 matrix, row-major. */
export type Matrix3 = [number, number, number, number, number, number, number, number, number];

/** Mean and covariance of RGB values (scaled to [-1, 1]). */
export interface ColourGaussian {
  mean: [number, number, number];
  cov: Matrix3;
}

/**
 * Added to the source covariance's eigenvalues, so a flat image is not blown up (colorStd's floor,
 * squared: trainer/layers/colour-covariance.ts adds the same to the diagonal).
 */
export const COVARIANCE_FLOOR = 1e-4;

/** Eigenvalues and eigenvectors (columns of `vectors`, row-major) of a symmetric 3×3 matrix, by Jacobi sweeps. */
export function symmetricEigen(m: Matrix3): { values: [number, number, number]; vectors: Matrix3 } {
  const a = [...m];
  const v: number[] = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  for (let sweep = 0; sweep < 50; sweep++) {
    const off = a[1]! ** 2 + a[2]! ** 2 + a[5]! ** 2;
    if (off < 1e-30) break;
    for (const [p, q] of [
      [0, 1],
      [0, 2],
      [1, 2],
    ] as const) {
      const apq = a[3 * p + q]!;
      if (Math.abs(apq) < 1e-300) continue;
      // The rotation that zeroes a[p][q] (Golub & Van Loan's symmetric Schur decomposition).
      const theta = (a[3 * q + q]! - a[3 * p + p]!) / (2 * apq);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1);
      const s = t * c;
      for (let k = 0; k < 3; k++) {
        const akp = a[3 * k + p]!;
        const akq = a[3 * k + q]!;
        a[3 * k + p] = c * akp - s * akq;
        a[3 * k + q] = s * akp + c * akq;
      }
      for (let k = 0; k < 3; k++) {
        const apk = a[3 * p + k]!;
        const aqk = a[3 * q + k]!;
        a[3 * p + k] = c * apk - s * aqk;
        a[3 * q + k] = s * apk + c * aqk;
      }
      for (let k = 0; k < 3; k++) {
        const vkp = v[3 * k + p]!;
        const vkq = v[3 * k + q]!;
        v[3 * k + p] = c * vkp - s * vkq;
        v[3 * k + q] = s * vkp + c * vkq;
      }
    }
  }
  return { values: [a[0]!, a[4]!, a[8]!], vectors: v as Matrix3 };
}

/** f applied to a symmetric matrix's eigenvalues: V diag(f(λ)) Vᵀ. */
function spectralMap(m: Matrix3, f: (lambda: number) => number): Matrix3 {
  const { values, vectors: v } = symmetricEigen(m);
  const fl = values.map(f);
  const out = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += v[3 * i + k]! * fl[k]! * v[3 * j + k]!;
      out[3 * i + j] = s;
    }
  return out as Matrix3;
}

export function multiply(a: Matrix3, b: Matrix3): Matrix3 {
  const out = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += a[3 * i + k]! * b[3 * k + j]!;
      out[3 * i + j] = s;
    }
  return out as Matrix3;
}

/**
 * The optimal transport map's matrix from a source covariance to a target one (see the file comment).
 * The source's eigenvalues are raised by {@link COVARIANCE_FLOOR}; rounding below 0 is taken as 0.
 */
export function transportMatrix(source: Matrix3, target: Matrix3): Matrix3 {
  const root = spectralMap(source, (l) => Math.sqrt(Math.max(l, 0) + COVARIANCE_FLOOR));
  const inverseRoot = spectralMap(source, (l) => 1 / Math.sqrt(Math.max(l, 0) + COVARIANCE_FLOOR));
  const middle = spectralMap(multiply(multiply(root, target), root), (l) => Math.sqrt(Math.max(l, 0)));
  return multiply(multiply(inverseRoot, middle), inverseRoot);
}

/** Mean and covariance of the pixels of a [1, 3, H, W] tensor's data. */
export function planeGaussian(data: Float32Array, plane: number): ColourGaussian {
  const mean: [number, number, number] = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    let s = 0; // float64
    for (let p = 0; p < plane; p++) s += data[c * plane + p]!;
    mean[c] = s / plane;
  }
  const cov = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++)
    for (let j = i; j < 3; j++) {
      let s = 0;
      for (let p = 0; p < plane; p++) s += (data[i * plane + p]! - mean[i]!) * (data[j * plane + p]! - mean[j]!);
      cov[3 * i + j] = cov[3 * j + i] = s / plane;
    }
  return { mean, cov: cov as Matrix3 };
}

/**
 * The `colorCov` step: maps a [1, 3, H, W] image's colours (in [-1, 1]) onto `target`'s mean and
 * covariance, in place, by the transport map. Not clamped, as in training; bytes are clamped when
 * written.
 */
export function transportColours(data: Float32Array, plane: number, target: ColourGaussian): void {
  const source = planeGaussian(data, plane);
  const a = transportMatrix(source.cov, target.cov);
  for (let p = 0; p < plane; p++) {
    const d0 = data[p]! - source.mean[0];
    const d1 = data[plane + p]! - source.mean[1];
    const d2 = data[2 * plane + p]! - source.mean[2];
    for (let c = 0; c < 3; c++) {
      data[c * plane + p] = a[3 * c]! * d0 + a[3 * c + 1]! * d1 + a[3 * c + 2]! * d2 + target.mean[c]!;
    }
  }
}

/** Sums of an image's RGB values (scaled to [-1, 1]) and of their products, from which pooled Gaussians follow. */
export interface CovarianceMoments {
  count: number;
  sum: [number, number, number];
  /** Σ x_i x_j, row-major. */
  products: Matrix3;
}

export function covarianceMoments(image: {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}): CovarianceMoments {
  const sum: [number, number, number] = [0, 0, 0];
  const products = new Array<number>(9).fill(0);
  const pixels = image.width * image.height;
  for (let p = 0; p < pixels; p++) {
    const r = image.data[3 * p]! / 127.5 - 1;
    const g = image.data[3 * p + 1]! / 127.5 - 1;
    const b = image.data[3 * p + 2]! / 127.5 - 1;
    sum[0] += r;
    sum[1] += g;
    sum[2] += b;
    products[0]! += r * r;
    products[1]! += r * g;
    products[2]! += r * b;
    products[4]! += g * g;
    products[5]! += g * b;
    products[8]! += b * b;
  }
  products[3] = products[1]!;
  products[6] = products[2]!;
  products[7] = products[5]!;
  return { count: pixels, sum, products: products as Matrix3 };
}

/** The Gaussian of several images' pixels pooled, each image's pixels weighted by its weight (as their TPFR peers are). */
export function pooledGaussian(parts: { moments: CovarianceMoments; weight: number }[]): ColourGaussian {
  let total = 0;
  const sum = [0, 0, 0];
  const products = new Array<number>(9).fill(0);
  for (const { moments, weight } of parts) {
    total += weight * moments.count;
    for (let c = 0; c < 3; c++) sum[c]! += weight * moments.sum[c]!;
    for (let k = 0; k < 9; k++) products[k]! += weight * moments.products[k]!;
  }
  if (!(total > 0)) throw new Error('Colour statistics need at least one pixel with a positive weight.');
  const mean = sum.map((s) => s / total) as [number, number, number];
  const cov = products.map((s, k) => s / total - mean[Math.floor(k / 3)]! * mean[k % 3]!) as Matrix3;
  return { mean, cov };
}

/** (1 − t)·a + t·b for mean and covariance: the strength blend of the content's and the style's colours. */
export function blendGaussians(a: ColourGaussian, b: ColourGaussian, t: number): ColourGaussian {
  return {
    mean: a.mean.map((v, i) => (1 - t) * v + t * b.mean[i]!) as [number, number, number],
    cov: a.cov.map((v, i) => (1 - t) * v + t * b.cov[i]!) as Matrix3,
  };
}
