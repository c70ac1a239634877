/**
 * What a training request must satisfy before anything is queued, over real HTTP: a model name that is
 * plain text (never something a command line could take for an option), and a cost within the
 * server's training budget. A refused request leaves no job behind.
 */

import { startHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const TRAIN = `mutation($input: TrainingInput!) { startTraining(input: $input) { id kind status } }`;
const base = { dataset: { folder: 'sample' }, preset: 'tiny', steps: 10 };
const codeOf = (body: { errors?: { extensions?: { code?: string } }[] }) => body.errors?.[0]?.extensions?.code;

async function trainJobs(key: string): Promise<{ id: string; status: string }[]> {
  const listed = await h.gql(key, `query { jobs(first: 100, filter: { kind: TRAIN }) { items { id status } } }`);
  return (listed.body.data as { jobs: { items: { id: string; status: string }[] } }).jobs.items;
}

afterEach(async () => {
  // Each owner may hold 2 training jobs: cancel what a test queued.
  for (const job of await trainJobs(h.aliceKey)) {
    if (job.status === 'QUEUED') await h.gql(h.aliceKey, `mutation($id: ID!) { cancelJob(id: $id) { id } }`, job);
  }
});

describe('model names', () => {
  test.each(['--name', '--verify', '-x', ' --out=/tmp/x', '../models', 'a/b', 'x'.repeat(101), '   '])(
    'modelName %j is BAD_REQUEST, naming the rule, and queues nothing',
    async (modelName) => {
      const before = (await trainJobs(h.aliceKey)).length;
      const { status, body } = await h.gql(h.aliceKey, TRAIN, { input: { ...base, modelName } });
      expect(status).toBe(200);
      expect(codeOf(body)).toBe('BAD_REQUEST');
      expect(body.errors?.[0].message).toMatch(
        /^modelName: .* is not a model name: use 1\.\.100 letters, digits, spaces, "\.", "_" or "-", starting with a letter or a digit\.$/,
      );
      expect((await trainJobs(h.aliceKey)).length).toBe(before);
    },
  );

  test.each(['my-style', 'Monet 1.2_b', 'Ölgemälde', '風景'])('modelName %j is accepted', async (modelName) => {
    const { body } = await h.gql(h.aliceKey, TRAIN, { input: { ...base, modelName } });
    expect(body.errors).toBeUndefined();
    expect(body.data?.startTraining).toMatchObject({ kind: 'TRAIN', status: 'QUEUED' });
  });
});
