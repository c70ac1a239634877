/**
 * The reliability suite's verdict on hand-made runs: each way a job can be duplicated or lost is
 * counted as the definitions in `verdict.ts` say, and only a clean run passes.
 */

import { judge, waitsSeconds, type KeyRecord, type ListedJob } from './verdict';

const record = (key: string, ...answeredIds: string[]): KeyRecord => ({ owner: 'a', key, answeredIds });
const job = (id: string, patch: Partial<ListedJob> = {}): ListedJob => ({
  owner: 'a',
  id,
  status: 'SUCCEEDED',
  attempts: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  startedAt: '2026-01-01T00:00:02.500Z',
  outputs: [`/blobs/results/${id}.jpg`],
  outputsReadable: [true],
  handedBack: false,
  ...patch,
});

describe('judge', () => {
  it('passes a run where every key has one SUCCEEDED job with one readable output', () => {
    const verdict = judge(
      [record('k1', 'j1', 'j1'), record('k2', 'j2')],
      [job('j1', { handedBack: true }), job('j2', { attempts: 2 })],
    );
    expect(verdict).toEqual({
      submitted: 2,
      accepted: 2,
      completed: 2,
      duplicated: 0,
      lost: 0,
      notSucceeded: 0,
      retried: 1,
      handedBack: 1,
      passed: true,
    });
  });

  it('counts a key answered with a second job id as duplicated', () => {
    const verdict = judge([record('k1', 'j1', 'j2')], [job('j1'), job('j2')]);
    expect({ duplicated: verdict.duplicated, passed: verdict.passed }).toEqual({ duplicated: 1, passed: false });
  });

  it('counts a listed job that no key was answered with as duplicated', () => {
    const verdict = judge([record('k1', 'j1')], [job('j1'), job('stray')]);
    expect({ duplicated: verdict.duplicated, lost: verdict.lost, passed: verdict.passed }).toEqual({
      duplicated: 1,
      lost: 0,
      passed: false,
    });
  });

  it('counts a second output of a job, and an output shared by two jobs, as duplicated', () => {
    const twoOutputs = judge(
      [record('k1', 'j1')],
      [job('j1', { outputs: ['/x', '/y'], outputsReadable: [true, true] })],
    );
    expect(twoOutputs.duplicated).toBe(1);
    const shared = judge(
      [record('k1', 'j1'), record('k2', 'j2')],
      [job('j1', { outputs: ['/x'] }), job('j2', { outputs: ['/x'] })],
    );
    expect(shared.duplicated).toBe(1);
  });

  it('counts as lost a key whose job is missing, not SUCCEEDED, or without a readable output', () => {
    const verdict = judge(
      [record('gone', 'j0'), record('failed', 'j1'), record('unreadable', 'j2'), record('no-output', 'j3')],
      [
        job('j1', { status: 'FAILED', outputs: [], outputsReadable: [] }),
        job('j2', { outputsReadable: [false] }),
        job('j3', { outputs: [], outputsReadable: [] }),
      ],
    );
    expect(verdict).toMatchObject({
      accepted: 4,
      completed: 0,
      lost: 4,
      notSucceeded: 1,
      duplicated: 0,
      passed: false,
    });
  });

  it('fails a run with a key the API never accepted, without calling it lost', () => {
    const verdict = judge([record('k1', 'j1'), record('k2')], [job('j1')]);
    expect(verdict).toMatchObject({ submitted: 2, accepted: 1, completed: 1, lost: 0, passed: false });
  });
});

describe('waitsSeconds', () => {
  it('gives each started job its seconds from creation to start, and skips jobs that never started', () => {
    expect(waitsSeconds([job('j1'), job('j2', { startedAt: null })])).toEqual([2.5]);
  });
});
