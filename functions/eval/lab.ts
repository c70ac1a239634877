/**
 * sRGB ↔ CIE L*a*b* under the D65 white point, the colour space of the colour-distribution metric and
 * of the Reinhard baseline. Lab is close to perceptually uniform, so a distance between colour sets
 * measured there means roughly the same visible change anywhere in the gamut.
 *
 * The path is sRGB (IEC 61966-2-1 transfer curve) → linear RGB → XYZ (sRGB primaries, D65) → Lab with
 * the reference white Xn = 0.95047, Yn = 1, Zn = 1.08883.
 */
import type { RgbImage } from './rgb-image';

const XN = 0.95047;
const YN = 1;
const ZN = 1.08883;
const EPSILON = 216 / 24389; // (6/29)³: below this, f(t) switches to its linear segment
const KAPPA = 24389 / 27;

function srgbToLinear(v: number): number {
  const c = v / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

function linearToSrgb(c: number): number {
  const v = c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055;
  return v * 255;
}

function f(t: number): number {
  return t > EPSILON ? Math.cbrt(t) : (KAPPA * t + 16) / 116;
}

function fInverse(t: number): number {
  const t3 = t * t * t;
  return t3 > EPSILON ? t3 : (116 * t - 16) / KAPPA;
}

/** Converts one 8-bit sRGB colour to `[L, a, b]` (L in 0..100). */
export function srgbToLab(r: number, g: number, b: number): [number, number, number] {
  return linearToLab(srgbToLinear(r), srgbToLinear(g), srgbToLinear(b));
}

function linearToLab(rl: number, gl: number, bl: number): [number, number, number] {
  const x = 0.4124564 * rl + 0.3575761 * gl + 0.1804375 * bl;
  const y = 0.2126729 * rl + 0.7151522 * gl + 0.072175 * bl;
  const z = 0.0193339 * rl + 0.119192 * gl + 0.9503041 * bl;
  const fx = f(x / XN);
  const fy = f(y / YN);
  const fz = f(z / ZN);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

/** Converts one Lab colour to sRGB on the 0..255 scale, unclipped and unrounded. */
export function labToSrgb(L: number, a: number, b: number): [number, number, number] {
  const fy = (L + 16) / 116;
  const x = XN * fInverse(fy + a / 500);
  const y = YN * fInverse(fy);
  const z = ZN * fInverse(fy - b / 200);
  const rl = 3.2404542 * x - 1.5371385 * y - 0.4985314 * z;
  const gl = -0.969266 * x + 1.8760108 * y + 0.041556 * z;
  const bl = 0.0556434 * x - 0.2040259 * y + 1.0572252 * z;
  // Out-of-gamut colours give negative linear values; clamp there so the power stays real.
  return [linearToSrgb(Math.max(0, rl)), linearToSrgb(Math.max(0, gl)), linearToSrgb(Math.max(0, bl))];
}

/** Lab colours of every pixel, interleaved `[L, a, b, L, a, b, …]`. */
export function imageToLab(image: RgbImage): Float64Array {
  const n = image.width * image.height;
  const out = new Float64Array(3 * n);
  // 8-bit input has only 256 values per channel: linearise through a table, not 3·n powers.
  const table = new Float64Array(256);
  for (let v = 0; v < 256; v++) table[v] = srgbToLinear(v);
  const d = image.data;
  for (let i = 0; i < n; i++) {
    const [L, a, b] = linearToLab(table[d[3 * i]!]!, table[d[3 * i + 1]!]!, table[d[3 * i + 2]!]!);
    out[3 * i] = L;
    out[3 * i + 1] = a;
    out[3 * i + 2] = b;
  }
  return out;
}

/** Builds an 8-bit image from interleaved Lab colours, clipping to the sRGB gamut and rounding. */
export function labToImage(lab: Float64Array, width: number, height: number): RgbImage {
  const n = width * height;
  const data = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    const rgb = labToSrgb(lab[3 * i]!, lab[3 * i + 1]!, lab[3 * i + 2]!);
    for (let c = 0; c < 3; c++) data[3 * i + c] = Math.min(255, Math.max(0, Math.round(rgb[c]!)));
  }
  return { data, width, height };
}
