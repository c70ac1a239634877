/**
 * A tour of Peerstyle's GraphQL API against a running server (`npm start`): uploads a content and a
 * style image, saves the style, starts a stylize job, follows it over a graphql-ws subscription,
 * downloads the result, lists jobs and models, starts and cancels a training job, and shows two errors.
 * Each request and its response is printed as markdown, which is how the README's examples were made.
 *
 *   npx tsx examples/api-tour.ts --url http://127.0.0.1:4000/graphql --key psk_... \
 *     --content datasets/sample/content/chelsea.jpg --style datasets/sample/style/starry-night.jpg
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

function flag(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const value = i < 0 ? undefined : process.argv[i + 1];
  if (!value) throw new Error(`--${name} is required.`);
  return value;
}

// Each run uploads fresh copies, so a fixed idempotency key would meet the previous run's request
// (a different content key) and be refused with IDEMPOTENCY_CONFLICT: key the jobs by run.
const tourRun = randomUUID().slice(0, 8);
const url = flag('url');
const key = flag('key');

function show(title: string, body: unknown, response: unknown): void {
  console.log(`#### ${title}\n\n\`\`\`graphql\n${String((body as { query: string }).query).trim()}\n\`\`\``);
  const variables = (body as { variables?: unknown }).variables;
  if (variables) console.log(`\nvariables: \`${JSON.stringify(variables)}\``);
  console.log(`\n\`\`\`json\n${JSON.stringify(response, null, 2)}\n\`\`\`\n`);
}

// The tour reads fields of the responses it just asked for; their shapes follow from each query.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function gql(title: string, query: string, variables?: Record<string, unknown>): Promise<any> {
  const body = { query, ...(variables ? { variables } : {}) };
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  show(`${title} (HTTP ${res.status})`, body, json);
  return json;
}

async function upload(file: string, contentType: string, group?: string): Promise<string> {
  const bytes = readFileSync(file);
  const r = await gql(
    `createUpload: ${file.split('/').pop()}`,
    `mutation($type: String!, $size: Int!, $group: String) {
  createUpload(contentType: $type, byteSize: $size, group: $group) { url key expiresAt fields { name value } }
}`,
    { type: contentType, size: bytes.length, ...(group ? { group } : {}) },
  );
  const target = r.data.createUpload;
  const form = new FormData();
  for (const { name, value } of target.fields) form.append(name, value);
  form.append('file', new Blob([bytes], { type: contentType }), file.split('/').pop());
  const posted = await fetch(target.url, { method: 'POST', body: form });
  console.log(
    `POST ${target.url} (multipart form: the fields above, then the image in a field named "file") → HTTP ${posted.status}\n`,
  );
  return target.key;
}

async function main(): Promise<void> {
  const contentKey = await upload(flag('content'), 'image/jpeg');
  const styleKey = await upload(flag('style'), 'image/jpeg');
  const style = await gql(
    'registerStyle',
    `mutation($name: String!, $key: String!) { registerStyle(name: $name, uploadKey: $key) { id name createdAt } }`,
    { name: 'Starry Night', key: styleKey },
  );
  const styleId = style.data.registerStyle.id;
  const job = await gql(
    'stylize',
    `mutation($input: StylizeInput!) {
  stylize(input: $input) { id kind status progress attempts createdAt }
}`,
    {
      input: {
        content: contentKey,
        styles: [{ styleId, weight: 1 }],
        options: { strength: 1, format: 'PNG' },
        idempotencyKey: `tour-${tourRun}`,
      },
    },
  );
  const jobId = job.data.stylize.id;

  // Follow the job over graphql-ws until it completes.
  const events: unknown[] = [];
  const client = createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
  });
  const subscription = `subscription($id: ID!) { jobProgress(id: $id) { type job { status stage progress } } }`;
  await new Promise<void>((resolve, reject) => {
    client.subscribe(
      { query: subscription, variables: { id: jobId } },
      { next: (e) => events.push(e), error: reject, complete: () => resolve() },
    );
  });
  await client.dispose();
  show(
    'subscription jobProgress (graphql-ws; every event until the stream completes)',
    { query: subscription, variables: { id: jobId } },
    events,
  );

  const done = await gql(
    'job',
    `query($id: ID!) {
  job(id: $id) { id status stage progress attempts startedAt finishedAt result { downloads { url expiresAt } } error { code message } }
}`,
    { id: jobId },
  );
  const download = done.data.job.result?.downloads?.[0]?.url;
  if (download) {
    const res = await fetch(download);
    const bytes = Buffer.from(await res.arrayBuffer());
    const out = process.argv.includes('--save') ? flag('save') : '/tmp/peerstyle-tour.png';
    writeFileSync(out, bytes);
    console.log(
      `GET <download url> → HTTP ${res.status}, ${res.headers.get('content-type')}, ${bytes.length} bytes (saved to ${out})\n`,
    );
  }
  await gql('jobs', `query { jobs(first: 5) { items { id kind status progress } nextCursor } }`);
  await gql('models', `query { models { id name version packageVersion builtIn createdAt } }`);

  const datasetContent = await upload(flag('content'), 'image/jpeg', 'tour-set/content');
  void datasetContent;
  await upload(flag('style'), 'image/jpeg', 'tour-set/style');
  await upload(flag('content'), 'image/jpeg', 'tour-set/style');
  const training = await gql(
    'startTraining',
    `mutation($input: TrainingInput!) { startTraining(input: $input) { id kind status } }`,
    {
      input: {
        dataset: { uploadPrefix: contentKey.split('/').slice(0, 2).join('/') + '/tour-set/' },
        preset: 'tiny',
        steps: 20,
        hyperparameters: [{ key: 'knn', value: '3' }],
        idempotencyKey: `tour-train-${tourRun}`,
      },
    },
  );
  const trainingId = training.data?.startTraining?.id;
  if (trainingId)
    await gql('cancelJob', `mutation($id: ID!) { cancelJob(id: $id) { id status cancelRequested } }`, {
      id: trainingId,
    });

  await gql(
    'Error: a hyperparameter out of range',
    `mutation($input: TrainingInput!) { startTraining(input: $input) { id } }`,
    {
      input: {
        dataset: { folder: 'sample' },
        preset: 'tiny',
        steps: 10,
        hyperparameters: [{ key: 'knn', value: '0' }],
      },
    },
  );
  await gql('Error: an unknown job id', `query { job(id: "job_does_not_exist") { id } }`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
