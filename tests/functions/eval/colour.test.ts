/**
 * The colour side of the evaluation: sRGB → Lab on reference colours, the sliced Wasserstein distance
 * on real images' colours, and the Reinhard baseline's moment matching.
 */
import path from 'node:path';
import { imageToLab, labToSrgb, srgbToLab } from '../../../functions/eval/lab';
import { labMoments, reinhardLab, reinhardTransfer } from '../../../functions/eval/reinhard';
import { loadImage, type RgbImage } from '../../../functions/eval/rgb-image';
import {
  randomDirections,
  slicedWasserstein,
  slicedWassersteinAlong,
} from '../../../functions/eval/sliced-wasserstein';
import { at } from '../../support/checked';
import { FIXTURES } from './images';

type Triple = [number, number, number];
const CHANNELS = [0, 1, 2] as const;

let photo: RgbImage;
let painting: RgbImage;
beforeAll(async () => {
  photo = await loadImage(path.join(FIXTURES, 'photo-2.jpg'), 64);
  painting = await loadImage(path.join(FIXTURES, 'painting-1.jpg'), 64);
});

describe('srgbToLab', () => {
  it.each<[string, Triple, Triple]>([
    ['white', [255, 255, 255], [100, 0, 0]],
    ['black', [0, 0, 0], [0, 0, 0]],
    ['red', [255, 0, 0], [53.24, 80.09, 67.2]],
    ['green', [0, 255, 0], [87.73, -86.18, 83.18]],
    ['blue', [0, 0, 255], [32.3, 79.19, -107.86]],
  ])('converts %s', (_name, rgb, lab) => {
    const got = srgbToLab(...rgb);
    for (const c of CHANNELS) expect(got[c]).toBeCloseTo(lab[c], 2);
  });

  it('round-trips through labToSrgb', () => {
    const colours: Triple[] = [
      [12, 200, 99],
      [255, 128, 0],
      [30, 30, 30],
      [250, 250, 251],
    ];
    for (const rgb of colours) {
      const back = labToSrgb(...srgbToLab(...rgb));
      for (const c of CHANNELS) expect(back[c]).toBeCloseTo(rgb[c], 3);
    }
  });

  it('gives imageToLab the same values pixel by pixel', () => {
    const lab = imageToLab(photo);
    for (const i of [0, 17, 1000]) {
      const p = srgbToLab(at(photo.data, 3 * i), at(photo.data, 3 * i + 1), at(photo.data, 3 * i + 2));
      for (const c of CHANNELS) expect(lab[3 * i + c]).toBeCloseTo(p[c], 10);
    }
  });
});

function shifted(points: Float64Array, s: Triple): Float64Array {
  return points.map((v, i) => v + at(s, i % 3));
}

describe('slicedWasserstein', () => {
  it('is 0 for identical colour sets, and for a permutation of one', () => {
    const lab = imageToLab(photo);
    expect(slicedWasserstein(lab, lab)).toBe(0);
    const reversed = new Float64Array(lab.length);
    for (let i = 0; i < lab.length / 3; i++) reversed.set(lab.subarray(3 * i, 3 * i + 3), lab.length - 3 * (i + 1));
    expect(slicedWasserstein(lab, reversed, { maxPoints: Infinity })).toBeCloseTo(0, 9);
  });

  it('grows with a colour shift', () => {
    const lab = imageToLab(photo);
    const small = slicedWasserstein(lab, shifted(lab, [2, 1, -1]));
    const large = slicedWasserstein(lab, shifted(lab, [8, 4, -4]));
    expect(small).toBeGreaterThan(0);
    expect(large).toBeCloseTo(4 * small, 6); // a shift's distance is linear in its length
  });

  it('is exactly √(3 · mean (θ·s)²) for a uniform shift s along the directions θ', () => {
    const lab = imageToLab(photo);
    const s: Triple = [3, 4, 12];
    const dirs = randomDirections(16, 5);
    let sum = 0;
    for (let d = 0; d < 16; d++)
      sum += (at(dirs, 3 * d) * s[0] + at(dirs, 3 * d + 1) * s[1] + at(dirs, 3 * d + 2) * s[2]) ** 2;
    expect(slicedWassersteinAlong(lab, shifted(lab, s), dirs)).toBeCloseTo(Math.sqrt((3 * sum) / 16), 8);
  });

  it('equals the length of a uniform shift in expectation over directions', () => {
    const lab = imageToLab(photo);
    const s: Triple = [3, 4, 12]; // |s| = 13
    let sumSquares = 0;
    const seeds = 20;
    for (let seed = 1; seed <= seeds; seed++)
      sumSquares += slicedWasserstein(lab, shifted(lab, s), { seed, maxPoints: 1024 }) ** 2;
    expect(Math.sqrt(sumSquares / seeds)).toBeGreaterThan(13 * 0.97);
    expect(Math.sqrt(sumSquares / seeds)).toBeLessThan(13 * 1.03);
    // One seeded set of 64 directions is already close.
    expect(Math.abs(slicedWasserstein(lab, shifted(lab, s)) / 13 - 1)).toBeLessThan(0.15);
  });

  it('separates a photo from a painting more than from a lightly recoloured copy of itself', () => {
    const lab = imageToLab(photo);
    expect(slicedWasserstein(lab, imageToLab(painting))).toBeGreaterThan(
      slicedWasserstein(lab, shifted(lab, [1, 1, 1])),
    );
  });
});

describe('reinhard', () => {
  it('gives the Lab output exactly the style’s per-channel means and standard deviations', () => {
    const out = labMoments(reinhardLab(imageToLab(photo), imageToLab(painting)));
    const style = labMoments(imageToLab(painting));
    for (const c of CHANNELS) {
      expect(out.mean[c]).toBeCloseTo(style.mean[c], 9);
      expect(out.std[c]).toBeCloseTo(style.std[c], 9);
    }
  });

  it('matches them closely after the return to 8-bit sRGB, and keeps the content’s size', () => {
    const image = reinhardTransfer(photo, painting);
    expect([image.width, image.height]).toEqual([photo.width, photo.height]);
    const out = labMoments(imageToLab(image));
    const style = labMoments(imageToLab(painting));
    const before = labMoments(imageToLab(photo));
    for (const c of CHANNELS) {
      expect(Math.abs(out.mean[c] - style.mean[c])).toBeLessThan(1.5);
      expect(Math.abs(out.std[c] / style.std[c] - 1)).toBeLessThan(0.08);
      // and the transfer did move them: the content started further away
      expect(Math.abs(before.mean[c] - style.mean[c]) + Math.abs(before.std[c] - style.std[c])).toBeGreaterThan(
        Math.abs(out.mean[c] - style.mean[c]) + Math.abs(out.std[c] - style.std[c]),
      );
    }
  });
});
