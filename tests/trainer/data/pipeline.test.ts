/**
 * Tests of the training data pipeline (trainer/data/) on real images: dataset indexing and its errors,
 * decoding of awkward inputs, the reference's augmentation, and the seeded, resumable pair sampler.
 * Datasets are built in temporary folders from tests/fixtures/images and decoded by sharp.
 */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import {
  augmentImage,
  colorJitter,
  cropGeometry,
  DataError,
  decodeImage,
  drawAugmentParams,
  indexDataset,
  JITTER_OPS,
  PairSampler,
  Random,
  type AugmentParams,
  type DataErrorCode,
  type DatasetIndex,
  type SamplerConfig,
  type TrainingBatch,
} from '../../../trainer/data';

const FIXTURES = path.resolve(__dirname, '../../fixtures/images');
const fixture = (name: string): string => path.join(FIXTURES, name);
const tmpRoots: string[] = [];

/**
 * Builds a dataset folder: each key is a path relative to the root; a value names a fixture to copy,
 * `{ text }` writes a text file, and `{ folder: true }` makes an empty folder.
 */
async function makeDataset(files: Record<string, string | { text: string } | { folder: true }>): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'peerstyle-data-'));
  tmpRoots.push(root);
  for (const [rel, source] of Object.entries(files)) {
    const target = path.join(root, rel);
    if (typeof source === 'object' && 'folder' in source) {
      await mkdir(target, { recursive: true });
      continue;
    }
    await mkdir(path.dirname(target), { recursive: true });
    if (typeof source === 'string') await copyFile(fixture(source), target);
    else await writeFile(target, source.text);
  }
  return root;
}

const FOUR_PHOTOS = {
  'content/a.jpg': 'photo-1.jpg',
  'content/b.jpg': 'photo-2.jpg',
  'content/c.jpg': 'photo-3.jpg',
  'content/d.jpg': 'photo-4.jpg',
};

/** Runs `fn` and returns the DataError it throws; fails the test if it throws nothing else. */
async function dataError(fn: () => Promise<unknown>): Promise<DataError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof DataError) return err;
    throw err;
  }
  throw new Error('expected a DataError, but nothing was thrown');
}

async function expectDataError(fn: () => Promise<unknown>, code: DataErrorCode, ...inMessage: string[]): Promise<void> {
  const err = await dataError(fn);
  expect(err.code).toBe(code);
  for (const text of inMessage) expect(err.message).toContain(text);
}

afterAll(async () => {
  await Promise.all(tmpRoots.map((root) => rm(root, { recursive: true, force: true })));
});

