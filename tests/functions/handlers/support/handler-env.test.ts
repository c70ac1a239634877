/**
 * The handlers' one environment reader: names come from the stack's own table, every missing variable
 * is reported in one error, blanks count as missing, and no other handler module reads a variable
 * from `process.env` itself.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErrorCode } from '../../../../functions/core';
import {
  booleanEnv,
  HANDLER_ENV,
  positiveIntegerEnv,
  readAwsServiceConfigs,
  readBatchAttempt,
  readHandlerEnv,
  readOptionalEnv,
} from '../../../../functions/handlers/support/handler-env';
import { ENV } from '../../../../infra/lib/handlers';
import { expectDomainError } from '../../../support/expect-domain-error';

test('the reader uses the names the stack sets, not a copy of them', () => {
  expect(HANDLER_ENV).toBe(ENV);
});

test('required and optional settings are read and trimmed; every missing one is named at once', async () => {
  const env = { [ENV.jobsTable]: ' jobs ', [ENV.resultsBucket]: 'results', [ENV.catalogTable]: '  ' };
  expect(readHandlerEnv(['jobsTable'], ['resultsBucket', 'modelsBucket'], env)).toEqual({
    jobsTable: 'jobs',
    resultsBucket: 'results',
  });
  const error = await expectDomainError(
    () => readHandlerEnv(['jobsTable', 'catalogTable', 'apiKeysTable'], [], env),
    ErrorCode.INTERNAL,
  );
  expect(error.message).toBe(`Missing environment variables: ${ENV.catalogTable}, ${ENV.apiKeysTable}.`);
});

test('typed parsers name the variable they refuse', async () => {
  expect(readOptionalEnv('jobsByOwnerIndex', 'byOwner', {})).toBe('byOwner');
  expect(positiveIntegerEnv('trainingMaxRuntimeSeconds', '3600')).toBe(3600);
  expect(booleanEnv('trainingUseSpot', 'false')).toBe(false);
  const bad = await expectDomainError(() => positiveIntegerEnv('trainingMaxRuntimeSeconds', '1.5'), ErrorCode.INTERNAL);
  expect(bad.message).toContain(ENV.trainingMaxRuntimeSeconds);
  await expectDomainError(() => booleanEnv('trainingUseSpot', 'yes'), ErrorCode.INTERNAL);
  expect(readBatchAttempt({ AWS_BATCH_JOB_ATTEMPT: '2' })).toBe(2);
  await expectDomainError(() => readBatchAttempt({ AWS_BATCH_JOB_ATTEMPT: '0' }), ErrorCode.INTERNAL);
});

test('client endpoints come from the SDK variable names, per service first', () => {
  const configs = readAwsServiceConfigs({
    AWS_ENDPOINT_URL: 'http://all',
    AWS_ENDPOINT_URL_S3: 'http://s3',
    AWS_REGION: 'eu-west-1',
  });
  expect(configs.s3).toEqual({ region: 'eu-west-1', endpoint: 'http://s3' });
  expect(configs.dynamodb).toEqual({ region: 'eu-west-1', endpoint: 'http://all' });
  expect(readAwsServiceConfigs({})).toEqual({ s3: {}, dynamodb: {}, sqs: {}, lambda: {} });
});

test('no other handler module reads a variable from the environment', () => {
  const root = path.join(__dirname, '../../../../functions/handlers');
  const files = (fs.readdirSync(root, { recursive: true }) as string[]).filter((file) => file.endsWith('.ts'));
  expect(files.length).toBeGreaterThan(10);
  const source = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');
  // Passing process.env on as a default argument is fine; looking a variable up in it is not.
  expect(files.filter((file) => /process\.env\s*(\.|\[)/.test(source(file)))).toEqual([]);
  // Variable names are spelled only in the reader (the stack's names arrive through ENV); comments may cite them.
  const reader = path.join('support', 'handler-env.ts');
  expect(
    files.filter(
      (file) => file !== reader && /['"`](PEERSTYLE_|AWS_ENDPOINT_URL|AWS_BATCH_JOB_ATTEMPT)/.test(source(file)),
    ),
  ).toEqual([]);
  expect(fs.existsSync(path.join(root, 'events', 'handler-env.ts'))).toBe(false);
});
