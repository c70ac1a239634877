/**
 * The drop-folder intake function end to end against real protocol servers on loopback: s3rver for the
 * uploads bucket, dynalite for the jobs table and local-aws-sqs for the stylize queue, configured
 * through the same environment variables the CDK stack sets. S3 notifications are written by hand in
 * the exact shape S3 sends through SQS (s3rver cannot send them), and the images are the real
 * fixtures, plus one large PNG generated here to exercise the header-only read.
 */

import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import sharp from 'sharp';
import {
  createDynamoDbDocumentClient,
  DynamoJobStore,
  S3BlobStore,
  SqsJobQueue,
} from '../../../functions/adapters/aws';
import type { BlobStore } from '../../../functions/core';
import { handler, intakeRecord } from '../../../functions/handlers/drop-intake';
import { HEADER_BYTES, inspectDroppedImage } from '../../../functions/core/use-cases';
import { blobImageSource } from '../../../functions/handlers/events/blob-image-source';
import { DROP_OWNER, dropIdempotencyKey } from '../../../functions/handlers/events/intake-dropped-object';
import { processSqsBatch } from '../../../functions/handlers/events/sqs-batch';
import { BlobStyleLookup } from '../../../functions/handlers/events/style-lookup';
import { intakeDepsFromEnv } from '../../../functions/wiring/aws';
import {
  LOCAL_CREDENTIALS,
  startDynamo,
  startS3,
  startSqs,
  type DynamoEmulator,
  type S3Emulator,
  type SqsEmulator,
} from '../../support/emulators';
import { at } from '../../support/checked';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'images');
const fixture = (name: string): Buffer => readFileSync(path.join(FIXTURES, name));

let s3: S3Emulator;
let dynamo: DynamoEmulator;
let sqs: SqsEmulator;
let bucket: string;
let table: string;
let queueUrl: string;
let blobs: S3BlobStore;
let jobs: DynamoJobStore;
const savedEnv = { ...process.env };

beforeAll(async () => {
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  [s3, dynamo, sqs] = await Promise.all([startS3(), startDynamo(), startSqs()]);
  bucket = await s3.newBucket();
  table = await dynamo.newJobsTable();
  ({ queueUrl } = await sqs.newQueuePair(3));
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    PEERSTYLE_UPLOADS_BUCKET: bucket,
    PEERSTYLE_JOBS_TABLE: table,
    PEERSTYLE_STYLIZE_QUEUE_URL: queueUrl,
  });
  blobs = new S3BlobStore({ client: s3.client, bucket });
  jobs = new DynamoJobStore({ client: createDynamoDbDocumentClient(dynamo.client), tableName: table });
  await blobs.put('styles/starry', fixture('painting-1.jpg'), { contentType: 'image/jpeg' });
  await blobs.put('styles/herringbone', fixture('painting-2.jpg'), { contentType: 'image/jpeg' });
});

afterAll(async () => {
  process.env = savedEnv;
  jest.restoreAllMocks();
  await Promise.all([s3?.stop(), dynamo?.stop(), sqs?.stop()]);
});

let messageCounter = 0;

/** An SQS record whose body is an S3 notification, keys encoded as S3 encodes them. */
function s3Record(objects: { key: string; eTag?: string; versionId?: string; size?: number }[]): SQSRecord {
  messageCounter += 1;
  const body = {
    Records: objects.map((o) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      eventName: 'ObjectCreated:Put',
      s3: {
        bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
        object: {
          key: encodeURIComponent(o.key).replace(/%2F/g, '/').replace(/%20/g, '+'),
          size: o.size ?? 1,
          eTag: o.eTag ?? 'etag',
          ...(o.versionId !== undefined && { versionId: o.versionId }),
          sequencer: '0055AED6DCD90281E5',
        },
      },
    })),
  };
  return rawRecord(JSON.stringify(body));
}

function rawRecord(body: string): SQSRecord {
  messageCounter += 1;
  return { messageId: `m-${messageCounter}`, body } as SQSRecord;
}

const event = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

async function drainQueue(): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const got = await sqs.client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (!got.Messages || got.Messages.length === 0) return ids;
    for (const m of got.Messages) ids.push((JSON.parse(m.Body ?? '{}') as { jobId: string }).jobId);
  }
}

async function dropJobs() {
  return (await jobs.list(DROP_OWNER, { limit: 100 })).items;
}

