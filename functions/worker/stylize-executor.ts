/**
 * The executor for STYLIZE jobs: reads the content and style images from the blob store, asks the
 * stylize engine for the result, writes it back to the blob store and returns where it is.
 *
 * The engine's progress callbacks are synchronous and frequent; reports are chained so they reach the
 * store (and subscribers) in the order the engine made them, and the executor waits for the last one
 * before returning so no PROGRESS event can arrive after the job's final status. A preview the engine
 * delivers is stored as a blob beside the result and then reported, in the same chain, so the job
 * names it only once it can be downloaded.
 */

import { DomainError, ErrorCode, assertBlobKey, badRequest, isRecord, parseOneOf } from '../core';
import type { BlobStore, Job, JsonValue, ModelRegistry, ProgressUpdate } from '../core';
import {
  PREVIEW_LONG_SIDE,
  STYLIZE_FORMATS,
  type StylizeEngine,
  type StylizeFormat,
  type StylizePreview,
  type StylizeRequest,
} from '../core/ports/stylize-engine';
import { detectImageType, readImageSize } from '../core/use-cases';
import type { ExecutionContext, JobExecutor } from './job-executor';

/** What a STYLIZE job's input holds. */
export interface StylizeJobInput {
  /** Blob key of the content image. */
  contentKey: string;
  /** Blob keys of the style images, with optional blend weights. */
  styles: { key: string; weight?: number }[];
  modelId?: string;
  strength?: number;
  preserveColor?: boolean;
  structure?: 'keep' | 'transfer';
  size?: number;
  styleSize?: number;
  format?: StylizeFormat;
  /**
   * Deliver a preview first: true always, false never; absent, only for outputs whose long side is
   * over `PREVIEW_LONG_SIDE` (a smaller result is ready as soon as its preview would be).
   */
  preview?: boolean;
  /** Where to write the result. @default `results/<job id>.<format>` */
  outputKey?: string;
  /** Where to write the preview. @default `results/<job id>.preview.jpg` */
  previewKey?: string;
}

/** What a finished STYLIZE job's result holds. */
export interface StylizeJobResult {
  outputKey: string;
  width: number;
  height: number;
  contentType: string;
}

/** Checks a job's input, naming the first field that is wrong. */
export function parseStylizeInput(input: JsonValue): StylizeJobInput {
  if (!isRecord(input)) throw badRequest('A stylize job input must be an object.', 'input');
  if (typeof input.contentKey !== 'string') throw badRequest('A stylize job needs a "contentKey" string.', 'input');
  assertBlobKey(input.contentKey);
  if (!Array.isArray(input.styles) || input.styles.length === 0)
    throw badRequest('A stylize job needs at least one style.', 'input');
  const styles = input.styles.map((style, i) => {
    if (!isRecord(style) || typeof style.key !== 'string')
      throw badRequest(`Style ${i} needs a "key" string.`, 'input');
    assertBlobKey(style.key);
    if (style.weight !== undefined && (typeof style.weight !== 'number' || !(style.weight > 0))) {
      throw badRequest(`Style ${i} has weight ${String(style.weight)}; weights must be positive numbers.`, 'input');
    }
    return { key: style.key, ...(style.weight !== undefined ? { weight: style.weight } : {}) };
  });
  const parsed: StylizeJobInput = { contentKey: input.contentKey, styles };
  if (typeof input.modelId === 'string') parsed.modelId = input.modelId;
  if (typeof input.strength === 'number') parsed.strength = input.strength;
  if (typeof input.preserveColor === 'boolean') parsed.preserveColor = input.preserveColor;
  // Stored in GraphQL's upper case ("KEEP"), like the format.
  if (input.structure !== undefined) {
    const structure = typeof input.structure === 'string' ? input.structure.toLowerCase() : input.structure;
    parsed.structure = parseOneOf('structure', structure, ['keep', 'transfer'] as const);
  }
  if (typeof input.size === 'number') parsed.size = input.size;
  if (typeof input.styleSize === 'number') parsed.styleSize = input.styleSize;
  // The API stores formats in GraphQL's upper case ("PNG"); the engine speaks lower case.
  if (input.format !== undefined) {
    const format = typeof input.format === 'string' ? input.format.toLowerCase() : input.format;
    parsed.format = parseOneOf('output format', format, STYLIZE_FORMATS);
  }
  if (typeof input.preview === 'boolean') parsed.preview = input.preview;
  for (const key of ['outputKey', 'previewKey'] as const) {
    const value = input[key];
    if (typeof value === 'string') {
      assertBlobKey(value);
      parsed[key] = value;
    }
  }
  return parsed;
}

