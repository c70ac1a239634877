/**
 * Reading the owner's models and styles: `listModels`, `getModel`, `listStyles`.
 */

import type { ModelInfo } from '../ports/model-registry';
import { MAX_PAGE_SIZE, type Page } from '../ports/page';
import type { Style } from '../ports/style-store';
import type { UseCaseDeps } from './deps';

/** The built-in model, then the owner's models newest first (every page, up to `maxItems`). */
export async function listModels(
  deps: Pick<UseCaseDeps, 'models'>,
  owner: string,
  maxItems = 500,
): Promise<ModelInfo[]> {
  const all: ModelInfo[] = [];
  let cursor: string | undefined;
  do {
    const page: Page<ModelInfo> = await deps.models.list(owner, {
      limit: MAX_PAGE_SIZE,
      ...(cursor ? { cursor } : {}),
    });
    all.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined && all.length < maxItems);
  return all.slice(0, maxItems);
}

/** A model the owner may use, or null. */
export async function getModel(
  deps: Pick<UseCaseDeps, 'models'>,
  owner: string,
  id: string,
): Promise<ModelInfo | null> {
  return deps.models.get(id, owner);
}

/** The owner's styles, newest first. */
export async function listStyles(
  deps: Pick<UseCaseDeps, 'styles'>,
  owner: string,
  input: { first?: number | null; after?: string | null } = {},
): Promise<Page<Style>> {
  return deps.styles.list(owner, {
    ...(input.first != null ? { limit: input.first } : {}),
    ...(input.after != null ? { cursor: input.after } : {}),
  });
}