describe('indexDataset: layout', () => {
  test('class folders: classes and files in code-point order, single-image class kept with a warning', async () => {
    const root = await makeDataset({
      'content/b.jpg': 'photo-2.jpg',
      'content/a.jpg': 'photo-1.jpg',
      'content/C.JPG': 'photo-3.jpg',
      'content/e.png': 'photo-5.png',
      'style/monet/y.webp': 'painting-4.webp',
      'style/monet/x.jpg': 'painting-2.jpg',
      'style/gogh/z.jpeg': 'painting-1.jpg',
    });
    const warnings: string[] = [];
    const index = await indexDataset(root, { maxCorruptFraction: 0, onWarning: (m) => warnings.push(m) });
    expect(index.root).toBe(path.resolve(root));
    expect(index.flatStyle).toBe(false);
    expect(index.content.map((f) => path.relative(root, f))).toEqual([
      'content/C.JPG',
      'content/a.jpg',
      'content/b.jpg',
      'content/e.png',
    ]);
    expect(index.styleClasses.map((c) => c.name)).toEqual(['gogh', 'monet']);
    expect(index.styleClasses[1]?.files.map((f) => path.basename(f))).toEqual(['x.jpg', 'y.webp']);
    expect(index.skipped).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('"gogh" has one image');
  });

  test('flat style folder: each image is its own class', async () => {
    const root = await makeDataset({
      ...FOUR_PHOTOS,
      'style/s2.jpg': 'painting-2.jpg',
      'style/s1.jpg': 'painting-1.jpg',
    });
    const index = await indexDataset(root, { maxCorruptFraction: 0 });
    expect(index.flatStyle).toBe(true);
    expect(index.styleClasses).toEqual([
      { name: 's1.jpg', files: [path.join(root, 'style/s1.jpg')] },
      { name: 's2.jpg', files: [path.join(root, 'style/s2.jpg')] },
    ]);
  });

  test('hidden files are ignored silently; other files, sub-folders and loose style images with a warning', async () => {
    const root = await makeDataset({
      ...FOUR_PHOTOS,
      'content/.DS_Store': { text: 'finder' },
      'content/notes.txt': { text: 'not an image' },
      'content/extra/e.jpg': 'photo-1.jpg',
      'style/loose.jpg': 'painting-3.jpg',
      'style/.hidden/h.jpg': 'painting-3.jpg',
      'style/one/p.jpg': 'painting-1.jpg',
      'style/one/p2.jpg': 'painting-2.jpg',
      'style/two/q.jpg': 'painting-2.jpg',
      'style/two/q.gif': { text: 'GIF89a' },
      'style/empty': { folder: true },
    });
    const warnings: string[] = [];
    const index = await indexDataset(root, { maxCorruptFraction: 0, onWarning: (m) => warnings.push(m) });
    expect(index.content).toHaveLength(4);
    expect(index.styleClasses.map((c) => c.name)).toEqual(['one', 'two']);
    const skipped = index.skipped.map((s) => path.relative(root, s.file)).sort();
    expect(skipped).toEqual(['content/extra', 'content/notes.txt', 'style/loose.jpg', 'style/two/q.gif']);
    expect(warnings.join('\n')).not.toContain('.DS_Store');
    expect(warnings.join('\n')).not.toContain('.hidden');
    expect(warnings.some((w) => w.includes('"empty"'))).toBe(true);
  });
});

