/**
 * The reliability suite (`npm run reliability`): the local platform driven as its users drive it, under
 * load and faults, judged only through the API.
 *
 * A real `peerstyle serve` child process runs on a fresh data folder. Two owners, each with its own API
 * key (`peerstyle keys create`), submit stylize jobs of tiny images over HTTP, one at a time, each with
 * its own idempotency key: owner A starts alone and fills its cap of 50 queued jobs, then owner B joins,
 * so B's waits show whether the queue is shared fairly. Each client keeps a `myJobs` WebSocket
 * subscription open, waits on it when refused with QUOTA_EXCEEDED, and resends the same request (same
 * key) after any refusal or lost connection. Meanwhile the server is killed with SIGKILL, stopped with
 * SIGTERM and killed again, each when a set share of the jobs has completed, and started again at once
 * on the same data folder and port.
 *
 * Once every job is finished, every request is sent once more with its key (it must return the job it
 * returned before), every job is listed, and every output is downloaded and decoded. The verdict
 * (`verdict.ts`) counts jobs submitted, completed, duplicated and lost; the run exits 1 unless every job
 * SUCCEEDED and nothing was duplicated or lost. It also prints owner B's worst wait, from an accepted
 * submission to the job's first start (the API's `createdAt` and `startedAt`), the server's peak
 * resident memory across its restarts and the wall time.
 *
 * Run: `npm run reliability [-- --jobs=200 --seconds=480 --lease=6 --size=48]`.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseIntFlags } from '../../bench/support/stats';
import { ApiClient, sleep, untilReachable } from './api-client';
import { JobEventFeed } from './job-events';
import { checkOutputs, listJobs } from './job-list';
import { createKey, freePort, ServeProcess } from './serve-process';
import { Submitter, type JobRequest } from './submitter';
import { contentImage, styleImage } from './tiny-images';
import { judge, waitsSeconds, type ListedJob } from './verdict';
import { at } from '../support/checked';

/** The scale of a run. */
const DEFAULTS = {
  /** Jobs each owner submits. */
  jobs: 200,
  /** Time limit for the whole run; a run that reaches it fails. */
  seconds: 480,
  /** The server's lease: how soon a job whose worker was killed is run again. */
  lease: 6,
  /** Side of the content images, in pixels. */
  size: 48,
};

/** The faults, each when this share of all jobs has SUCCEEDED. */
const FAULTS: readonly { at: number; kind: 'kill -9' | 'SIGTERM' }[] = [
  { at: 0.2, kind: 'kill -9' },
  { at: 0.45, kind: 'SIGTERM' },
  { at: 0.7, kind: 'kill -9' },
];

/** Content images per owner; jobs cycle through them. */
const CONTENTS = 4;
/** Jobs owner A has accepted before owner B starts: A's whole cap, queued ahead of B. */
const B_STARTS_AFTER = 50;

// From the process's start, so the wall time includes loading the TypeScript sources.
const startedAt = Date.now() - process.uptime() * 1000;
const elapsed = (): string => `${((Date.now() - startedAt) / 1000).toFixed(1)} s`;
const log = (line: string): void => void process.stdout.write(`[${elapsed().padStart(8)}] ${line}\n`);

interface Owner {
  name: string;
  client: ApiClient;
  feed: JobEventFeed;
  submitter: Submitter;
  request: (i: number) => JobRequest;
}

/** Uploads the owner's images and saves its style; returns the request each job i sends. */
async function prepareOwner(client: ApiClient, size: number, seed: number): Promise<(i: number) => JobRequest> {
  const contents: string[] = [];
  for (let c = 0; c < CONTENTS; c += 1)
    contents.push(await client.upload(await contentImage(size, seed * 10 + c), 'image/png'));
  const styleKey = await client.upload(await styleImage(64), 'image/png');
  const style = await client.data(
    'mutation($n: String!, $k: String!) { registerStyle(name: $n, uploadKey: $k) { id } }',
    {
      n: 'stripes',
      k: styleKey,
    },
  );
  const styleId = style.registerStyle.id as string;
  return (i) => ({ content: at(contents, i % CONTENTS), styles: [{ styleId }] });
}

