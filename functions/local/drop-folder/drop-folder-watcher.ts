/**
 * `DropFolderWatcher`: turns images dropped into a folder into stylize jobs, and their results back into
 * files.
 *
 *     <root>/drop/<style-id>/<name>        put an image here
 *     <root>/out/<style-id>/<name>.png     the stylized result appears here ("dup.jpg" → "dup.jpg.png",
 *                                          so "dup.jpg" and "dup.png" never share an output)
 *     <root>/rejected/<style-id>/<name>    files that could not be used, with <name>.reason.txt
 *
 * The folder is polled; an `fs.watch` on drop/ only makes the next poll come sooner, because watch
 * events are unreliable across platforms and network mounts. A file is taken only once its size and
 * modification time have stayed the same for the settle period and across two polls, so a copy in
 * progress, even one that pauses, is not read half way. A file is then checked in the order that costs
 * least: its style folder, its size (from the stat), its format and dimensions (from its first bytes,
 * by `inspectDroppedImage`, the check the AWS intake runs too), and only then is it read whole and
 * decoded. Every file ends in out/ or in rejected/ with a reason: a file that cannot be taken for any
 * other reason is tried on three polls and then rejected with the error.
 *
 * A file refused while a writer still had it open (a copy stalled for longer than the settle period)
 * keeps changing under rejected/; such a file is moved back to drop/ and taken again once it settles.
 *
 * Every file taken is recorded in the ledger (path, size, time), so a restart neither repeats work nor
 * forgets jobs still running. Only drop/ is scanned, and results go to out/ and rejected/ beside it, so
 * the watcher can never react to what it wrote itself. Hidden files (a leading ".") are left alone:
 * copy tools write their temporary files that way.
 */

