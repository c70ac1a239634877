/**
 * The random-weight texture network's Gram distance: zero for one image, symmetric, reproducible from
 * its seed, and smaller between two crops of one texture than between two different textures.
 */
import path from 'node:path';
import { loadImage, type RgbImage } from '../../../functions/eval/rgb-image';
import { centredGram, createTextureNet, gramDistance, gramMatrices } from '../../../functions/eval/texture-net';
import { at } from '../../support/checked';
import { crop, SAMPLE } from './images';

const net = createTextureNet();
let brick: RgbImage;
let leopard: RgbImage;
let starry: RgbImage;
beforeAll(async () => {
  const load = (file: string) => loadImage(path.join(SAMPLE, 'style', file), 128);
  [brick, leopard, starry] = await Promise.all([load('brick.jpg'), load('leopard.jpg'), load('starry-night.jpg')]);
});

describe('gram distance', () => {
  it('gives one [C, C] symmetric matrix per layer', () => {
    const grams = gramMatrices(net, brick);
    expect(grams.map((g) => g.length)).toEqual([32 * 32, 32 * 32, 64 * 64]);
    const third = at(grams, 2);
    expect(third[1 * 64 + 5]).toBe(at(third, 5 * 64 + 1));
  });

  it('is 0 for an image and itself, and symmetric', () => {
    const a = gramMatrices(net, brick);
    const b = gramMatrices(net, leopard);
    expect(gramDistance(a, a)).toBe(0);
    expect(gramDistance(a, b)).toBeCloseTo(gramDistance(b, a), 12);
    expect(gramDistance(a, b)).toBeGreaterThan(0);
    expect(gramDistance(a, b)).toBeLessThanOrEqual(1);
  });

  it('is smaller between two crops of one texture than between crops of different textures', () => {
    const half = (image: RgbImage, side: 0 | 1): RgbImage => crop(image, side * 64, 0, 64, 128);
    const grams = (image: RgbImage, side: 0 | 1): Float64Array[] => gramMatrices(net, half(image, side));
    for (const texture of [brick, leopard, starry]) {
      const same = gramDistance(grams(texture, 0), grams(texture, 1));
      for (const other of [brick, leopard, starry].filter((t) => t !== texture)) {
        expect(same).toBeLessThan(gramDistance(grams(texture, 0), grams(other, 1)));
      }
    }
  });

  it('matches the definition on hand-made matrices', () => {
    // One layer: ‖I − 2I‖ / (‖I‖ + ‖2I‖) = √2 / (√2 + 2√2) = 1/3; a second, identical layer adds 0.
    const eye = Float64Array.from([1, 0, 0, 1]);
    const twice = Float64Array.from([2, 0, 0, 2]);
    expect(gramDistance([eye], [twice])).toBeCloseTo(1 / 3, 12);
    expect(gramDistance([eye, eye], [twice, eye])).toBeCloseTo(1 / 6, 12);
  });

  it('centres the Gram matrices on a hand-computed feature map', () => {
    // Channel 0 = [1, 3], channel 1 = [2, 2]; both means are 2, so the centred channels are [−1, 1]
    // and [0, 0], and G = [[(1 + 1) / 2, 0], [0, 0]]. Uncentred, G would be [[5, 4], [4, 4]].
    const g = centredGram({ data: Float32Array.from([1, 3, 2, 2]), channels: 2, width: 2, height: 1 });
    expect(Array.from(g)).toEqual([1, 0, 0, 0]);
  });

  it('is reproducible from the seed, and another seed gives another network', () => {
    expect(createTextureNet().layers[1]?.weights).toEqual(at(net.layers, 1).weights);
    expect(createTextureNet(2).layers[1]?.weights).not.toEqual(at(net.layers, 1).weights);
    expect(gramDistance(gramMatrices(createTextureNet(), brick), gramMatrices(net, brick))).toBe(0);
  });
});
