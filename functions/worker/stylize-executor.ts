/**
 * The executor for STYLIZE jobs: reads the content and style images from the blob store, asks the
 * stylize engine for the result, writes it back to the blob store and returns where it is.
 *
 * The job's input is read with the core's parser (`parseStylizeJobInput`), the one that checked it at
 * submission, and its options go to the engine as they are: the executor names no option, so a new one
 * reaches the engine without a change here.
 *
 * The engine's progress callbacks are synchronous and frequent; reports are chained so they reach the
 * store (and subscribers) in the order the engine made them, and the executor waits for the last one
 * before returning so no PROGRESS event can arrive after the job's final status. A preview the engine
 * delivers is stored as a blob beside the result and then reported, in the same chain, so the job
 * names it only once it can be downloaded.
 */

import {
  DomainError,
  ErrorCode,
  IMAGE_EXTENSIONS,
  parseStylizeJobInput,
  stylizeContentType,
  type BlobStore,
  type Job,
  type JsonValue,
  type ModelRegistry,
  type ProgressUpdate,
  type StylizeFormat,
  type StylizeJobInput,
} from '../core';
import {
  PREVIEW_LONG_SIDE,
  type EncodedImage,
  type StylizeEngine,
  type StylizeRequest,
} from '../core/ports/stylize-engine';
import { detectImageType, readImageSize } from '../core/use-cases';
import type { ExecutionContext, JobExecutor } from './job-executor';

/** What a finished STYLIZE job's result holds. */
export interface StylizeJobResult {
  outputKey: string;
  width: number;
  height: number;
  contentType: string;
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

/** The blob key of a job's output (`<prefix><job id>.png`) or of its preview (`….preview.jpg`). */
export function resultKey(prefix: string, job: Job, format: StylizeFormat, preview = false): string {
  return `${prefix}${job.id}${preview ? '.preview' : ''}${IMAGE_EXTENSIONS[stylizeContentType(format)]}`;
}

/** Builds the STYLIZE executor over a blob store and an engine. */
export function createStylizeExecutor(deps: {
  blobs: BlobStore;
  engine: StylizeEngine;
  models: ModelRegistry;
  /**
   * Where outputs and previews are written, before `<job id>.<extension>`: `BLOB_PREFIXES.results` in
   * the local runtime, `BLOB_PREFIXES.out` (the results bucket) on AWS.
   */
  outputPrefix: string;
}): JobExecutor {
  const prefix = deps.outputPrefix;
  return async (job: Job, context: ExecutionContext): Promise<JsonValue> => {
    const input = parseStylizeJobInput(job.input);
    const { contentKey, styles, modelId, source: _source, ...options } = input;
    await context.report({ stage: 'reading images', progress: 0 });
    const [content, styleImages] = await Promise.all([
      deps.blobs.get(contentKey),
      Promise.all(styles.map(async (style) => ({ image: await deps.blobs.get(style.key), weight: style.weight }))),
    ]);
    const request: StylizeRequest = {
      ...options,
      content,
      styles: styleImages,
      preview: wantsPreview(input, content),
    };
    if (modelId !== undefined) {
      // Looked up as the job's owner, so a job cannot use another user's private model.
      const model = await deps.models.get(modelId, job.owner);
      if (model === null) {
        throw new DomainError(ErrorCode.NOT_FOUND, `No model "${modelId}" is available to this job's owner.`, {
          field: 'modelId',
        });
      }
      request.model = { id: model.id, packagePrefix: model.packagePrefix };
    }

    let reports: Promise<unknown> = Promise.resolve();
    const enqueue = (step: () => Promise<unknown>): void => {
      reports = reports.then(step).catch(() => undefined);
    };
    const storePreview = async (preview: EncodedImage, update: ProgressUpdate): Promise<void> => {
      const key = resultKey(prefix, job, preview.format, true);
      const contentType = stylizeContentType(preview.format);
      try {
        await deps.blobs.put(key, preview.image, { contentType });
      } catch (error) {
        // The preview is a courtesy: the job goes on without it, and its owner learns why.
        const why = error instanceof Error ? error.message : String(error);
        await context.report({ message: { level: 'WARN', text: `The preview could not be stored: ${why}` } });
        return;
      }
      const { width, height } = preview;
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

    const outputKey = resultKey(prefix, job, options.format);
    const contentType = stylizeContentType(output.format);
    await deps.blobs.put(outputKey, output.image, { contentType });
    const result: StylizeJobResult = { outputKey, width: output.width, height: output.height, contentType };
    return { ...result };
  };
}