/** Jobs of every owner that have SUCCEEDED so far. */
async function succeeded(owners: readonly Owner[]): Promise<number> {
  let total = 0;
  for (const owner of owners) total += (await listJobs(owner.client, owner.name, 'SUCCEEDED')).length;
  return total;
}

/** Applies each fault once its share of `total` jobs has succeeded; logs progress as it goes. */
async function runFaults(
  server: ServeProcess,
  owners: readonly Owner[],
  total: number,
  deadline: number,
): Promise<void> {
  let lastLog = 0;
  for (const fault of FAULTS) {
    for (;;) {
      if (Date.now() > deadline) throw new Error(`time limit reached before the ${fault.kind} fault`);
      const done = await untilReachable(() => succeeded(owners), 60_000);
      if (Date.now() - lastLog > 15_000) {
        lastLog = Date.now();
        log(
          `${done}/${total} succeeded; accepted ${owners.map((o) => `${o.name} ${o.submitter.accepted}`).join(', ')}`,
        );
      }
      if (done >= fault.at * total) {
        const pid = server.pid;
        const stopped = Date.now();
        if (fault.kind === 'kill -9') await server.kill9();
        else {
          const code = await server.stopGracefully();
          if (code !== 0) throw new Error(`serve exited with ${code} after SIGTERM:\n${server.recentOutput}`);
        }
        await server.start();
        log(`${fault.kind} (pid ${pid}) at ${done}/${total} succeeded; serving again after ${Date.now() - stopped} ms`);
        break;
      }
      await sleep(1000);
    }
  }
}

/** Waits until every owner lists at least its accepted jobs and none of them is queued or running. */
async function allFinished(owners: readonly Owner[], deadline: number): Promise<ListedJob[]> {
  for (;;) {
    const jobs: ListedJob[] = [];
    for (const owner of owners) jobs.push(...(await untilReachable(() => listJobs(owner.client, owner.name), 60_000)));
    const open = jobs.filter((job) => job.status === 'QUEUED' || job.status === 'RUNNING').length;
    const accepted = owners.reduce((n, owner) => n + owner.submitter.accepted, 0);
    if (open === 0 && jobs.length >= accepted) return jobs;
    if (Date.now() > deadline) throw new Error(`time limit reached with ${open} jobs queued or running`);
    await sleep(2000);
  }
}

const mib = (kib: number): string => `${(kib / 1024).toFixed(0)} MiB`;

