/**
 * Unit tests of the job state machine and its pure helpers, on hand-built jobs and fixed times.
 */

import {
  appendMessage,
  applyProgress,
  createJob,
  DomainError,
  ErrorCode,
  MAX_JOB_MESSAGES,
  MAX_METRIC_POINTS,
  recordMetrics,
  requestCancellation,
  transitionJob,
  type Job,
} from '../../../functions/core';
import { expectDomainError } from '../../support/expect-domain-error';

const T0 = Date.parse('2030-05-01T10:00:00Z');
const fresh = (maxAttempts = 2): Job =>
  createJob('j1', { owner: 'alice', kind: 'STYLIZE', input: { a: 1 }, maxAttempts }, T0);

describe('createJob', () => {
  test('starts QUEUED with empty bookkeeping and the given time', () => {
    const job = fresh();
    expect(job).toMatchObject({ status: 'QUEUED', attempts: 0, progress: 0, createdAt: '2030-05-01T10:00:00.000Z' });
    expect(job.updatedAt).toBe(job.createdAt);
    expect(job.startedAt).toBeNull();
  });

  test('rejects bad input with messages naming the valid options', async () => {
    const kind = await expectDomainError(
      () => createJob('x', { owner: 'a', kind: 'TRAINING' as 'TRAIN', input: null }, T0),
      ErrorCode.BAD_REQUEST,
    );
    expect(kind.message).toBe('Unknown job kind "TRAINING". Expected one of: STYLIZE, TRAIN.');
    await expectDomainError(() => createJob('x', { owner: '', kind: 'TRAIN', input: null }, T0), ErrorCode.BAD_REQUEST);
    await expectDomainError(
      () => createJob('x', { owner: 'a', kind: 'TRAIN', input: null, maxAttempts: 0 }, T0),
      ErrorCode.BAD_REQUEST,
    );
    await expectDomainError(
      () => createJob('x', { owner: 'a', kind: 'TRAIN', input: null, idempotencyKey: 'k'.repeat(257) }, T0),
      ErrorCode.BAD_REQUEST,
    );
  });
});

describe('transitionJob', () => {
  test('QUEUED → RUNNING counts an attempt and stamps the start once', () => {
    const running = transitionJob(fresh(), 'RUNNING', T0 + 1000);
    expect(running).toMatchObject({ status: 'RUNNING', attempts: 1, startedAt: '2030-05-01T10:00:01.000Z' });
    const requeued = transitionJob({ ...running, progress: 0.6 }, 'QUEUED', T0 + 2000, { requeueReason: 'LEASE_LOST' });
    expect(requeued.progress).toBe(0);
    const again = transitionJob(requeued, 'RUNNING', T0 + 3000);
    expect(again).toMatchObject({ attempts: 2, startedAt: '2030-05-01T10:00:01.000Z' });
  });

  test('a retry is refused once all attempts are used', () => {
    let job = transitionJob(fresh(2), 'RUNNING', T0);
    job = transitionJob(job, 'QUEUED', T0, { requeueReason: 'LEASE_LOST' });
    job = transitionJob(job, 'RUNNING', T0);
    expect(() => transitionJob(job, 'QUEUED', T0, { requeueReason: 'LEASE_LOST' })).toThrow(/all 2 attempts are used/);
    expect(transitionJob(job, 'FAILED', T0).status).toBe('FAILED');
  });

  test('illegal moves say what is allowed instead', () => {
    const done = transitionJob(transitionJob(fresh(), 'RUNNING', T0), 'SUCCEEDED', T0 + 5);
    expect(done).toMatchObject({ progress: 1, finishedAt: '2030-05-01T10:00:00.005Z' });
    let caught: unknown;
    try {
      transitionJob(done, 'RUNNING', T0);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DomainError);
    expect((caught as DomainError).code).toBe(ErrorCode.ILLEGAL_TRANSITION);
    expect((caught as DomainError).message).toContain('SUCCEEDED is terminal');
    expect(() => transitionJob(fresh(), 'SUCCEEDED', T0)).toThrow('it may move to: RUNNING, CANCELLED, FAILED');
    expect(() => transitionJob(fresh(), 'DONE' as 'FAILED', T0)).toThrow(/Expected one of: QUEUED, RUNNING/);
  });

  test('the patch is applied with the move, and the input is not mutated', () => {
    const running = transitionJob(fresh(), 'RUNNING', T0);
    const snapshot = JSON.stringify(running);
    const failed = transitionJob(running, 'FAILED', T0 + 1, {
      error: { code: ErrorCode.INVALID_IMAGE, message: 'not a JPEG' },
      message: { level: 'ERROR', text: 'decode failed' },
    });
    expect(failed.error).toEqual({ code: ErrorCode.INVALID_IMAGE, message: 'not a JPEG' });
    expect(failed.messages.map((m) => m.text)).toEqual(['decode failed']);
    expect(JSON.stringify(running)).toBe(snapshot);
  });
});

