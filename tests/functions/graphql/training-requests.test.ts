/**
 * What a training request must satisfy before anything is queued, over real HTTP: a model name that is
 * plain text (never something a command line could take for an option), and a cost within the
 * server's training budget. A refused request leaves no job behind.
 */

import { startHarness, TEST_LIMITS, type Harness } from './harness';

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
      expect(body.errors?.[0]?.message).toMatch(
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

describe('the training budget', () => {
  const huge = [
    { key: 'ngf', value: '256' },
    { key: 'encoderBlocks', value: '32' },
    { key: 'decoderBlocks', value: '32' },
    { key: 'cropSize', value: '1024' },
    { key: 'loadSize', value: '1138' },
    { key: 'batchSize', value: '64' },
  ];

  test('a run too large for memory is BUDGET_EXCEEDED with its estimate and the limit, and queues nothing', async () => {
    const before = (await trainJobs(h.aliceKey)).length;
    const { body } = await h.gql(h.aliceKey, TRAIN, {
      input: { ...base, preset: 'paper', steps: 1000, hyperparameters: huge },
    });
    expect(codeOf(body)).toBe('BUDGET_EXCEEDED');
    expect(body.errors?.[0]?.message).toMatch(
      /^BUDGET_EXCEEDED: one iteration of this training needs about [\d,.]+ GiB of memory; the limit is 8\.0 GiB per training job\./,
    );
    expect((await trainJobs(h.aliceKey)).length).toBe(before);
  });

  test('a run over the compute budget is BUDGET_EXCEEDED with its FLOPs and the limit', async () => {
    // paper at its own sizes: about 3.6 TFLOP per iteration, 3,616 TFLOP for 1,000 steps.
    const { body } = await h.gql(h.aliceKey, TRAIN, { input: { ...base, preset: 'paper', steps: 1000 } });
    expect(codeOf(body)).toBe('BUDGET_EXCEEDED');
    expect(body.errors?.[0]?.message).toBe(
      'BUDGET_EXCEEDED: this training needs about 3,616 TFLOP (3,616.3 GFLOP per iteration × 1,000 steps); ' +
        "an owner's queued and running training may total at most 2,000 TFLOP. Lower steps or the model's size, " +
        'or wait for the other runs.',
    );
    const fits = await h.gql(h.aliceKey, TRAIN, { input: { ...base, preset: 'paper', steps: 500 } });
    expect(fits.body.errors).toBeUndefined();
  });

  test("the compute budget counts the owner's queued and running training, not another owner's", async () => {
    const small = await startHarness({
      limits: { ...TEST_LIMITS, maxTrainingFlopsPerOwner: 10e12 },
    });
    try {
      // small: about 51.6 GFLOP per iteration, 5.2 TFLOP for 100 steps; two of those pass 10 TFLOP.
      const run = { ...base, preset: 'small', steps: 100 };
      const first = await small.gql(small.aliceKey, TRAIN, { input: { ...run, idempotencyKey: 'first' } });
      expect(first.body.errors).toBeUndefined();
      const again = await small.gql(small.aliceKey, TRAIN, { input: { ...run, idempotencyKey: 'first' } });
      expect(again.body.data?.startTraining.id).toBe(first.body.data?.startTraining.id);
      const second = await small.gql(small.aliceKey, TRAIN, { input: run });
      expect(codeOf(second.body)).toBe('BUDGET_EXCEEDED');
      expect(second.body.errors?.[0]?.message).toMatch(
        /needs about 5\.2 TFLOP \(51\.6 GFLOP per iteration × 100 steps\), and 5\.2 TFLOP of this owner's training is already queued or running; an owner's queued and running training may total at most 10 TFLOP\./,
      );
      const bobs = await small.gql(small.bobKey, TRAIN, { input: run });
      expect(bobs.body.errors).toBeUndefined();
      await small.gql(small.aliceKey, `mutation($id: ID!) { cancelJob(id: $id) { id } }`, {
        id: first.body.data?.startTraining.id,
      });
      const afterCancel = await small.gql(small.aliceKey, TRAIN, { input: run });
      expect(afterCancel.body.errors).toBeUndefined();
    } finally {
      await small.close();
    }
  });
});
