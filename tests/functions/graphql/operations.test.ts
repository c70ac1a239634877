/**
 * The schema and resolvers in process: operations run through Apollo's `executeOperation` with a
 * context built from real local adapters, without HTTP. This is where the error boundary and the
 * GraphQL shapes (metrics, messages, results, models) are pinned down.
 */

/* eslint-disable @typescript-eslint/no-explicit-any -- GraphQL results are untyped JSON that the tests read by path. */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApolloServer } from '@apollo/server';
import {
  FsBlobStore,
  InProcessJobEvents,
  openSqliteDatabase,
  SqliteJobQueue,
  SqliteJobStore,
  SqliteModelRegistry,
  SqliteStyleStore,
  type SqliteDatabase,
} from '../../../functions/adapters/local';
import { isEnumType, isInputObjectType } from 'graphql';
import {
  DomainError,
  ErrorCode,
  STRUCTURE_MODES,
  STYLIZE_FORMATS,
  type JobStore,
  type StylizeOptions,
} from '../../../functions/core';
import type { UseCaseDeps } from '../../../functions/core/use-cases';
import { buildSchema, createGraphQLServer, type GraphQLContext } from '../../../functions/graphql';
import { fixture, TEST_LIMITS } from './harness';
import { TRAINER_RULES } from '../../../trainer/training-rules';

