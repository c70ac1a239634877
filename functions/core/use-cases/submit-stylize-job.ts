/**
 * `submitStylizeJob`: validates a stylize request and queues it.
 *
 * Everything a worker needs is resolved here, while the caller is still waiting and can be told what
 * is wrong: upload keys are checked to be the owner's images, saved styles are turned into their blob
 * keys, the model is checked to be one the owner may use, and the options are parsed into their
 * canonical form (`parseStylizeOptions`). The job's input is a `StylizeJobInput`: blob keys and checked
 * options, which the worker reads back with the same parser. Its uploads are copied first (see
 * `frozen-uploads.ts`), so the worker reads the bytes that were checked.
 */

import { DomainError, ErrorCode, badField } from '../errors';
import type { Job } from '../job';
import { DEFAULT_MODEL_ID } from '../ports/model-registry';
import {
  parseStylizeOptions,
  type StylizeJobInput,
  type StylizeJobStyle,
  type StylizeOptionsInput,
} from '../stylize-input';
import type { UseCaseDeps } from './deps';
import { enqueueJob } from './enqueue-job';
import { freezeJobInput } from './frozen-uploads';
import { requireOwnImage } from './uploads';

/** Most styles one job may mix. */
export const MAX_STYLES = 4;

/** One style to mix: a saved style or an upload. */
export interface StyleRefInput {
  styleId?: string | null;
  uploadKey?: string | null;
  weight?: number | null;
}

/** A stylize request as the API receives it. */
export interface StylizeRequest {
  content: string;
  styles: readonly StyleRefInput[];
  options?: StylizeOptionsInput | null;
  modelId?: string | null;
  idempotencyKey?: string | null;
}

async function resolveStyles(
  deps: Pick<UseCaseDeps, 'blobs' | 'styles'>,
  owner: string,
  refs: readonly StyleRefInput[],
): Promise<StylizeJobStyle[]> {
  if (refs.length < 1 || refs.length > MAX_STYLES)
    throw badField('styles', `give 1..${MAX_STYLES} styles, got ${refs.length}.`);
  const resolved: StylizeJobStyle[] = [];
  for (const [index, ref] of refs.entries()) {
    const field = `styles[${index}]`;
    const hasId = ref.styleId !== undefined && ref.styleId !== null;
    const hasKey = ref.uploadKey !== undefined && ref.uploadKey !== null;
    if (hasId === hasKey) throw badField(field, 'give exactly one of styleId and uploadKey.');
    const weight = ref.weight ?? 1;
    if (!Number.isFinite(weight) || weight <= 0 || weight > 1)
      throw badField(`${field}.weight`, `must be in (0, 1], got ${weight}.`);
    if (hasId) {
      const style = await deps.styles.get(ref.styleId as string, owner);
      if (style === null) {
        throw new DomainError(
          ErrorCode.NOT_FOUND,
          `${field}.styleId: no style with id ${JSON.stringify(ref.styleId)}.`,
          {
            field: `${field}.styleId`,
          },
        );
      }
      resolved.push({ key: style.blobKey, weight, styleId: style.id });
    } else {
      await requireOwnImage(deps.blobs, owner, ref.uploadKey as string, `${field}.uploadKey`);
      resolved.push({ key: ref.uploadKey as string, weight, styleId: null });
    }
  }
  return resolved;
}

/** Validates `request` and queues a STYLIZE job owned by `owner`. */
export async function submitStylizeJob(
  deps: Pick<UseCaseDeps, 'blobs' | 'styles' | 'models' | 'jobs' | 'queue' | 'starters' | 'events' | 'limits'>,
  owner: string,
  request: StylizeRequest,
): Promise<Job> {
  await requireOwnImage(deps.blobs, owner, request.content, 'content');
  const styles = await resolveStyles(deps, owner, request.styles);
  const options = parseStylizeOptions(request.options);
  const modelId = request.modelId ?? DEFAULT_MODEL_ID;
  const model = await deps.models.get(modelId, owner);
  if (model === null) {
    throw new DomainError(ErrorCode.NOT_FOUND, `modelId: no model with id ${JSON.stringify(modelId)}.`, {
      field: 'modelId',
    });
  }
  const input: StylizeJobInput = { ...options, contentKey: request.content, styles, modelId: model.id };
  // Copied last, once the request is known to be valid, so that a refused request leaves no copies.
  // Saved styles are copies already; only uploads named directly are copied here.
  const idempotencyKey = request.idempotencyKey ?? undefined;
  input.contentKey = await freezeJobInput(deps.blobs, owner, input.contentKey, 'content', idempotencyKey);
  for (const [index, style] of input.styles.entries()) {
    if (style.styleId === null) {
      style.key = await freezeJobInput(deps.blobs, owner, style.key, `styles[${index}]`, idempotencyKey);
    }
  }
  return enqueueJob(deps, {
    owner,
    kind: 'STYLIZE',
    input,
    ...(request.idempotencyKey != null ? { idempotencyKey: request.idempotencyKey } : {}),
  });
}
