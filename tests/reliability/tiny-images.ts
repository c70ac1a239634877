/**
 * The reliability run's images, made with sharp so that the run needs no fixture files: small content
 * images (each a different gradient with seeded noise, so no two jobs of an owner read the same pixels
 * unless they share an image) and one striped style. Tiny sizes keep each stylize job to a fraction of
 * a second with the bundled model, so a run of hundreds of jobs fits in minutes on two cores.
 */

import sharp from 'sharp';

/** A `size`×`size` PNG: a diagonal gradient tinted by `seed`, with seeded noise. */
export async function contentImage(size: number, seed: number): Promise<Buffer> {
  const pixels = Buffer.alloc(size * size * 3);
  let state = (seed * 2654435761) >>> 0 || 1;
  const noise = (): number => {
    // xorshift32: repeatable noise without a dependency.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) % 41) - 20;
  };
  for (let y = 0; y < size; y += 1) {
    for (let x = 0; x < size; x += 1) {
      const base = ((x + y) * 255) / (2 * (size - 1));
      const at = (y * size + x) * 3;
      pixels[at] = clamp(base + ((seed * 70) % 255) / 3 + noise());
      pixels[at + 1] = clamp(255 - base + noise());
      pixels[at + 2] = clamp((x * 255) / (size - 1) + noise());
    }
  }
  return sharp(pixels, { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toBuffer();
}

/** A `size`×`size` PNG of diagonal stripes in two colours. */
export async function styleImage(size: number): Promise<Buffer> {
  const pixels = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y += 1) {
    for (let x = 0; x < size; x += 1) {
      const stripe = Math.floor((x + y) / 6) % 2 === 0;
      pixels.set(stripe ? [230, 180, 40] : [30, 60, 150], (y * size + x) * 3);
    }
  }
  return sharp(pixels, { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toBuffer();
}

const clamp = (v: number): number => Math.max(0, Math.min(255, Math.round(v)));
