/**
 * A contact sheet a person can look at next to the table: one row per pair, with the content, the
 * style, the Reinhard baseline and the Peerstyle output side by side, column titles on top and the
 * file names under the first two images. Each image is scaled to fit a square cell, keeping its
 * aspect ratio; a row is as tall as its tallest image, so landscape pairs leave no empty band.
 */
import sharp, { type OverlayOptions } from 'sharp';
import { encodePng, type RgbImage } from './rgb-image';
import type { Method } from './run-eval';

/** The longest side an image takes on the sheet (each fits a square of this side). */
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
] as const satisfies readonly { method: Method; title: string }[];

interface Size {
  width: number;
  height: number;
}

/** One row of the sheet: the pair's file names and its four images (only their sizes are needed to lay it out). */
export interface SheetRowOf<Image extends Size> {
  content: string;
  style: string;
  images: Record<Method, Image>;
}

/** The size an image of `width × height` takes on the sheet. */
export function fittedSize({ width, height }: Size): Size {
  const scale = Math.min(SHEET_CELL / width, SHEET_CELL / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

function rowHeight(row: SheetRowOf<Size>): number {
  return Math.max(...COLUMNS.map((c) => fittedSize(row.images[c.method]).height));
}

/** The pixel size of the sheet of these rows. */
export function contactSheetSize(rows: readonly SheetRowOf<Size>[]): Size {
  return {
    width: COLUMNS.length * SHEET_CELL + (COLUMNS.length + 1) * SHEET_GAP,
    height: SHEET_HEADER + rows.reduce((sum, row) => sum + rowHeight(row) + SHEET_CAPTION + SHEET_GAP, 0) + SHEET_GAP,
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

async function scaled(image: RgbImage): Promise<{ png: Buffer; size: Size }> {
  const size = fittedSize(image);
  const png = await sharp(await encodePng(image))
    .resize(size.width, size.height, { fit: 'fill' })
    .png()
    .toBuffer();
  return { png, size };
}

/** Renders the sheet as PNG bytes; the size is {@link contactSheetSize}(rows). */
export async function renderContactSheet(rows: readonly SheetRowOf<RgbImage>[]): Promise<Buffer> {
  const { width, height } = contactSheetSize(rows);
  const texts: string[] = COLUMNS.map(
    (c, i) =>
      `<text x="${cellLeft(i) + SHEET_CELL / 2}" y="${SHEET_HEADER - 7}" text-anchor="middle" font-size="13" font-weight="bold">${c.title}</text>`,
  );
  const layers: OverlayOptions[] = [];
  let top = SHEET_HEADER;
  for (const row of rows) {
    const tall = rowHeight(row);
    for (const [i, column] of COLUMNS.entries()) {
      const { png, size } = await scaled(row.images[column.method]);
      // Centred in its cell across, and within the row's height down.
      const left = cellLeft(i) + Math.floor((SHEET_CELL - size.width) / 2);
      layers.push({ input: png, left, top: top + Math.floor((tall - size.height) / 2) });
    }
    const y = top + tall + SHEET_CAPTION - 4;
    for (const [i, name] of [row.content, row.style].entries()) {
      texts.push(
        `<text x="${cellLeft(i) + SHEET_CELL / 2}" y="${y}" text-anchor="middle" font-size="11">${escapeXml(fit(name))}</text>`,
      );
    }
    top += tall + SHEET_CAPTION + SHEET_GAP;
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><g font-family="sans-serif" fill="#222">${texts.join('')}</g></svg>`;
  layers.push({ input: Buffer.from(svg), left: 0, top: 0 });
  return sharp({ create: { width, height, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite(layers)
    .png()
    .toBuffer();
}
