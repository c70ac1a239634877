/**
 * Job events on AWS: the GraphQL function, the training functions and the stylize worker container get
 * the same port from the composition root. Its publish leaves delivery to the jobs table's stream and
 * resolves without a call; its subscribe is refused with INTERNAL, one code everywhere, because the
 * GraphQL rules refuse a subscription over HTTP before a resolver could ask for one, so a call that
 * gets here is the platform's fault. Building the dependencies makes no network call, so no server is
 * started.
 */

import { tmpdir } from 'node:os';
import path from 'node:path';
import { TRAINING_METRIC_DEFINITIONS } from '../../../infra/lib/training-metrics';
import { createJob, ErrorCode, type JobEvents } from '../../../functions/core';
import { HANDLER_ENV } from '../../../functions/handlers/support/handler-env';
import {
  batchWorkerDepsFromEnv,
  buildUseCaseDeps,
  trainingLaunchDepsFromEnv,
  trainingStateDepsFromEnv,
} from '../../../functions/wiring/aws';
import { expectDomainError } from '../../support/expect-domain-error';

const env: NodeJS.ProcessEnv = {
  AWS_REGION: 'us-east-1',
  [HANDLER_ENV.jobsTable]: 'jobs',
  [HANDLER_ENV.catalogTable]: 'catalog',
  [HANDLER_ENV.uploadsBucket]: 'uploads',
  [HANDLER_ENV.resultsBucket]: 'results',
  [HANDLER_ENV.modelsBucket]: 'models',
  [HANDLER_ENV.datasetsBucket]: 'datasets',
  [HANDLER_ENV.trainingImageUri]: '123456789012.dkr.ecr.us-east-1.amazonaws.com/trainer:abc',
  [HANDLER_ENV.trainingRoleArn]: 'arn:aws:iam::123456789012:role/training',
  [HANDLER_ENV.trainingInstanceType]: 'ml.g5.xlarge',
  [HANDLER_ENV.trainingUseSpot]: 'true',
  [HANDLER_ENV.trainingMaxRuntimeSeconds]: '28800',
  [HANDLER_ENV.trainingMaxWaitSeconds]: '57600',
  [HANDLER_ENV.trainingJobPrefix]: 'peerstyle-',
  [HANDLER_ENV.trainingMetricDefinitions]: JSON.stringify(TRAINING_METRIC_DEFINITIONS),
};

const api = { jobsTable: 'jobs', apiKeysTable: 'keys', catalogTable: 'catalog', resultsBucket: 'results' };

const ports: [string, () => JobEvents][] = [
  ['the GraphQL function', () => buildUseCaseDeps(api, env).events],
  [
    'the GraphQL function that stops training runs on cancel',
    () => buildUseCaseDeps({ ...api, trainingJobPrefix: 'peerstyle-' }, env).events,
  ],
  ['the training launcher function', () => trainingLaunchDepsFromEnv(env).events],
  ['the training events function', () => trainingStateDepsFromEnv(env).events],
  [
    'the stylize worker container',
    () =>
      batchWorkerDepsFromEnv(
        { modelCacheDir: path.join(tmpdir(), 'peerstyle-unused-cache'), intraOpThreads: 1, executionProvider: 'cpu' },
        env,
      ).events,
  ],
];

describe.each(ports)('job events of %s', (_name, eventsOf) => {
  it('publish leaves delivery to the table stream', async () => {
    const job = createJob('job-1', { owner: 'alice', kind: 'STYLIZE', input: {} }, Date.now());
    await expect(eventsOf().publish({ type: 'PROGRESS', job })).resolves.toBeUndefined();
  });

  it('subscribe is refused with INTERNAL', async () => {
    const error = await expectDomainError(() => eventsOf().subscribe({ jobId: 'job-1' }), ErrorCode.INTERNAL);
    expect(error.message).toMatch(/WebSocket API/);
  });
});