let dir: string;
let db: SqliteDatabase;
let deps: UseCaseDeps;
let apollo: ApolloServer<GraphQLContext>;
const logged: unknown[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'peerstyle-ops-'));
  db = openSqliteDatabase(join(dir, 'peerstyle.db'));
  deps = {
    blobs: new FsBlobStore({
      root: join(dir, 'blobs'),
      signingSecret: 's',
      uploadUrl: 'http://127.0.0.1:1/uploads',
      downloadBaseUrl: 'http://127.0.0.1:1/downloads',
    }),
    jobs: new SqliteJobStore(db),
    queue: new SqliteJobQueue(db),
    events: new InProcessJobEvents(),
    styles: new SqliteStyleStore(db),
    models: new SqliteModelRegistry(db, { defaultManifest: { preset: 'small' } }),
    clock: Date.now,
    limits: TEST_LIMITS,
    trainingRules: TRAINER_RULES,
  };
  logged.length = 0;
  apollo = createGraphQLServer({ schema: buildSchema(), introspection: true, log: (_m, e) => logged.push(e) }).apollo;
  await apollo.start();
});
afterEach(async () => {
  await apollo.stop();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(
  query: string,
  variables: Record<string, unknown> = {},
  owner = 'alice',
  overrides: Partial<UseCaseDeps> = {},
) {
  const response = await apollo.executeOperation(
    { query, variables },
    { contextValue: { owner, deps: { ...deps, ...overrides } } },
  );
  if (response.body.kind !== 'single') throw new Error('expected a single result');
  return response.body.singleResult;
}

test('createUpload returns the presigned-POST form in order, under the owner prefix', async () => {
  const result = await run(
    `mutation { createUpload(contentType: "image/png", byteSize: 1234, group: "set-1") { url key expiresAt fields { name value } } }`,
  );
  const target = (result.data as any).createUpload;
  expect(target.url).toBe('http://127.0.0.1:1/uploads');
  expect(target.key).toMatch(/^uploads\/alice\/set-1\/[0-9a-f-]{36}$/);
  expect(target.fields.map((f: { name: string }) => f.name)).toEqual(['key', 'policy', 'signature']);
  expect(target.fields[0].value).toBe(target.key);
  const policy = JSON.parse(Buffer.from(target.fields[1].value, 'base64').toString('utf8'));
  expect(policy).toMatchObject({ key: target.key, contentTypePrefix: 'image/', maxBytes: 1234 });
  expect(Date.parse(target.expiresAt) - Date.now()).toBeGreaterThan(TEST_LIMITS.uploadTtlSeconds * 1000 - 5000);
});

test('an owner id that is not a plain word cannot shape the upload path', async () => {
  const result = await run(`mutation { createUpload(contentType: "image/png", byteSize: 10) { key } }`, {}, '../admin');
  expect((result.data as any).createUpload.key).toMatch(/^uploads\/h-[0-9a-f]{64}\/[0-9a-f-]{36}$/);
});

test('a job shows its metrics, history, messages and a training result', async () => {
  const { job } = await deps.jobs.create({ owner: 'alice', kind: 'TRAIN', input: {} });
  await deps.jobs.transition(job.id, 'QUEUED', 'RUNNING');
  await deps.jobs.updateProgress(job.id, { metrics: { step: 10, values: { loss_d: 0.5, loss_idt: 2 } } });
  await deps.jobs.updateProgress(job.id, {
    metrics: { step: 20, values: { loss_d: 0.25 } },
    message: { level: 'WARN', text: 'slow' },
  });
  await deps.jobs.transition(job.id, 'RUNNING', 'SUCCEEDED', { result: { modelId: 'm-1' } });
  const result = await run(
    `query($id: ID!) { job(id: $id) { kind status progress attempts startedAt finishedAt messages { level text } metrics { name value step } metricHistory { step values { name value } } result { modelId downloads { url } } error { code } } }`,
    { id: job.id },
  );
  expect(result.errors).toBeUndefined();
  const shown = (result.data as any).job;
  expect(shown).toMatchObject({
    kind: 'TRAIN',
    status: 'SUCCEEDED',
    progress: 1,
    attempts: 1,
    error: null,
    result: { modelId: 'm-1', downloads: [] },
  });
  expect(shown.startedAt).not.toBeNull();
  expect(shown.messages).toEqual([{ level: 'WARN', text: 'slow' }]);
  expect(shown.metrics).toEqual([
    { name: 'loss_d', value: 0.25, step: 20 },
    { name: 'loss_idt', value: 2, step: 10 },
  ]);
  expect(shown.metricHistory).toEqual([
    {
      step: 10,
      values: [
        { name: 'loss_d', value: 0.5 },
        { name: 'loss_idt', value: 2 },
      ],
    },
    { step: 20, values: [{ name: 'loss_d', value: 0.25 }] },
  ]);
});

test('models lists the built-in model with its manifest', async () => {
  const result = await run(`{ models { id name version builtIn manifest } }`);
  expect((result.data as any).models).toEqual([
    { id: 'tspr-default', name: 'TSPR default', version: 1, builtIn: true, manifest: '{"preset":"small"}' },
  ]);
});

test('registerStyle validates the name and stores the style', async () => {
  const key = 'uploads/alice/painting';
  await deps.blobs.put(key, fixture('painting-1.jpg'), { contentType: 'image/jpeg' });
  const empty = await run(`mutation($k: String!) { registerStyle(name: "  ", uploadKey: $k) { id } }`, { k: key });
  expect(empty.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
  const saved = await run(`mutation($k: String!) { registerStyle(name: "Starry", uploadKey: $k) { id name } }`, {
    k: key,
  });
  expect((saved.data as any).registerStyle.name).toBe('Starry');
  // The style keeps its own copy of the upload, which neither expires nor follows a reposted form.
  const blobKey = (await deps.styles.get((saved.data as any).registerStyle.id, 'alice'))?.blobKey ?? '';
  expect(blobKey).toMatch(/^saved-styles\/alice\/[0-9a-f-]{36}$/);
  expect(Buffer.from(await deps.blobs.get(blobKey)).equals(fixture('painting-1.jpg'))).toBe(true);
});

test('stylize options are range-checked with the valid range in the message', async () => {
  const key = 'uploads/alice/photo';
  await deps.blobs.put(key, fixture('photo-1.jpg'), { contentType: 'image/jpeg' });
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ options: { strength: 1.5 } }, /options.strength: must be in 0..1/],
    [{ options: { size: 10 } }, /options.size: must be an integer in 64..2048/],
    [{ options: { quality: 0 } }, /^options.quality: must be an integer in 1..100, got 0\.$/],
    [{ options: { format: 'WEBP', quality: 101 } }, /^options.quality: must be an integer in 1..100, got 101\.$/],
    [{ styles: [] }, /give 1..4 styles/],
    [{ styles: [{ uploadKey: key, styleId: 's' }] }, /exactly one of styleId and uploadKey/],
    [{ styles: [{ uploadKey: key, weight: 0 }] }, /weight: must be in \(0, 1\]/],
    [{ idempotencyKey: '' }, /idempotency key must be 1..256/],
  ];
  for (const [patch, message] of cases) {
    const result = await run(`mutation($input: StylizeInput!) { stylize(input: $input) { id } }`, {
      input: { content: key, styles: [{ uploadKey: key }], ...patch },
    });
    expect([result.errors?.[0]?.extensions?.code, result.errors?.[0]?.message]).toEqual([
      'BAD_REQUEST',
      expect.stringMatching(message),
    ]);
  }
  expect((await deps.queue?.stats())?.visible).toBe(0);
});