async function main(argv: readonly string[]): Promise<number> {
  const options = parseIntFlags(argv, DEFAULTS);
  const deadline = startedAt + options.seconds * 1000;
  // Submitters wait for the server as long as it takes; the time limit is what ends a run that stalls.
  const timeLimit = sleep(options.seconds * 1000).then(() => {
    throw new Error(`time limit of ${options.seconds} s reached`);
  });
  timeLimit.catch(() => undefined);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'peerstyle-reliability-'));
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const server = new ServeProcess([
    '--port',
    String(port),
    '--data-dir',
    dataDir,
    '--drop-dir=off',
    '--lease-seconds',
    String(options.lease),
  ]);
  const owners: Owner[] = [];
  let passed = false;
  try {
    const [keyA, keyB] = await Promise.all([createKey(dataDir, 'owner-a'), createKey(dataDir, 'owner-b')]);
    await server.start();
    log(`serving ${origin} from ${dataDir} (pid ${server.pid})`);
    for (const [name, key, seed] of [
      ['owner-a', keyA, 1],
      ['owner-b', keyB, 2],
    ] as const) {
      const client = new ApiClient(origin, key);
      const feed = new JobEventFeed(origin, key);
      owners.push({
        name,
        client,
        feed,
        submitter: new Submitter(name, client, feed, name),
        request: await prepareOwner(client, options.size, seed),
      });
    }
    const [a, b] = [at(owners, 0), at(owners, 1)];
    const total = options.jobs * owners.length;
    log(`submitting ${options.jobs} jobs for ${a.name}; ${b.name} starts after ${a.name}'s first ${B_STARTS_AFTER}`);

    const submitA = a.submitter.submitAll(options.jobs, a.request);
    const submitB = (async () => {
      while (a.submitter.accepted < Math.min(B_STARTS_AFTER, options.jobs)) await sleep(100);
      log(`${b.name} starts submitting`);
      await b.submitter.submitAll(options.jobs, b.request);
    })();
    // Every phase ends early if the server crashes by itself or the time limit passes.
    const guard = <T>(phase: Promise<T>): Promise<T> => Promise.race([phase, server.crashed, timeLimit]);
    await guard(Promise.all([submitA, submitB, runFaults(server, owners, total, deadline)]));
    log('every job accepted and every fault applied; waiting for the last jobs');
    await guard(allFinished(owners, deadline));

    const jobs: ListedJob[] = [];
    await guard(
      (async () => {
        // Each key once more: it must return the job it returned before, now finished.
        for (const owner of owners) await owner.submitter.resubmitAll(owner.request);
        for (const owner of owners) jobs.push(...(await listJobs(owner.client, owner.name)));
        await checkOutputs(jobs);
      })(),
    );
    const verdict = judge(
      owners.flatMap((owner) => owner.submitter.records),
      jobs,
    );
    const waitsB = waitsSeconds(jobs.filter((job) => job.owner === b.name));
    const firstB = jobs.filter((job) => job.owner === b.name).sort((x, y) => x.createdAt.localeCompare(y.createdAt))[0];
    await Promise.all(owners.map((owner) => owner.feed.close()));
    const stopCode = await server.stopGracefully();
    const retries = owners.map((o) => o.submitter.retries);
    passed = verdict.passed && stopCode === 0;

    const lines = [
      `Reliability: ${owners.length} owners × ${options.jobs} stylize jobs (${options.size} px content), ` +
        `faults: ${FAULTS.map((f) => f.kind).join(', ')}, each followed by a restart`,
      `  jobs submitted:          ${verdict.submitted} (accepted ${verdict.accepted})`,
      `  jobs completed:          ${verdict.completed} (SUCCEEDED, output downloaded and decoded)`,
      `  duplicated:              ${verdict.duplicated}`,
      `  lost:                    ${verdict.lost}`,
      `  jobs not SUCCEEDED:      ${verdict.notSucceeded}`,
      `  jobs run again after a kill -9: ${verdict.retried}; handed back by the SIGTERM stop: ${verdict.handedBack}`,
      `  owner B worst wait:      ${Math.max(...waitsB).toFixed(1)} s from an accepted submission to RUNNING ` +
        `(its first job: ${firstB ? at(waitsSeconds([firstB]), 0).toFixed(1) : '-'} s, behind owner A's ${B_STARTS_AFTER} queued)`,
      `  server peak memory:      ${mib(server.peakKib)} (VmHWM, largest of ${server.starts} server processes)`,
      `  client retries:          ${retries.reduce((n, r) => n + r.quotaExceeded, 0)} QUOTA_EXCEEDED, ` +
        `${retries.reduce((n, r) => n + r.rateLimited, 0)} RATE_LIMITED, ${retries.reduce((n, r) => n + r.unreachable, 0)} server unreachable; ` +
        `${owners.reduce((n, o) => n + o.feed.events, 0)} WebSocket events over ${owners.reduce((n, o) => n + o.feed.connections, 0)} connections`,
      `  final SIGTERM exit code: ${stopCode}`,
      `  wall time:               ${elapsed()}`,
      `Reliability ${passed ? 'PASSED' : 'FAILED'}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return passed ? 0 : 1;
  } catch (error) {
    process.stdout.write(
      `Reliability FAILED after ${elapsed()}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n` +
        `Server output (last part):\n${server.recentOutput}\n`,
    );
    return 1;
  } finally {
    await Promise.all(owners.map((owner) => owner.feed.close()));
    if (server.pid !== undefined) await server.kill9();
    if (passed) rmSync(dataDir, { recursive: true, force: true });
    else process.stdout.write(`Data folder kept for inspection: ${dataDir}\n`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
