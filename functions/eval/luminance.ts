/**
 * Luminance and edge maps, the two views of an image that the content-preservation metrics compare.
 * Luma is taken on the gamma-encoded values with the Rec. 601 weights, the convention of the SSIM
 * paper's reference implementation (it converts with MATLAB's `rgb2gray`), so our SSIM figures are
 * comparable with published ones.
 */
import type { RgbImage } from './rgb-image';

/** A single-channel float image, row-major. */
export interface GreyImage {
  data: Float64Array;
  width: number;
  height: number;
}

/** Rec. 601 luma Y' = 0.299 R + 0.587 G + 0.114 B, in the 0..255 range of the input. */
export function luminance(image: RgbImage): GreyImage {
  const n = image.width * image.height;
  const data = new Float64Array(n);
  const rgb = image.data;
  for (let i = 0; i < n; i++) data[i] = 0.299 * rgb[3 * i]! + 0.587 * rgb[3 * i + 1]! + 0.114 * rgb[3 * i + 2]!;
  return { data, width: image.width, height: image.height };
}

/**
 * The largest Sobel magnitude an 8-bit image can produce. Gx and Gy cannot both reach 4 · 255: the
 * corner pixels count in both kernels with opposite signs at two corners. The best is a bright right
 * column and bottom row except the bottom-left corner (Gx = 4 · 255, Gy = 2 · 255), so √20 · 255.
 */
export const SOBEL_MAX = Math.sqrt(20) * 255;

/**
 * Sobel gradient magnitude √(Gx² + Gy²) of a grey image, with borders replicated so that the map has
 * the input's size and a flat image gives zero everywhere, edges included.
 *
 * Gx uses the kernel [[-1 0 1] [-2 0 2] [-1 0 1]], Gy its transpose; for an 8-bit input the magnitude
 * lies in [0, {@link SOBEL_MAX}].
 */
export function sobelMagnitude(grey: GreyImage): GreyImage {
  const { width: w, height: h, data: src } = grey;
  const out = new Float64Array(w * h);
  const at = (x: number, y: number): number =>
    src[Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, x))]!;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const tl = at(x - 1, y - 1),
        tc = at(x, y - 1),
        tr = at(x + 1, y - 1);
      const ml = at(x - 1, y),
        mr = at(x + 1, y);
      const bl = at(x - 1, y + 1),
        bc = at(x, y + 1),
        br = at(x + 1, y + 1);
      const gx = tr + 2 * mr + br - tl - 2 * ml - bl;
      const gy = bl + 2 * bc + br - tl - 2 * tc - tr;
      out[y * w + x] = Math.sqrt(gx * gx + gy * gy);
    }
  }
  return { data: out, width: w, height: h };
}

/**
 * The edge map the edge-SSIM metric compares: the Sobel magnitude scaled by 255 / {@link SOBEL_MAX}, so
 * that it spans the same 0..255 range as luma and SSIM's 8-bit constants apply unchanged.
 */
export function edgeMap(image: RgbImage): GreyImage {
  const sobel = sobelMagnitude(luminance(image));
  const scale = 255 / SOBEL_MAX;
  for (let i = 0; i < sobel.data.length; i++) sobel.data[i]! *= scale;
  return sobel;
}