describe('progress helpers', () => {
  test('messages are bounded to the newest ones and long texts are cut', () => {
    let job = fresh();
    for (let i = 0; i < MAX_JOB_MESSAGES + 5; i += 1) job = appendMessage(job, 'INFO', `m${i}`, T0 + i);
    expect(job.messages).toHaveLength(MAX_JOB_MESSAGES);
    expect(job.messages[0]?.text).toBe('m5');
    expect(appendMessage(job, 'WARN', 'x'.repeat(5000), T0).messages.at(-1)?.text.length).toBe(1000);
  });

  test('metrics keep the latest value per name and a bounded history', () => {
    let job = fresh();
    for (let step = 0; step < MAX_METRIC_POINTS + 10; step += 1) {
      job = recordMetrics(job, step, step % 2 === 0 ? { content: step } : { style: step }, T0);
    }
    expect(job.metrics.latest).toEqual({ content: MAX_METRIC_POINTS + 8, style: MAX_METRIC_POINTS + 9 });
    expect(job.metrics.history).toHaveLength(MAX_METRIC_POINTS);
    expect(job.metrics.history[0]?.step).toBe(10);
    expect(() => recordMetrics(job, 1, { content: Number.NaN }, T0)).toThrow('must be a finite number');
  });

  test('applyProgress validates progress and refuses finished jobs', async () => {
    const running = transitionJob(fresh(), 'RUNNING', T0);
    expect(applyProgress(running, { progress: 0.5, stage: 'decode' }, T0).progress).toBe(0.5);
    await expectDomainError(() => applyProgress(running, { progress: -0.1 }, T0), ErrorCode.BAD_REQUEST);
    const cancelled = requestCancellation(fresh(), T0);
    await expectDomainError(() => applyProgress(cancelled, { progress: 0.1 }, T0), ErrorCode.CONFLICT);
  });

  test('applyProgress records a preview, keeps it through later reports, and checks its key and sides', async () => {
    const running = transitionJob(fresh(), 'RUNNING', T0);
    expect(running.preview).toBeUndefined();
    const preview = { key: 'results/j1.preview.jpg', width: 512, height: 384, contentType: 'image/jpeg' };
    const shown = applyProgress(running, { progress: 0.2, stage: 'preview', preview }, T0);
    expect(shown.preview).toEqual(preview);
    expect(applyProgress(shown, { progress: 0.5, stage: 'transfer' }, T0).preview).toEqual(preview);
    expect(transitionJob(shown, 'SUCCEEDED', T0, { result: {} }).preview).toEqual(preview);
    await expectDomainError(
      () => applyProgress(running, { preview: { ...preview, key: '../escape.jpg' } }, T0),
      ErrorCode.BAD_REQUEST,
    );
    await expectDomainError(
      () => applyProgress(running, { preview: { ...preview, width: 0 } }, T0),
      ErrorCode.BAD_REQUEST,
    );
    await expectDomainError(
      () => applyProgress(running, { preview: { ...preview, contentType: 'text/html' } }, T0),
      ErrorCode.BAD_REQUEST,
    );
  });
});

describe('requestCancellation', () => {
  test('cancels a queued job at once and flags a running one', () => {
    expect(requestCancellation(fresh(), T0)).toMatchObject({ status: 'CANCELLED', cancelRequested: true });
    const flagged = requestCancellation(transitionJob(fresh(), 'RUNNING', T0), T0);
    expect(flagged).toMatchObject({ status: 'RUNNING', cancelRequested: true });
    expect(requestCancellation(flagged, T0 + 1)).toBe(flagged);
    expect(transitionJob(flagged, 'CANCELLED', T0).error?.code).toBe(ErrorCode.CANCELLED);
  });
});
