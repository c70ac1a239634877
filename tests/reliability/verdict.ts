/**
 * The reliability run's verdict, from what the clients recorded and what the API lists at the end. A
 * pure function of plain data, so each definition below is tested on hand-made cases.
 *
 * - **submitted**: idempotency keys the clients meant to submit.
 * - **accepted**: keys the API answered with a job (after any QUOTA_EXCEEDED, RATE_LIMITED or
 *   unreachable-server retries, each sent again with the same key).
 * - **completed**: keys whose job is SUCCEEDED with exactly one output that could be downloaded.
 * - **duplicated**: every job or output beyond one per key: for each key, the distinct job ids the API
 *   answered it with, minus one (a retry or the final resubmission that got a new job); each listed job
 *   that no key was answered with (a job created for a request whose answer was lost, beside the one
 *   the retry got); each output beyond the first of a job; each job beyond the first that points at the
 *   same output object as another job.
 * - **lost**: accepted keys without a SUCCEEDED job holding its downloadable output: the job the key was
 *   answered with is missing from the owner's list, is not SUCCEEDED, or its output is missing.
 * - **notSucceeded**: listed jobs of any status but SUCCEEDED (so an extra job that FAILED counts too).
 */

/** What a client recorded for one idempotency key. */
export interface KeyRecord {
  owner: string;
  key: string;
  /** Every job id the API answered this key with, in order (normally the same id each time). */
  answeredIds: string[];
}

/** One job as the owner's job list shows it at the end. */
export interface ListedJob {
  owner: string;
  id: string;
  status: string;
  attempts: number;
  createdAt: string;
  startedAt: string | null;
  /** The object path of each download (the signed URL without its query). */
  outputs: string[];
  /** Whether each output could be downloaded and decoded; one entry per output. */
  outputsReadable: boolean[];
  /** Whether a clean stop handed the job back while it ran (its messages say so). */
  handedBack: boolean;
}

/** The figures the run prints and judges. */
export interface Verdict {
  submitted: number;
  accepted: number;
  completed: number;
  duplicated: number;
  lost: number;
  notSucceeded: number;
  /** Jobs started more than once (a worker killed under them). */
  retried: number;
  /** Jobs a clean stop handed back while they ran. */
  handedBack: number;
  /** Whether the run passes: every key accepted and completed, nothing duplicated or lost. */
  passed: boolean;
}

/** Judges one run. */
export function judge(records: readonly KeyRecord[], jobs: readonly ListedJob[]): Verdict {
  const byId = new Map(jobs.map((job) => [`${job.owner}\n${job.id}`, job]));
  const answered = new Set<string>();
  let duplicated = 0;
  let accepted = 0;
  let completed = 0;
  let lost = 0;
  for (const record of records) {
    const ids = [...new Set(record.answeredIds)];
    for (const id of ids) answered.add(`${record.owner}\n${id}`);
    if (ids.length === 0) continue;
    accepted += 1;
    duplicated += ids.length - 1;
    const job = byId.get(`${record.owner}\n${ids[0]}`);
    const done =
      job !== undefined &&
      job.status === 'SUCCEEDED' &&
      job.outputs.length >= 1 &&
      job.outputsReadable.length === job.outputs.length &&
      job.outputsReadable.every(Boolean);
    if (done) completed += 1;
    else lost += 1;
  }
  const holders = new Map<string, number>();
  for (const job of jobs) {
    if (!answered.has(`${job.owner}\n${job.id}`)) duplicated += 1;
    duplicated += Math.max(0, job.outputs.length - 1);
    for (const output of new Set(job.outputs)) holders.set(output, (holders.get(output) ?? 0) + 1);
  }
  for (const count of holders.values()) duplicated += count - 1;
  const notSucceeded = jobs.filter((job) => job.status !== 'SUCCEEDED').length;
  const submitted = records.length;
  return {
    submitted,
    accepted,
    completed,
    duplicated,
    lost,
    notSucceeded,
    retried: jobs.filter((job) => job.attempts > 1).length,
    handedBack: jobs.filter((job) => job.handedBack).length,
    passed: accepted === submitted && completed === submitted && duplicated === 0 && lost === 0 && notSucceeded === 0,
  };
}

/** Seconds from each job's creation to its first start, for the jobs that started. */
export function waitsSeconds(jobs: readonly ListedJob[]): number[] {
  return jobs
    .filter((job) => job.startedAt !== null)
    .map((job) => (Date.parse(job.startedAt as string) - Date.parse(job.createdAt)) / 1000);
}
