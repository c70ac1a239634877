/**
 * The contact sheet's layout: images keep their aspect ratio inside a square cell, and each row is as
 * tall as its tallest image, so a landscape pair's caption sits right under the pictures.
 */
import sharp from 'sharp';
import {
  contactSheetSize,
  fittedSize,
  renderContactSheet,
  SHEET_CAPTION,
  SHEET_CELL,
  SHEET_GAP,
  SHEET_HEADER,
} from '../../../functions/eval/contact-sheet';
import type { RgbImage } from '../../../functions/eval/rgb-image';
import { at } from '../../support/checked';

function solid(width: number, height: number, value: number): RgbImage {
  return { width, height, data: new Uint8Array(width * height * 3).fill(value) };
}

function row(width: number, height: number) {
  const image = solid(width, height, 40);
  return {
    content: 'c.jpg',
    style: 's.jpg',
    images: { content: image, style: image, reinhard: image, peerstyle: image },
  };
}

describe('fittedSize', () => {
  it('scales the longer side to the cell and keeps the aspect ratio', () => {
    expect(fittedSize({ width: 400, height: 200 })).toEqual({ width: SHEET_CELL, height: SHEET_CELL / 2 });
    expect(fittedSize({ width: 100, height: 400 })).toEqual({ width: SHEET_CELL / 4, height: SHEET_CELL });
    expect(fittedSize({ width: 80, height: 80 })).toEqual({ width: SHEET_CELL, height: SHEET_CELL });
  });
});

describe('renderContactSheet', () => {
  it('makes a landscape row only as tall as its images', async () => {
    const rows = [row(400, 200), row(300, 300)];
    const size = contactSheetSize(rows);
    const landscape = SHEET_CELL / 2;
    expect(size.height).toBe(SHEET_HEADER + landscape + SHEET_CELL + 2 * (SHEET_CAPTION + SHEET_GAP) + SHEET_GAP);

    const png = await renderContactSheet(rows);
    const meta = await sharp(png).metadata();
    expect({ width: meta.width, height: meta.height }).toEqual(size);
    // Crop first, then measure: sharp's stats() of a pipeline reads the whole input.
    const mean = async (top: number, height: number) => {
      const crop = await sharp(png).extract({ left: SHEET_GAP, top, width: SHEET_CELL, height }).png().toBuffer();
      return at((await sharp(crop).stats()).channels, 0).mean;
    };
    // The first image fills the row's whole height; the second row's image starts right after the caption.
    expect(await mean(SHEET_HEADER, landscape)).toBeCloseTo(40, 0);
    expect(await mean(SHEET_HEADER + landscape + SHEET_CAPTION + SHEET_GAP, SHEET_CELL)).toBeCloseTo(40, 0);
  });
});