describe('indexDataset: errors', () => {
  test('missing root', async () => {
    const root = path.join(os.tmpdir(), 'peerstyle-no-such-dataset');
    await expectDataError(() => indexDataset(root, { maxCorruptFraction: 0 }), 'MISSING_FOLDER', root, 'content/');
  });

  test('missing content folder', async () => {
    const root = await makeDataset({ 'style/s1.jpg': 'painting-1.jpg' });
    await expectDataError(
      () => indexDataset(root, { maxCorruptFraction: 0 }),
      'MISSING_FOLDER',
      path.join(root, 'content'),
    );
  });

  test('missing style folder', async () => {
    const root = await makeDataset(FOUR_PHOTOS);
    await expectDataError(
      () => indexDataset(root, { maxCorruptFraction: 0 }),
      'MISSING_FOLDER',
      path.join(root, 'style'),
    );
  });

  test('content folder without images', async () => {
    const root = await makeDataset({
      'content/readme.txt': { text: 'x' },
      'style/s1.jpg': 'painting-1.jpg',
      'style/s2.jpg': 'painting-2.jpg',
    });
    await expectDataError(
      () => indexDataset(root, { maxCorruptFraction: 0 }),
      'EMPTY_FOLDER',
      path.join(root, 'content'),
    );
  });

  test('a single style image gives no negative pair', async () => {
    const root = await makeDataset({ ...FOUR_PHOTOS, 'style/s1.jpg': 'painting-1.jpg' });
    await expectDataError(
      () => indexDataset(root, { maxCorruptFraction: 0 }),
      'TOO_FEW_STYLE_CLASSES',
      path.join(root, 'style'),
      'at least two',
    );
  });

  test('a single style class folder gives no negative pair', async () => {
    const root = await makeDataset({
      ...FOUR_PHOTOS,
      'style/monet/a.jpg': 'painting-1.jpg',
      'style/monet/b.jpg': 'painting-2.jpg',
    });
    await expectDataError(() => indexDataset(root, { maxCorruptFraction: 0 }), 'TOO_FEW_STYLE_CLASSES', '"monet"');
  });

  test('a corrupt image within the tolerance is skipped with a warning', async () => {
    const root = await makeDataset({
      ...FOUR_PHOTOS,
      'content/broken.jpg': 'corrupt.jpg',
      'style/s1.jpg': 'painting-1.jpg',
      'style/s2.jpg': 'painting-2.jpg',
    });
    const warnings: string[] = [];
    const index = await indexDataset(root, { maxCorruptFraction: 0.2, onWarning: (m) => warnings.push(m) });
    const broken = path.join(root, 'content/broken.jpg');
    expect(index.content).toHaveLength(4);
    expect(index.content).not.toContain(broken);
    expect(index.skipped).toEqual([{ file: broken, reason: expect.stringContaining('cannot be decoded') }]);
    expect(warnings.some((w) => w.includes(broken))).toBe(true);
  });

  test('too many corrupt images: past the threshold indexing refuses', async () => {
    // 1 bad file of 7 is 0.14, above a tolerance of 0.1.
    const root = await makeDataset({
      ...FOUR_PHOTOS,
      'content/broken.jpg': 'corrupt.jpg',
      'style/s1.jpg': 'painting-1.jpg',
      'style/s2.jpg': 'painting-2.jpg',
    });
    await expectDataError(
      () => indexDataset(root, { maxCorruptFraction: 0.1 }),
      'TOO_MANY_CORRUPT',
      '1 of 7',
      path.join(root, 'content/broken.jpg'),
      '0.1',
    );
  });

  test('a truncated JPEG passes the metadata read but is caught by the full decode', async () => {
    const meta = await sharp(fixture('truncated.jpg')).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 80, 60]);
    const root = await makeDataset({
      ...FOUR_PHOTOS,
      'style/s1.jpg': 'painting-1.jpg',
      'style/s2.jpg': 'painting-2.jpg',
      'style/s3.jpg': 'truncated.jpg',
    });
    const warnings: string[] = [];
    const index = await indexDataset(root, { maxCorruptFraction: 0.5, onWarning: (m) => warnings.push(m) });
    expect(index.styleClasses.map((c) => c.name)).toEqual(['s1.jpg', 's2.jpg']);
    expect(warnings.some((w) => w.includes('s3.jpg') && w.includes('cannot be decoded'))).toBe(true);
    expect(index.skipped.map((s) => path.basename(s.file))).toContain('s3.jpg');
  });
});

describe('decodeImage', () => {
  test('EXIF orientation 6 is applied: the stored 80×60 image decodes as 60×80', async () => {
    const meta = await sharp(fixture('exif-orientation-6.jpg')).metadata();
    expect([meta.width, meta.height, meta.orientation]).toEqual([80, 60, 6]);
    const image = await decodeImage(fixture('exif-orientation-6.jpg'));
    expect([image.width, image.height, image.data.length]).toEqual([60, 80, 60 * 80 * 3]);
  });

  test('RGBA is flattened onto white', async () => {
    const image = await decodeImage(fixture('alpha.png'));
    expect([image.width, image.height, image.data.length]).toEqual([8, 4, 8 * 4 * 3]);
    expect(Array.from(image.data.subarray(0, 3))).toEqual([255, 0, 0]); // opaque red stays red
    expect(Array.from(image.data.subarray(7 * 3, 8 * 3))).toEqual([255, 255, 255]); // transparent becomes white
  });

  test('greyscale becomes 3 equal sRGB channels', async () => {
    const image = await decodeImage(fixture('grey.png'));
    expect(image.data.length).toBe(image.width * image.height * 3);
    let spread = 0;
    for (let i = 0; i < image.data.length; i += 3) {
      spread = Math.max(
        spread,
        Math.abs((image.data[i] as number) - (image.data[i + 1] as number)),
        Math.abs((image.data[i] as number) - (image.data[i + 2] as number)),
      );
    }
    expect(spread).toBeLessThanOrEqual(1);
    expect(new Set(image.data).size).toBeGreaterThan(20); // real picture content survived
  });

  test('CMYK becomes 3-channel sRGB close to the RGB original', async () => {
    const cmyk = await decodeImage(fixture('cmyk.jpg'));
    const rgb = await decodeImage(fixture('photo-1.jpg'));
    expect([cmyk.width, cmyk.height, cmyk.data.length]).toEqual([80, 60, 80 * 60 * 3]);
    let diff = 0;
    for (let i = 0; i < rgb.data.length; i++) diff += Math.abs((cmyk.data[i] as number) - (rgb.data[i] as number));
    // A missing or inverted conversion would be off by ~100 levels on average.
    expect(diff / rgb.data.length).toBeLessThan(25);
  });

  test('maxShorterSide shrinks large images and leaves small ones alone', async () => {
    const shrunk = await decodeImage(fixture('photo-1.jpg'), { maxShorterSide: 30 });
    expect([shrunk.width, shrunk.height]).toEqual([40, 30]);
    const kept = await decodeImage(fixture('photo-1.jpg'), { maxShorterSide: 500 });
    expect([kept.width, kept.height]).toEqual([80, 60]);
  });

  test('a file that is not an image gives UNREADABLE_IMAGE naming it', async () => {
    await expectDataError(() => decodeImage(fixture('corrupt.jpg')), 'UNREADABLE_IMAGE', fixture('corrupt.jpg'));
  });
});

