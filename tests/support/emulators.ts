/**
 * Starts the AWS protocol servers the AWS adapter tests run against, all on 127.0.0.1 and free ports:
 * s3rver (in a child process, see `s3rver-child.js`), dynalite and local-aws-sqs (in-process), plus the
 * clients and fresh resources (a bucket, a jobs table with its owner index, a queue with its
 * dead-letter queue) that each test needs. Every resource gets a unique name, so tests never see each
 * other's data and a server is started once per file.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createDynamoDbClient, createS3Client, createSqsClient, DYNAMO_JOBS_TABLE } from '../../functions/adapters/aws';

/** The jobs table's names, as the adapter uses them (checked against the stack in table-names.test.ts). */
export const JOBS_TABLE_NAMES = DYNAMO_JOBS_TABLE;

/** The access key s3rver accepts; the other servers accept any. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const REGION = 'us-east-1';

/** A running s3rver and a client for it. */
export interface S3Emulator {
  endpoint: string;
  client: S3Client;
  /** Creates an empty bucket with a unique name and returns the name. */
  newBucket: () => Promise<string>;
  stop: () => Promise<void>;
}

/** Starts s3rver in a child process with the legacy OpenSSL provider. */
export async function startS3(): Promise<S3Emulator> {
  const directory = mkdtempSync(join(tmpdir(), 'peerstyle-s3rver-'));
  const child: ChildProcess = spawn(process.execPath, [join(__dirname, 's3rver-child.js'), directory], {
    env: { ...process.env, NODE_OPTIONS: '--openssl-legacy-provider' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`s3rver exited early with code ${code}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = createS3Client({ region: REGION, endpoint, credentials: LOCAL_CREDENTIALS });
  return {
    endpoint,
    client,
    newBucket: async () => {
      const name = `b-${randomUUID().slice(0, 18)}`;
      await client.send(new CreateBucketCommand({ Bucket: name }));
      return name;
    },
    stop: async () => {
      client.destroy();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin?.end();
      await exited;
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Waits until a new table is ACTIVE. dynalite answers CreateTable with a CREATING table and marks it
 * ACTIVE a moment later, asynchronously; a write that arrives first fails with ResourceNotFoundException,
 * which on a busy machine happens often enough to make tests flaky.
 */
export async function waitForActiveTable(client: DynamoDBClient, name: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    if (Table?.TableStatus === 'ACTIVE') return;
    if (Date.now() > deadline) throw new Error(`Table ${name} is still ${Table?.TableStatus} after 10 s.`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A running dynalite and a client for it. */
export interface DynamoEmulator {
  endpoint: string;
  client: DynamoDBClient;
  /** Creates a jobs table shaped like the deployed one (pk, byOwner on owner+createdAt). */
  newJobsTable: () => Promise<string>;
  stop: () => Promise<void>;
}

/** Starts dynalite in memory, in-process. */
export async function startDynamo(): Promise<DynamoEmulator> {
  const dynalite = require('dynalite') as (options: Record<string, number>) => Server;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const port = await listen(server);
  const endpoint = `http://127.0.0.1:${port}`;
  const client = createDynamoDbClient({ region: REGION, endpoint, credentials: LOCAL_CREDENTIALS });
  return {
    endpoint,
    client,
    newJobsTable: async () => {
      const name = `jobs-${randomUUID()}`;
      const { partitionKey, ownerIndex, ownerAttribute, createdAtAttribute } = JOBS_TABLE_NAMES;
      await client.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: partitionKey, AttributeType: 'S' },
            { AttributeName: ownerAttribute, AttributeType: 'S' },
            { AttributeName: createdAtAttribute, AttributeType: 'S' },
          ],
          KeySchema: [{ AttributeName: partitionKey, KeyType: 'HASH' }],
          GlobalSecondaryIndexes: [
            {
              IndexName: ownerIndex,
              KeySchema: [
                { AttributeName: ownerAttribute, KeyType: 'HASH' },
                { AttributeName: createdAtAttribute, KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: 'ALL' },
            },
          ],
        }),
      );
      await waitForActiveTable(client, name);
      return name;
    },
    stop: async () => {
      client.destroy();
      await close(server);
    },
  };
}

/** A running local-aws-sqs and a client for it. */
export interface SqsEmulator {
  endpoint: string;
  client: SQSClient;
  /** Creates a queue whose RedrivePolicy sends messages to a new DLQ after `maxReceiveCount` receives. */
  newQueuePair: (maxReceiveCount: number) => Promise<{ queueUrl: string; deadLetterQueueUrl: string }>;
  stop: () => Promise<void>;
}

/** Starts local-aws-sqs in-process. */
export async function startSqs(): Promise<SqsEmulator> {
  const { createSqsServer } = require('local-aws-sqs') as {
    createSqsServer: (options: { port: number; hostname: string }) => Promise<Server>;
  };
  const server = await createSqsServer({ port: 0, hostname: '127.0.0.1' });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = createSqsClient({ region: REGION, endpoint, credentials: LOCAL_CREDENTIALS });
  return {
    endpoint,
    client,
    newQueuePair: async (maxReceiveCount) => {
      const id = randomUUID().slice(0, 18);
      const dead = await client.send(new CreateQueueCommand({ QueueName: `dlq-${id}` }));
      const arn = await client.send(
        new GetQueueAttributesCommand({ QueueUrl: dead.QueueUrl, AttributeNames: ['QueueArn'] }),
      );
      const main = await client.send(
        new CreateQueueCommand({
          QueueName: `q-${id}`,
          Attributes: {
            RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn.Attributes?.QueueArn, maxReceiveCount }),
          },
        }),
      );
      return { queueUrl: main.QueueUrl!, deadLetterQueueUrl: dead.QueueUrl! };
    },
    stop: async () => {
      client.destroy();
      server.closeAllConnections();
      await close(server);
    },
  };
}
