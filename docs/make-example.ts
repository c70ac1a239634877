/**
 * Draws docs/example.jpg, the README's before/after figure: rows of content | style | result, stylised
 * with the bundled model (or `--model <dir>`) through the engine, as `peerstyle stylize` would.
 *
 *   npx tsx docs/make-example.ts [--model models/default] [--out docs/example.jpg]
 */
import path from 'node:path';
import sharp, { type OverlayOptions } from 'sharp';
import { createEngine } from '../functions/engine';

const ROOT = path.join(__dirname, '..');
const PAIRS: [string, string][] = [
  ['lighthouse.jpg', 'starry-night.jpg'],
  ['chelsea.jpg', 'landscape-coast.jpg'],
  ['corn-maze.jpg', 'terra.jpg'],
];
const CELL = 256;
const GAP = 6;

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = process.argv[i + 1];
  if (value === undefined) throw new Error(`--${name} needs a value.`);
  return value;
}

/** An image fitted into a CELL × CELL square on white. */
function cell(input: Buffer | string): Promise<Buffer> {
  return sharp(input).resize(CELL, CELL, { fit: 'contain', background: '#ffffff' }).removeAlpha().png().toBuffer();
}

async function main(): Promise<void> {
  const engine = await createEngine({ modelDir: path.resolve(flag('model', path.join(ROOT, 'models', 'default'))) });
  const tiles: OverlayOptions[] = [];
  try {
    for (const [row, [content, style]] of PAIRS.entries()) {
      const contentFile = path.join(ROOT, 'datasets', 'sample', 'content', content);
      const styleFile = path.join(ROOT, 'datasets', 'sample', 'style', style);
      const result = await engine.stylize({ content: contentFile, styles: [{ image: styleFile }] });
      const images = [await cell(contentFile), await cell(styleFile), await cell(result.image)];
      images.forEach((input, col) => tiles.push({ input, left: col * (CELL + GAP), top: row * (CELL + GAP) }));
    }
  } finally {
    await engine.close();
  }
  const out = path.resolve(flag('out', path.join(ROOT, 'docs', 'example.jpg')));
  await sharp({
    create: {
      width: 3 * CELL + 2 * GAP,
      height: PAIRS.length * CELL + (PAIRS.length - 1) * GAP,
      channels: 3,
      background: '#ffffff',
    },
  })
    .composite(tiles)
    .jpeg({ quality: 88 })
    .toFile(out);
  console.log(`Wrote ${out}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