describe('augmentation', () => {
  const size = { loadSize: 36, cropSize: 32 };
  const values = (a: Float32Array): number[] => Array.from(a);

  test('output is cropSize² × 3 values in [-1, 1] with real content', async () => {
    const image = await decodeImage(fixture('photo-2.jpg'));
    const out = await augmentImage(image, drawAugmentParams(new Random(1)), size);
    expect(out).toHaveLength(32 * 32 * 3);
    expect(Math.min(...out)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...out)).toBeLessThanOrEqual(1);
    expect(Math.max(...out) - Math.min(...out)).toBeGreaterThan(0.5);
  });

  test('writes into a batch array at an offset and leaves the rest untouched', async () => {
    const image = await decodeImage(fixture('photo-2.jpg'));
    const params = drawAugmentParams(new Random(2));
    const batch = new Float32Array(2 * 32 * 32 * 3).fill(7);
    await augmentImage(image, params, size, batch, 32 * 32 * 3);
    expect(batch.subarray(0, 32 * 32 * 3).every((v) => v === 7)).toBe(true);
    expect(values(batch.subarray(32 * 32 * 3))).toEqual(values(await augmentImage(image, params, size)));
  });

  test('flip mirrors each row', async () => {
    const image = await decodeImage(fixture('photo-3.jpg'));
    const params: AugmentParams = { ...drawAugmentParams(new Random(3)), flip: false };
    const plain = await augmentImage(image, params, size);
    const flipped = await augmentImage(image, { ...params, flip: true }, size);
    let maxDiff = 0;
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        for (let c = 0; c < 3; c++) {
          maxDiff = Math.max(
            maxDiff,
            Math.abs((plain[(y * 32 + x) * 3 + c] as number) - (flipped[(y * 32 + 31 - x) * 3 + c] as number)),
          );
        }
      }
    }
    expect(maxDiff).toBeLessThan(1e-5);
    expect(values(plain)).not.toEqual(values(flipped));
  });

  test('the same seed gives the same output; different seeds give different crops', async () => {
    const image = await decodeImage(fixture('painting-1.jpg'));
    const first = await augmentImage(image, drawAugmentParams(new Random(11)), size);
    const again = await augmentImage(image, drawAugmentParams(new Random(11)), size);
    const other = await augmentImage(image, drawAugmentParams(new Random(12)), size);
    expect(values(again)).toEqual(values(first));
    expect(values(other)).not.toEqual(values(first));
    const geometries = new Set(
      [11, 12, 13, 14, 15].map((seed) =>
        JSON.stringify(cropGeometry(80, 60, drawAugmentParams(new Random(seed)), size)),
      ),
    );
    expect(geometries.size).toBeGreaterThan(1);
  });

  test('random draws stay within the reference ranges', () => {
    const rng = new Random(5);
    const load = { loadSize: 100, cropSize: 32 };
    const scales: number[] = [];
    for (let i = 0; i < 500; i++) {
      const p = drawAugmentParams(rng);
      scales.push(p.scale);
      for (const f of [p.brightness, p.contrast, p.saturation]) {
        expect(f).toBeGreaterThanOrEqual(0.95);
        expect(f).toBeLessThan(1.05);
      }
      expect(Math.abs(p.hue)).toBeLessThanOrEqual(0.05);
      expect([...p.jitterOrder].sort()).toEqual([...JITTER_OPS].sort());
      const g = cropGeometry(300, 200, p, load);
      expect(g.resizedHeight).toBe(Math.round(100 * p.scale));
      expect(g.resizedHeight).toBeGreaterThanOrEqual(90);
      expect(g.resizedHeight).toBeLessThanOrEqual(110);
      expect(g.resizedWidth).toBe(Math.floor((g.resizedHeight * 300) / 200));
      expect(g.left + 32).toBeLessThanOrEqual(g.resizedWidth);
      expect(g.top + 32).toBeLessThanOrEqual(g.resizedHeight);
    }
    expect(Math.min(...scales)).toBeLessThan(0.91);
    expect(Math.max(...scales)).toBeGreaterThan(1.09);
  });

  test('a shorter side below cropSize after scaling is raised to cropSize', async () => {
    const params: AugmentParams = { ...drawAugmentParams(new Random(6)), scale: 0.9 };
    // round(34 × 0.9) = 31 < 32, so the portrait image is scaled to 32 wide.
    expect(cropGeometry(60, 80, params, { loadSize: 34, cropSize: 32 })).toMatchObject({
      resizedWidth: 32,
      resizedHeight: 42,
    });
    const image = await decodeImage(fixture('exif-orientation-6.jpg'));
    expect(await augmentImage(image, params, { loadSize: 34, cropSize: 32 })).toHaveLength(32 * 32 * 3);
  });

  test('colour jitter: identity, brightness, saturation and a hand-computed hue rotation', () => {
    const neutral: AugmentParams = {
      ...drawAugmentParams(new Random(7)),
      brightness: 1,
      contrast: 1,
      saturation: 1,
      hue: 0,
    };
    const pixels = new Float32Array([0.8, 0.4, 0.2, 0.1, 0.5, 0.9]);
    const same = pixels.slice();
    colorJitter(same, neutral);
    same.forEach((v, i) => expect(v).toBeCloseTo(pixels[i] as number, 6));

    const darker = pixels.slice();
    colorJitter(darker, { ...neutral, brightness: 0.5, jitterOrder: ['brightness'] });
    expect(Array.from(darker)).toEqual(
      Array.from(pixels)
        .map((v) => Math.fround(v) * 0.5)
        .map(Math.fround),
    );

    const grey = pixels.slice(0, 3);
    colorJitter(grey, { ...neutral, saturation: 0, jitterOrder: ['saturation'] });
    const luma = 0.2989 * 0.8 + 0.587 * 0.4 + 0.114 * 0.2;
    grey.forEach((v) => expect(v).toBeCloseTo(luma, 5));

    const flatGreys = new Float32Array([0.2, 0.2, 0.2, 0.6, 0.6, 0.6]);
    colorJitter(flatGreys, { ...neutral, contrast: 0.5, jitterOrder: ['contrast'] });
    const meanLuma = 0.4 * (0.2989 + 0.587 + 0.114);
    expect(flatGreys[0]).toBeCloseTo(0.5 * 0.2 + 0.5 * meanLuma, 5);
    expect(flatGreys[3]).toBeCloseTo(0.5 * 0.6 + 0.5 * meanLuma, 5);

    const red = new Float32Array([1, 0, 0]);
    colorJitter(red, { ...neutral, hue: 1 / 3, jitterOrder: ['hue'] });
    expect(Array.from(red).map((v) => Math.round(v * 1e5) / 1e5)).toEqual([0, 1, 0]);
  });
});