test('quality reaches the job input; out of range it is one BAD_REQUEST naming the range', async () => {
  const key = 'uploads/alice/photo-quality';
  await deps.blobs.put(key, fixture('photo-1.jpg'), { contentType: 'image/jpeg' });
  const stylize = (options: Record<string, unknown>) =>
    run(`mutation($input: StylizeInput!) { stylize(input: $input) { id } }`, {
      input: { content: key, styles: [{ uploadKey: key }], options },
    });
  const ok = await stylize({ format: 'WEBP', quality: 60 });
  expect(ok.errors).toBeUndefined();
  expect((await deps.jobs.get((ok.data as any).stylize.id, 'alice'))?.input).toMatchObject({
    format: 'webp',
    quality: 60,
  });
  const tooHigh = await stylize({ quality: 101 });
  expect(tooHigh.errors).toHaveLength(1);
  expect(tooHigh.errors?.[0]).toMatchObject({
    message: 'options.quality: must be an integer in 1..100, got 101.',
    extensions: { code: 'BAD_REQUEST' },
  });
  // Not a whole number: the schema's Int refuses it before the resolver runs.
  const fraction = await stylize({ quality: 50.5 });
  expect(fraction.errors).toHaveLength(1);
  expect(fraction.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
  expect((await deps.queue?.stats())?.visible).toBe(1);
});

test('renderScale reaches the job input; out of range it is one BAD_REQUEST naming the range', async () => {
  const key = 'uploads/alice/photo-render-scale';
  await deps.blobs.put(key, fixture('photo-1.jpg'), { contentType: 'image/jpeg' });
  const stylize = (options: Record<string, unknown>) =>
    run(`mutation($input: StylizeInput!) { stylize(input: $input) { id } }`, {
      input: { content: key, styles: [{ uploadKey: key }], options },
    });
  const ok = await stylize({ renderScale: 1.5 });
  expect(ok.errors).toBeUndefined();
  expect((await deps.jobs.get((ok.data as any).stylize.id, 'alice'))?.input).toMatchObject({ renderScale: 1.5 });
  for (const bad of [0.5, 5]) {
    const refused = await stylize({ renderScale: bad });
    expect(refused.errors).toHaveLength(1);
    expect(refused.errors?.[0]).toMatchObject({
      message: `options.renderScale: must be a number in 1..4, got ${bad}.`,
      extensions: { code: 'BAD_REQUEST' },
    });
  }
  expect((await deps.queue?.stats())?.visible).toBe(1);
});

test('the schema’s StylizeOptions are the core’s stylize options, field for field and value for value', () => {
  // Every option once: the compiler refuses this literal if the core's type gains or loses one.
  const everyOption: Required<StylizeOptions> = {
    strength: 1,
    preserveColor: false,
    structure: 'keep',
    size: 64,
    styleSize: 64,
    renderScale: 2,
    format: 'png',
    quality: 80,
    preview: false,
  };
  const type = buildSchema().getType('StylizeOptions');
  if (!isInputObjectType(type)) throw new Error('StylizeOptions is not an input type');
  expect(Object.keys(type.getFields()).sort()).toEqual(Object.keys(everyOption).sort());
  // Its enums are the core's values in GraphQL's upper case, which the core's parser lower-cases.
  const values = (name: string) => {
    const enumType = buildSchema().getType(name);
    if (!isEnumType(enumType)) throw new Error(`${name} is not an enum`);
    return enumType
      .getValues()
      .map((v) => v.name.toLowerCase())
      .sort();
  };
  expect(values('ImageFormat')).toEqual([...STYLIZE_FORMATS].sort());
  expect(values('StructureMode')).toEqual([...STRUCTURE_MODES].sort());
});

test('the structure option reaches the job input in lower case; an unknown value is refused by the schema', async () => {
  const key = 'uploads/alice/photo-structure';
  await deps.blobs.put(key, fixture('photo-1.jpg'), { contentType: 'image/jpeg' });
  const ok = await run(`mutation($input: StylizeInput!) { stylize(input: $input) { id } }`, {
    input: { content: key, styles: [{ uploadKey: key }], options: { structure: 'KEEP' } },
  });
  const id = (ok.data as any).stylize.id;
  expect((await deps.jobs.get(id, 'alice'))?.input).toMatchObject({ structure: 'keep' });
  const unset = await run(`mutation($input: StylizeInput!) { stylize(input: $input) { id } }`, {
    input: { content: key, styles: [{ uploadKey: key }] },
  });
  expect((await deps.jobs.get((unset.data as any).stylize.id, 'alice'))?.input).not.toHaveProperty('structure');
  const wrong = await run(`mutation($input: StylizeInput!) { stylize(input: $input) { id } }`, {
    input: { content: key, styles: [{ uploadKey: key }], options: { structure: 'HALF' } },
  });
  expect(wrong.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
  expect(wrong.errors?.[0]?.message).toMatch(/HALF/);
});

test('the preview option reaches the job input; a stored preview reads as a signed link with its size', async () => {
  const key = 'uploads/alice/photo-preview';
  await deps.blobs.put(key, fixture('photo-1.jpg'), { contentType: 'image/jpeg' });
  const stylize = (options?: Record<string, unknown>) =>
    run(`mutation($input: StylizeInput!) { stylize(input: $input) { id preview { url } } }`, {
      input: { content: key, styles: [{ uploadKey: key }], ...(options && { options }) },
    });
  const off = await stylize({ preview: false });
  expect((off.data as any).stylize.preview).toBeNull();
  expect((await deps.jobs.get((off.data as any).stylize.id, 'alice'))?.input).toMatchObject({ preview: false });
  const unset = await stylize();
  const id = (unset.data as any).stylize.id;
  expect((await deps.jobs.get(id, 'alice'))?.input).not.toHaveProperty('preview');
  expect((await stylize({ preview: 'yes' })).errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');

  // What a worker records: the blob first, then the progress report naming it.
  const previewKey = `results/${id}.preview.jpg`;
  await deps.blobs.put(previewKey, fixture('photo-2.jpg'), { contentType: 'image/jpeg' });
  await deps.jobs.transition(id, 'QUEUED', 'RUNNING');
  await deps.jobs.updateProgress(id, {
    stage: 'preview',
    preview: { key: previewKey, width: 80, height: 60, contentType: 'image/jpeg' },
  });
  const read = await run('query($id: ID!) { job(id: $id) { preview { url expiresAt width height } } }', { id });
  const preview = (read.data as any).job.preview;
  expect(preview).toMatchObject({ width: 80, height: 60 });
  expect(preview.url).toContain(`/downloads/${previewKey}?`);
  expect(Date.parse(preview.expiresAt)).toBeGreaterThan(Date.now());
  // Another owner reads the job, preview and all, as absent.
  expect((await run('query($id: ID!) { job(id: $id) { preview { url } } }', { id }, 'bob')).data).toEqual({
    job: null,
  });
});

test('an unexpected failure is masked as INTERNAL and logged; a domain error keeps its code', async () => {
  const broken: JobStore = {
    ...deps.jobs,
    get: async () => {
      throw new Error('disk on fire at /var/secret');
    },
  } as JobStore;
  const masked = await run(`{ job(id: "x") { id } }`, {}, 'alice', { jobs: broken });
  expect(masked.errors?.[0]?.extensions?.code).toBe('INTERNAL');
  expect(masked.errors?.[0]?.message).not.toMatch(/secret/);
  expect(masked.errors?.[0]?.message).toMatch(/Internal error \(id [0-9a-f-]{36}\)/);
  expect(logged).toHaveLength(1);
  const unavailable: JobStore = {
    ...deps.jobs,
    get: async () => {
      throw new DomainError(ErrorCode.UNAVAILABLE, 'database busy');
    },
  } as JobStore;
  const kept = await run(`{ job(id: "x") { id } }`, {}, 'alice', { jobs: unavailable });
  expect(kept.errors?.[0]).toMatchObject({ message: 'database busy', extensions: { code: 'UNAVAILABLE' } });
});

test('a variable of the wrong type is BAD_REQUEST', async () => {
  const result = await run(`query($id: ID!) { job(id: $id) { id } }`, { id: { not: 'an id' } });
  expect(result.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
});

test('introspection can be switched on', async () => {
  const result = await run(`{ __schema { queryType { name } } }`);
  expect(result.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
});
