/**
 * The structural similarity index (Wang, Bovik, Sheikh and Simoncelli, "Image quality assessment: from
 * error visibility to structural similarity", IEEE TIP 2004), as in the paper's reference code:
 *
 *   SSIM(x, y) = mean over windows of  (2 μx μy + C1)(2 σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2))
 *
 * with local statistics weighted by an 11×11 Gaussian window of σ = 1.5, C1 = (0.01 L)², C2 = (0.03 L)²
 * and L = 255, averaged over the windows that lie wholly inside the image (the reference's 'valid'
 * filtering). Inputs must be on the 0..255 scale.
 */
import type { GreyImage } from './luminance';

/** Side of the Gaussian window. */
export const SSIM_WINDOW = 11;
/** Standard deviation of the Gaussian window, in pixels. */
export const SSIM_SIGMA = 1.5;
/** Dynamic range L of the inputs. */
export const SSIM_RANGE = 255;
const C1 = (0.01 * SSIM_RANGE) ** 2;
const C2 = (0.03 * SSIM_RANGE) ** 2;

/** The normalised 1-D Gaussian; the 2-D window is its outer product, so filtering is separable. */
function gaussianKernel(): Float64Array {
  const k = new Float64Array(SSIM_WINDOW);
  const r = (SSIM_WINDOW - 1) / 2;
  let sum = 0;
  for (let i = 0; i < SSIM_WINDOW; i++) {
    k[i] = Math.exp(-((i - r) ** 2) / (2 * SSIM_SIGMA ** 2));
    sum += k[i]!;
  }
  for (let i = 0; i < SSIM_WINDOW; i++) k[i]! /= sum;
  return k;
}

/** 'valid' separable filtering: the result is (w − 10) × (h − 10). */
function filterValid(src: Float64Array, w: number, h: number, k: Float64Array): Float64Array {
  const n = k.length;
  const ow = w - n + 1;
  const oh = h - n + 1;
  const rows = new Float64Array(ow * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += k[i]! * src[y * w + x + i]!;
      rows[y * ow + x] = s;
    }
  }
  const out = new Float64Array(ow * oh);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += k[i]! * rows[(y + i) * ow + x]!;
      out[y * ow + x] = s;
    }
  }
  return out;
}

/**
 * Mean SSIM of two grey images of the same size, each side at least {@link SSIM_WINDOW} pixels.
 * Symmetric in its arguments; 1 exactly when they are equal.
 *
 * @throws Error when the sizes differ or an image is smaller than the window
 */
export function ssim(a: GreyImage, b: GreyImage): number {
  const { width: w, height: h } = a;
  if (b.width !== w || b.height !== h) {
    throw new Error(`SSIM needs images of one size, got ${w}×${h} and ${b.width}×${b.height}.`);
  }
  if (w < SSIM_WINDOW || h < SSIM_WINDOW) {
    throw new Error(`SSIM needs images of at least ${SSIM_WINDOW}×${SSIM_WINDOW} pixels, got ${w}×${h}.`);
  }
  const k = gaussianKernel();
  const n = w * h;
  const aa = new Float64Array(n);
  const bb = new Float64Array(n);
  const ab = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    aa[i] = a.data[i]! * a.data[i]!;
    bb[i] = b.data[i]! * b.data[i]!;
    ab[i] = a.data[i]! * b.data[i]!;
  }
  const muA = filterValid(a.data, w, h, k);
  const muB = filterValid(b.data, w, h, k);
  const eAA = filterValid(aa, w, h, k);
  const eBB = filterValid(bb, w, h, k);
  const eAB = filterValid(ab, w, h, k);
  let total = 0;
  for (let i = 0; i < muA.length; i++) {
    const ma = muA[i]!;
    const mb = muB[i]!;
    const varA = eAA[i]! - ma * ma;
    const varB = eBB[i]! - mb * mb;
    const cov = eAB[i]! - ma * mb;
    total += ((2 * ma * mb + C1) * (2 * cov + C2)) / ((ma * ma + mb * mb + C1) * (varA + varB + C2));
  }
  return total / muA.length;
}
