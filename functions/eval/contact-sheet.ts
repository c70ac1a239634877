/**
 * A contact sheet a person can look at next to the table: one row per pair, with the content, the
 * style, the Reinhard baseline and the Peerstyle output side by side, column titles on top and the
 * file names under the first two images. Each image is scaled to fit a square cell, keeping its
 * aspect ratio; a row is as tall as its tallest image, so landscape pairs leave no empty band.
 */
import sharp, { type OverlayOptions } from 'sharp';
import { encodePng, type RgbImage } from './rgb-image';
import type { Method } from './run-eval';

/**
 * The longest side an image takes on the sheet by default (each fits a square of this side). Outputs
 * larger than the cell are shrunk, which hides fine texture: `peerstyle eval --sheet-cell <px>` sets it.
 */
export const SHEET_CELL = 160;
/** The cell sides `--sheet-cell` accepts. */
export const SHEET_CELL_RANGE = [64, 1024] as const;
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

/** The size an image of `width × height` takes on a sheet of `cell` px cells. */
export function fittedSize({ width, height }: Size, cell = SHEET_CELL): Size {
  const scale = Math.min(cell / width, cell / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

function rowHeight(row: SheetRowOf<Size>, cell: number): number {
  return Math.max(...COLUMNS.map((c) => fittedSize(row.images[c.method], cell).height));
}

/** The pixel size of the sheet of these rows with `cell` px cells. */
export function contactSheetSize(rows: readonly SheetRowOf<Size>[], cell = SHEET_CELL): Size {
  return {
    width: COLUMNS.length * cell + (COLUMNS.length + 1) * SHEET_GAP,
    height:
      SHEET_HEADER + rows.reduce((sum, row) => sum + rowHeight(row, cell) + SHEET_CAPTION + SHEET_GAP, 0) + SHEET_GAP,
  };
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Shortens a caption to what fits under one cell at the caption's font size. */
function fit(text: string, cell: number): string {
  const max = Math.floor(cell / 6.5);
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function cellLeft(column: number, cell: number): number {
  return SHEET_GAP + column * (cell + SHEET_GAP);
}

async function scaled(image: RgbImage, cell: number): Promise<{ png: Buffer; size: Size }> {
  const size = fittedSize(image, cell);
  const png = await sharp(await encodePng(image))
    .resize(size.width, size.height, { fit: 'fill' })
    .png()
    .toBuffer();
  return { png, size };
}

/** Renders the sheet as PNG bytes with `cell` px cells; the size is {@link contactSheetSize}(rows, cell). */
export async function renderContactSheet(rows: readonly SheetRowOf<RgbImage>[], cell = SHEET_CELL): Promise<Buffer> {
  const { width, height } = contactSheetSize(rows, cell);
  const texts: string[] = COLUMNS.map(
    (c, i) =>
      `<text x="${cellLeft(i, cell) + cell / 2}" y="${SHEET_HEADER - 7}" text-anchor="middle" font-size="13" font-weight="bold">${c.title}</text>`,
  );
  const layers: OverlayOptions[] = [];
  let top = SHEET_HEADER;
  for (const row of rows) {
    const tall = rowHeight(row, cell);
    for (const [i, column] of COLUMNS.entries()) {
      const { png, size } = await scaled(row.images[column.method], cell);
      // Centred in its cell across, and within the row's height down.
      const left = cellLeft(i, cell) + Math.floor((cell - size.width) / 2);
      layers.push({ input: png, left, top: top + Math.floor((tall - size.height) / 2) });
    }
    const y = top + tall + SHEET_CAPTION - 4;
    for (const [i, name] of [row.content, row.style].entries()) {
      texts.push(
        `<text x="${cellLeft(i, cell) + cell / 2}" y="${y}" text-anchor="middle" font-size="11">${escapeXml(fit(name, cell))}</text>`,
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