test('the s3:TestEvent and a body that is not a notification are acknowledged and create nothing', async () => {
  const before = (await dropJobs()).length;
  const testEvent = rawRecord(
    JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Time: '2026-11-27T10:00:00.000Z', Bucket: bucket }),
  );
  const response = await handler(event(testEvent, rawRecord('not json')));
  expect(response.batchItemFailures).toEqual([]);
  expect(await dropJobs()).toHaveLength(before);
});

test('a dropped photo with a URL-encoded key becomes one QUEUED job, however often it is notified', async () => {
  const key = 'drop/starry/my holiday+1.jpg';
  await blobs.put(key, fixture('photo-1.jpg'));
  await drainQueue();

  const first = await handler(event(s3Record([{ key, eTag: 'e-1' }])));
  expect(first.batchItemFailures).toEqual([]);
  const made = (await dropJobs()).filter((job) => (job.input as { contentKey: string }).contentKey === key);
  expect(made).toHaveLength(1);
  const job = made[0]!;
  expect(job.status).toBe('QUEUED');
  expect(job.kind).toBe('STYLIZE');
  expect(job.idempotencyKey).toBe(dropIdempotencyKey({ bucket, key, versionId: null, eTag: 'e-1' }));
  expect(job.input).toMatchObject({ styles: [{ key: 'styles/starry', styleId: 'starry', weight: 1 }] });
  expect(await drainQueue()).toEqual([job.id]);

  // S3 delivers at least once: the same notification again, in a batch of its own and twice in one.
  await handler(event(s3Record([{ key, eTag: 'e-1' }]), s3Record([{ key, eTag: 'e-1' }])));
  expect((await dropJobs()).filter((j) => (j.input as { contentKey: string }).contentKey === key)).toHaveLength(1);

  // A new version of the same name is a new upload, and a new job.
  await handler(event(s3Record([{ key, eTag: 'e-1', versionId: 'v2' }])));
  expect((await dropJobs()).filter((j) => (j.input as { contentKey: string }).contentKey === key)).toHaveLength(2);
});

test('unknown styles, non-images and misplaced files are copied to rejected/ with a reason and not retried', async () => {
  const text = fixture('corrupt.jpg');
  const photo = fixture('photo-2.jpg');
  const gif = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
  await blobs.put('drop/monet/photo.jpg', photo);
  await blobs.put('drop/starry/notes.jpg', text);
  await blobs.put('drop/starry/anim.gif', gif);
  await blobs.put('drop/loose.jpg', photo);
  const before = (await dropJobs()).length;

  const response = await handler(
    event(
      s3Record([{ key: 'drop/monet/photo.jpg' }, { key: 'drop/starry/notes.jpg' }]),
      s3Record([{ key: 'drop/starry/anim.gif' }]),
      s3Record([{ key: 'drop/loose.jpg' }]),
    ),
  );

  expect(response.batchItemFailures).toEqual([]);
  expect(await dropJobs()).toHaveLength(before);
  expect(Buffer.from(await blobs.get('rejected/monet/photo.jpg')).equals(photo)).toBe(true);
  const reason = (key: string) => blobs.get(`${key}.reason.txt`).then((b) => Buffer.from(b).toString('utf8'));
  expect(await reason('rejected/monet/photo.jpg')).toBe(
    'Unknown style id "monet". Expected one of: herringbone, starry.\n',
  );
  expect(Buffer.from(await blobs.get('rejected/starry/notes.jpg')).equals(text)).toBe(true);
  expect(await reason('rejected/starry/notes.jpg')).toMatch(
    /^INVALID_IMAGE: The file is not an image; expected one of: image\/jpeg, image\/png, image\/webp/,
  );
  expect(await reason('rejected/starry/anim.gif')).toMatch(
    /^UNSUPPORTED_FORMAT: The file is image\/gif; expected one of/,
  );
  expect(await reason('rejected/loose.jpg')).toMatch(/drop\/<style-id>\/<image>/);
});

test('only the record that failed for a passing reason is reported for redelivery', async () => {
  await blobs.put('drop/starry/photo-3.jpg', fixture('photo-3.jpg'));
  // The same configuration, but a jobs table that does not exist: the service call fails.
  const broken = intakeDepsFromEnv({ ...process.env, PEERSTYLE_JOBS_TABLE: 'no-such-table' });
  const good = rawRecord(JSON.stringify({ Event: 's3:TestEvent' }));
  const bad = s3Record([{ key: 'drop/starry/photo-3.jpg', eTag: 'e-3' }]);
  const errors: string[] = [];
  const response = await processSqsBatch(
    [good, bad],
    (record) => intakeRecord(broken, record),
    (record) => errors.push(record.messageId),
  );
  expect(response.batchItemFailures).toEqual([{ itemIdentifier: bad.messageId }]);
  expect(errors).toEqual([bad.messageId]);
  // Nothing was rejected: a transient failure is not the file's fault.
  expect(await blobs.head('rejected/starry/photo-3.jpg')).toBeNull();
});

