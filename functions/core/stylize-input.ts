/**
 * What a stylize job is asked to do, declared once: the option vocabulary (formats, structure modes),
 * the options themselves, the job input that carries them, and the one parser that checks them.
 *
 * Every producer of a stylize job (the `stylize` mutation through `submitStylizeJob`, the local drop
 * folder, the AWS drop intake) stores this shape, and the worker reads it back with the same parser,
 * so a field is named and checked in one place. The port's request, the engine's request and the
 * model package's default structure all take their option types from here, which is why adding an
 * option is a change to this file, the schema and the engine only.
 *
 * Options are stored canonical: enums in lower case (GraphQL sends `KEEP` and `PNG`; they are stored as
 * `keep` and `png`), defaults applied where the platform has one, absent where the default depends on
 * the model or the image. Parsing is case-insensitive, so records written in upper case before the
 * canonical form existed still read.
 */

import { assertBlobKey } from './blob-key';
import { DomainError, ErrorCode, badField, badRequest } from './errors';
import type { DecodableImageType } from './image-formats';
import { isRecord, type JsonValue } from './json';

/** Output encodings. */
export const STYLIZE_FORMATS = ['png', 'jpeg', 'webp'] as const;
/** An output encoding. */
export type StylizeFormat = (typeof STYLIZE_FORMATS)[number];

/** What TSPR's second stage does to the content's structure codes. */
export const STRUCTURE_MODES = ['keep', 'transfer'] as const;
/**
 * 'keep': TSPR's first stage only, the content keeps its own structure codes and takes the recombined
 * style codes (the paper's single-stage variant). 'transfer': both stages, the structure codes too are
 * recombined from the style's.
 */
export type StructureMode = (typeof STRUCTURE_MODES)[number];

/** Smallest and largest output or style size a job may ask for, in pixels on the long side. */
export const SIZE_RANGE = [64, 2048] as const;
/**
 * Smallest and largest render scale: how many times the output's size the model works at before the
 * result is shrunk to it (supersampling).
 */
export const RENDER_SCALE_RANGE = [1, 4] as const;
/** The format of a job whose request names none. */
export const DEFAULT_STYLIZE_FORMAT: StylizeFormat = 'jpeg';
/** Encoder quality a JPEG or WebP output may ask for. */
export const QUALITY_RANGE = [1, 100] as const;
/** Encoder quality of a JPEG or WebP output whose request names none (sharp's own default). */
export const DEFAULT_QUALITY = 80;

/** How to stylize, in canonical form. */
export type StylizeOptions = {
  /** 0 keeps the content, 1 is full stylization. @default 1 */
  strength: number;
  /** Keep the content's colours and take only the luminance from the stylized image. @default false */
  preserveColor: boolean;
  /** @default the model package's `defaults.structure`, else 'transfer' */
  structure?: StructureMode;
  /** Long side of the output in pixels. @default the content's own size */
  size?: number;
  /** Long side the style images are resampled to. @default the model package's `defaults.styleSize`, else the output's long side, at most 512 */
  styleSize?: number;
  /**
   * The model works on the content at this many times the output's size, and the result is shrunk to
   * it: finer strokes and a closer rendering of the content, for about scale² the time. The style is
   * read at `styleSize` whatever the scale. @default the model package's `defaults.renderScale`, else 1
   */
  renderScale?: number;
  /** @default DEFAULT_STYLIZE_FORMAT */
  format: StylizeFormat;
  /**
   * Encoder quality of a JPEG or WebP output, in QUALITY_RANGE: lower is smaller, with more artefacts.
   * PNG is lossless and ignores it. @default DEFAULT_QUALITY
   */
  quality?: number;
  /**
   * Deliver a small rendering before the result: true always, false never. Absent, the worker decides:
   * a preview for outputs whose long side is over 512 px, none for smaller ones.
   */
  preview?: boolean;
};

/**
 * The options as a caller sends them: any may be absent or null, enums in any case. Values are checked
 * by {@link parseStylizeOptions}, so stored JSON and GraphQL arguments are both accepted.
 */
export type StylizeOptionsInput = { readonly [K in keyof StylizeOptions]?: unknown };

/** One style of a job: the blob to read and its weight in the blend. */
export type StylizeJobStyle = {
  key: string;
  weight: number;
  /** The saved style the blob belongs to, or null for an upload named directly. */
  styleId: string | null;
};

/** A STYLIZE job's input, as stored and as the worker reads it. */
export type StylizeJobInput = StylizeOptions & {
  /** Blob key of the content image. */
  contentKey: string;
  styles: StylizeJobStyle[];
  /** The registered model to use; absent (drop-folder jobs) means the built-in one. */
  modelId?: string;
  /** Where a dropped image came from: kept for the record, not read by the worker. */
  source?: JsonValue;
};

/** The MIME type of an output format. */
export function stylizeContentType(format: StylizeFormat): DecodableImageType {
  return `image/${format}`;
}

