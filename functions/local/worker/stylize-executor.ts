/**
 * The executor for STYLIZE jobs: reads the content and style images from the blob store, asks the
 * stylize engine for the result, writes it back to the blob store and returns where it is.
 *
 * The engine's progress callbacks are synchronous and frequent; reports are chained so they reach the
 * store (and subscribers) in the order the engine made them, and the executor waits for the last one
 * before returning so no PROGRESS event can arrive after the job's final status.
 */

import { DomainError, ErrorCode, assertBlobKey, parseOneOf } from '../../core';
import type { BlobStore, Job, JsonValue, ModelRegistry, ProgressUpdate } from '../../core';
import {
  STYLIZE_FORMATS,
  type StylizeEngine,
  type StylizeFormat,
  type StylizeRequest,
} from '../../core/ports/stylize-engine';
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
  /** Where to write the result. @default `results/<job id>.<format>` */
  outputKey?: string;
}

/** What a finished STYLIZE job's result holds. */
export interface StylizeJobResult {
  outputKey: string;
  width: number;
  height: number;
  contentType: string;
}

function bad(message: string): DomainError {
  return new DomainError(ErrorCode.BAD_REQUEST, message, { field: 'input' });
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Checks a job's input, naming the first field that is wrong. */
export function parseStylizeInput(input: JsonValue): StylizeJobInput {
  if (!isRecord(input)) throw bad('A stylize job input must be an object.');
  if (typeof input.contentKey !== 'string') throw bad('A stylize job needs a "contentKey" string.');
  assertBlobKey(input.contentKey);
  if (!Array.isArray(input.styles) || input.styles.length === 0) throw bad('A stylize job needs at least one style.');
  const styles = input.styles.map((style, i) => {
    if (!isRecord(style) || typeof style.key !== 'string') throw bad(`Style ${i} needs a "key" string.`);
    assertBlobKey(style.key);
    if (style.weight !== undefined && (typeof style.weight !== 'number' || !(style.weight > 0))) {
      throw bad(`Style ${i} has weight ${String(style.weight)}; weights must be positive numbers.`);
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
  if (typeof input.outputKey === 'string') {
    assertBlobKey(input.outputKey);
    parsed.outputKey = input.outputKey;
  }
  return parsed;
}

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
    const enqueueReport = (update: ProgressUpdate): void => {
      reports = reports.then(() => context.report(update)).catch(() => undefined);
    };
    const output = await deps.engine.stylize(request, {
      signal: context.signal,
      onProgress: ({ progress, stage }) => enqueueReport({ progress: Math.min(1, Math.max(0, progress)), stage }),
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
