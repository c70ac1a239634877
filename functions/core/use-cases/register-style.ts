/**
 * `registerStyle`: saves one of the owner's uploaded images under a name, for reuse in stylize jobs.
 */

import { DomainError, ErrorCode } from '../errors';
import type { Style } from '../ports/style-store';
import type { UseCaseDeps } from './deps';
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
  return deps.styles.create({ name, owner, blobKey: input.uploadKey });
}
