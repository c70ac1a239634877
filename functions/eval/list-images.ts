/**
 * Lists the image files of an evaluation folder, in a stable order, and refuses a folder that is
 * missing or holds no image with a message naming the folder, before any slow work starts.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp']);

/** Raised for an evaluation input that cannot be used; the message names the path. */
export class EvalInputError extends Error {
  override name = 'EvalInputError';
}

/**
 * The JPEG, PNG and WebP files directly inside `dir`, as absolute paths sorted by name.
 *
 * @param role how the folder is named in messages, such as "--content"
 * @throws EvalInputError when `dir` is missing, not a folder, or holds no image
 */
export async function listImages(dir: string, role: string): Promise<string[]> {
  const abs = path.resolve(dir);
  const stat = await fs.stat(abs).catch(() => undefined);
  if (!stat) throw new EvalInputError(`${role} folder ${abs} does not exist.`);
  if (!stat.isDirectory()) throw new EvalInputError(`${role} ${abs} is not a folder.`);
  const files = (await fs.readdir(abs, { withFileTypes: true }))
    .filter((e) => e.isFile() && IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase()))
    .map((e) => path.join(abs, e.name))
    .sort();
  if (!files.length) throw new EvalInputError(`${role} folder ${abs} holds no JPEG, PNG or WebP image.`);
  return files;
}
