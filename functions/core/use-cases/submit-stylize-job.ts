/**
 * `submitStylizeJob`: validates a stylize request and queues it.
 *
 * Everything a worker needs is resolved here, while the caller is still waiting and can be told what
 * is wrong: upload keys are checked to be the owner's images, saved styles are turned into their blob
 * keys, the model is checked to be one the owner may use, and options get their defaults. The job's
 * input therefore holds only blob keys and numbers, never anything the worker must re-validate. Its
 * uploads are copied first (see `frozen-uploads.ts`), so the worker reads the bytes that were checked.
 */

import { DomainError, ErrorCode, badField, parseOneOf } from '../errors';
import type { Job } from '../job';
import { DEFAULT_MODEL_ID } from '../ports/model-registry';
import type { UseCaseDeps } from './deps';
import { enqueueJob } from './enqueue-job';
import { freezeJobInput } from './frozen-uploads';
import { requireOwnImage } from './uploads';

/** Output formats a stylize job can write. */
export const IMAGE_FORMATS = ['JPEG', 'PNG', 'WEBP'] as const;
/** The API's structure modes (the engine's 'keep' and 'transfer', in GraphQL's upper case). */
export const STRUCTURE_MODES = ['KEEP', 'TRANSFER'] as const;
/** Output formats a stylize job can write. */
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/** Most styles one job may mix. */
export const MAX_STYLES = 4;
/** Smallest and largest output or style size, in pixels on the longest side. */
export const SIZE_RANGE = [64, 2048] as const;

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
  options?: {
    strength?: number | null;
    preserveColor?: boolean | null;
    structure?: string | null;
    size?: number | null;
    styleSize?: number | null;
    format?: string | null;
    preview?: boolean | null;
  } | null;
  modelId?: string | null;
  idempotencyKey?: string | null;
}

/** The job input a stylize worker receives. */
export interface StylizeJobInput {
  [key: string]: string | number | boolean | { key: string; weight: number; styleId: string | null }[];
  contentKey: string;
  styles: { key: string; weight: number; styleId: string | null }[];
  modelId: string;
  strength: number;
  preserveColor: boolean;
  // `structure` ('KEEP' or 'TRANSFER') is present only when the request chose one; otherwise the model's default applies.
  // `size` and `styleSize` likewise: without `size` the output has the content's own size (as the CLI's
  // does), and without `styleSize` the engine resamples the styles to the output's long side, at most 512 px.
  // `preview` too: without it the worker renders a preview for outputs over 512 px on the long side.
  format: ImageFormat;
}

function sizeOption(field: string, value: number | null | undefined): number | undefined {
  if (value === undefined || value === null) return undefined;
  const [lo, hi] = SIZE_RANGE;
  if (!Number.isInteger(value) || value < lo || value > hi)
    throw badField(field, `must be an integer in ${lo}..${hi}, got ${value}.`);
  return value;
}

async function resolveStyles(
  deps: Pick<UseCaseDeps, 'blobs' | 'styles'>,
  owner: string,
  refs: readonly StyleRefInput[],
): Promise<StylizeJobInput['styles']> {
  if (refs.length < 1 || refs.length > MAX_STYLES)
    throw badField('styles', `give 1..${MAX_STYLES} styles, got ${refs.length}.`);
  const resolved: StylizeJobInput['styles'] = [];
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
  const options = request.options ?? {};
  const strength = options.strength ?? 1;
  if (!Number.isFinite(strength) || strength < 0 || strength > 1)
    throw badField('options.strength', `must be in 0..1, got ${strength}.`);
  const size = sizeOption('options.size', options.size);
  const styleSize = sizeOption('options.styleSize', options.styleSize);
  if (options.preview != null && typeof options.preview !== 'boolean')
    throw badField('options.preview', `must be true or false, got ${JSON.stringify(options.preview)}.`);
  const modelId = request.modelId ?? DEFAULT_MODEL_ID;
  const model = await deps.models.get(modelId, owner);
  if (model === null) {
    throw new DomainError(ErrorCode.NOT_FOUND, `modelId: no model with id ${JSON.stringify(modelId)}.`, {
      field: 'modelId',
    });
  }
  const input: StylizeJobInput = {
    contentKey: request.content,
    styles,
    modelId: model.id,
    strength,
    preserveColor: options.preserveColor ?? false,
    ...(options.structure != null
      ? { structure: parseOneOf('options.structure', options.structure, STRUCTURE_MODES) }
      : {}),
    ...(size !== undefined ? { size } : {}),
    ...(styleSize !== undefined ? { styleSize } : {}),
    format: parseOneOf('options.format', options.format ?? 'JPEG', IMAGE_FORMATS),
    ...(options.preview != null ? { preview: options.preview } : {}),
  };
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
