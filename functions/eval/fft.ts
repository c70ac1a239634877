/**
 * A radix-2 fast Fourier transform in plain TypeScript, for the grid score's power spectra
 * (grid-score.ts). The evaluation depends on no numerical library, and a power-of-two square crop is
 * all the grid score needs, so an iterative Cooley–Tukey transform of a few dozen lines is enough.
 * Conventions are numpy's: X[k] = Σₙ x[n] · e^(−2πi·kn/N), unnormalised, index 0 = DC.
 */

/** True for 1, 2, 4, 8, … */
export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;
}

/**
 * Transforms the complex signal (`re`, `im`) in place. Both arrays must have the same power-of-two
 * length.
 */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  if (im.length !== n) throw new Error(`fft: re has ${n} values but im has ${im.length}.`);
  if (!isPowerOfTwo(n)) throw new Error(`fft: the length must be a power of two, got ${n}.`);
  // Bit-reversal permutation, so that the butterflies below can work in place.
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const half = len >> 1;
    const step = (-2 * Math.PI) / len;
    for (let k = 0; k < half; k++) {
      // Twiddle factors from cos/sin of each angle rather than by repeated multiplication, which
      // accumulates rounding error over long transforms.
      const wr = Math.cos(step * k);
      const wi = Math.sin(step * k);
      for (let start = 0; start < n; start += len) {
        const a = start + k;
        const b = a + half;
        const tr = re[b]! * wr - im[b]! * wi;
        const ti = re[b]! * wi + im[b]! * wr;
        re[b] = re[a]! - tr;
        im[b] = im[a]! - ti;
        re[a]! += tr;
        im[a]! += ti;
      }
    }
  }
}

/**
 * Transforms an `n × n` complex image (row-major) in place: every row, then every column.
 * `n` must be a power of two.
 */
export function fft2d(re: Float64Array, im: Float64Array, n: number): void {
  if (re.length !== n * n || im.length !== n * n) {
    throw new Error(`fft2d: expected ${n}×${n} = ${n * n} values, got ${re.length} and ${im.length}.`);
  }
  const lineRe = new Float64Array(n);
  const lineIm = new Float64Array(n);
  for (let y = 0; y < n; y++) {
    lineRe.set(re.subarray(y * n, (y + 1) * n));
    lineIm.set(im.subarray(y * n, (y + 1) * n));
    fft(lineRe, lineIm);
    re.set(lineRe, y * n);
    im.set(lineIm, y * n);
  }
  for (let x = 0; x < n; x++) {
    for (let y = 0; y < n; y++) {
      lineRe[y] = re[y * n + x]!;
      lineIm[y] = im[y * n + x]!;
    }
    fft(lineRe, lineIm);
    for (let y = 0; y < n; y++) {
      re[y * n + x] = lineRe[y]!;
      im[y * n + x] = lineIm[y]!;
    }
  }
}

/**
 * The power spectrum |X|² of a real `n × n` image (row-major). Entry `v · n + u` holds the power at
 * `u` cycles per image horizontally and `v` vertically.
 */
export function powerSpectrum2d(data: Float64Array, n: number): Float64Array {
  const re = Float64Array.from(data);
  const im = new Float64Array(n * n);
  fft2d(re, im, n);
  const power = new Float64Array(n * n);
  for (let i = 0; i < power.length; i++) power[i] = re[i]! * re[i]! + im[i]! * im[i]!;
  return power;
}
