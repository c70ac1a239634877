/**
 * The AWS path on one machine, for both job kinds, wired as the stack wires it (`local-stack.ts` reads
 * the synthesized template: every function's environment, and which function each route, queue,
 * stream and EventBridge rule invokes). S3, DynamoDB and SQS are real protocol servers on loopback
 * (s3rver, dynalite, local-aws-sqs); the Lambda handlers are the real entry points.
 *
 * AWS Batch, SageMaker, Lambda's Invoke API and the API Gateway management API have no local
 * implementation, so their clients alone are mocked with aws-sdk-client-mock, and each mock does what
 * the service would: Invoke runs the named function asynchronously; SubmitJob runs the stylize worker
 * image's entry point (its Dockerfile's ENTRYPOINT with the job definition's command) as a local
 * process with the job definition's environment, then sends Batch's state change to the rule's
 * function; CreateTrainingJob lays out a SageMaker /opt/ml folder from the request (hyperparameters,
 * the training channel downloaded from S3), runs the trainer image's entry point with `train` as
 * SageMaker does, packs /opt/ml/model into model.tar.gz in the output path and sends the
 * "SageMaker Training Job State Change" events; PostToConnection records what each socket receives.
 *
 * A stylize job goes from the mutation through the stylize queue, the dispatcher and Batch to its
 * result and its subscription events; a training job on uploaded images goes from the mutation to the
 * launcher, the training run (tiny preset, a few steps), the state-change handler and the registered
 * model, and a stylize job then uses that model.
 */

/* eslint-disable @typescript-eslint/no-explicit-any -- GraphQL results and template JSON are untyped. */

import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { BatchClient, SubmitJobCommand, type SubmitJobCommandInput } from '@aws-sdk/client-batch';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateTrainingJobCommand,
  SageMakerClient,
  type CreateTrainingJobCommandInput,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import sharp from 'sharp';
import { createDynamoDbDocumentClient, DynamoApiKeyStore } from '../../functions/adapters/aws';
import { ENV } from '../../infra/lib/handlers';
import { TRAINING_STATE_CHANGE } from '../../infra/lib/training';
import { BATCH_JOB_STATE_CHANGE } from '../../functions/handlers/batch-events';
import {
  startDynamo,
  startS3,
  startSqs,
  type DynamoEmulator,
  type S3Emulator,
  type SqsEmulator,
} from '../support/emulators';
import { imageEntrypoint, startLocalStack, type LocalStack } from './local-stack';
import { logicalIdOf } from '../infra/support/synth';
import { at, defined } from '../support/checked';

const SAMPLE = path.join(__dirname, '..', '..', 'datasets', 'sample');
const sample = (folder: 'content' | 'style', name: string): Buffer => readFileSync(path.join(SAMPLE, folder, name));

const lambda = mockClient(LambdaClient);
const batch = mockClient(BatchClient);
const sagemaker = mockClient(SageMakerClient);
const management = mockClient(ApiGatewayManagementApiClient);

let s3: S3Emulator;
let dynamo: DynamoEmulator;
let sqs: SqsEmulator;
let local: LocalStack;
let apiKey: string;
let work: string;
/** What each container run printed, for failure messages. */
const containerLogs: string[] = [];

/** Runs a container entry point as a local process; resolves with its exit code. */
function runContainer(command: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(at(command, 0), command.slice(1), {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      containerLogs.push(`$ ${command.slice(1).join(' ')}\n${output.slice(-4000)}`);
      resolve(code ?? 1);
    });
  });
}

const s3Location = (uri: string): { bucket: string; key: string } => {
  const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri)!;
  return { bucket: at(match, 1), key: at(match, 2) };
};