/**
 * Whether a job gets a preview: as its input says, else when its output's long side (the requested
 * size, or the content's own) is over `PREVIEW_LONG_SIDE`. A content whose header cannot be read gets
 * none; the engine will name what is wrong with it.
 */
export function wantsPreview(input: StylizeJobInput, content: Uint8Array): boolean {
  if (input.preview !== undefined) return input.preview;
  if (input.size !== undefined) return input.size > PREVIEW_LONG_SIDE;
  const type = detectImageType(content);
  const size = type === null || type === 'image/gif' ? null : readImageSize(content, type);
  return size !== null && Math.max(size.width, size.height) > PREVIEW_LONG_SIDE;
}

const EXTENSIONS: Readonly<Record<string, string>> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp' };

/** Builds the STYLIZE executor over a blob store and an engine. */
export function createStylizeExecutor(deps: {
  blobs: BlobStore;
  engine: StylizeEngine;
  models: ModelRegistry;
}): JobExecutor {
  return async (job: Job, context: ExecutionContext): Promise<JsonValue> => {
    const input = parseStylizeInput(job.input);
    await context.report({ stage: 'reading images', progress: 0 });
    const [content, ...styleBytes] = await Promise.all([
      deps.blobs.get(input.contentKey),
      ...input.styles.map((style) => deps.blobs.get(style.key)),
    ]);
    const request: StylizeRequest = {
      content,
      styles: input.styles.map((style, i) => ({ image: styleBytes[i], weight: style.weight ?? 1 })),
      format: input.format ?? 'png',
      ...(wantsPreview(input, content) && { preview: true }),
    };
    if (input.modelId !== undefined) {
      // Looked up as the job's owner, so a job cannot use another user's private model.
      const model = await deps.models.get(input.modelId, job.owner);
      if (model === null) {
        throw new DomainError(ErrorCode.NOT_FOUND, `No model "${input.modelId}" is available to this job's owner.`, {
          field: 'modelId',
        });
      }
      request.model = { id: model.id, packagePrefix: model.packagePrefix };
    }
    for (const key of ['strength', 'preserveColor', 'structure', 'size', 'styleSize'] as const) {
      if (input[key] !== undefined) Object.assign(request, { [key]: input[key] });
    }

    let reports: Promise<unknown> = Promise.resolve();
    const enqueue = (step: () => Promise<unknown>): void => {
      reports = reports.then(step).catch(() => undefined);
    };
    const storePreview = async (preview: StylizePreview, update: ProgressUpdate): Promise<void> => {
      const key = input.previewKey ?? `results/${job.id}.preview.${EXTENSIONS[preview.contentType] ?? 'img'}`;
      try {
        await deps.blobs.put(key, preview.bytes, { contentType: preview.contentType });
      } catch (error) {
        // The preview is a courtesy: the job goes on without it, and its owner learns why.
        const why = error instanceof Error ? error.message : String(error);
        await context.report({ message: { level: 'WARN', text: `The preview could not be stored: ${why}` } });
        return;
      }
      const { width, height, contentType } = preview;
      await context.report({ ...update, preview: { key, width, height, contentType } });
    };
    const output = await deps.engine.stylize(request, {
      signal: context.signal,
      onProgress: ({ progress, stage, preview }) => {
        const update = { progress: Math.min(1, Math.max(0, progress)), stage };
        enqueue(() => (preview ? storePreview(preview, update) : context.report(update)));
      },
    });
    await reports;
    context.signal.throwIfAborted();

    const outputKey = input.outputKey ?? `results/${job.id}.${request.format === 'jpeg' ? 'jpg' : request.format}`;
    await deps.blobs.put(outputKey, output.bytes, { contentType: output.contentType });
    const result: StylizeJobResult = {
      outputKey,
      width: output.width,
      height: output.height,
      contentType: output.contentType,
    };
    return { ...result };
  };
}
