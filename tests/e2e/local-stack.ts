/**
 * The Peerstyle stack, stood up on one machine for the AWS-path end-to-end test, wired from the
 * synthesized CloudFormation template rather than re-typed: every bucket, table (with its key schema
 * and indexes) and queue the template declares is created on s3rver, dynalite and local-aws-sqs; each
 * Lambda function's environment is the template's, with references resolved to those local resources;
 * and which function an HTTP or WebSocket route, a queue, the jobs table's stream or an EventBridge rule
 * invokes is read from the template's routes, integrations, event source mappings and rules.
 *
 * What AWS itself would do between the pieces is done here, and only that: a Lambda "service" that runs
 * handler invocations one at a time, each with exactly its function's environment; an SQS poller that
 * feeds mapped queues to their functions as event source mappings do; and DynamoDB Streams, which
 * dynalite lacks, emulated by a loopback proxy in front of dynalite that turns every successful write
 * to a streamed table into a stream record (old and new image, in write order).
 */

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateTableCommand, GetItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import type { DynamoDBRecord, SQSEvent } from 'aws-lambda';
import { HandlerFunction } from '../../infra/lib/handler-function';
import { HANDLER_ENTRIES, type HandlerName } from '../../infra/lib/handlers';
import type { PeerstyleStack } from '../../infra/lib/peerstyle-stack';
import {
  LOCAL_CREDENTIALS,
  waitForActiveTable,
  type DynamoEmulator,
  type S3Emulator,
  type SqsEmulator,
} from '../support/emulators';
import { logicalIdOf, synthesizeStack } from '../infra/support/synth';
import { at, defined } from '../support/checked';

const ROOT = path.join(__dirname, '..', '..');
const REGION = 'us-east-1';
const ACCOUNT = '000000000000';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any -- CloudFormation template JSON
type Resources = Record<string, { Type: string; Properties?: Json }>;

/** The environment every process gets: region, the local credentials and the local endpoints. */
export interface LocalEndpoints {
  s3: string;
  sqs: string;
  /** The stream proxy in front of dynalite. */
  dynamodb: string;
}

/** The stack on local servers. */
export interface LocalStack {
  stack: PeerstyleStack;
  resources: Resources;
  /** Local name (bucket, table), URL (queue) or function name of each logical id. */
  refs: Record<string, string>;
  /** Region, credentials and endpoints, as every function and container gets them. */
  baseEnv: Record<string, string>;
  /** The template's environment of a function, resolved. */
  envOf(handler: HandlerName): Record<string, string>;
  /** The handler an HTTP or WebSocket route invokes (and the authorizer in front of it, if any). */
  route(api: 'http' | 'ws', routeKey: string): { handler: HandlerName; authorizer: HandlerName | null };
  /** The handler the EventBridge rule matching `source` invokes. */
  ruleTarget(source: string): HandlerName;
  /** The deployed function name of a handler (what PEERSTYLE_*_FUNCTION variables hold). */
  functionName(handler: HandlerName): string;
  /** The handler behind a deployed function name. */
  handlerNamed(functionName: string): HandlerName;
  /** Resolves a template value (Ref, Fn::GetAtt, Fn::Join, Fn::Sub) against the local resources. */
  resolve(value: Json): Json;
  /** Runs one invocation, after every invocation queued before it, with the function's environment. */
  invoke<T = unknown>(handler: HandlerName, event: unknown): Promise<T>;
  /** Queues an invocation without waiting for it (Lambda's asynchronous invocation, an event source). */
  invokeLater(handler: HandlerName, event: unknown): void;
  /** Resolves once every queued invocation has run. */
  idle(): Promise<void>;
  /** Errors thrown by invocations queued with `invokeLater`. */
  backgroundErrors: unknown[];
  stop(): Promise<void>;
}

/** The logical ids a template value refers to through Ref or Fn::GetAtt, depth first. */
function referencedIds(value: Json, found: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => referencedIds(v, found));
  else if (value !== null && typeof value === 'object') {
    if (typeof value.Ref === 'string') found.push(value.Ref);
    if (Array.isArray(value['Fn::GetAtt'])) found.push(value['Fn::GetAtt'][0]);
    for (const v of Object.values(value)) referencedIds(v, found);
  }
  return found;
}