/** What Batch does with a SubmitJob: run the job definition's container, then report its state. */
async function runBatchJob(input: SubmitJobCommandInput): Promise<void> {
  const definition = Object.values(local.resources).find((r) => r.Type === 'AWS::Batch::JobDefinition')!;
  const container = local.resolve(definition.Properties.ContainerProperties);
  const parameters = { ...local.resolve(definition.Properties.Parameters ?? {}), ...(input.parameters ?? {}) };
  const command = (container.Command as string[]).map((part) =>
    part.startsWith('Ref::') ? String(parameters[part.slice(5)]) : part,
  );
  const env = Object.fromEntries((container.Environment ?? []).map((e: any) => [e.Name, e.Value]));
  const code = await runContainer(
    [...imageEntrypoint('stylize-worker'), ...command, '--model-cache', path.join(work, 'models')],
    {
      ...local.baseEnv,
      ...env,
      AWS_BATCH_JOB_ATTEMPT: '1',
    },
  );
  local.invokeLater(local.ruleTarget('aws.batch'), {
    id: randomUUID(),
    source: 'aws.batch',
    'detail-type': BATCH_JOB_STATE_CHANGE,
    detail: {
      jobName: input.jobName,
      jobId: 'batch-1',
      status: code === 0 ? 'SUCCEEDED' : 'FAILED',
      parameters: input.parameters,
      tags: input.tags,
      attempts: [{ container: { exitCode: code } }],
    },
  });
}

/** What SageMaker does with a CreateTrainingJob: /opt/ml from the request, the trainer image, model.tar.gz. */
async function runTrainingJob(input: CreateTrainingJobCommandInput): Promise<void> {
  const name = input.TrainingJobName!;
  const stateChange = (status: string, extra: Record<string, unknown> = {}) =>
    local.invokeLater(local.ruleTarget('aws.sagemaker'), {
      id: randomUUID(),
      source: 'aws.sagemaker',
      'detail-type': TRAINING_STATE_CHANGE,
      detail: { TrainingJobName: name, TrainingJobStatus: status, Tags: input.Tags, ...extra },
    });
  const optMl = path.join(work, name);
  mkdirSync(path.join(optMl, 'input', 'config'), { recursive: true });
  writeFileSync(path.join(optMl, 'input', 'config', 'hyperparameters.json'), JSON.stringify(input.HyperParameters));
  for (const channel of input.InputDataConfig!) {
    const { bucket, key: prefix } = s3Location(channel.DataSource!.S3DataSource!.S3Uri!);
    const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    for (const object of listed.Contents ?? []) {
      const file = path.join(optMl, 'input', 'data', channel.ChannelName!, object.Key!.slice(prefix.length));
      mkdirSync(path.dirname(file), { recursive: true });
      const body = await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key! }));
      writeFileSync(file, await body.Body!.transformToByteArray());
    }
  }
  stateChange('InProgress', { SecondaryStatus: 'Training' });
  // PEERSTYLE_OPT_ML stands for the image's /opt/ml; the image's GPU backend is not installed here.
  const code = await runContainer([...imageEntrypoint('trainer'), 'train'], {
    PEERSTYLE_OPT_ML: optMl,
    PEERSTYLE_BACKEND: 'wasm',
  });
  if (code !== 0) {
    const reason = (() => {
      try {
        return readFileSync(path.join(optMl, 'output', 'failure'), 'utf8');
      } catch {
        return `exit ${code}`;
      }
    })();
    stateChange('Failed', { FailureReason: reason });
    return;
  }
  const archive = path.join(optMl, 'model.tar.gz');
  execFileSync('tar', ['-czf', archive, '-C', path.join(optMl, 'model'), '.']);
  const output = s3Location(`${input.OutputDataConfig!.S3OutputPath!.replace(/\/?$/, '/')}${name}/output/model.tar.gz`);
  await s3.client.send(new PutObjectCommand({ Bucket: output.bucket, Key: output.key, Body: readFileSync(archive) }));
  stateChange('Completed', {
    SecondaryStatus: 'Completed',
    ModelArtifacts: { S3ModelArtifacts: `s3://${output.bucket}/${output.key}` },
  });
}

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'peerstyle-aws-path-'));
  [s3, dynamo, sqs] = await Promise.all([startS3(), startDynamo(), startSqs()]);
  local = await startLocalStack({ s3, dynamo, sqs });
  const keys = new DynamoApiKeyStore({
    client: createDynamoDbDocumentClient(dynamo.client),
    tableName: defined(local.refs[logicalIdOf(local.stack.jobs.apiKeysTable)], 'the API-key table name'),
  });
  apiKey = (await keys.create('alice', 'aws-path')).key;

  lambda.on(InvokeCommand).callsFake((input) => {
    // Lambda queues an asynchronous ("Event") invocation and answers 202 at once.
    if (input.InvocationType !== 'Event') throw new Error(`unexpected ${input.InvocationType} invocation`);
    local.invokeLater(local.handlerNamed(input.FunctionName), JSON.parse(new TextDecoder().decode(input.Payload)));
    return { StatusCode: 202 };
  });
  batch.on(SubmitJobCommand).callsFake((input: SubmitJobCommandInput) => {
    void runBatchJob(input);
    return { jobId: 'batch-1', jobName: input.jobName, jobArn: `arn:aws:batch:us-east-1:0:job/batch-1` };
  });
  sagemaker.on(CreateTrainingJobCommand).callsFake((input: CreateTrainingJobCommandInput) => {
    void runTrainingJob(input);
    return { TrainingJobArn: `arn:aws:sagemaker:us-east-1:0:training-job/${input.TrainingJobName}` };
  });
  management.on(PostToConnectionCommand).resolves({});
  management.on(DeleteConnectionCommand).resolves({});
  // Synthesizing the stack loads aws-cdk-lib, which is most of this; it takes longer on a busy machine.
}, 180_000);

