/**
 * Close-ups for judging texture, which a contact sheet's thumbnails hide: one content stylised with
 * several styles by one or more model packages, each output's centre cropped and enlarged with nearest
 * neighbours. One row per package, one column per style; a header names the styles. Whether a model
 * draws each style's own texture, or one texture for all of them, shows across a row.
 *
 *   npx tsx bench/style-closeups.ts --content <image> --styles <image>,<image>,… \
 *     --models models/default[,<package>…] --out closeups.png [--size 256] [--crop 128] [--zoom 2]
 *
 * Renders with each package's own defaults (style side, render scale), as `peerstyle stylize` does.
 * Prints the rows' packages; never passes or fails.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp, { type OverlayOptions } from 'sharp';
import { createEngine } from '../functions/engine';
import { flag } from './support/flag';

const GAP = 4;
const HEADER = 18;
const LABEL = 18;

function list(name: string): string[] {
  const raw = flag(name, '');
  if (raw === '') throw new Error(`--${name} <a>,<b>,… is required.`);
  return raw.split(',').map((p) => path.resolve(p));
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function main(): Promise<void> {
  const content = path.resolve(flag('content', ''));
  if (flag('content', '') === '') throw new Error('--content <image> is required.');
  const styles = list('styles');
  const models = list('models');
  const out = flag('out', 'closeups.png');
  const size = Number(flag('size', '256'));
  const crop = Number(flag('crop', '128'));
  const zoom = Number(flag('zoom', '2'));
  const side = crop * zoom;
  const width = styles.length * side + (styles.length + 1) * GAP;
  const height = HEADER + models.length * (side + LABEL + GAP) + GAP;
  const layers: OverlayOptions[] = [];
  const texts = styles.map(
    (s, i) =>
      `<text x="${GAP + i * (side + GAP) + side / 2}" y="${HEADER - 5}" text-anchor="middle" font-size="12">${escapeXml(path.basename(s))}</text>`,
  );
  for (const [row, modelDir] of models.entries()) {
    const engine = await createEngine({ modelDir, intraOpThreads: 1 });
    const top = HEADER + row * (side + LABEL + GAP);
    try {
      for (const [column, style] of styles.entries()) {
        const result = await engine.stylize({ content, styles: [{ image: style }], size, format: 'png' });
        const meta = await sharp(result.image).metadata();
        const w = Math.min(crop, meta.width ?? crop);
        const h = Math.min(crop, meta.height ?? crop);
        const left = Math.floor(((meta.width ?? w) - w) / 2);
        const cropTop = Math.floor(((meta.height ?? h) - h) / 2);
        const closeup = await sharp(result.image)
          .extract({ left, top: cropTop, width: w, height: h })
          .resize(w * zoom, h * zoom, { kernel: 'nearest' })
          .removeAlpha()
          .png()
          .toBuffer();
        layers.push({ input: closeup, left: GAP + column * (side + GAP), top });
      }
    } finally {
      await engine.close();
    }
    const manifest = JSON.parse(await readFile(path.join(modelDir, 'manifest.json'), 'utf8')) as {
      name: string;
      version: string;
    };
    const label = `${manifest.name} ${manifest.version} (${path.basename(modelDir)}): ${path.basename(content)}`;
    texts.push(`<text x="${GAP}" y="${top + side + LABEL - 5}" font-size="12">${escapeXml(label)}</text>`);
    console.log(`row ${row + 1}: ${modelDir}`);
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><g font-family="sans-serif" fill="#222">${texts.join('')}</g></svg>`;
  layers.push({ input: Buffer.from(svg), left: 0, top: 0 });
  await sharp({ create: { width, height, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite(layers)
    .png()
    .toFile(out);
  console.log(`wrote ${out} (${width}×${height}; centre ${crop} px of each ${size} px output, ×${zoom})`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