describe('Random', () => {
  test('a stream resumed from state() continues identically, and the state survives JSON', () => {
    const rng = new Random(42);
    for (let i = 0; i < 10; i++) rng.next();
    const resumed = Random.fromState(JSON.parse(JSON.stringify(rng.state())));
    const expected = Array.from({ length: 20 }, () => rng.nextUint32());
    expect(Array.from({ length: 20 }, () => resumed.nextUint32())).toEqual(expected);
    expect(new Random(1).next()).not.toBe(new Random(2).next());
  });

  test('permutation covers every index once; a malformed state is refused', () => {
    const perm = new Random(3).permutation(50);
    expect([...perm].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(perm).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(() => Random.fromState([1, 2, 3] as unknown as [number, number, number, number])).toThrow(/four unsigned/);
  });
});

describe('PairSampler', () => {
  const cfg = (batchSize: number, seed = 3): SamplerConfig => ({ cropSize: 32, loadSize: 36, batchSize, seed });
  let flat: DatasetIndex;
  let classes: DatasetIndex;

  beforeAll(async () => {
    const flatRoot = await makeDataset({
      ...FOUR_PHOTOS,
      'style/s1.jpg': 'painting-1.jpg',
      'style/s2.jpg': 'painting-2.jpg',
      'style/s3.webp': 'painting-4.webp',
    });
    flat = await indexDataset(flatRoot, { maxCorruptFraction: 0 });
    const classRoot = await makeDataset({
      ...FOUR_PHOTOS,
      'style/gogh/g1.jpg': 'painting-1.jpg',
      'style/gogh/g2.jpg': 'painting-2.jpg',
      'style/klimt/k1.jpg': 'painting-3.jpg',
      'style/klimt/k2.webp': 'painting-4.webp',
      'style/klimt/k3.png': 'photo-5.png',
    });
    classes = await indexDataset(classRoot, { maxCorruptFraction: 0 });
  });

  const row = (a: Float32Array, b: number): Float32Array => a.subarray(b * 32 * 32 * 3, (b + 1) * 32 * 32 * 3);
  const same = (x: TrainingBatch, y: TrainingBatch): boolean =>
    (['realA', 'styleA', 'realB', 'styleB'] as const).every(
      (k) => x[k].length === y[k].length && x[k].every((v, i) => v === y[k][i]),
    ) && JSON.stringify(x.sources) === JSON.stringify(y.sources);

  test.each([1, 2])('batch of %i has NHWC arrays in [-1, 1]', async (batchSize) => {
    const batch = await new PairSampler(classes, cfg(batchSize)).next();
    expect(batch.batchSize).toBe(batchSize);
    expect(batch.size).toBe(32);
    for (const key of ['realA', 'styleA', 'realB', 'styleB'] as const) {
      expect(batch[key]).toBeInstanceOf(Float32Array);
      expect(batch[key]).toHaveLength(batchSize * 32 * 32 * 3);
      expect(batch[key].every((v) => v >= -1 && v <= 1)).toBe(true);
    }
    expect(batch.styleClass).toHaveLength(batchSize);
    expect(batch.sources).toHaveLength(batchSize);
  });

  test('class folders: realB and styleB are two different images of the named class; realA and styleA differ', async () => {
    const sampler = new PairSampler(classes, cfg(2));
    for (let i = 0; i < 4; i++) {
      const batch = await sampler.next();
      batch.sources.forEach((s, b) => {
        expect(path.basename(path.dirname(s.realB))).toBe(batch.styleClass[b]);
        expect(path.basename(path.dirname(s.styleB))).toBe(batch.styleClass[b]);
        expect(s.styleB).not.toBe(s.realB);
        expect(s.styleA).not.toBe(s.realA);
        expect(classes.content).toContain(s.realA);
      });
    }
  });

  test('styleLoadSize crops the style images at a finer scale and leaves the photos and the draws alone', async () => {
    // Mean step between horizontal neighbours: a crop of a larger resampling of the same image is smoother.
    const step = (a: Float32Array): number => {
      let sum = 0;
      for (let i = 3; i < a.length; i++) if ((i / 3) % 32 !== 0) sum += Math.abs(a[i]! - a[i - 3]!);
      return sum / a.length;
    };
    const plain = new PairSampler(classes, cfg(2));
    const fine = new PairSampler(classes, { ...cfg(2), styleLoadSize: 144 });
    let plainStep = 0;
    let fineStep = 0;
    for (let i = 0; i < 3; i++) {
      const [a, b] = [await plain.next(), await fine.next()];
      expect(b.sources).toEqual(a.sources);
      expect(b.realA).toEqual(a.realA);
      expect(b.styleA).toEqual(a.styleA);
      expect(b.realB).not.toEqual(a.realB);
      plainStep += step(a.realB) + step(a.styleB);
      fineStep += step(b.realB) + step(b.styleB);
    }
    expect(fineStep).toBeLessThan(0.6 * plainStep);
  });

  test('flat folder: the positive pair is two different crops of one file', async () => {
    const batch = await new PairSampler(flat, cfg(2)).next();
    batch.sources.forEach((s, b) => {
      expect(s.styleB).toBe(s.realB);
      expect(batch.styleClass[b]).toBe(path.basename(s.realB));
      expect(Array.from(row(batch.styleB, b))).not.toEqual(Array.from(row(batch.realB, b)));
    });
  });

  test('one epoch shows every photo once as realA and every style class once', async () => {
    const sampler = new PairSampler(flat, cfg(1));
    const photos: string[] = [];
    const styles: string[] = [];
    for (let i = 0; i < 4; i++) {
      const batch = await sampler.next();
      photos.push(batch.sources[0]?.realA as string);
      if (i < 3) styles.push(batch.styleClass[0] as string);
    }
    expect([...photos].sort()).toEqual(flat.content);
    expect([...styles].sort()).toEqual(['s1.jpg', 's2.jpg', 's3.webp']);
    expect(sampler.state()).toMatchObject({ epoch: 1, position: 0, styleEpoch: 1, stylePosition: 1 });
  });

  test('the same seed gives the same batches; another seed does not', async () => {
    const a = new PairSampler(classes, cfg(2, 9));
    const b = new PairSampler(classes, cfg(2, 9));
    const c = new PairSampler(classes, cfg(2, 10));
    for (let i = 0; i < 3; i++) {
      const [x, y, z] = await Promise.all([a.next(), b.next(), c.next()]);
      expect(same(x, y)).toBe(true);
      expect(same(x, z)).toBe(false);
    }
  });

  test('a sampler restored from state() continues with identical batches, across epochs', async () => {
    const original = new PairSampler(classes, cfg(2));
    await original.next();
    await original.next();
    const saved = JSON.stringify(original.state());
    const restored = new PairSampler(classes, cfg(2), JSON.parse(saved));
    // 4 photos at 2 per batch: these three batches cross two epoch boundaries.
    for (let i = 0; i < 3; i++) {
      const expected = await original.next();
      const actual = await restored.next();
      expect(same(actual, expected)).toBe(true);
    }
    expect(restored.state()).toEqual(original.state());
  });

  test('a state from another seed or dataset is refused', () => {
    const state = new PairSampler(classes, cfg(1)).state();
    expect(() => new PairSampler(classes, cfg(1, 4), state)).toThrow(
      expect.objectContaining({ code: 'BAD_SAMPLER_STATE' }),
    );
    expect(() => new PairSampler(flat, cfg(1), state)).toThrow(/expected the same dataset/);
    expect(() => new PairSampler(classes, cfg(1), { ...state, position: 99 })).toThrow(/past the end/);
  });

  test('a cache too small to hold anything still produces the same batches', async () => {
    const cached = new PairSampler(classes, cfg(2));
    const uncached = new PairSampler(classes, cfg(2), undefined, { cacheBytes: 0 });
    for (let i = 0; i < 2; i++) expect(same(await uncached.next(), await cached.next())).toBe(true);
  });
});
