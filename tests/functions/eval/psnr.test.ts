/**
 * PSNR (functions/eval/psnr.ts) on hand-computed cases, the ∞ of identical images, and the cap the
 * summaries use instead of ∞.
 */
import { countedSummary } from '../../../functions/eval/fidelity';
import { capPsnr, psnrLuma, psnrRgb, PSNR_CAP_DB } from '../../../functions/eval/psnr';
import type { RgbImage } from '../../../functions/eval/rgb-image';

const image = (values: number[]): RgbImage => ({ data: Uint8Array.from(values), width: values.length / 3, height: 1 });

describe('psnr', () => {
  const a = image([10, 20, 30, 40, 50, 60]);
  const b = image([12, 20, 30, 40, 50, 57]);

  it('is ∞ for identical images', () => {
    expect(psnrRgb(a, image([10, 20, 30, 40, 50, 60]))).toBe(Infinity);
    expect(psnrLuma(a, a)).toBe(Infinity);
  });

  it('matches a hand computation on two pixels', () => {
    // RGB: squared errors 4 and 9 over 6 values, MSE 13/6; 10·log10(65025 / (13/6)) = 44.7729 dB.
    expect(psnrRgb(a, b)).toBeCloseTo(44.7729, 4);
    // Luma: ΔY = 0.299·2 = 0.598 and 0.114·3 = 0.342; MSE (0.357604 + 0.116964) / 2 = 0.237284;
    // 10·log10(65025 / 0.237284) = 54.3781 dB.
    expect(psnrLuma(a, b)).toBeCloseTo(54.3781, 4);
  });

  it('is 20·log10(255 / d) for an image off by d everywhere', () => {
    const grey = image([100, 100, 100, 100, 100, 100]);
    const off = image([110, 110, 110, 90, 90, 90]);
    expect(psnrRgb(grey, off)).toBeCloseTo(20 * Math.log10(255 / 10), 10);
    expect(psnrLuma(grey, off)).toBeCloseTo(20 * Math.log10(255 / 10), 10);
  });

  it('refuses images of different sizes', () => {
    expect(() => psnrRgb(a, image([1, 2, 3]))).toThrow(/one size/);
  });

  it('is capped at 100 dB in summaries, so an exact reconstruction keeps the mean finite', () => {
    expect(PSNR_CAP_DB).toBe(100);
    expect(capPsnr(Infinity)).toBe(100);
    expect(capPsnr(31.5)).toBe(31.5);
    const s = countedSummary([capPsnr(Infinity), 30]);
    expect(s.mean).toBe(65);
    expect(s.n).toBe(2);
    expect(JSON.parse(JSON.stringify(s)).mean).toBe(65);
  });
});
