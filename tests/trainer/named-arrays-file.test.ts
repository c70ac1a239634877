import { createHash } from 'node:crypto';
import { packArrays, unpackArrays } from '../../trainer/named-arrays-file';
import { at, defined } from '../support/checked';

const arrays = {
  'param/conv.w': { shape: [2, 2], data: new Float32Array([1, -2.5, 3, 4]) },
  'param/conv.b': { shape: [1], data: new Float32Array([0.125]) },
  // A view into a larger buffer: only its own bytes may be packed.
  'opt/m': { shape: [2], data: new Float32Array([9, 7, 8, 9]).subarray(1, 3) },
};

describe('packArrays', () => {
  it('lays the arrays out back to back as little-endian float32, in key order', () => {
    const { index, bin, sha256 } = packArrays(arrays);
    expect(index).toEqual([
      { name: 'param/conv.w', shape: [2, 2], offset: 0, length: 4 },
      { name: 'param/conv.b', shape: [1], offset: 16, length: 1 },
      { name: 'opt/m', shape: [2], offset: 20, length: 2 },
    ]);
    const expected = Buffer.alloc(28);
    [1, -2.5, 3, 4, 0.125, 7, 8].forEach((v, i) => expected.writeFloatLE(v, i * 4));
    expect(bin.equals(expected)).toBe(true);
    expect(sha256).toBe(createHash('sha256').update(expected).digest('hex'));
  });
});

describe('unpackArrays', () => {
  it('gives back the arrays that were packed', () => {
    const { index, bin, sha256 } = packArrays(arrays);
    const back = unpackArrays(bin, index, sha256);
    expect(back).not.toBeNull();
    expect(Object.keys(back!)).toEqual(Object.keys(arrays));
    for (const [name, a] of Object.entries(arrays)) {
      const got = defined(back![name], `array ${name}`);
      expect(got.shape).toEqual(a.shape);
      expect(Array.from(got.data)).toEqual(Array.from(a.data));
    }
  });

  it('refuses a binary with one byte flipped', () => {
    const { index, bin, sha256 } = packArrays(arrays);
    const damaged = Buffer.from(bin);
    damaged[5] = at(damaged, 5) ^ 0x01;
    expect(unpackArrays(damaged, index, sha256)).toBeNull();
  });
});
