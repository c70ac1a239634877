/**
 * A contact sheet a person can look at next to the table: one row per pair, with the content, the
 * style, the Reinhard baseline and the Peerstyle output side by side, column titles on top and the
 * file names under the first two images. Each image is fitted inside a square cell on white.
 */
import sharp, { type OverlayOptions } from 'sharp';
import { encodePng, type RgbImage } from './rgb-image';
import type { SheetRow } from './run-eval';

/** Side of the square cell each image is fitted into. */
export const SHEET_CELL = 160;
/** Space between and around cells. */
export const SHEET_GAP = 8;
/** Height of the column titles. */
export const SHEET_HEADER = 22;
/** Height of the caption line under each row. */
export const SHEET_CAPTION = 16;

const COLUMNS = [
  { method: 'content', title: 'content' },
  { method: 'style', title: 'style' },
  { method: 'reinhard', title: 'Reinhard' },
  { method: 'peerstyle', title: 'Peerstyle' },
] as const;

/** The pixel size of a sheet with `rows` rows. */
export function contactSheetSize(rows: number): { width: number; height: number } {
  return {
    width: COLUMNS.length * SHEET_CELL + (COLUMNS.length + 1) * SHEET_GAP,
    height: SHEET_HEADER + rows * (SHEET_CELL + SHEET_CAPTION + SHEET_GAP) + SHEET_GAP,
  };
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Shortens a caption to what fits under one cell at the caption's font size. */
function fit(text: string): string {
  const max = Math.floor(SHEET_CELL / 6.5);
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function cellLeft(column: number): number {
  return SHEET_GAP + column * (SHEET_CELL + SHEET_GAP);
}

function rowTop(row: number): number {
  return SHEET_HEADER + row * (SHEET_CELL + SHEET_CAPTION + SHEET_GAP);
}

async function tile(image: RgbImage): Promise<Buffer> {
  return sharp(await encodePng(image))
    .resize(SHEET_CELL, SHEET_CELL, { fit: 'contain', background: { r: 255, g: 255, b: 255 } })
    .png()
    .toBuffer();
}

/** Renders the sheet as PNG bytes; the size is {@link contactSheetSize}(rows.length). */
export async function renderContactSheet(rows: readonly SheetRow[]): Promise<Buffer> {
  const { width, height } = contactSheetSize(rows.length);
  const texts: string[] = COLUMNS.map(
    (c, i) =>
      `<text x="${cellLeft(i) + SHEET_CELL / 2}" y="${SHEET_HEADER - 7}" text-anchor="middle" font-size="13" font-weight="bold">${c.title}</text>`,
  );
  const layers: OverlayOptions[] = [];
  for (const [r, row] of rows.entries()) {
    for (const [i, column] of COLUMNS.entries()) {
      layers.push({ input: await tile(row.images[column.method]), left: cellLeft(i), top: rowTop(r) });
    }
    const y = rowTop(r) + SHEET_CELL + SHEET_CAPTION - 4;
    for (const [i, name] of [row.content, row.style].entries()) {
      texts.push(
        `<text x="${cellLeft(i) + SHEET_CELL / 2}" y="${y}" text-anchor="middle" font-size="11">${escapeXml(fit(name))}</text>`,
      );
    }
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><g font-family="sans-serif" fill="#222">${texts.join('')}</g></svg>`;
  layers.push({ input: Buffer.from(svg), left: 0, top: 0 });
  return sharp({ create: { width, height, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite(layers)
    .png()
    .toBuffer();
}