describe('inspecting a dropped image', () => {
  test('reads dimensions from the header and enforces size and pixel limits', async () => {
    await blobs.put('drop/starry/rotated.jpg', fixture('exif-orientation-6.jpg'));
    await blobs.put('drop/starry/pic.webp', fixture('painting-4.webp'));
    // Stored dimensions: the EXIF rotation changes neither the longest side nor the pixel count.
    expect(await inspectDroppedImage(blobImageSource(blobs, 'drop/starry/rotated.jpg'))).toMatchObject({
      ok: true,
      width: 80,
      height: 60,
    });
    expect(await inspectDroppedImage(blobImageSource(blobs, 'drop/starry/pic.webp'))).toMatchObject({
      ok: true,
      contentType: 'image/webp',
    });
    const small = { maxBytes: 1_000_000, maxLongSide: 64, maxPixels: 10_000 };
    const refused = await inspectDroppedImage(blobImageSource(blobs, 'drop/starry/pic.webp'), small);
    expect(refused).toEqual({ ok: false, code: 'TOO_LARGE', reason: expect.stringContaining('80×60 pixels') });
    const tooBig = await inspectDroppedImage(blobImageSource(blobs, 'drop/starry/pic.webp'), {
      ...small,
      maxBytes: 100,
    });
    expect(tooBig).toEqual({
      ok: false,
      code: 'TOO_LARGE',
      reason: expect.stringMatching(/^The file is \d+ bytes; .* at most 100 bytes\.$/),
    });
    expect(await inspectDroppedImage(blobImageSource(blobs, 'drop/starry/absent.jpg'))).toEqual({ ok: 'gone' });
  });

  test('a large image is judged from its first bytes, without downloading the rest', async () => {
    const noise = Buffer.alloc(600 * 500 * 3);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
    const png = await sharp(noise, { raw: { width: 600, height: 500, channels: 3 } })
      .png({ compressionLevel: 0 })
      .toBuffer();
    expect(png.length).toBeGreaterThan(4 * HEADER_BYTES);
    await blobs.put('drop/starry/large.png', png);
    let streamed = 0;
    let wholeReads = 0;
    const counting: BlobStore = Object.create(blobs) as BlobStore;
    counting.get = async (key) => {
      wholeReads += 1;
      return blobs.get(key);
    };
    counting.getStream = async (key) => {
      const stream = await blobs.getStream(key);
      return (async function* () {
        for await (const chunk of stream) {
          streamed += chunk.byteLength;
          yield chunk;
        }
      })();
    };
    expect(await inspectDroppedImage(blobImageSource(counting, 'drop/starry/large.png'))).toMatchObject({
      ok: true,
      width: 600,
      height: 500,
    });
    expect(wholeReads).toBe(0);
    expect(streamed).toBeLessThan(2 * HEADER_BYTES);
  });
});

test('a notification about another bucket is acknowledged and ignored', async () => {
  const foreign = JSON.parse(s3Record([{ key: 'drop/starry/photo-1.jpg', eTag: 'f' }]).body) as {
    Records: { s3: { bucket: { name: string } } }[];
  };
  at(foreign.Records, 0).s3.bucket.name = 'someone-elses-bucket';
  const before = (await dropJobs()).length;
  expect((await handler(event(rawRecord(JSON.stringify(foreign))))).batchItemFailures).toEqual([]);
  expect(await dropJobs()).toHaveLength(before);
});

test('style ids that are not plain words are unknown rather than paths', async () => {
  const lookup = new BlobStyleLookup(blobs);
  expect(await lookup.find('starry')).toEqual({ styleId: 'starry', key: 'styles/starry' });
  expect(await lookup.find('../styles/starry')).toBeNull();
  expect(await lookup.find('nope')).toBeNull();
});

test('the queue message is the one the stylize queue adapter writes', async () => {
  // The dispatcher parses what the intake sends; both go through SqsJobQueue's body format.
  const queue = new SqsJobQueue({ client: sqs.client, queueUrl, deadLetterQueueUrl: queueUrl });
  await drainQueue();
  await queue.enqueue('job-123');
  expect(await drainQueue()).toEqual(['job-123']);
});
