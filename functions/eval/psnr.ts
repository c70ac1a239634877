/**
 * Peak signal-to-noise ratio, the figure of the reconstruction check: at strength 0 the engine should
 * give the content back through the encoder and decoder, and PSNR says how closely (in dB, higher is
 * closer). Two forms: on Rec. 601 luma (the structure a viewer sees), and on RGB (colour included).
 *
 * PSNR = 10 · log10(255² / MSE). Identical images have MSE 0 and PSNR +∞; summaries over images
 * use {@link capPsnr}, so that one exact reconstruction cannot turn a mean into ∞ (nor a JSON number
 * into null).
 */
import { luminance } from './luminance';
import type { RgbImage } from './rgb-image';

/** The peak of 8-bit values. */
const PEAK = 255;

/**
 * The value summaries put in place of a larger PSNR (∞ included). 100 dB is a mean squared error of
 * 6.5 · 10⁻⁶; a 256 × 256 image with a single value off by one level already scores 101 dB, so the cap
 * only merges reconstructions that are exact in any practical sense.
 */
export const PSNR_CAP_DB = 100;

/** A PSNR in dB, bounded by {@link PSNR_CAP_DB}. */
export function capPsnr(db: number): number {
  return Math.min(db, PSNR_CAP_DB);
}

/** PSNR from a mean squared error on the 0..255 scale; +∞ for 0. */
export function psnrFromMse(mse: number): number {
  return mse === 0 ? Infinity : 10 * Math.log10((PEAK * PEAK) / mse);
}

function checkSameSize(a: RgbImage, b: RgbImage): void {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`PSNR needs images of one size, got ${a.width}×${a.height} and ${b.width}×${b.height}.`);
  }
}

/** PSNR over all three channels: the mean of the squared errors of every R, G and B value. */
export function psnrRgb(a: RgbImage, b: RgbImage): number {
  checkSameSize(a, b);
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += (a.data[i]! - b.data[i]!) ** 2;
  return psnrFromMse(sum / a.data.length);
}

/** PSNR of the Rec. 601 luma Y' = 0.299 R + 0.587 G + 0.114 B (unrounded, 0..255). */
export function psnrLuma(a: RgbImage, b: RgbImage): number {
  checkSameSize(a, b);
  const ya = luminance(a).data;
  const yb = luminance(b).data;
  let sum = 0;
  for (let i = 0; i < ya.length; i++) sum += (ya[i]! - yb[i]!) ** 2;
  return psnrFromMse(sum / ya.length);
}