/** Synthesizes the stack and creates its storage on the emulators; `dynamoTarget` is dynalite itself. */
export async function startLocalStack(servers: {
  s3: S3Emulator;
  dynamo: DynamoEmulator;
  sqs: SqsEmulator;
}): Promise<LocalStack> {
  const { stack, template } = synthesizeStack();
  const resources = (template.toJSON() as { Resources: Resources }).Resources;
  const refs: Record<string, string> = {};
  const atts: Record<string, string> = {};
  // Lookups of what the template declares (and the emulators assigned), which must be there.
  const resource = (id: string) => defined(resources[id], `resource ${id}`);
  const ref = (id: string) => defined(refs[id], `the name of ${id}`);
  const att = (name: string) => defined(atts[name], `attribute ${name}`);
  const pseudo: Record<string, string> = {
    'AWS::Region': REGION,
    'AWS::AccountId': ACCOUNT,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': stack.stackName,
  };

  const resolve = (value: Json): Json => {
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map(resolve);
    if (typeof value.Ref === 'string') return refs[value.Ref] ?? pseudo[value.Ref] ?? `local-${value.Ref}`;
    if (Array.isArray(value['Fn::GetAtt'])) {
      const [id, attribute] = value['Fn::GetAtt'] as [string, string];
      return atts[`${id}.${attribute}`] ?? `arn:aws:local:${REGION}:${ACCOUNT}:${id}/${attribute}`;
    }
    if (Array.isArray(value['Fn::Join'])) {
      const [separator, parts] = value['Fn::Join'] as [string, Json[]];
      return parts.map((part) => String(resolve(part))).join(separator);
    }
    if (value['Fn::Sub'] !== undefined) {
      const [text, variables] = typeof value['Fn::Sub'] === 'string' ? [value['Fn::Sub'], {}] : value['Fn::Sub'];
      return (text as string).replace(/\$\{([^}]+)\}/g, (_, name: string) => {
        if (variables[name] !== undefined) return String(resolve(variables[name]));
        const [id, attribute] = name.split('.');
        return String(resolve(attribute === undefined ? { Ref: id } : { 'Fn::GetAtt': [id, attribute] }));
      });
    }
    if (Array.isArray(value['Fn::Select'])) {
      const [index, list] = value['Fn::Select'] as [number, Json];
      return (resolve(list) as Json[])[Number(index)];
    }
    if (Array.isArray(value['Fn::Split'])) {
      const [separator, text] = value['Fn::Split'] as [string, Json];
      return String(resolve(text)).split(separator);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
  };

  // Functions: each HandlerFunction construct names the entry it runs.
  const handlerOfFunction = new Map<string, HandlerName>();
  for (const construct of stack.node.findAll()) {
    if (construct instanceof HandlerFunction) {
      const id = logicalIdOf(construct.function);
      handlerOfFunction.set(id, construct.handler);
      refs[id] = `fn-${construct.handler}`;
      atts[`${id}.Arn`] = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:fn-${construct.handler}`;
    }
  }
  const functionIn = (value: Json): HandlerName => {
    const handler = referencedIds(value)
      .map((id) => handlerOfFunction.get(id))
      .find((h) => h !== undefined);
    if (handler === undefined) throw new Error(`No Lambda function in ${JSON.stringify(value)}`);
    return handler;
  };

  // Storage, as the template declares it.
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type === 'AWS::S3::Bucket') {
      const name = `b-${randomUUID().slice(0, 18)}`;
      await servers.s3.client.send(new CreateBucketCommand({ Bucket: name }));
      refs[id] = name;
      atts[`${id}.Arn`] = `arn:aws:s3:::${name}`;
    }
  }
  const streamed = new Set<string>();
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::DynamoDB::Table' && resource.Type !== 'AWS::DynamoDB::GlobalTable') continue;
    const p = resource.Properties;
    const name = `t-${id}-${randomUUID().slice(0, 8)}`;
    await servers.dynamo.client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: p.AttributeDefinitions,
        KeySchema: p.KeySchema,
        ...(p.GlobalSecondaryIndexes && {
          GlobalSecondaryIndexes: p.GlobalSecondaryIndexes.map((index: Json) => ({
            IndexName: index.IndexName,
            KeySchema: index.KeySchema,
            Projection: index.Projection,
          })),
        }),
      }),
    );
    await waitForActiveTable(servers.dynamo.client, name);
    refs[id] = name;
    atts[`${id}.Arn`] = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`;
    if (p.StreamSpecification !== undefined) {
      streamed.add(name);
      atts[`${id}.StreamArn`] = `${atts[`${id}.Arn`]}/stream/local`;
    }
  }
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::SQS::Queue') continue;
    // Created without their redrive policies: the flows here never dead-letter a message, and
    // local-aws-sqs moves a message to its dead-letter queue on a visibility reset.
    const { QueueUrl } = await servers.sqs.client.send(
      new CreateQueueCommand({ QueueName: `q-${id}-${randomUUID().slice(0, 8)}` }),
    );
    const arn = await servers.sqs.client.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    refs[id] = QueueUrl!;
    atts[`${id}.Arn`] = arn.Attributes!.QueueArn!;
  }

  // The Lambda "service": one invocation at a time, each with its function's own environment.
  const streamProxy = await startStreamProxy(servers.dynamo, streamed);
  const baseEnv: Record<string, string> = {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_S3: servers.s3.endpoint,
    AWS_ENDPOINT_URL_SQS: servers.sqs.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: streamProxy.endpoint,
    // s3rver stores a streamed body with its aws-chunked framing unless checksums are off (local-infra.md).
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
  };
  const envOf = (handler: HandlerName): Record<string, string> => {
    const id = [...handlerOfFunction].find(([, h]) => h === handler)?.[0];
    if (id === undefined) throw new Error(`The stack has no ${handler} function`);
    return resolve(resource(id).Properties.Environment?.Variables ?? {}) as Record<string, string>;
  };
  const modules = new Map<HandlerName, { handler: (event: unknown, context?: unknown) => Promise<unknown> }>();
  const hostEnv = { ...process.env };
  let chain: Promise<unknown> = Promise.resolve();
  const backgroundErrors: unknown[] = [];
  const run = async (handler: HandlerName, event: unknown): Promise<unknown> => {
    for (const key of Object.keys(process.env))
      if (key.startsWith('PEERSTYLE_') || key.startsWith('AWS_')) delete process.env[key];
    Object.assign(process.env, baseEnv, envOf(handler));
    try {
      let module = modules.get(handler);
      if (module === undefined) {
        module = require(path.join(ROOT, HANDLER_ENTRIES[handler])) as NonNullable<typeof module>;
        modules.set(handler, module);
      }
      return await module.handler(event, { functionName: `fn-${handler}`, awsRequestId: randomUUID() });
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in hostEnv)) delete process.env[key];
      Object.assign(process.env, hostEnv);
    }
  };
  const invoke = <T>(handler: HandlerName, event: unknown): Promise<T> => {
    const result = chain.then(() => run(handler, event));
    chain = result.catch(() => undefined);
    return result as Promise<T>;
  };
  let stopped = false;
  const invokeLater = (handler: HandlerName, event: unknown): void => {
    // After `stop`, nothing is left to deliver to: the test's servers are going away.
    if (stopped) return;
    invoke(handler, event).catch((error: unknown) => backgroundErrors.push(error));
  };

  // Event sources: the jobs table's stream and the queues, as the template maps them.
  const streamTargets = new Map<string, { handler: HandlerName; patterns: unknown[] }[]>();
  const queueTargets: { queueUrl: string; handler: HandlerName; arn: string }[] = [];
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::Lambda::EventSourceMapping') continue;
    const source = resource.Properties.EventSourceArn['Fn::GetAtt'] as [string, string];
    const handler = functionIn(resource.Properties.FunctionName);
    if (source[1] === 'StreamArn') {
      // Filter criteria as the mapping declares them: a record is delivered when any pattern matches.
      const filters = (resource.Properties.FilterCriteria?.Filters ?? []) as { Pattern: string }[];
      const targets = streamTargets.get(ref(source[0])) ?? [];
      targets.push({ handler, patterns: filters.map((f) => JSON.parse(f.Pattern) as unknown) });
      streamTargets.set(ref(source[0]), targets);
    } else queueTargets.push({ queueUrl: ref(source[0]), handler, arn: att(`${source[0]}.Arn`) });
  }
  streamProxy.onRecord = (table, record) => {
    for (const { handler, patterns } of streamTargets.get(table) ?? []) {
      if (patterns.length === 0 || patterns.some((pattern) => matchesPattern(pattern, record))) {
        invokeLater(handler, { Records: [record] });
      }
    }
  };
  let polling = true;
  const pollers = queueTargets.map(async ({ queueUrl, handler, arn }) => {
    while (polling) {
      const { Messages = [] } = await servers.sqs.client.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      if (Messages.length === 0) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      const event = {
        Records: Messages.map((m) => ({
          messageId: m.MessageId!,
          receiptHandle: m.ReceiptHandle!,
          body: m.Body!,
          attributes: {},
          messageAttributes: {},
          md5OfBody: m.MD5OfBody!,
          eventSource: 'aws:sqs',
          eventSourceARN: arn,
          awsRegion: REGION,
        })),
      } as unknown as SQSEvent;
      const response = await invoke<{ batchItemFailures?: { itemIdentifier: string }[] }>(handler, event).catch(
        (error: unknown) => {
          backgroundErrors.push(error);
          return { batchItemFailures: Messages.map((m) => ({ itemIdentifier: m.MessageId! })) };
        },
      );
      const failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      for (const m of Messages)
        if (!failed.has(m.MessageId!))
          await servers.sqs.client.send(
            new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }),
          );
    }
  });

  // Routes and rules.
  const apiIds = { http: logicalIdOf(stack.api.httpApi), ws: logicalIdOf(stack.subscriptions.webSocketApi) };
  const route = (api: 'http' | 'ws', routeKey: string): { handler: HandlerName; authorizer: HandlerName | null } => {
    const found = Object.values(resources).find(
      (r) =>
        r.Type === 'AWS::ApiGatewayV2::Route' &&
        r.Properties.RouteKey === routeKey &&
        referencedIds(r.Properties.ApiId).includes(apiIds[api]),
    );
    if (found === undefined) throw new Error(`No ${api} route ${routeKey}`);
    const integration = resource(at(referencedIds(found.Properties.Target), 0));
    const authorizerId =
      found.Properties.AuthorizerId === undefined ? [] : referencedIds(found.Properties.AuthorizerId);
    return {
      handler: functionIn(integration.Properties.IntegrationUri),
      authorizer: authorizerId.length === 0 ? null : functionIn(resource(at(authorizerId, 0)).Properties.AuthorizerUri),
    };
  };
  const ruleTarget = (source: string): HandlerName => {
    const rule = Object.values(resources).find(
      (r) => r.Type === 'AWS::Events::Rule' && (r.Properties.EventPattern?.source ?? []).includes(source),
    );
    if (rule === undefined) throw new Error(`No rule for ${source}`);
    return functionIn(rule.Properties.Targets.map((t: Json) => t.Arn));
  };

  return {
    stack,
    resources,
    refs,
    baseEnv,
    envOf,
    route,
    ruleTarget,
    functionName: (handler) => `fn-${handler}`,
    handlerNamed: (name) => {
      const handler = [...handlerOfFunction.values()].find((h) => `fn-${h}` === name || name.endsWith(`:fn-${h}`));
      if (handler === undefined) throw new Error(`No function named ${name}`);
      return handler;
    },
    resolve,
    invoke,
    invokeLater,
    idle: async () => {
      for (;;) {
        const current = chain;
        await current;
        await new Promise((r) => setTimeout(r, 50));
        if (current === chain) return;
      }
    },
    backgroundErrors,
    stop: async () => {
      polling = false;
      await Promise.all(pollers);
      stopped = true;
      for (let current = chain; ; current = chain) {
        await current;
        if (current === chain) break;
      }
      await streamProxy.stop();
    },
  };
}