/** Matches `value` against `allowed` whatever its case, and names the valid values when it fails. */
function parseEnum<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  const lower = typeof value === 'string' ? value.toLowerCase() : value;
  const found = allowed.find((option) => option === lower);
  if (found !== undefined) return found;
  throw new DomainError(
    ErrorCode.BAD_REQUEST,
    `Unknown ${field} ${JSON.stringify(value)}. Expected one of: ${allowed.join(', ')}.`,
    { field, allowed },
  );
}

/** An optional integer within `range`, inclusive. */
function parseIntegerIn(field: string, value: unknown, range: readonly [number, number]): number | undefined {
  if (value === undefined || value === null) return undefined;
  const [lo, hi] = range;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < lo || value > hi)
    throw badField(field, `must be an integer in ${lo}..${hi}, got ${String(value)}.`);
  return value;
}

/** An optional render scale within RENDER_SCALE_RANGE. */
export function parseRenderScale(field: string, value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRenderScale(value))
    throw badField(
      field,
      `must be a number in ${RENDER_SCALE_RANGE[0]}..${RENDER_SCALE_RANGE[1]}, got ${String(value)}.`,
    );
  return value;
}

/** Whether `value` is a render scale a request may ask for. */
export function isRenderScale(value: unknown): value is number {
  return (
    typeof value === 'number' &&
    Number.isFinite(value) &&
    value >= RENDER_SCALE_RANGE[0] &&
    value <= RENDER_SCALE_RANGE[1]
  );
}

function parseBoolean(field: string, value: unknown): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw badField(field, `must be true or false, got ${JSON.stringify(value)}.`);
  return value;
}

/**
 * Checks stylize options and returns them canonical, or throws BAD_REQUEST naming the first field that
 * is wrong and its valid range. `field` prefixes the names in messages (`options.size: …`).
 */
export function parseStylizeOptions(input: StylizeOptionsInput | null | undefined, field = 'options'): StylizeOptions {
  const raw = input ?? {};
  const strength = raw.strength ?? 1;
  if (typeof strength !== 'number' || !Number.isFinite(strength) || strength < 0 || strength > 1)
    throw badField(`${field}.strength`, `must be in 0..1, got ${String(strength)}.`);
  const structure =
    raw.structure === undefined || raw.structure === null
      ? undefined
      : parseEnum(`${field}.structure`, raw.structure, STRUCTURE_MODES);
  const size = parseIntegerIn(`${field}.size`, raw.size, SIZE_RANGE);
  const styleSize = parseIntegerIn(`${field}.styleSize`, raw.styleSize, SIZE_RANGE);
  const quality = parseIntegerIn(`${field}.quality`, raw.quality, QUALITY_RANGE);
  const renderScale = parseRenderScale(`${field}.renderScale`, raw.renderScale);
  const preview = parseBoolean(`${field}.preview`, raw.preview);
  return {
    strength,
    preserveColor: parseBoolean(`${field}.preserveColor`, raw.preserveColor) ?? false,
    ...(structure !== undefined && { structure }),
    ...(size !== undefined && { size }),
    ...(styleSize !== undefined && { styleSize }),
    ...(renderScale !== undefined && { renderScale }),
    format: parseEnum(`${field}.format`, raw.format ?? DEFAULT_STYLIZE_FORMAT, STYLIZE_FORMATS),
    ...(quality !== undefined && { quality }),
    ...(preview !== undefined && { preview }),
  };
}

/**
 * Reads a stored STYLIZE job input back into its type, checking it with the same rules as at
 * submission; a record that does not hold is BAD_REQUEST naming the first field at fault.
 */
export function parseStylizeJobInput(input: JsonValue): StylizeJobInput {
  if (!isRecord(input)) throw badRequest('A stylize job input must be an object.', 'input');
  if (typeof input.contentKey !== 'string') throw badRequest('A stylize job needs a "contentKey" string.', 'input');
  assertBlobKey(input.contentKey);
  if (!Array.isArray(input.styles) || input.styles.length === 0)
    throw badRequest('A stylize job needs at least one style.', 'input');
  const styles = input.styles.map((style, i): StylizeJobStyle => {
    if (!isRecord(style) || typeof style.key !== 'string')
      throw badRequest(`Style ${i} needs a "key" string.`, 'input');
    assertBlobKey(style.key);
    const weight = style.weight ?? 1;
    if (typeof weight !== 'number' || !(weight > 0))
      throw badRequest(`Style ${i} has weight ${String(style.weight)}; weights must be positive numbers.`, 'input');
    return { key: style.key, weight, styleId: typeof style.styleId === 'string' ? style.styleId : null };
  });
  if (input.modelId !== undefined && typeof input.modelId !== 'string')
    throw badRequest('A stylize job\'s "modelId" must be a string.', 'input');
  return {
    ...parseStylizeOptions(input, 'input'),
    contentKey: input.contentKey,
    styles,
    ...(input.modelId !== undefined && { modelId: input.modelId }),
    ...(input.source !== undefined && { source: input.source }),
  };
}
