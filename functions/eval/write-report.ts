/**
 * Writes an evaluation's three artefacts into one folder: eval.md (the table), eval.json (the same
 * figures for model cards and the manifest) and contact-sheet.png (the images behind the figures).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { renderContactSheet } from './contact-sheet';
import { formatMarkdown, toJson } from './report';
import type { EvalResult } from './run-eval';

/** Where {@link writeReport} put each file. */
export interface ReportFiles {
  markdown: string;
  json: string;
  contactSheet: string;
}

/**
 * Creates `outDir` if needed and writes the three files into it; returns their paths. `sheetCell` is
 * the contact sheet's cell side (contact-sheet.ts).
 */
export async function writeReport(
  outDir: string,
  result: EvalResult,
  modelDir?: string,
  sheetCell?: number,
): Promise<ReportFiles> {
  await fs.mkdir(outDir, { recursive: true });
  const files: ReportFiles = {
    markdown: path.join(outDir, 'eval.md'),
    json: path.join(outDir, 'eval.json'),
    contactSheet: path.join(outDir, 'contact-sheet.png'),
  };
  await fs.writeFile(files.markdown, formatMarkdown(result, modelDir));
  await fs.writeFile(files.json, `${JSON.stringify(toJson(result, modelDir), null, 2)}\n`);
  await fs.writeFile(files.contactSheet, await renderContactSheet(result.sheet, sheetCell));
  return files;
}