/** The ENTRYPOINT of one of the GPU images, with the image's /app mapped to this checkout. */
export function imageEntrypoint(image: 'stylize-worker' | 'trainer'): string[] {
  const text = readFileSync(path.join(ROOT, 'infra', 'docker', image, 'Dockerfile'), 'utf8');
  const line = /^ENTRYPOINT (\[.*\])$/m.exec(text);
  if (line === null) throw new Error(`The ${image} Dockerfile has no ENTRYPOINT`);
  return (JSON.parse(at(line, 1)) as string[]).map((part) =>
    part === 'node' ? process.execPath : part.replace(/^\/app\//, `${ROOT}/`),
  );
}

/**
 * Lambda's event filtering for the patterns the stack uses: an object pattern matches when every key
 * matches the record's value under it, and a list of values matches one of them exactly.
 */
function matchesPattern(pattern: unknown, value: unknown): boolean {
  if (Array.isArray(pattern)) return pattern.some((option) => option === value);
  if (typeof pattern !== 'object' || pattern === null) return false;
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(pattern).every(([key, inner]) =>
    matchesPattern(inner, (value as Record<string, unknown>)[key]),
  );
}

interface StreamProxy {
  endpoint: string;
  onRecord: (table: string, record: DynamoDBRecord) => void;
  stop(): Promise<void>;
}

/**
 * A DynamoDB endpoint that forwards every request to dynalite and, after each successful
 * PutItem/UpdateItem/DeleteItem on a streamed table, reads the item back and reports a stream record
 * (NEW_AND_OLD_IMAGES). Writes to streamed tables pass one at a time, so each read-back sees exactly
 * its own write, and records come out in write order, as a stream shard delivers them.
 */
async function startStreamProxy(dynamo: DynamoEmulator, streamed: ReadonlySet<string>): Promise<StreamProxy> {
  const target = new URL(dynamo.endpoint);
  const images = new Map<string, Record<string, AttributeValue>>();
  let writes: Promise<unknown> = Promise.resolve();
  let sequence = 0;
  const proxy: StreamProxy = { endpoint: '', onRecord: () => undefined, stop: async () => undefined };

  const forward = (
    req: http.IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const out = http.request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 500, headers: res.headers, body: Buffer.concat(chunks) }),
          );
        },
      );
      out.on('error', reject);
      out.end(body);
    });

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      let request: Json = {};
      try {
        request = JSON.parse(body.toString('utf8') || '{}');
      } catch {
        request = {};
      }
      const table = request.TableName as string | undefined;
      const isWrite =
        ['PutItem', 'UpdateItem', 'DeleteItem'].includes(operation) && table !== undefined && streamed.has(table);
      const handle = async (): Promise<void> => {
        const answer = await forward(req, body);
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body);
        if (!isWrite || answer.status !== 200) return;
        const key = (request.Key ?? { pk: request.Item?.pk }) as Record<string, AttributeValue>;
        const { Item } = await dynamo.client.send(
          new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }),
        );
        const id = JSON.stringify(key);
        const old = images.get(id);
        if (Item === undefined) images.delete(id);
        else images.set(id, Item);
        sequence += 1;
        proxy.onRecord(table!, {
          eventID: randomUUID(),
          eventName: Item === undefined ? 'REMOVE' : old === undefined ? 'INSERT' : 'MODIFY',
          eventVersion: '1.1',
          eventSource: 'aws:dynamodb',
          awsRegion: REGION,
          dynamodb: {
            Keys: key,
            ...(Item !== undefined && { NewImage: Item }),
            ...(old !== undefined && { OldImage: old }),
            SequenceNumber: String(sequence).padStart(21, '0'),
            SizeBytes: 512,
            StreamViewType: 'NEW_AND_OLD_IMAGES',
          },
          eventSourceARN: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${table}/stream/local`,
        } as DynamoDBRecord);
      };
      const done = isWrite ? (writes = writes.then(handle, handle)) : handle();
      done.catch(() => {
        if (!res.headersSent) res.writeHead(502).end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.stop = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
