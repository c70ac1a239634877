/**
 * The radix-2 FFT (functions/eval/fft.ts) against the naive O(N²) DFT it replaces, in one and two
 * dimensions, on seeded random complex input.
 */
import { fft, fft2d, isPowerOfTwo, powerSpectrum2d } from '../../../functions/eval/fft';
import { seededRandom } from '../../../functions/eval/seeded-random';
import { at } from '../../support/checked';

function randomSignal(n: number, seed: number): { re: Float64Array; im: Float64Array } {
  const rng = seededRandom(seed);
  return {
    re: Float64Array.from({ length: n }, () => rng.normal()),
    im: Float64Array.from({ length: n }, () => rng.normal()),
  };
}

/** X[k] = Σₙ x[n] · e^(−2πi·kn/N), straight from the definition. */
function naiveDft(re: Float64Array, im: Float64Array): { re: Float64Array; im: Float64Array } {
  const n = re.length;
  const outRe = new Float64Array(n);
  const outIm = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let [sumRe, sumIm] = [0, 0];
    re.forEach((x, t) => {
      const a = (-2 * Math.PI * k * t) / n;
      const y = at(im, t);
      sumRe += x * Math.cos(a) - y * Math.sin(a);
      sumIm += x * Math.sin(a) + y * Math.cos(a);
    });
    [outRe[k], outIm[k]] = [sumRe, sumIm];
  }
  return { re: outRe, im: outIm };
}

function expectClose(actual: Float64Array, expected: Float64Array, tolerance = 1e-9): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  actual.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - at(expected, i)))));
  expect(worst).toBeLessThan(tolerance);
}

describe('fft', () => {
  it.each([1, 2, 4, 8, 32, 128])('matches the naive DFT for N = %i', (n) => {
    const { re, im } = randomSignal(n, n);
    const expected = naiveDft(re, im);
    fft(re, im);
    expectClose(re, expected.re);
    expectClose(im, expected.im);
  });

  it('puts a pure tone on its own bin', () => {
    const n = 16;
    const re = Float64Array.from({ length: n }, (_, t) => Math.cos((2 * Math.PI * 3 * t) / n));
    const im = new Float64Array(n);
    fft(re, im);
    // cos splits into bins 3 and N − 3, each with N/2.
    expect(re[3]).toBeCloseTo(8, 10);
    expect(re[13]).toBeCloseTo(8, 10);
    for (let k = 0; k < n; k++) if (k !== 3 && k !== 13) expect(Math.hypot(at(re, k), at(im, k))).toBeLessThan(1e-12);
  });

  it('refuses a length that is not a power of two', () => {
    expect(() => fft(new Float64Array(12), new Float64Array(12))).toThrow(/power of two, got 12/);
    expect(isPowerOfTwo(64)).toBe(true);
    expect(isPowerOfTwo(96)).toBe(false);
    expect(isPowerOfTwo(0)).toBe(false);
  });
});

describe('fft2d and powerSpectrum2d', () => {
  it('match the naive 2-D DFT on a 16 × 16 image', () => {
    const n = 16;
    const { re } = randomSignal(n * n, 5);
    const naiveRe = new Float64Array(n * n);
    const naiveIm = new Float64Array(n * n);
    for (let v = 0; v < n; v++) {
      for (let u = 0; u < n; u++) {
        let [sumRe, sumIm] = [0, 0];
        for (let y = 0; y < n; y++) {
          for (let x = 0; x < n; x++) {
            const a = (-2 * Math.PI * (u * x + v * y)) / n;
            sumRe += at(re, y * n + x) * Math.cos(a);
            sumIm += at(re, y * n + x) * Math.sin(a);
          }
        }
        [naiveRe[v * n + u], naiveIm[v * n + u]] = [sumRe, sumIm];
      }
    }
    const power = powerSpectrum2d(re, n);
    const outRe = Float64Array.from(re);
    const outIm = new Float64Array(n * n);
    fft2d(outRe, outIm, n);
    expectClose(outRe, naiveRe);
    expectClose(outIm, naiveIm);
    expectClose(
      power,
      naiveRe.map((r, i) => {
        const m = at(naiveIm, i);
        return r * r + m * m;
      }),
      1e-7,
    );
  });

  it('indexes the spectrum as v · N + u (u horizontal)', () => {
    const n = 8;
    // Two cycles across, none down.
    const image = Float64Array.from({ length: n * n }, (_, i) => Math.cos((2 * Math.PI * 2 * (i % n)) / n));
    const power = powerSpectrum2d(image, n);
    expect(power[0 * n + 2]).toBeCloseTo((n * n * 0.5) ** 2, 6);
    expect(power[2 * n + 0]).toBeLessThan(1e-12);
  });
});
