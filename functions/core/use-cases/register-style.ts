/**
 * `registerStyle`: saves one of the owner's uploaded images under a name, for reuse in stylize jobs.
 * The style keeps a copy of the upload (see `frozen-uploads.ts`), which neither expires nor changes
 * when the upload's form is posted again.
 */

import { DomainError, ErrorCode } from '../errors';
import type { Style } from '../ports/style-store';
import type { UseCaseDeps } from './deps';
import { saveStyleImage } from './frozen-uploads';
import { requireOwnImage } from './uploads';

/** Longest style name accepted. */
export const MAX_STYLE_NAME_LENGTH = 100;

/** Saves `uploadKey` as a style named `name`. */
export async function registerStyle(
  deps: Pick<UseCaseDeps, 'blobs' | 'styles'>,
  owner: string,
  input: { name: string; uploadKey: string },
): Promise<Style> {
  const name = input.name.trim();
  if (name.length === 0 || name.length > MAX_STYLE_NAME_LENGTH) {
    throw new DomainError(ErrorCode.BAD_REQUEST, `A style name must be 1..${MAX_STYLE_NAME_LENGTH} characters.`, {
      field: 'name',
    });
  }
  await requireOwnImage(deps.blobs, owner, input.uploadKey, 'uploadKey');
  const blobKey = await saveStyleImage(deps.blobs, owner, input.uploadKey);
  return deps.styles.create({ name, owner, blobKey });
}