afterAll(async () => {
  await local?.stop();
  await Promise.all([s3?.stop(), dynamo?.stop(), sqs?.stop()]);
  for (const mock of [lambda, batch, sagemaker, management]) mock.restore();
  rmSync(work, { recursive: true, force: true });
});

/** A GraphQL request as API Gateway delivers it: the route's authorizer first, then its function. */
async function gql(query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const { handler, authorizer } = local.route('http', 'POST /graphql');
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` };
  let context: unknown;
  if (authorizer !== null) {
    const decision = await local.invoke<{ isAuthorized: boolean; context: unknown }>(authorizer, {
      version: '2.0',
      type: 'REQUEST',
      routeArn: 'arn:aws:execute-api:us-east-1:0:api/$default/POST/graphql',
      identitySource: [headers.authorization],
      routeKey: 'POST /graphql',
      headers,
    });
    expect(decision.isAuthorized).toBe(true);
    context = decision.context;
  }
  const response = await local.invoke<{ statusCode: number; body: string }>(handler, {
    version: '2.0',
    routeKey: 'POST /graphql',
    rawPath: '/graphql',
    rawQueryString: '',
    headers,
    requestContext: {
      http: { method: 'POST', path: '/graphql', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
      routeKey: 'POST /graphql',
      stage: '$default',
      requestId: randomUUID(),
      ...(context !== undefined && { authorizer: { lambda: context } }),
    },
    body: JSON.stringify({ query, variables }),
    isBase64Encoded: false,
  });
  const body = JSON.parse(response.body);
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/** createUpload through the API, then the presigned POST to S3 a browser would send. */
async function upload(bytes: Buffer, group: string): Promise<string> {
  const { createUpload } = await gql(
    'mutation($n: Int!, $g: String) { createUpload(contentType: "image/jpeg", byteSize: $n, group: $g) { url key fields { name value } } }',
    { n: bytes.length, g: group },
  );
  const form = new FormData();
  for (const { name, value } of createUpload.fields) form.append(name, value);
  form.append('Content-Type', 'image/jpeg');
  form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }), 'image');
  const response = await fetch(createUpload.url, { method: 'POST', body: form });
  expect(response.status).toBeLessThan(300);
  return createUpload.key;
}

/** A WebSocket client of the subscriptions API: its routes' functions, and what is posted to it. */
async function subscribe(jobId: string): Promise<() => any[]> {
  const connectionId = `conn-${randomUUID()}`;
  const event = (routeKey: string, body?: unknown) => ({
    requestContext: {
      routeKey,
      eventType: routeKey === '$connect' ? 'CONNECT' : 'MESSAGE',
      connectionId,
      stage: 'live',
      domainName: 'ws.local',
      apiId: 'local',
      requestId: randomUUID(),
      connectedAt: Date.now(),
      requestTimeEpoch: Date.now(),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
    isBase64Encoded: false,
  });
  await local.invoke(local.route('ws', '$connect').handler, event('$connect'));
  const message = local.route('ws', '$default').handler;
  await local.invoke(
    message,
    event('$default', { type: 'connection_init', payload: { authorization: `Bearer ${apiKey}` } }),
  );
  await local.invoke(
    message,
    event('$default', {
      id: 'progress',
      type: 'subscribe',
      payload: {
        query:
          'subscription($id: ID!) { jobProgress(id: $id) { type job { status stage progress preview { url width height } } } }',
        variables: { id: jobId },
      },
    }),
  );
  return () =>
    management
      .commandCalls(PostToConnectionCommand)
      .filter((call) => call.args[0].input.ConnectionId === connectionId)
      .map((call) => JSON.parse(new TextDecoder().decode(call.args[0].input.Data as Uint8Array)));
}

const JOB =
  'query($id: ID!) { job(id: $id) { id kind status stage error { code message } result { modelId downloads { url } } } }';

/** Polls the job through the API until it is terminal. */
async function settled(id: string, timeoutMs: number): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { job } = await gql(JOB, { id });
    if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.status)) {
      await local.idle();
      return job;
    }
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status}:\n${containerLogs.join('\n')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The `next` payloads a socket received for the subscription, as `type status`. */
const progressOf = (messages: any[]): string[] =>
  messages
    .filter((m) => m.type === 'next' && m.id === 'progress')
    .map((m) => `${m.payload.data.jobProgress.type} ${m.payload.data.jobProgress.job.status}`);

let trainedModelId: string;
let contentKey: string;
let styleKey: string;

test('a training job on uploaded images goes from the mutation to the launcher, SageMaker, the state-change handler and a registered model', async () => {
  for (const name of ['astronaut.jpg', 'chelsea.jpg'])
    contentKey = await upload(sample('content', name), 'aws-set/content');
  for (const name of ['starry-night.jpg', 'brick.jpg']) styleKey = await upload(sample('style', name), 'aws-set/style');

  const { startTraining } = await gql(
    'mutation($input: TrainingInput!) { startTraining(input: $input) { id kind status } }',
    {
      input: {
        dataset: { uploadPrefix: 'uploads/alice/aws-set/' },
        preset: 'tiny',
        steps: 3,
        hyperparameters: [{ key: 'logEvery', value: '1' }],
        modelName: 'aws-uploads',
      },
    },
  );
  expect(startTraining).toMatchObject({ kind: 'TRAIN', status: 'QUEUED' });
  const received = await subscribe(startTraining.id);

  // The launcher the stack named was invoked once, by the job-dispatch relay from the jobs table's
  // stream (the GraphQL function only wrote the row), and nothing went on the stylize queue.
  expect(lambda.commandCalls(InvokeCommand)).toHaveLength(1);
  const invoked = lambda.commandCalls(InvokeCommand)[0]!;
  expect(invoked.args[0].input.FunctionName).toBe(local.envOf('jobDispatch')[ENV.trainingLauncherFunction]);
  expect(local.handlerNamed(invoked.args[0].input.FunctionName!)).toBe('trainingLauncher');

  const job = await settled(startTraining.id, 150_000);
  expect(job.error).toBeNull();
  expect(job.status).toBe('SUCCEEDED');
  expect(batch.commandCalls(SubmitJobCommand)).toHaveLength(0);

  // SageMaker was asked to train on the staged copy, whose files carry their formats' extensions.
  const created = at(sagemaker.commandCalls(CreateTrainingJobCommand), 0);
  expect(created.args[0].input.HyperParameters).toMatchObject({ preset: 'tiny', steps: '3', logEvery: '1' });
  const channel = s3Location(
    defined(created.args[0].input.InputDataConfig?.[0]?.DataSource?.S3DataSource?.S3Uri, 'the training channel'),
  );
  const staged = await s3.client.send(new ListObjectsV2Command({ Bucket: channel.bucket, Prefix: channel.key }));
  expect((staged.Contents ?? []).map((o) => o.Key!.slice(channel.key.length)).sort()).toEqual([
    expect.stringMatching(/^content\/[0-9a-f-]{36}\.jpg$/),
    expect.stringMatching(/^content\/[0-9a-f-]{36}\.jpg$/),
    expect.stringMatching(/^style\/[0-9a-f-]{36}\.jpg$/),
    expect.stringMatching(/^style\/[0-9a-f-]{36}\.jpg$/),
  ]);

  trainedModelId = job.result.modelId;
  const { models } = await gql('query { models { id name builtIn } }');
  expect(models).toContainEqual({ id: trainedModelId, name: 'aws-uploads', builtIn: false });

  // The jobs table's stream reached the socket through the publisher. The run may already have
  // started when the client subscribed (the launcher is invoked with the mutation), so the snapshot
  // is QUEUED or RUNNING; the end is the stream's SUCCEEDED.
  const events = progressOf(received());
  expect(events[0]).toMatch(/^SNAPSHOT (QUEUED|RUNNING)$/);
  expect(events.slice(1)).toContain('STATUS_CHANGED SUCCEEDED');
  expect(events[events.length - 1]).toBe('STATUS_CHANGED SUCCEEDED');
  expect(received().some((m) => m.type === 'complete' && m.id === 'progress')).toBe(true);
  expect(local.backgroundErrors).toEqual([]);
}, 200_000);

test('a stylize job with the trained model goes from the mutation through the queue, the dispatcher and Batch to its result', async () => {
  expect(trainedModelId).toEqual(expect.any(String));
  const { stylize } = await gql('mutation($input: StylizeInput!) { stylize(input: $input) { id kind status } }', {
    input: {
      content: contentKey,
      styles: [{ uploadKey: styleKey }],
      modelId: trainedModelId,
      // A 96 px output has no preview unless asked; asked, it is the result itself, as JPEG.
      options: { size: 96, format: 'PNG', preview: true },
    },
  });
  const received = await subscribe(stylize.id);
  const job = await settled(stylize.id, 90_000);
  expect(job.error).toBeNull();
  expect(job.status).toBe('SUCCEEDED');

  // Batch ran the job definition's command for this job.
  const submitted = at(batch.commandCalls(SubmitJobCommand), 0);
  expect(submitted.args[0].input.parameters).toEqual({ jobId: stylize.id });
  expect(submitted.args[0].input.jobDefinition).toBe(local.envOf('stylizeDispatcher')[ENV.batchJobDefinition]);

  const response = await fetch(job.result.downloads[0].url);
  expect(response.status).toBe(200);
  const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
  expect([meta.format, Math.max(meta.width!, meta.height!)]).toEqual(['png', 96]);

  const events = progressOf(received());
  expect(events[0]).toBe('SNAPSHOT QUEUED');
  expect(events).toContain('STATUS_CHANGED RUNNING');
  expect(events.filter((e) => e === 'PROGRESS RUNNING').length).toBeGreaterThan(0);
  expect(events[events.length - 1]).toBe('STATUS_CHANGED SUCCEEDED');
  expect(received().some((m) => m.type === 'complete' && m.id === 'progress')).toBe(true);

  // The worker's preview reached the socket as PREVIEW, from the table stream, with a working signed link.
  expect(events.filter((e) => e === 'PREVIEW RUNNING')).toHaveLength(1);
  expect(events.indexOf('PREVIEW RUNNING')).toBeLessThan(events.length - 1);
  const previewed = received().find((m) => m.payload?.data?.jobProgress?.type === 'PREVIEW');
  const preview = previewed.payload.data.jobProgress.job.preview;
  expect(preview).toMatchObject({ width: meta.width, height: meta.height });
  expect(new URL(preview.url).pathname).toMatch(new RegExp(`/out/${stylize.id}\\.preview\\.jpg$`));
  const previewResponse = await fetch(preview.url);
  expect(previewResponse.status).toBe(200);
  const previewMeta = await sharp(Buffer.from(await previewResponse.arrayBuffer())).metadata();
  expect([previewMeta.format, previewMeta.width, previewMeta.height]).toEqual(['jpeg', meta.width, meta.height]);

  expect(local.backgroundErrors).toEqual([]);
}, 120_000);
