/**
 * `describeJobResult`: turns a finished job's stored result into what its owner may fetch, with fresh
 * signed download URLs.
 *
 * URLs are made at read time and never stored, so they are always valid for the full configured
 * lifetime and a leaked old one stops working. Workers record results as
 * `{ outputKeys: string[] }` or `{ outputKey: string }` (stylize) and `{ modelId: string }` (training).
 */

import type { Job } from '../job';
import type { UseCaseDeps } from './deps';

/** A signed link to one output. */
export interface ResultDownload {
  url: string;
  expiresAt: string;
}

/** What a job produced, as shown to its owner. */
export interface JobResultView {
  downloads: ResultDownload[];
  modelId: string | null;
}

function outputKeys(result: Record<string, unknown>): string[] {
  const keys: string[] = [];
  if (typeof result.outputKey === 'string') keys.push(result.outputKey);
  if (Array.isArray(result.outputKeys))
    keys.push(...result.outputKeys.filter((k): k is string => typeof k === 'string'));
  return keys;
}

/** A fresh signed link to one stored blob the caller may read (a result, a saved style's image). */
export async function signedDownload(
  deps: Pick<UseCaseDeps, 'blobs' | 'clock' | 'limits'>,
  key: string,
): Promise<ResultDownload> {
  const ttl = deps.limits.downloadTtlSeconds;
  return {
    url: await deps.blobs.createDownloadUrl(key, ttl),
    expiresAt: new Date(deps.clock() + ttl * 1000).toISOString(),
  };
}

/** The job's result with download URLs, or null while it has none. */
export async function describeJobResult(
  deps: Pick<UseCaseDeps, 'blobs' | 'clock' | 'limits'>,
  job: Job,
): Promise<JobResultView | null> {
  const result = job.result;
  if (result === null || typeof result !== 'object' || Array.isArray(result)) return null;
  const ttl = deps.limits.downloadTtlSeconds;
  const expiresAt = new Date(deps.clock() + ttl * 1000).toISOString();
  const downloads = await Promise.all(
    outputKeys(result).map(async (key) => ({ url: await deps.blobs.createDownloadUrl(key, ttl), expiresAt })),
  );
  return { downloads, modelId: typeof result.modelId === 'string' ? result.modelId : null };
}
