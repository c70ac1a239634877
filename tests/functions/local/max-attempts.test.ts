/**
 * `--max-attempts` must reach the job records as well as the queue (issue 12, item 17): a job created
 * through the API of a platform started with `--max-attempts=5` allows 5 starts, not the default 3.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../../functions/config';
import { startPlatform, type Platform } from '../../../functions/local/main';
import { gql } from '../../e2e/support';
import { REPO } from '../../support/runtime';

let dir: string;
let platform: Platform;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'peerstyle-attempts-'));
  const config = loadConfig(
    ['--port=0', `--data-dir=${path.join(dir, 'data')}`, '--drop-dir=off', '--workers=0', '--max-attempts=5'],
    {},
    REPO,
  );
  platform = await startPlatform({ config, modelDir: null, log: { info: () => undefined, error: () => undefined } });
});

afterAll(async () => {
  await platform?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a job submitted through the API gets the configured attempts', async () => {
  const result = await gql(
    platform.origin,
    platform.createdApiKey!,
    `mutation { startTraining(input: { dataset: { folder: "sample" }, preset: tiny, steps: 1 }) { id attempts } }`,
  );
  expect(result.errors).toBeUndefined();
  const job = await platform.runtime.jobs.get(result.data.startTraining.id);
  expect(job?.maxAttempts).toBe(5);
});
