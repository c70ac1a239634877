/**
 * The contract every `JobStore` adapter must pass: SQLite today, DynamoDB (against dynalite) later.
 *
 * It covers idempotent creation under concurrency, every legal and illegal status move through the
 * conditional `transition`, progress and cancellation, owner isolation, and cursor pagination that
 * neither repeats nor skips jobs while new ones arrive.
 */

import {
  ErrorCode,
  JOB_STATUSES,
  nextStatuses,
  type Job,
  type JobStatus,
  type JobStore,
  type TransitionPatch,
} from '../../functions/core';
import type { JsonValue } from '../../functions/core/json';
import { parseStylizeJobInput } from '../../functions/core/stylize-input';
import { expectDomainError } from '../support/expect-domain-error';

/** Builds a fresh, empty store and a way to dispose of it. */
export type JobStoreFactory = () => Promise<{ store: JobStore; close: () => Promise<void> }>;

/** Registers the job store contract tests under `name`. */
export function describeJobStoreContract(name: string, makeStore: JobStoreFactory): void {
  describe(`JobStore contract: ${name}`, () => {
    let store: JobStore;
    let close: () => Promise<void>;

    beforeEach(async () => {
      ({ store, close } = await makeStore());
    });
    afterEach(async () => {
      await close();
    });

    const submit = async (owner = 'alice', extra: { idempotencyKey?: string; kind?: 'STYLIZE' | 'TRAIN' } = {}) =>
      (await store.create({ owner, kind: extra.kind ?? 'STYLIZE', input: { content: 'c.jpg' }, ...extra })).job;

    /** Drives a new job into `status` along legal moves. */
    async function jobIn(status: JobStatus, cancelRequested = false): Promise<Job> {
      const job = await submit();
      if (status === 'QUEUED') return job;
      if (status === 'CANCELLED') return store.requestCancel(job.id);
      if (status === 'FAILED')
        return store.transition(job.id, 'QUEUED', 'FAILED', { error: { code: ErrorCode.INTERNAL, message: 'x' } });
      await store.transition(job.id, 'QUEUED', 'RUNNING');
      if (cancelRequested) await store.requestCancel(job.id);
      if (status === 'RUNNING') return (await store.get(job.id)) as Job;
      return store.transition(job.id, 'RUNNING', 'SUCCEEDED', { result: { output: 'out/x.png' } });
    }

    test('create makes a QUEUED job that get returns unchanged', async () => {
      const { job, created } = await store.create({
        owner: 'alice',
        kind: 'TRAIN',
        input: { steps: 10 },
        maxAttempts: 2,
      });
      expect(created).toBe(true);
      expect(job).toMatchObject({
        owner: 'alice',
        kind: 'TRAIN',
        status: 'QUEUED',
        progress: 0,
        attempts: 0,
        maxAttempts: 2,
        cancelRequested: false,
        input: { steps: 10 },
        result: null,
        error: null,
      });
      expect(await store.get(job.id)).toEqual(job);
    });

    test('the same idempotency key with the same request returns the existing job', async () => {
      const first = await store.create({
        owner: 'alice',
        kind: 'STYLIZE',
        input: { n: 1, opts: { a: 1, b: 2 } },
        idempotencyKey: 'k1',
      });
      // Key order does not matter: the request is compared in a normalised form.
      const again = await store.create({
        owner: 'alice',
        kind: 'STYLIZE',
        input: { opts: { b: 2, a: 1 }, n: 1 },
        idempotencyKey: 'k1',
      });
      expect(again.created).toBe(false);
      expect(again.job.id).toBe(first.job.id);
    });

    test('the same idempotency key with another request or kind is IDEMPOTENCY_CONFLICT', async () => {
      const first = await store.create({ owner: 'alice', kind: 'STYLIZE', input: { n: 1 }, idempotencyKey: 'k1' });
      const other = await expectDomainError(
        store.create({ owner: 'alice', kind: 'STYLIZE', input: { n: 2 }, idempotencyKey: 'k1' }),
        ErrorCode.IDEMPOTENCY_CONFLICT,
      );
      expect(other.message).toMatch(/^IDEMPOTENCY_CONFLICT: idempotency key "k1" was already used/);
      expect(other.details).toMatchObject({ jobId: first.job.id, kind: 'STYLIZE' });
      await expectDomainError(
        store.create({ owner: 'alice', kind: 'TRAIN', input: { n: 1 }, idempotencyKey: 'k1' }),
        ErrorCode.IDEMPOTENCY_CONFLICT,
      );
      expect((await store.list('alice')).items).toHaveLength(1);
    });

    test('a stylize job stored before inputs were canonical still answers its canonical retry', async () => {
      // Upper-case enums and no format: the form the stylize mutation stored before the one parser.
      const legacy = {
        contentKey: 'uploads/alice/c.png',
        styles: [{ key: 'uploads/alice/s.png' }],
        strength: 1,
        structure: 'KEEP',
      };
      const first = await store.create({ owner: 'alice', kind: 'STYLIZE', input: legacy, idempotencyKey: 'old' });
      const canonical = parseStylizeJobInput(legacy) as unknown as JsonValue;
      expect(canonical).not.toEqual(legacy);
      const again = await store.create({ owner: 'alice', kind: 'STYLIZE', input: canonical, idempotencyKey: 'old' });
      expect(again).toMatchObject({ created: false, job: { id: first.job.id } });
      await expectDomainError(
        store.create({
          owner: 'alice',
          kind: 'STYLIZE',
          input: { ...(canonical as Record<string, JsonValue>), strength: 0.5 },
          idempotencyKey: 'old',
        }),
        ErrorCode.IDEMPOTENCY_CONFLICT,
      );
    });

    test('concurrent creates with one key make exactly one job', async () => {
      const results = await Promise.all(
        Array.from({ length: 12 }, () =>
          store.create({ owner: 'alice', kind: 'STYLIZE', input: { n: 1 }, idempotencyKey: 'race' }),
        ),
      );
      expect(new Set(results.map((r) => r.job.id)).size).toBe(1);
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect((await store.list('alice')).items).toHaveLength(1);
    });

    test('a quota caps QUEUED and RUNNING jobs per owner, and training jobs separately', async () => {
      const quota = { maxActive: 3, maxActiveTraining: 1 };
      const make = (owner: string, kind: 'STYLIZE' | 'TRAIN' = 'STYLIZE', idempotencyKey?: string) =>
        store.create({ owner, kind, input: {}, ...(idempotencyKey !== undefined ? { idempotencyKey } : {}) }, quota);
      const first = (await make('alice', 'STYLIZE', 'k-first')).job;
      const second = (await make('alice')).job;
      await make('alice', 'TRAIN');
      const full = await expectDomainError(make('alice'), ErrorCode.QUOTA_EXCEEDED);
      expect(full.message).toBe(
        'QUOTA_EXCEEDED: at most 3 queued or running jobs per owner; wait for some to finish or cancel them.',
      );
      expect(full.details).toMatchObject({ limit: 3 });
      // A retried key still answers with its job at the cap; another owner is not affected.
      expect((await make('alice', 'STYLIZE', 'k-first')).job.id).toBe(first.id);
      expect((await make('bob')).created).toBe(true);
      // RUNNING still counts; a finished or cancelled job frees its place.
      await store.transition(first.id, 'QUEUED', 'RUNNING');
      await expectDomainError(make('alice'), ErrorCode.QUOTA_EXCEEDED);
      await store.transition(first.id, 'RUNNING', 'SUCCEEDED', { result: {} });
      await store.requestCancel(second.id);
      expect((await make('alice')).created).toBe(true);
      const training = await expectDomainError(make('alice', 'TRAIN'), ErrorCode.QUOTA_EXCEEDED);
      expect(training.message).toContain('at most 1 queued or running training jobs per owner');
      // A job made without a quota (the drop-folder intake) frees no place when it ends.
      await make('carol');
      await make('carol');
      await make('carol', 'TRAIN');
      const uncounted = (await store.create({ owner: 'carol', kind: 'STYLIZE', input: {} })).job;
      await store.requestCancel(uncounted.id);
      await expectDomainError(make('carol'), ErrorCode.QUOTA_EXCEEDED);
    });

    test('idempotency keys are per owner', async () => {
      const a = await submit('alice', { idempotencyKey: 'shared' });
      const b = await submit('bob', { idempotencyKey: 'shared' });
      expect(a.id).not.toBe(b.id);
      expect(b.owner).toBe('bob');
    });

    test('create rejects an unknown kind naming the valid ones', async () => {
      const error = await expectDomainError(
        store.create({ owner: 'alice', kind: 'STYLISE' as 'STYLIZE', input: null }),
        ErrorCode.BAD_REQUEST,
      );
      expect(error.message).toContain('STYLIZE, TRAIN');
    });

    test('get with another owner reads as absent; unknown ids are null', async () => {
      const job = await submit('alice');
      expect(await store.get(job.id, 'alice')).not.toBeNull();
      expect(await store.get(job.id, 'bob')).toBeNull();
      expect(await store.get('no-such-job')).toBeNull();
    });

    test('list shows only the owner’s jobs, filtered by status and kind', async () => {
      const a1 = await submit('alice');
      const a2 = await submit('alice', { kind: 'TRAIN' });
      await submit('bob');
      await store.transition(a1.id, 'QUEUED', 'RUNNING');
      expect((await store.list('alice')).items.map((j) => j.id)).toEqual([a2.id, a1.id]);
      expect((await store.list('alice', { status: 'RUNNING' })).items.map((j) => j.id)).toEqual([a1.id]);
      expect((await store.list('alice', { kind: 'TRAIN' })).items.map((j) => j.id)).toEqual([a2.id]);
      expect((await store.list('bob')).items.every((j) => j.owner === 'bob')).toBe(true);
      expect((await store.list('carol')).items).toEqual([]);
      await expectDomainError(store.list('alice', { status: 'DONE' as JobStatus }), ErrorCode.BAD_REQUEST);
    });

    test('cursor pagination is newest first, with no duplicates or gaps even while jobs are added', async () => {
      const made: string[] = [];
      for (let i = 0; i < 7; i += 1) made.push((await submit()).id);
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.list('alice', { limit: 3, cursor });
        seen.push(...page.items.map((j) => j.id));
        cursor = page.nextCursor;
        pages += 1;
        // Jobs created mid-way are newer than every cursor position, so they must not leak into later pages.
        await submit();
      } while (cursor !== undefined && pages < 10);
      expect(seen).toEqual([...made].reverse());
      await expectDomainError(store.list('alice', { cursor: 'garbage' }), ErrorCode.BAD_REQUEST);
    });

    const legal: [JobStatus, JobStatus, boolean, TransitionPatch][] = [
      ['QUEUED', 'RUNNING', false, {}],
      ['QUEUED', 'FAILED', false, { error: { code: ErrorCode.RETRIES_EXHAUSTED, message: 'dead-lettered' } }],
      ['RUNNING', 'SUCCEEDED', false, { result: { output: 'out/1.png' } }],
      ['RUNNING', 'FAILED', false, { error: { code: ErrorCode.INVALID_IMAGE, message: 'not an image' } }],
      ['RUNNING', 'CANCELLED', true, {}],
      ['RUNNING', 'QUEUED', false, { requeueReason: 'LEASE_LOST' }],
    ];
    test.each(legal)('legal: %s → %s', async (from, to, cancelRequested, patch) => {
      const job = await jobIn(from, cancelRequested);
      const moved = await store.transition(job.id, from, to, patch);
      expect(moved.status).toBe(to);
      expect(await store.get(job.id)).toEqual(moved);
      if (patch.result !== undefined) expect(moved.result).toEqual(patch.result);
      if (patch.error !== undefined) expect(moved.error).toEqual(patch.error);
      if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(to)) expect(moved.finishedAt).not.toBeNull();
    });

    const illegal: [JobStatus, JobStatus][] = [];
    for (const from of JOB_STATUSES) {
      for (const to of JOB_STATUSES) if (!nextStatuses(from).includes(to)) illegal.push([from, to]);
    }
    test.each(illegal)('illegal: %s → %s is ILLEGAL_TRANSITION and changes nothing', async (from, to) => {
      const job = await jobIn(from);
      const error = await expectDomainError(store.transition(job.id, from, to), ErrorCode.ILLEGAL_TRANSITION);
      expect(error.message).toContain(from);
      expect(await store.get(job.id)).toEqual(job);
    });

    test('RUNNING → QUEUED without a lost lease, and RUNNING → CANCELLED without a request, are illegal', async () => {
      const job = await jobIn('RUNNING');
      await expectDomainError(store.transition(job.id, 'RUNNING', 'QUEUED'), ErrorCode.ILLEGAL_TRANSITION);
      await expectDomainError(store.transition(job.id, 'RUNNING', 'CANCELLED'), ErrorCode.ILLEGAL_TRANSITION);
      expect((await store.get(job.id))?.status).toBe('RUNNING');
    });

    test('a transition from a stale status is CONFLICT, and only one of two racing workers wins', async () => {
      const job = await submit();
      const outcomes = await Promise.allSettled([
        store.transition(job.id, 'QUEUED', 'RUNNING'),
        store.transition(job.id, 'QUEUED', 'RUNNING'),
      ]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const loser = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
      expect(loser.reason.code).toBe(ErrorCode.CONFLICT);
      expect((await store.get(job.id))?.attempts).toBe(1);
      await expectDomainError(store.transition('missing', 'QUEUED', 'RUNNING'), ErrorCode.NOT_FOUND);
    });

    test('a retried job counts attempts and keeps its first start time', async () => {
      const job = await jobIn('RUNNING');
      const requeued = await store.transition(job.id, 'RUNNING', 'QUEUED', { requeueReason: 'LEASE_LOST' });
      const second = await store.transition(job.id, 'QUEUED', 'RUNNING');
      expect(requeued.progress).toBe(0);
      expect(second.attempts).toBe(2);
      expect(second.startedAt).toBe(job.startedAt);
    });

    test('a job handed back at shutdown gets its attempt back, even on its last attempt', async () => {
      let job = await jobIn('RUNNING');
      for (let round = 0; round < job.maxAttempts + 1; round += 1) {
        const queued = await store.transition(job.id, 'RUNNING', 'QUEUED', { requeueReason: 'SHUTDOWN' });
        expect(queued).toMatchObject({ status: 'QUEUED', attempts: 0 });
        job = await store.transition(job.id, 'QUEUED', 'RUNNING');
        expect(job.attempts).toBe(1);
      }
    });

    test('updateProgress records progress, stage, messages and metrics; terminal jobs refuse it', async () => {
      const job = await jobIn('RUNNING');
      await store.updateProgress(job.id, {
        progress: 0.25,
        stage: 'encoding',
        message: { level: 'INFO', text: 'started' },
      });
      const updated = await store.updateProgress(job.id, { metrics: { step: 5, values: { content: 1.5, style: 2 } } });
      expect(updated).toMatchObject({
        progress: 0.25,
        stage: 'encoding',
        metrics: { latest: { content: 1.5, style: 2 } },
      });
      expect(updated.messages.map((m) => m.text)).toEqual(['started']);
      expect(await store.get(job.id)).toEqual(updated);
      await expectDomainError(store.updateProgress(job.id, { progress: 1.5 }), ErrorCode.BAD_REQUEST);
      await store.transition(job.id, 'RUNNING', 'SUCCEEDED');
      await expectDomainError(store.updateProgress(job.id, { progress: 0.5 }), ErrorCode.CONFLICT);
      await expectDomainError(store.updateProgress('missing', { progress: 0.5 }), ErrorCode.NOT_FOUND);
    });

    test('a TRAIN job keeps the first model id recorded on it; concurrent reservations read back that one', async () => {
      const job = await submit('alice', { kind: 'TRAIN' });
      await store.transition(job.id, 'QUEUED', 'RUNNING');
      const [a, b] = await Promise.all([
        store.updateProgress(job.id, { trainedModelId: 'model-a' }),
        store.updateProgress(job.id, { trainedModelId: 'model-b' }),
      ]);
      const kept = (await store.get(job.id))?.trainedModelId;
      expect(['model-a', 'model-b']).toContain(kept);
      expect([a.trainedModelId, b.trainedModelId]).toEqual([kept, kept]);
      expect((await store.updateProgress(job.id, { trainedModelId: 'model-c' })).trainedModelId).toBe(kept);
      const stylize = await jobIn('RUNNING');
      await expectDomainError(store.updateProgress(stylize.id, { trainedModelId: 'model-d' }), ErrorCode.BAD_REQUEST);
    });

    test('cancelling a queued job cancels it at once', async () => {
      const job = await submit();
      const cancelled = await store.requestCancel(job.id, 'alice');
      expect(cancelled).toMatchObject({
        status: 'CANCELLED',
        cancelRequested: true,
        error: { code: ErrorCode.CANCELLED },
      });
      expect(await store.requestCancel(job.id)).toEqual(cancelled);
    });

    test('cancelling a running job flags it for the worker, which then moves it to CANCELLED', async () => {
      const job = await jobIn('RUNNING');
      const flagged = await store.requestCancel(job.id);
      expect(flagged).toMatchObject({ status: 'RUNNING', cancelRequested: true });
      expect((await store.transition(job.id, 'RUNNING', 'CANCELLED')).status).toBe('CANCELLED');
    });

    test('cancel is owner-checked and refused for finished jobs', async () => {
      const job = await submit('alice');
      await expectDomainError(store.requestCancel(job.id, 'bob'), ErrorCode.NOT_FOUND);
      expect((await store.get(job.id))?.status).toBe('QUEUED');
      const done = await jobIn('SUCCEEDED');
      await expectDomainError(store.requestCancel(done.id), ErrorCode.CONFLICT);
    });
  });
}
