/** Small helpers the evaluation tests share: fixture paths, synthetic grey images, crops and noise. */
import path from 'node:path';
import type { GreyImage } from '../../../functions/eval/luminance';
import type { RgbImage } from '../../../functions/eval/rgb-image';
import { seededRandom } from '../../../functions/eval/seeded-random';

export const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'images');
export const SAMPLE = path.join(__dirname, '..', '..', '..', 'datasets', 'sample');

/** A grey image whose pixel (x, y) is `f(x, y)`. */
export function grey(width: number, height: number, f: (x: number, y: number) => number): GreyImage {
  const data = new Float64Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = f(x, y);
  return { data, width, height };
}

/** The `width × height` window of `image` at (`left`, `top`). */
export function crop(image: RgbImage, left: number, top: number, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    data.set(
      image.data.subarray(((top + y) * image.width + left) * 3, ((top + y) * image.width + left + width) * 3),
      y * width * 3,
    );
  }
  return { data, width, height };
}

/** `image` plus seeded Gaussian noise of standard deviation `sigma`, clipped to 0..255. */
export function withNoise(image: RgbImage, sigma: number, seed = 7): RgbImage {
  const rng = seededRandom(seed);
  const data = image.data.map((v) => Math.min(255, Math.max(0, Math.round(v + sigma * rng.normal()))));
  return { ...image, data };
}