import { createHash, randomUUID } from 'node:crypto';
import { promises as fs, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import {
  BLOB_PREFIXES,
  IMAGE_EXTENSIONS,
  parseStylizeOptions,
  type BlobStore,
  type JobQueue,
  type JobStore,
  type StyleStore,
  type StylizeJobInput,
} from '../../core';
import { DEFAULT_DROP_LIMITS, inspectDroppedImage, type DropImageLimits } from '../../core/use-cases';
import { whyNotAnImage } from './check-dropped-image';
import { fileImageSource } from './file-image-source';
import type { DropEntry, SqliteDropLedger } from './sqlite-drop-ledger';

/** Polls on which taking one file may fail before it is rejected with the error. */
export const MAX_TAKE_TRIES = 3;
/** How long a rejected file is watched for changes that show a writer still had it open. */
export const REJECTED_WATCH_MS = 10 * 60 * 1000;

/** Options for `DropFolderWatcher`. */
export interface DropFolderWatcherOptions {
  /** The folder holding drop/, out/ and rejected/ (created if missing). */
  root: string;
  jobs: JobStore;
  queue: JobQueue;
  blobs: BlobStore;
  styles: StyleStore;
  ledger: SqliteDropLedger;
  /** Owner of the jobs made, and of the styles named by folder. @default "local" */
  owner?: string;
  /** Largest file accepted, in bytes. @default 20 MiB */
  maxBytes?: number;
  /** Interval between polls. @default 1000 */
  pollMs?: number;
  /** How long a file must stay unchanged before it is taken, in milliseconds. @default 2000 */
  settleMs?: number;
  /** Starts each job is allowed (the queue's delivery limit). @default DEFAULT_MAX_ATTEMPTS */
  maxAttempts?: number;
  /** Called with errors a poll survives, for logging. */
  onError?: (error: unknown) => void;
}

interface Observation {
  size: number;
  mtimeMs: number;
  /** When a poll first saw the file with this size and time. */
  since: number;
  /** Polls on which taking this version of the file failed. */
  failures: number;
}

/** A file just moved to rejected/, as it was when it was judged. */
interface Rejection {
  size: number;
  mtimeMs: number;
  until: number;
}

/** Watches a drop folder and turns new images into stylize jobs. */
export class DropFolderWatcher {
  private readonly owner: string;
  private readonly limits: DropImageLimits;
  private readonly pollMs: number;
  private readonly settleMs: number;
  /** Files not yet taken, as last seen; a file is taken once it has stayed so for the settle period. */
  private readonly observed = new Map<string, Observation>();
  /** Files recently moved to rejected/, by path, watched for a writer that still holds them. */
  private readonly rejections = new Map<string, Rejection>();
  private timer: NodeJS.Timeout | undefined;
  private watcher: FSWatcher | undefined;
  private scanning: Promise<void> | undefined;
  private running = false;

  constructor(private readonly options: DropFolderWatcherOptions) {
    this.owner = options.owner ?? 'local';
    this.limits = { ...DEFAULT_DROP_LIMITS, maxBytes: options.maxBytes ?? DEFAULT_DROP_LIMITS.maxBytes };
    this.pollMs = options.pollMs ?? 1000;
    this.settleMs = options.settleMs ?? 2000;
  }

  /** The folder users drop images into. */
  get dropDir(): string {
    return path.join(this.options.root, 'drop');
  }

  /** Where results are written. */
  get outDir(): string {
    return path.join(this.options.root, 'out');
  }

  /** Where unusable files are moved. */
  get rejectedDir(): string {
    return path.join(this.options.root, 'rejected');
  }

  /** Creates the folders and starts polling. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    for (const dir of [this.dropDir, this.outDir, this.rejectedDir]) await fs.mkdir(dir, { recursive: true });
    try {
      this.watcher = watch(this.dropDir, { recursive: true }, () => this.schedule(Math.min(100, this.pollMs)));
      this.watcher.on('error', () => undefined); // polling carries on without the hint
    } catch {
      // Recursive watching is not available everywhere; polling alone is enough.
    }
    this.schedule(0);
  }

  /** Stops polling and waits for a poll in progress. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.watcher?.close();
    await this.scanning;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      void this.scan()
        .catch((error: unknown) => this.options.onError?.(error))
        .finally(() => this.schedule(this.pollMs));
    }, delayMs);
  }

  /** One poll: delivers finished jobs, then takes files that stopped changing. Polls never overlap. */
  scan(): Promise<void> {
    this.scanning ??= this.scanOnce().finally(() => (this.scanning = undefined));
    return this.scanning;
  }

  private async scanOnce(): Promise<void> {
    for (const dir of [this.dropDir, this.outDir, this.rejectedDir]) await fs.mkdir(dir, { recursive: true });
    await this.deliverFinished();
    await this.returnStillWritten();
    const present = new Set<string>();
    for (const rel of await this.listDropped()) {
      present.add(rel);
      const stat = await fs.stat(path.join(this.dropDir, rel)).catch(() => null);
      if (stat === null || !stat.isFile()) continue;
      if (this.options.ledger.has(rel, stat.size, stat.mtimeMs)) continue;
      const now = Date.now();
      const seen = this.observed.get(rel);
      if (seen === undefined || seen.size !== stat.size || seen.mtimeMs !== stat.mtimeMs) {
        this.observed.set(rel, { size: stat.size, mtimeMs: stat.mtimeMs, since: now, failures: 0 });
        continue; // new, or still changing
      }
      if (now - seen.since < this.settleMs) continue;
      try {
        await this.take(rel, stat.size, stat.mtimeMs);
        this.observed.delete(rel);
      } catch (error) {
        this.options.onError?.(error);
        await this.failedToTake(rel, seen, error);
      }
    }
    for (const rel of this.observed.keys()) if (!present.has(rel)) this.observed.delete(rel);
  }

  /** Counts a failure to take a file; the last allowed one rejects the file with the error. */
  private async failedToTake(rel: string, seen: Observation, error: unknown): Promise<void> {
    seen.failures += 1;
    if (seen.failures < MAX_TAKE_TRIES) return; // tried again on the next poll
    this.observed.delete(rel);
    const message = error instanceof Error ? error.message : String(error);
    const entry: DropEntry = { path: rel, size: seen.size, mtimeMs: seen.mtimeMs, state: 'PENDING', jobId: null };
    await this.reject(entry, `INTERNAL: The drop folder could not take this file: ${message}`).catch(
      (rejectError: unknown) => this.options.onError?.(rejectError),
    );
  }

  /** Files under drop/, one style folder deep, skipping hidden (temporary) files. */
  private async listDropped(): Promise<string[]> {
    const found: string[] = [];
    const visible = (name: string): boolean => !name.startsWith('.');
    for (const entry of await fs.readdir(this.dropDir, { withFileTypes: true })) {
      if (!visible(entry.name)) continue;
      if (entry.isFile()) found.push(entry.name);
      if (!entry.isDirectory()) continue;
      const inner = await fs.readdir(path.join(this.dropDir, entry.name), { withFileTypes: true }).catch(() => []);
      for (const file of inner) if (file.isFile() && visible(file.name)) found.push(`${entry.name}/${file.name}`);
    }
    return found.sort();
  }

  /** Whether the dropped file is no longer the one judged (changed, replaced or removed). */
  private async changedSince(entry: DropEntry): Promise<boolean> {
    const stat = await fs.stat(path.join(this.dropDir, entry.path)).catch(() => null);
    return stat === null || stat.size !== entry.size || stat.mtimeMs !== entry.mtimeMs;
  }

  private async take(rel: string, size: number, mtimeMs: number): Promise<void> {
    const entry: DropEntry = { path: rel, size, mtimeMs, state: 'PENDING', jobId: null };
    const parts = rel.split('/');
    const [styleId] = parts;
    if (parts.length !== 2 || styleId === undefined) {
      return this.reject(entry, 'Images go in a folder named after a style id: drop/<style-id>/<image>.');
    }
    const style = await this.options.styles.get(styleId, this.owner);
    if (style === null) {
      const known = (await this.options.styles.list(this.owner, { limit: 100 })).items.map((s) => s.id);
      return this.reject(
        entry,
        `Unknown style id "${styleId}". Expected one of: ${known.length > 0 ? known.join(', ') : '(no styles saved yet)'}.`,
      );
    }
    // Size from the stat, then format and dimensions from the first bytes; nothing is decoded yet.
    const source = fileImageSource(path.join(this.dropDir, rel));
    const inspection = await inspectDroppedImage(source, this.limits);
    if (inspection.ok === 'gone') return;
    // The same "CODE: message" line as a job that fails later (deliverFinished) and as the AWS intake.
    if (!inspection.ok) return this.reject(entry, `${inspection.code}: ${inspection.reason}`);
    const bytes = await source.readStart(inspection.size);
    if (await this.changedSince(entry)) return; // a writer came back: the next polls wait for it to settle
    const why = await whyNotAnImage(bytes);
    if (why !== null) return this.reject(entry, `${why.code}: ${why.message}`);

    // The extension comes from the bytes, not the name, which may hold anything a file name can.
    const contentKey = `${BLOB_PREFIXES.drop}${this.owner}/${randomUUID()}${IMAGE_EXTENSIONS[inspection.contentType]}`;
    await this.options.blobs.put(contentKey, bytes);
    // The same file (path, size, time) always maps to the same job, even if the ledger write was lost.
    const idempotencyKey = `drop:${createHash('sha256').update(`${rel}\0${size}\0${mtimeMs}`).digest('hex')}`;
    const input: StylizeJobInput = {
      ...parseStylizeOptions({ format: 'png' }),
      contentKey,
      styles: [{ key: style.blobKey, weight: 1, styleId: style.id }],
      source: `${BLOB_PREFIXES.drop}${rel}`,
    };
    const { job, created, enqueued } = await this.options.jobs.create({
      owner: this.owner,
      kind: 'STYLIZE',
      idempotencyKey,
      ...(this.options.maxAttempts !== undefined ? { maxAttempts: this.options.maxAttempts } : {}),
      input,
    });
    if (created && enqueued !== true) await this.options.queue.enqueue(job.id, { owner: job.owner });
    this.options.ledger.record({ ...entry, jobId: job.id });
  }

  /** Moves a file to rejected/ with its reason, unless it changed since it was judged. */
  private async reject(entry: DropEntry, reason: string): Promise<void> {
    if (await this.changedSince(entry)) return; // judged on bytes that are no longer there
    const target = path.join(this.rejectedDir, entry.path);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.rename(path.join(this.dropDir, entry.path), target);
    await writeWhole(`${target}.reason.txt`, `${reason}\n`);
    this.options.ledger.record({ ...entry, state: 'REJECTED' });
    this.rejections.set(entry.path, {
      size: entry.size,
      mtimeMs: entry.mtimeMs,
      until: Date.now() + REJECTED_WATCH_MS,
    });
  }

  /**
   * Moves back to drop/ each recently rejected file that changed after it was judged: a writer still
   * had it open (a moved file keeps its open handles), so it was refused on bytes that were not all
   * there yet. Back in drop/, it is taken once it settles.
   */
  private async returnStillWritten(): Promise<void> {
    const now = Date.now();
    for (const [rel, judged] of this.rejections) {
      const rejected = path.join(this.rejectedDir, rel);
      const stat = await fs.stat(rejected).catch(() => null);
      if (stat === null || now > judged.until) {
        this.rejections.delete(rel);
        continue;
      }
      if (stat.size === judged.size && stat.mtimeMs === judged.mtimeMs) continue;
      this.rejections.delete(rel);
      const back = path.join(this.dropDir, rel);
      // A new file of the same name has been dropped meanwhile: that one wins, the rejection stands.
      if ((await fs.stat(back).catch(() => null)) !== null) continue;
      await fs.rename(rejected, back);
      await fs.rm(`${rejected}.reason.txt`, { force: true });
    }
  }

  /** Writes results of finished jobs to out/, and failures to rejected/. */
  private async deliverFinished(): Promise<void> {
    for (const entry of this.options.ledger.pending()) {
      const job = entry.jobId === null ? null : await this.options.jobs.get(entry.jobId);
      if (job === null) {
        this.options.ledger.settle(entry, 'FAILED');
        continue;
      }
      if (job.status === 'SUCCEEDED') {
        const result = job.result as { outputKey?: unknown } | null;
        if (typeof result?.outputKey !== 'string') throw new Error(`Job ${job.id} succeeded without an outputKey.`);
        // The whole source name plus ".png": unique per source, so "dup.jpg" and "dup.png" never collide.
        const name = `${path.posix.basename(entry.path)}.png`;
        const target = path.join(this.outDir, path.posix.dirname(entry.path), name);
        await fs.mkdir(path.dirname(target), { recursive: true });
        await writeWhole(target, await this.options.blobs.get(result.outputKey));
        this.options.ledger.settle(entry, 'DELIVERED');
      } else if (job.status === 'FAILED' || job.status === 'CANCELLED') {
        const target = path.join(this.rejectedDir, entry.path);
        await fs.mkdir(path.dirname(target), { recursive: true });
        await fs.copyFile(path.join(this.dropDir, entry.path), target).catch(() => undefined);
        await writeWhole(`${target}.reason.txt`, `${job.error?.code ?? job.status}: ${job.error?.message ?? ''}\n`);
        this.options.ledger.settle(entry, 'FAILED');
      }
    }
  }
}

/**
 * Writes a file beside its target and renames it into place, so a reader of out/ or rejected/ never
 * sees half a PNG or an empty reason: a file there is whole from the moment it appears.
 */
async function writeWhole(target: string, data: string | Uint8Array): Promise<void> {
  const partial = path.join(path.dirname(target), `.${path.basename(target)}.${randomUUID()}.partial`);
  await fs.writeFile(partial, data);
  await fs.rename(partial, target);
}
