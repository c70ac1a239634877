/**
 * The grid score: how much more checkerboard an output shows than its content, at the 2- and 4-pixel
 * periods that stride-2 upsampling (two ×2 steps in the decoder) leaves behind (Odena et al., "Deconvolution
 * and checkerboard artifacts", Distill 2016). A photo has little power exactly there; a decoder that
 * paints a grid puts sharp peaks there.
 *
 * Definition, on the Rec. 601 luma (luminance.ts) of an image:
 *
 * 1. Crop the largest centred square whose side N is a power of two (N ≥ 32; smaller images get no
 *    score). The crop's offset is ⌊(W − N)/2⌋, ⌊(H − N)/2⌋.
 * 2. Subtract the crop's mean and multiply by the 2-D Hann window w(x)·w(y), w(n) = ½ − ½ cos(2πn/N)
 *    (the periodic form: a tone on an exact frequency then leaks into its 8 adjacent bins only).
 * 3. Take the power spectrum |X(u, v)|² (fft.ts; u, v in cycles per image, 0 = DC).
 * 4. At each of the nine peaks of periods 2 and 4 — (N/2, 0), (0, N/2), (N/2, N/2), (N/4, 0),
 *    (0, N/4), (N/4, N/4), (N/4, −N/4) = (N/4, 3N/4), (N/4, N/2), (N/2, N/4); their conjugate-symmetric
 *    copies (−u, −v) carry the same power for a real image — the prominence is the power at the peak
 *    divided by the median power of the 7×7 neighbourhood around it, the peak itself excluded (48 bins,
 *    indices wrapped around the spectrum's edges). The two diagonals of period 4 are not copies of each
 *    other, and a transposed convolution's checkerboard can sit on either, so both count.
 * 5. The image's peak prominence is the mean of the nine prominences.
 *
 * The grid score of an output is its peak prominence divided by that of its content image (same size,
 * same crop): about 1 when the output has no more of a grid than the content, far above 1 when it does.
 * Prominence is a ratio of powers, so it does not change when the image's contrast is scaled.
 */
import { isPowerOfTwo, powerSpectrum2d } from './fft';
import type { GreyImage } from './luminance';

/** The smallest crop side the grid score is computed on. */
export const GRID_MIN_SIDE = 32;

/** Side of the neighbourhood whose median is a peak's background. */
const NEIGHBOURHOOD = 7;

/** The nine peaks, as fractions of N: [u, v] = horizontal and vertical cycles per image ÷ N. */
export const GRID_PEAKS: GridPeaks = [
  [1 / 2, 0],
  [0, 1 / 2],
  [1 / 2, 1 / 2],
  [1 / 4, 0],
  [0, 1 / 4],
  [1 / 4, 1 / 4],
  [1 / 4, 1 / 2],
  [1 / 2, 1 / 4],
  [1 / 4, 3 / 4],
];

/** Peaks as fractions of N: [u, v] = horizontal and vertical cycles per image ÷ N. */
export type GridPeaks = readonly (readonly [number, number])[];

/**
 * The rest of the 8-pixel lattice: every nonzero multiple of N/8 on both axes, one of each conjugate
 * pair (a real image has the same power at (−u, −v)), without the nine {@link GRID_PEAKS}: 24 peaks.
 * The decoder upsamples a latent of a quarter of the image's resolution, so a checkerboard between
 * neighbouring latent cells shows at the 8-pixel period, which the grid score does not read; the same
 * prominence on these peaks (`bench/grid-lattice.ts`, the trainer's grid loss) does.
 */
export const EIGHT_PIXEL_PEAKS: GridPeaks = (() => {
  const key = (a: number, b: number) => `${(a + 8) % 8},${(b + 8) % 8}`;
  const seen = new Set<string>();
  for (const [u, v] of GRID_PEAKS) {
    seen.add(key(u * 8, v * 8));
    seen.add(key(-u * 8, -v * 8));
  }
  const peaks: [number, number][] = [];
  for (let a = 0; a < 8; a++) {
    for (let b = 0; b < 8; b++) {
      if ((a === 0 && b === 0) || seen.has(key(a, b))) continue;
      seen.add(key(a, b));
      seen.add(key(-a, -b));
      peaks.push([a / 8, b / 8]);
    }
  }
  return peaks;
})();

/** The side of the grid score's crop for a `width × height` image, or undefined when below 32 px. */
export function gridCropSide(width: number, height: number): number | undefined {
  const short = Math.min(width, height);
  if (short < GRID_MIN_SIDE) return undefined;
  return 2 ** Math.floor(Math.log2(short));
}

/** The periodic Hann window of length n. */
function hann(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
  return w;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Steps 1–3 of the definition: the windowed power spectrum of the centred crop, and its side. */
export function gridSpectrum(grey: GreyImage): { power: Float64Array; side: number } | undefined {
  const n = gridCropSide(grey.width, grey.height);
  if (n === undefined) return undefined;
  if (!isPowerOfTwo(n)) throw new Error(`Crop side ${n} is not a power of two.`);
  const left = Math.floor((grey.width - n) / 2);
  const top = Math.floor((grey.height - n) / 2);
  const crop = new Float64Array(n * n);
  let sum = 0;
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const v = grey.data[(top + y) * grey.width + left + x]!;
      crop[y * n + x] = v;
      sum += v;
    }
  }
  const mean = sum / (n * n);
  const w = hann(n);
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) crop[y * n + x] = (crop[y * n + x]! - mean) * w[y]! * w[x]!;
  return { power: powerSpectrum2d(crop, n), side: n };
}

/**
 * The prominence of each of the `peaks` (the nine {@link GRID_PEAKS} unless told) in a power spectrum
 * of side `n`: power at the peak ÷ median power of its 7×7 neighbourhood without it, wrapping around
 * the edges.
 */
export function peakProminences(power: Float64Array, n: number, peaks: GridPeaks = GRID_PEAKS): number[] {
  const r = NEIGHBOURHOOD >> 1;
  const wrap = (i: number): number => ((i % n) + n) % n;
  return peaks.map(([fu, fv]) => {
    const u = fu * n;
    const v = fv * n;
    const around: number[] = [];
    for (let dv = -r; dv <= r; dv++) {
      for (let du = -r; du <= r; du++) {
        if (du !== 0 || dv !== 0) around.push(power[wrap(v + dv) * n + wrap(u + du)]!);
      }
    }
    return power[v * n + u]! / median(around);
  });
}

/**
 * An image's peak prominence (steps 1–5 of the definition), or undefined when the image is smaller
 * than {@link GRID_MIN_SIDE} on its short side. A flat crop has no power anywhere and gives NaN.
 */
export function peakProminence(grey: GreyImage, peaks: GridPeaks = GRID_PEAKS): number | undefined {
  const spectrum = gridSpectrum(grey);
  if (!spectrum) return undefined;
  const prominences = peakProminences(spectrum.power, spectrum.side, peaks);
  return prominences.reduce((s, p) => s + p, 0) / prominences.length;
}

/**
 * The grid score of `output` against its content's peak prominence (from {@link peakProminence} on the
 * content at the output's size, with the same `peaks`), or undefined when the output is too small to score or either
 * prominence is not a finite positive number (a flat image).
 */
export function gridScore(
  output: GreyImage,
  contentProminence: number | undefined,
  peaks: GridPeaks = GRID_PEAKS,
): number | undefined {
  if (contentProminence === undefined || !(contentProminence > 0) || !Number.isFinite(contentProminence))
    return undefined;
  const p = peakProminence(output, peaks);
  if (p === undefined || !Number.isFinite(p)) return undefined;
  return p / contentProminence;
}
