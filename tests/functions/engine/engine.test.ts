/**
 * The engine on real fixture images through a real exported package (random tiny weights): output sizes,
 * determinism, the strength-0 reconstruction against the TF.js reference, multi-style weights, chunked
 * TPFR, colour preservation, progress and cancellation, and one error code per kind of bad input.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';

import {
  createEngine,
  EngineError,
  stylizeFile,
  type Engine,
  type EngineErrorCode,
  type Progress,
} from '../../../functions/engine';
import { DEFAULT_QUALITY } from '../../../functions/core';
import { resizeRgb } from '../../../functions/engine/image-io';
import { latentChannels, type ModelConfig } from '../../../trainer/config';
import { tpfr } from '../../../trainer/layers/tpfr';
import { colourStats } from '../../../trainer/layers/colour-head';
import { decode } from '../../../trainer/networks/decoder';
import { encode } from '../../../trainer/networks/encoder';
import type { ParamStore } from '../../../trainer/nn/params';
import { at, defined } from '../../support/checked';
import { exportTinyPackage, FIXTURES } from '../../support/tiny-package';

const fixture = (name: string): string => path.join(FIXTURES, name);
const photo = fixture('photo-1.jpg'); // 80×60
const painting = fixture('painting-1.jpg');

let dir: string;
let store: ParamStore;
let cfg: ModelConfig;
let engine: Engine;
let out: string;

beforeAll(async () => {
  ({ dir, store, cfg } = await exportTinyPackage(7));
  engine = await createEngine({ modelDir: dir, intraOpThreads: 1 });
  out = mkdtempSync(path.join(tmpdir(), 'peerstyle-out-'));
});

afterAll(() => {
  store.dispose();
  rmSync(dir, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
});

async function pixels(image: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

function maxDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  a.forEach((v, i) => (m = Math.max(m, Math.abs(v - at(b, i)))));
  return m;
}

async function codeOf(promise: Promise<unknown>): Promise<EngineErrorCode> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof EngineError) return err.code;
    throw err;
  }
  throw new Error('expected an EngineError');
}

describe('sizes', () => {
  test.each([
    [37, 23],
    [23, 41],
    [80, 60],
    [9, 5],
  ])('a %i×%i content keeps its size', async (width, height) => {
    const content = await sharp(photo).resize(width, height, { fit: 'fill' }).jpeg().toBuffer();
    const result = await engine.stylize({ content, styles: [{ image: painting }] });
    const meta = await sharp(result.image).metadata();
    expect([result.width, result.height, meta.width, meta.height, meta.format]).toEqual([
      width,
      height,
      width,
      height,
      'png',
    ]);
  });

  test('`size` sets the long side and keeps the aspect; EXIF orientation is applied', async () => {
    const sized = await engine.stylize({ content: photo, styles: [{ image: painting }], size: 40 });
    expect([sized.width, sized.height]).toEqual([40, 30]);
    const rotated = await engine.stylize({ content: fixture('exif-orientation-6.jpg'), styles: [{ image: painting }] });
    expect([rotated.width, rotated.height]).toEqual([60, 80]);
  });

  test.each(['grey.png', 'cmyk.jpg', 'alpha.png', 'photo-5.png', 'painting-4.webp'])(
    '%s decodes to an RGB output of its size',
    async (name) => {
      const meta = await sharp(fixture(name)).metadata();
      const result = await engine.stylize({
        content: fixture(name),
        styles: [{ image: fixture('painting-4.webp') }],
        format: 'jpeg',
        quality: 80,
      });
      const decoded = await sharp(result.image).metadata();
      expect([decoded.format, decoded.channels, decoded.width, decoded.height]).toEqual([
        'jpeg',
        3,
        meta.width,
        meta.height,
      ]);
    },
  );
});

describe('options', () => {
  test('the same request twice gives the same bytes', async () => {
    const a = await engine.stylize({ content: photo, styles: [{ image: painting }] });
    const b = await engine.stylize({ content: readFileSync(photo), styles: [{ image: readFileSync(painting) }] });
    expect(Buffer.compare(a.image, b.image)).toBe(0);
  });

  test('strength 0 is the main decoder’s reconstruction, computed by TF.js', async () => {
    const result = await engine.stylize({ content: photo, styles: [{ image: painting }], strength: 0 });
    const full = await engine.stylize({ content: photo, styles: [{ image: painting }], strength: 1 });
    // 80×60 is already a multiple of 4, so the engine encodes the decoded pixels as they are.
    const input = await pixels(readFileSync(photo));
    const expected = tf.tidy(() => {
      const x = tf.sub(tf.div(tf.tensor4d(Float32Array.from(input.data), [1, 60, 80, 3]), 127.5), 1) as tf.Tensor4D;
      // The reconstruction takes the content's own colour statistics.
      const y = decode(store, cfg, 'dec', encode(store, cfg, x).latent, colourStats(x));
      return Uint8Array.from(tf.round(tf.clipByValue(tf.mul(tf.add(y, 1), 127.5), 0, 255)).dataSync());
    });
    const got = await pixels(result.image);
    expect(maxDiff(got.data, expected)).toBeLessThanOrEqual(1);
    expect(maxDiff((await pixels(full.image)).data, expected)).toBeGreaterThan(8);
  });

  test('weights 1 and 0 equal the first style alone; two weighted styles differ from either', async () => {
    const alone = await engine.stylize({ content: photo, styles: [{ image: painting }] });
    const withZero = await engine.stylize({
      content: photo,
      styles: [
        { image: painting, weight: 1 },
        { image: fixture('painting-2.jpg'), weight: 0 },
      ],
    });
    const mixed = await engine.stylize({
      content: photo,
      styles: [
        { image: painting, weight: 0.7 },
        { image: fixture('painting-2.jpg'), weight: 0.3 },
      ],
    });
    expect(Buffer.compare(alone.image, withZero.image)).toBe(0);
    expect(maxDiff((await pixels(mixed.image)).data, (await pixels(alone.image)).data)).toBeGreaterThan(0);
  });

  test('TPFR in chunks of content rows equals one call over all rows', async () => {
    const chunked = await createEngine({ modelDir: dir, intraOpThreads: 1, tpfrChunkRows: 7 });
    const request = { content: photo, styles: [{ image: painting }, { image: fixture('painting-3.jpg') }] };
    const steps: Progress[] = [];
    const a = await chunked.stylize({ ...request, onProgress: (p) => steps.push(p) });
    const b = await engine.stylize(request);
    expect(maxDiff((await pixels(a.image)).data, (await pixels(b.image)).data)).toBeLessThanOrEqual(1);
    // 20×15 latent rows in chunks of 7: 43 TPFR calls, each reported.
    expect(steps.filter((s) => s.stage === 'transfer')).toHaveLength(43);
    expect(steps.map((s) => s.progress)).toEqual([...steps.map((s) => s.progress)].sort((x, y) => x - y));
    expect(steps.at(-1)).toEqual({ stage: 'write', progress: 1 });
  });

  test('preserve colour keeps the content’s chroma', async () => {
    const plain = await pixels((await engine.stylize({ content: photo, styles: [{ image: painting }] })).image);
    const kept = await pixels(
      (await engine.stylize({ content: photo, styles: [{ image: painting }], preserveColor: true })).image,
    );
    const content = await pixels(readFileSync(photo));
    const chroma = (p: Uint8Array): number[] => {
      const out: number[] = [];
      for (let i = 0; i < p.length; i += 3) {
        const [r, g, b] = [at(p, i), at(p, i + 1), at(p, i + 2)];
        out.push(-0.168736 * r - 0.331264 * g + 0.5 * b, 0.5 * r - 0.418688 * g - 0.081312 * b);
      }
      return out;
    };
    const meanGap = (a: number[], b: number[]): number =>
      a.reduce((s, v, i) => s + Math.abs(v - at(b, i)), 0) / a.length;
    const target = chroma(content.data);
    expect(meanGap(chroma(kept.data), target)).toBeLessThan(4);
    expect(meanGap(chroma(plain.data), target)).toBeGreaterThan(meanGap(chroma(kept.data), target) + 4);
  });

  test('structure keep decodes the content’s own structure codes with the recombined style codes (TF.js)', async () => {
    const kept = await pixels(
      (await engine.stylize({ content: photo, styles: [{ image: painting }], structure: 'keep' })).image,
    );
    const transferred = await pixels(
      (await engine.stylize({ content: photo, styles: [{ image: painting }], structure: 'transfer' })).image,
    );
    const byDefault = await pixels((await engine.stylize({ content: photo, styles: [{ image: painting }] })).image);
    // This package names no default, so both stages run.
    expect(maxDiff(byDefault.data, transferred.data)).toBe(0);
    const content = await pixels(readFileSync(photo));
    const style = await pixels(readFileSync(painting));
    const expected = tf.tidy(() => {
      const image = (p: { data: Uint8Array | Buffer; width: number; height: number }) =>
        tf.sub(tf.div(tf.tensor4d(Float32Array.from(p.data), [1, p.height, p.width, 3]), 127.5), 1) as tf.Tensor4D;
      const x = image(content);
      const s = image(style);
      const zc = encode(store, cfg, x).latent;
      const zs = encode(store, cfg, s).latent;
      const out = tpfr(store, cfg, zc, zs, { training: false }).output;
      const own = latentChannels(cfg).content;
      const mixed = tf.concat(
        [tf.slice(zc, [0, 0, 0, 0], [-1, -1, -1, own]), tf.slice(out, [0, 0, 0, own], [-1, -1, -1, -1])],
        3,
      );
      const y = decode(store, cfg, 'dec', mixed as tf.Tensor4D, colourStats(s));
      return Uint8Array.from(tf.round(tf.clipByValue(tf.mul(tf.add(y, 1), 127.5), 0, 255)).dataSync());
    });
    expect(maxDiff(kept.data, expected)).toBeLessThanOrEqual(1);
    expect(maxDiff(kept.data, transferred.data)).toBeGreaterThan(8);
  });

  test('a package’s defaults.structure applies when the request does not say', async () => {
    const copy = mkdtempSync(path.join(tmpdir(), 'peerstyle-defaults-'));
    for (const file of readdirSync(dir)) writeFileSync(path.join(copy, file), readFileSync(path.join(dir, file)));
    const manifest = JSON.parse(readFileSync(path.join(copy, 'manifest.json'), 'utf8'));
    writeFileSync(path.join(copy, 'manifest.json'), JSON.stringify({ ...manifest, defaults: { structure: 'keep' } }));
    const other = await createEngine({ modelDir: copy, intraOpThreads: 1 });
    try {
      const request = { content: photo, styles: [{ image: painting }] };
      const byDefault = await other.stylize(request);
      const kept = await engine.stylize({ ...request, structure: 'keep' });
      expect(Buffer.compare(byDefault.image, kept.image)).toBe(0);
      const transferred = await other.stylize({ ...request, structure: 'transfer' });
      expect(Buffer.compare(transferred.image, (await engine.stylize(request)).image)).toBe(0);
    } finally {
      await other.close();
      rmSync(copy, { recursive: true, force: true });
    }
  });

  test('a package’s defaults.styleSize applies when the request does not say', async () => {
    const copy = mkdtempSync(path.join(tmpdir(), 'peerstyle-defaults-'));
    for (const file of readdirSync(dir)) writeFileSync(path.join(copy, file), readFileSync(path.join(dir, file)));
    const manifest = JSON.parse(readFileSync(path.join(copy, 'manifest.json'), 'utf8'));
    writeFileSync(path.join(copy, 'manifest.json'), JSON.stringify({ ...manifest, defaults: { styleSize: 64 } }));
    const other = await createEngine({ modelDir: copy, intraOpThreads: 1 });
    try {
      const request = { content: photo, styles: [{ image: painting }] };
      const byDefault = await other.stylize(request);
      expect(Buffer.compare(byDefault.image, (await engine.stylize({ ...request, styleSize: 64 })).image)).toBe(0);
      // Without the default the style is read at another scale, which renders another image.
      expect(Buffer.compare(byDefault.image, (await engine.stylize(request)).image)).not.toBe(0);
      const asked = await other.stylize({ ...request, styleSize: 96 });
      expect(Buffer.compare(asked.image, (await engine.stylize({ ...request, styleSize: 96 })).image)).toBe(0);
    } finally {
      await other.close();
      rmSync(copy, { recursive: true, force: true });
    }
  });

  test('renderScale works at that many times the output’s size and shrinks the result to it', async () => {
    const request = { content: photo, styles: [{ image: painting }], size: 80, styleSize: 64, format: 'png' as const };
    const plain = await engine.stylize(request);
    const scaled = await engine.stylize({ ...request, renderScale: 2 });
    expect([scaled.width, scaled.height]).toEqual([plain.width, plain.height]);
    expect(Buffer.compare(scaled.image, plain.image)).not.toBe(0);
    // The same as rendering at twice the size and shrinking that with the engine's own resampling.
    const large = await pixels((await engine.stylize({ ...request, size: 160 })).image);
    const shrunk = await resizeRgb({ ...large, data: new Uint8Array(large.data) }, plain.width, plain.height);
    expect(maxDiff((await pixels(scaled.image)).data, shrunk.data)).toBe(0);
    for (const bad of [0.5, 5, Number.NaN]) {
      expect(await codeOf(engine.stylize({ ...request, renderScale: bad }))).toBe('BAD_OPTION');
    }
  });

  test('renderScale is lowered to keep the working image within the engine’s limits', async () => {
    const capped = await createEngine({ modelDir: dir, intraOpThreads: 1, limits: { maxLongSide: 160 } });
    try {
      const request = {
        content: photo,
        styles: [{ image: painting }],
        size: 80,
        styleSize: 64,
        format: 'png' as const,
      };
      const four = await capped.stylize({ ...request, renderScale: 4 });
      const two = await capped.stylize({ ...request, renderScale: 2 });
      expect(Buffer.compare(four.image, two.image)).toBe(0);
    } finally {
      await capped.close();
    }
  });

  test('a package’s defaults.renderScale applies when the request does not say; a request’s own wins', async () => {
    const copy = mkdtempSync(path.join(tmpdir(), 'peerstyle-defaults-'));
    for (const file of readdirSync(dir)) writeFileSync(path.join(copy, file), readFileSync(path.join(dir, file)));
    const manifest = JSON.parse(readFileSync(path.join(copy, 'manifest.json'), 'utf8'));
    writeFileSync(path.join(copy, 'manifest.json'), JSON.stringify({ ...manifest, defaults: { renderScale: 2 } }));
    const other = await createEngine({ modelDir: copy, intraOpThreads: 1 });
    try {
      const request = { content: photo, styles: [{ image: painting }], styleSize: 64 };
      const byDefault = await other.stylize(request);
      expect(Buffer.compare(byDefault.image, (await engine.stylize({ ...request, renderScale: 2 })).image)).toBe(0);
      expect(Buffer.compare(byDefault.image, (await engine.stylize(request)).image)).not.toBe(0);
      const asked = await other.stylize({ ...request, renderScale: 1 });
      expect(Buffer.compare(asked.image, (await engine.stylize(request)).image)).toBe(0);
    } finally {
      await other.close();
      rmSync(copy, { recursive: true, force: true });
    }
  });

  test('quality sets the JPEG and WebP encoder: lower is smaller; left out, it is sharp’s default', async () => {
    const request = { content: photo, styles: [{ image: painting }], size: 160 };
    for (const format of ['jpeg', 'webp'] as const) {
      const low = await engine.stylize({ ...request, format, quality: 10 });
      const high = await engine.stylize({ ...request, format, quality: 95 });
      const unset = await engine.stylize({ ...request, format });
      expect((await sharp(low.image).metadata()).format).toBe(format);
      expect(low.image.length).toBeLessThan(unset.image.length);
      expect(unset.image.length).toBeLessThan(high.image.length);
      expect(
        Buffer.compare(unset.image, (await engine.stylize({ ...request, format, quality: DEFAULT_QUALITY })).image),
      ).toBe(0);
    }
    // The default is what the engine wrote before the option existed: sharp's own.
    const raw = await sharp(photo).raw().toBuffer({ resolveWithObject: true });
    const encode = (options: { quality?: number }) =>
      sharp(raw.data, { raw: { width: raw.info.width, height: raw.info.height, channels: 3 } })
        .jpeg(options)
        .toBuffer();
    expect(Buffer.compare(await encode({}), await encode({ quality: DEFAULT_QUALITY }))).toBe(0);
    // PNG is lossless: quality changes nothing.
    const png = await engine.stylize({ ...request, format: 'png' });
    expect(Buffer.compare(png.image, (await engine.stylize({ ...request, format: 'png', quality: 10 })).image)).toBe(0);
  });

  test.each([
    [{ structure: 'both' }, /Unknown structure "both"\. Expected one of: keep, transfer/],
    [{ strength: 1.5 }, /strength must be between 0 and 1/],
    [{ format: 'gif' }, /Expected one of: png, jpeg, webp/],
    [{ quality: 0 }, /quality must be a whole number from 1 to 100, got 0/],
    [{ quality: 101 }, /quality must be a whole number from 1 to 100, got 101/],
    [{ size: 3 }, /size must be a whole number of pixels from 16 to 4096/],
    [{ styles: [] }, /At least one style/],
    [{ styles: [{ image: painting, weight: 0 }] }, /weight above 0/],
    [{ styles: [{ image: painting, weight: -1 }] }, /weight of style 1/],
  ])('bad option %j is BAD_OPTION', async (patch, message) => {
    const request = { content: photo, styles: [{ image: painting }], ...patch } as Parameters<Engine['stylize']>[0];
    await expect(engine.stylize(request)).rejects.toThrow(message);
    expect(await codeOf(engine.stylize(request))).toBe('BAD_OPTION');
  });
});

describe('bad input', () => {
  test.each<{ label: string; make: () => Promise<Buffer | string>; code: EngineErrorCode }>([
    { label: '0 bytes', make: async () => Buffer.alloc(0), code: 'EMPTY' },
    { label: 'text named .jpg', make: async () => fixture('corrupt.jpg'), code: 'INVALID_IMAGE' },
    { label: 'a missing file', make: async () => fixture('no-such-file.jpg'), code: 'INVALID_IMAGE' },
    { label: 'a truncated JPEG', make: async () => fixture('truncated.jpg'), code: 'TRUNCATED' },
    { label: 'a GIF', make: async () => sharp(photo).gif().toBuffer(), code: 'UNSUPPORTED_FORMAT' },
    { label: 'a TIFF', make: async () => sharp(photo).tiff().toBuffer(), code: 'UNSUPPORTED_FORMAT' },
    {
      label: 'an SVG',
      make: async () =>
        Buffer.from(
          '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"><rect width="20" height="20"/></svg>',
        ),
      code: 'UNSUPPORTED_FORMAT',
    },
    {
      label: '5000 px on the long side',
      make: async () =>
        sharp({ create: { width: 5000, height: 8, channels: 3, background: 'red' } })
          .png()
          .toBuffer(),
      code: 'TOO_LARGE',
    },
  ])('$label as content or style gives $code', async ({ make, code }) => {
    const bad = await make();
    expect(await codeOf(engine.stylize({ content: bad, styles: [{ image: painting }] }))).toBe(code);
    expect(await codeOf(engine.stylize({ content: photo, styles: [{ image: bad }] }))).toBe(code);
  });

  test('the pixel limit is read from the header', async () => {
    const small = await createEngine({ modelDir: dir, intraOpThreads: 1, limits: { maxPixels: 4000 } });
    await expect(small.stylize({ content: photo, styles: [{ image: painting }] })).rejects.toThrow(
      /80×60; the limit is 4096 px on the long side and 0\.0 MP/,
    );
  });
});

describe('cancellation', () => {
  test('an aborted signal stops the request with CANCELLED, and stylizeFile writes nothing', async () => {
    const aborted = new AbortController();
    aborted.abort();
    expect(
      await codeOf(engine.stylize({ content: photo, styles: [{ image: painting }], signal: aborted.signal })),
    ).toBe('CANCELLED');
    const during = new AbortController();
    const target = path.join(out, 'cancelled.png');
    const request = {
      content: photo,
      styles: [{ image: painting }],
      signal: during.signal,
      onProgress: (p: Progress) => p.stage === 'transfer' && during.abort(),
    };
    expect(await codeOf(stylizeFile(engine, request, target))).toBe('CANCELLED');
    expect(readdirSync(out)).toEqual([]);
  });

  test('stylizeFile writes the image on success', async () => {
    const target = path.join(out, 'done.webp');
    const result = await stylizeFile(engine, { content: photo, styles: [{ image: painting }], format: 'webp' }, target);
    expect(existsSync(target)).toBe(true);
    expect((await sharp(target).metadata()).format).toBe('webp');
    expect(readFileSync(target).equals(result.image)).toBe(true);
  });
});

describe('lifecycle', () => {
  test('engines over one package share its sessions until the last one closes', async () => {
    const a = await createEngine({ modelDir: dir, intraOpThreads: 2 });
    const b = await createEngine({ modelDir: path.join(dir, '.'), intraOpThreads: 2 });
    expect(a.manifest).toBe(b.manifest); // one load for the directory
    await a.close();
    const result = await b.stylize({ content: photo, styles: [{ image: painting }] });
    expect(result.width).toBe(80);
    expect(await codeOf(a.stylize({ content: photo, styles: [{ image: painting }] }))).toBe('BAD_OPTION');
    await b.close();
    const c = await createEngine({ modelDir: dir, intraOpThreads: 2 });
    expect(c.manifest).not.toBe(a.manifest); // reloaded after the last close
    expect(c.provider).toBe('cpu');
    await c.close();
  });

  test('asking for CUDA on a machine without it falls back to the CPU with a notice', async () => {
    const gpu = await createEngine({ modelDir: dir, intraOpThreads: 1, executionProvider: 'cuda' });
    // The CPU build of onnxruntime-node cannot start CUDA; a GPU build on a CUDA host runs there silently.
    if (gpu.provider === 'cpu')
      expect(gpu.notice).toMatch(/CUDA execution provider is unavailable .*running on the CPU/);
    else expect([gpu.provider, gpu.notice]).toEqual(['cuda', undefined]);
    const result = await gpu.stylize({ content: photo, styles: [{ image: painting }] });
    const reference = await engine.stylize({ content: photo, styles: [{ image: painting }] });
    expect(maxDiff((await pixels(result.image)).data, (await pixels(reference.image)).data)).toBeLessThanOrEqual(1);
    await gpu.close();
  });
});

describe('large images in tiles', () => {
  test('tiles with whole-image statistics give the untiled result', async () => {
    // Tiles of 16 px force a 5×4 grid on an 80×60 image, with the halo covering the receptive field.
    const tiled = await createEngine({ modelDir: dir, intraOpThreads: 1, tileAbovePixels: 0, tileSize: 16 });
    const request = { content: photo, styles: [{ image: painting }], styleSize: 64 };
    const steps: Progress[] = [];
    const a = await tiled.stylize({ ...request, onProgress: (p) => steps.push(p) });
    const b = await engine.stylize(request);
    expect([a.width, a.height]).toEqual([80, 60]);
    expect(maxDiff((await pixels(a.image)).data, (await pixels(b.image)).data)).toBeLessThanOrEqual(1);
    // Aborting as encoding starts is seen by the tile loop, before the next progress report.
    const stop = new AbortController();
    const cancelled = tiled.stylize({
      ...request,
      signal: stop.signal,
      onProgress: (p) => p.stage === 'encode' && stop.abort(),
    });
    expect(await codeOf(cancelled)).toBe('CANCELLED');
    await tiled.close();
  });
});

describe('preview', () => {
  test('a preview event carries a small JPEG before the full image is rendered', async () => {
    const events: Progress[] = [];
    const result = await engine.stylize({
      content: photo,
      styles: [{ image: painting }],
      styleSize: 64,
      size: 160,
      preview: 48,
      onProgress: (p) => events.push(p),
    });
    const previewAt = events.findIndex((p) => p.stage === 'preview');
    expect(previewAt).toBeGreaterThanOrEqual(0);
    // Before the content's full-size transfer and render.
    expect(events.findIndex((p) => p.stage === 'transfer' || p.stage === 'render')).toBeGreaterThan(previewAt);
    const preview = defined(events[previewAt]?.preview, 'the preview event’s image');
    const meta = await sharp(preview.image).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 48, 36]);
    expect([preview.width, preview.height]).toEqual([48, 36]);
    expect([result.width, result.height]).toEqual([160, 120]);
  });

  test('a request no larger than the preview gets the result itself as its preview, and none unasked', async () => {
    const events: Progress[] = [];
    const result = await engine.stylize({
      content: photo,
      styles: [{ image: painting }],
      styleSize: 64,
      preview: true,
      onProgress: (p) => events.push(p),
    });
    const previews = events.filter((p) => p.stage === 'preview');
    expect(previews).toHaveLength(1);
    expect([previews[0]!.preview!.width, previews[0]!.preview!.height]).toEqual([result.width, result.height]);
    const none: Progress[] = [];
    await engine.stylize({
      content: photo,
      styles: [{ image: painting }],
      styleSize: 64,
      onProgress: (p) => none.push(p),
    });
    expect(none.some((p) => p.stage === 'preview')).toBe(false);
    expect(await codeOf(engine.stylize({ content: photo, styles: [{ image: painting }], preview: 3 }))).toBe(
      'BAD_OPTION',
    );
  });
});
