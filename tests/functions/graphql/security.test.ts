/**
 * What one API key may not do to another's data, and how each kind of bad request is answered, over
 * real HTTP and WebSocket. Every refusal is checked for its code, not just for failing.
 */

import { collect, fixture, startHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const codeOf = (body: { errors?: { extensions?: { code?: string } }[] }) => body.errors?.[0]?.extensions?.code;

describe('owner isolation', () => {
  let content: string;
  let jobId: string;
  let styleId: string;
  let trainedModelId: string;

  beforeAll(async () => {
    content = await h.upload(h.aliceKey, fixture('photo-1.jpg'));
    const job = await h.gql(
      h.aliceKey,
      `mutation($c: String!) { stylize(input: { content: $c, styles: [{ uploadKey: $c }] }) { id } }`,
      { c: content },
    );
    jobId = job.body.data!.stylize.id;
    const style = await h.gql(
      h.aliceKey,
      `mutation($k: String!) { registerStyle(name: "starry", uploadKey: $k) { id name } }`,
      { k: content },
    );
    styleId = style.body.data!.registerStyle.id;
    trainedModelId = (
      await h.models.register(
        { id: h.models.newId(), name: 'mine', owner: 'alice', manifest: { preset: 'tiny' } },
        async () => {},
      )
    ).id;
  });

  test('the owner sees their job, style and model', async () => {
    const { body } = await h.gql(
      h.aliceKey,
      `query($j: ID!, $m: ID!) { job(id: $j) { id } model(id: $m) { id builtIn } styles { items { id } } models { id } }`,
      { j: jobId, m: trainedModelId },
    );
    expect(body.data).toEqual({
      job: { id: jobId },
      model: { id: trainedModelId, builtIn: false },
      styles: { items: [{ id: styleId }] },
      models: [{ id: 'tspr-default' }, { id: trainedModelId }],
    });
  });

  test('another key reads them as absent', async () => {
    const { body } = await h.gql(
      h.bobKey,
      `query($j: ID!, $m: ID!) { job(id: $j) { id } model(id: $m) { id } styles { items { id } } models { id } jobs { items { id } } }`,
      { j: jobId, m: trainedModelId },
    );
    expect(body.data).toEqual({
      job: null,
      model: null,
      styles: { items: [] },
      models: [{ id: 'tspr-default' }],
      jobs: { items: [] },
    });
  });

  test('another key cannot cancel the job', async () => {
    const { body } = await h.gql(h.bobKey, `mutation($j: ID!) { cancelJob(id: $j) { id } }`, { j: jobId });
    expect(codeOf(body)).toBe('NOT_FOUND');
    expect((await h.deps.jobs.get(jobId))?.status).toBe('QUEUED');
  });

  test('another key cannot use the upload, the style or the model', async () => {
    const bobContent = await h.upload(h.bobKey, fixture('photo-2.jpg'));
    const STYLIZE = `mutation($input: StylizeInput!) { stylize(input: $input) { id } }`;
    const usingUpload = await h.gql(h.bobKey, STYLIZE, { input: { content, styles: [{ uploadKey: bobContent }] } });
    expect(codeOf(usingUpload.body)).toBe('NOT_FOUND');
    const usingStyle = await h.gql(h.bobKey, STYLIZE, { input: { content: bobContent, styles: [{ styleId }] } });
    expect(codeOf(usingStyle.body)).toBe('NOT_FOUND');
    const usingModel = await h.gql(h.bobKey, STYLIZE, {
      input: { content: bobContent, styles: [{ uploadKey: bobContent }], modelId: trainedModelId },
    });
    expect(codeOf(usingModel.body)).toBe('NOT_FOUND');
    const registering = await h.gql(
      h.bobKey,
      `mutation($k: String!) { registerStyle(name: "x", uploadKey: $k) { id } }`,
      { k: content },
    );
    expect(codeOf(registering.body)).toBe('NOT_FOUND');
    const training = await h.gql(
      h.bobKey,
      `mutation($p: String!) { startTraining(input: { dataset: { uploadPrefix: $p }, preset: tiny, steps: 10 }) { id } }`,
      { p: 'uploads/alice/' },
    );
    expect(codeOf(training.body)).toBe('NOT_FOUND');
  });

  test('another key cannot subscribe to the job, and myJobs carries only its own events', async () => {
    const bob = h.wsClient({ apiKey: h.bobKey });
    const probe = collect(bob, `subscription($id: ID!) { jobProgress(id: $id) { type } }`, { id: jobId });
    const outcome = await probe.done;
    const errors =
      (outcome.error as { message: string; extensions?: { code?: string } }[] | undefined) ?? probe.results[0]?.errors;
    expect(errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(probe.results.filter((r) => r.data?.jobProgress)).toEqual([]);

    const bobsFeed = collect(bob, `subscription { myJobs { job { id } } }`);
    const alicesFeed = collect(h.wsClient({ apiKey: h.aliceKey }), `subscription { myJobs { job { id } } }`);
    for (let i = 0; i < 200 && h.events.subscriberCount() < 2; i += 1) await new Promise((r) => setTimeout(r, 10));
    await h.gql(h.aliceKey, `mutation($j: ID!) { cancelJob(id: $j) { id } }`, { j: jobId });
    await alicesFeed.waitFor(1);
    expect(alicesFeed.results[0]?.data.myJobs.job.id).toBe(jobId);
    // Bob's feed got nothing from Alice's change; a round trip of his own proves the feed is live.
    await h
      .upload(h.bobKey, fixture('photo-3.jpg'))
      .then((k) =>
        h.gql(
          h.bobKey,
          `mutation($c: String!) { stylize(input: { content: $c, styles: [{ uploadKey: $c }] }) { id } }`,
          { c: k },
        ),
      );
    await bobsFeed.waitFor(1);
    expect(bobsFeed.results).toHaveLength(1);
    expect(bobsFeed.results[0]?.data.myJobs.job.id).not.toBe(jobId);
    bobsFeed.unsubscribe();
    alicesFeed.unsubscribe();
  });
});

describe('authentication', () => {
  test('a missing key is 401 UNAUTHENTICATED', async () => {
    const { status, body } = await h.gql(null, '{ models { id } }');
    expect(status).toBe(401);
    expect(codeOf(body)).toBe('UNAUTHENTICATED');
  });

  test('a wrong key is 401 UNAUTHENTICATED', async () => {
    const { status, body } = await h.gql('psk_not-a-key', '{ models { id } }');
    expect(status).toBe(401);
    expect(body.errors?.[0]?.message).toMatch(/unknown or revoked/);
  });

  test('a WebSocket with a wrong key is closed with 4403', async () => {
    const stream = collect(h.wsClient({ apiKey: 'psk_wrong' }), `subscription { myJobs { type } }`);
    const { error } = await stream.done;
    expect((error as { code?: number }).code).toBe(4403);
  });
});

describe('bad requests', () => {
  test('a malformed query is BAD_REQUEST (GRAPHQL_PARSE_FAILED)', async () => {
    const { status, body } = await h.gql(h.aliceKey, '{ models { id ');
    expect(status).toBe(400);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_REQUEST', reason: 'GRAPHQL_PARSE_FAILED' });
  });

  test('an unknown field is BAD_REQUEST and suggests nothing', async () => {
    const { body } = await h.gql(h.aliceKey, '{ model { idd } }');
    expect(codeOf(body)).toBe('BAD_REQUEST');
    expect(JSON.stringify(body)).not.toMatch(/Did you mean/);
  });

  test('an over-deep query is refused with the limit in the message', async () => {
    // Five levels: accepted under the default limit, refused by a server configured for three.
    const deep = `{ jobs { items { result { downloads { url } } metricHistory { values { name } } } } }`;
    expect((await h.gql(h.aliceKey, deep)).body.errors).toBeUndefined();
    const limited = await startHarness({ queryLimits: { maxDepth: 3 } });
    try {
      const refused = await limited.gql(limited.aliceKey, deep);
      expect(codeOf(refused.body)).toBe('BAD_REQUEST');
      expect(refused.body.errors?.[0]?.message).toMatch(/depth limit of 3/i);
    } finally {
      await limited.close();
    }
  });

  test('too many aliases are refused', async () => {
    const aliases = Array.from({ length: 20 }, (_, i) => `m${i}: models { id }`).join(' ');
    const { body } = await h.gql(h.aliceKey, `{ ${aliases} }`);
    expect(codeOf(body)).toBe('BAD_REQUEST');
    expect(body.errors?.[0]?.message).toMatch(/aliases/i);
  });

  test('subscriptions obey the same limits', async () => {
    const aliases = Array.from({ length: 20 }, (_, i) => `e${i}: myJobs { type }`).join(' ');
    const stream = collect(h.wsClient({ apiKey: h.aliceKey }), `subscription { ${aliases} }`);
    const { error } = await stream.done;
    expect((error as { extensions?: { code?: string } }[])[0]?.extensions?.code).toBe('BAD_REQUEST');
  });

  test('an upload larger than the limit is refused before and after signing', async () => {
    const { body } = await h.gql(
      h.aliceKey,
      `mutation { createUpload(contentType: "image/jpeg", byteSize: 10000000) { key } }`,
    );
    expect(codeOf(body)).toBe('TOO_LARGE');
    expect(body.errors?.[0]?.message).toMatch(/65536/);
    // A client that declares a small size and then sends more is refused by the signed policy.
    const target = (
      await h.gql(
        h.aliceKey,
        `mutation { createUpload(contentType: "image/jpeg", byteSize: 100) { url key fields { name value } } }`,
      )
    ).body.data!.createUpload;
    const response = await h.postForm(target, fixture('photo-1.jpg'), 'image/jpeg');
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { code: 'TOO_LARGE' } });
    expect(await h.deps.blobs.head(target.key)).toBeNull();
  });

  test('a non-image content type is refused, and so are non-image bytes', async () => {
    const { body } = await h.gql(
      h.aliceKey,
      `mutation { createUpload(contentType: "text/html", byteSize: 10) { key } }`,
    );
    expect(codeOf(body)).toBe('UNSUPPORTED_FORMAT');
    expect(body.errors?.[0]?.message).toMatch(/image\/\*/);
    const corrupt = fixture('corrupt.jpg');
    const target = (
      await h.gql(
        h.aliceKey,
        `mutation($n: Int!) { createUpload(contentType: "image/jpeg", byteSize: $n) { url key fields { name value } } }`,
        { n: corrupt.length },
      )
    ).body.data!.createUpload;
    const asText = await h.postForm(target, corrupt, 'text/plain');
    expect(asText.status).toBe(415);
    const lying = await h.postForm(target, corrupt, 'image/jpeg');
    expect(lying.status).toBe(422);
    expect(await lying.json()).toMatchObject({ error: { code: 'INVALID_IMAGE' } });
  });

  test('an expired upload target is refused with EXPIRED', async () => {
    const bytes = fixture('photo-1.jpg');
    const target = (
      await h.gql(
        h.aliceKey,
        `mutation($n: Int!) { createUpload(contentType: "image/jpeg", byteSize: $n) { url key fields { name value } expiresAt } }`,
        { n: bytes.length },
      )
    ).body.data!.createUpload;
    h.advanceBlobClock(60 * 60 * 1000);
    try {
      const response = await h.postForm(target, bytes, 'image/jpeg');
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ error: { code: 'EXPIRED' } });
    } finally {
      h.advanceBlobClock(-60 * 60 * 1000);
    }
  });

  test('a tampered upload form cannot choose its key', async () => {
    const bytes = fixture('photo-1.jpg');
    const target = (
      await h.gql(
        h.bobKey,
        `mutation($n: Int!) { createUpload(contentType: "image/jpeg", byteSize: $n) { url key fields { name value } } }`,
        { n: bytes.length },
      )
    ).body.data!.createUpload;
    const fields = target.fields.map((f: { name: string; value: string }) =>
      f.name === 'key' ? { ...f, value: 'uploads/alice/stolen' } : f,
    );
    const response = await h.postForm({ ...target, fields }, bytes, 'image/jpeg');
    expect(response.status).toBe(403);
    expect(await h.deps.blobs.head('uploads/alice/stolen')).toBeNull();
  });

  test('upload keys with ../ are refused, however they are written', async () => {
    for (const key of ['uploads/alice/../bob/x', '../etc/passwd', 'uploads/alice/%2e%2e/%2e%2e/x', '/etc/passwd']) {
      const { body } = await h.gql(
        h.aliceKey,
        `mutation($c: String!) { stylize(input: { content: $c, styles: [{ uploadKey: $c }] }) { id } }`,
        { c: key },
      );
      expect([key, codeOf(body)]).toEqual([key, 'BAD_REQUEST']);
    }
    const group = await h.gql(
      h.aliceKey,
      `mutation { createUpload(contentType: "image/png", byteSize: 10, group: "../bob") { key } }`,
    );
    expect(codeOf(group.body)).toBe('BAD_REQUEST');
    const download = await fetch(`${h.origin}/downloads/..%2F..%2Fpeerstyle.db?expires=99999999999&signature=x`);
    expect(download.status).toBe(403);
  });

  test('unknown ids are NOT_FOUND or null', async () => {
    const content = await h.upload(h.aliceKey, fixture('photo-1.jpg'));
    const { body } = await h.gql(h.aliceKey, `query { job(id: "nope") { id } model(id: "nope") { id } }`);
    expect(body.data).toEqual({ job: null, model: null });
    const cancel = await h.gql(h.aliceKey, `mutation { cancelJob(id: "nope") { id } }`);
    expect(codeOf(cancel.body)).toBe('NOT_FOUND');
    const style = await h.gql(
      h.aliceKey,
      `mutation($c: String!) { stylize(input: { content: $c, styles: [{ styleId: "nope" }] }) { id } }`,
      { c: content },
    );
    expect(codeOf(style.body)).toBe('NOT_FOUND');
    const model = await h.gql(
      h.aliceKey,
      `mutation($c: String!) { stylize(input: { content: $c, styles: [{ uploadKey: $c }], modelId: "nope" }) { id } }`,
      { c: content },
    );
    expect(codeOf(model.body)).toBe('NOT_FOUND');
    const missing = await h.gql(
      h.aliceKey,
      `mutation { stylize(input: { content: "uploads/alice/never-uploaded", styles: [{ uploadKey: "uploads/alice/never-uploaded" }] }) { id } }`,
    );
    expect(codeOf(missing.body)).toBe('NOT_FOUND');
    const sub = collect(h.wsClient({ apiKey: h.aliceKey }), `subscription { jobProgress(id: "nope") { type } }`);
    const outcome = await sub.done;
    const errors = (outcome.error as { extensions?: { code?: string } }[] | undefined) ?? sub.results[0]?.errors;
    expect(errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  test('invalid training input names the problem', async () => {
    const TRAIN = `mutation($input: TrainingInput!) { startTraining(input: $input) { id kind status } }`;
    const base = { dataset: { folder: 'sample' }, preset: 'tiny', steps: 10 };
    const unknownKey = await h.gql(h.aliceKey, TRAIN, {
      input: { ...base, hyperparameters: [{ key: 'learning_rate', value: '1' }] },
    });
    expect(codeOf(unknownKey.body)).toBe('BAD_REQUEST');
    expect(unknownKey.body.errors?.[0]?.message).toMatch(/Unknown key "learning_rate". Valid keys: /);
    const notNumber = await h.gql(h.aliceKey, TRAIN, {
      input: { ...base, hyperparameters: [{ key: 'knn', value: 'many' }] },
    });
    expect(notNumber.body.errors?.[0]?.message).toMatch(/knn must be a number/);
    const tooMany = await h.gql(h.aliceKey, TRAIN, { input: { ...base, steps: 1001 } });
    expect(tooMany.body.errors?.[0]?.message).toMatch(/steps: must be an integer in 1..1000/);
    const badPreset = await h.gql(h.aliceKey, TRAIN, { input: { ...base, preset: 'larg' } });
    expect(codeOf(badPreset.body)).toBe('BAD_REQUEST');
    const badFolder = await h.gql(h.aliceKey, TRAIN, { input: { ...base, dataset: { folder: '../../etc' } } });
    expect(badFolder.body.errors?.[0]?.message).toMatch(/Expected one of: sample/);
    const both = await h.gql(h.aliceKey, TRAIN, {
      input: { ...base, dataset: { folder: 'sample', uploadPrefix: 'uploads/alice/' } },
    });
    expect(both.body.errors?.[0]?.message).toMatch(/exactly one of uploadPrefix and folder/);
    const ok = await h.gql(h.aliceKey, TRAIN, { input: { ...base, hyperparameters: [{ key: 'knn', value: '3' }] } });
    expect(ok.body.data?.startTraining).toMatchObject({ kind: 'TRAIN', status: 'QUEUED' });
  });

  test('steps past an explicit iterations is refused with the reason; steps alone sets the run length', async () => {
    const TRAIN = `mutation($input: TrainingInput!) { startTraining(input: $input) { id } }`;
    const base = { dataset: { folder: 'sample' }, preset: 'tiny' };
    // tiny's schedule is 40 iterations; 70 steps on it would train 30 iterations at a learning rate ≤ 0.
    const past = await h.gql(h.aliceKey, TRAIN, {
      input: { ...base, steps: 70, hyperparameters: [{ key: 'iterations', value: '40' }] },
    });
    expect(codeOf(past.body)).toBe('BAD_REQUEST');
    expect(past.body.errors?.[0]?.message).toMatch(/^steps: steps \(70\) exceeds iterations \(40\)/);
    const longer = await h.gql(h.aliceKey, TRAIN, { input: { ...base, steps: 70 } });
    expect(longer.body.errors).toBeUndefined();
  });

  afterEach(async () => {
    // Each owner may have 2 training jobs queued or running: cancel the ones a test left queued, so the
    // next test starts with the whole quota.
    const CANCEL = `mutation($id: ID!) { cancelJob(id: $id) { id } }`;
    const listed = await h.gql(h.aliceKey, `query { jobs(first: 100) { items { id kind status } } }`);
    const items = (listed.body.data as { jobs: { items: { id: string; kind: string; status: string }[] } }).jobs.items;
    for (const job of items.filter((j) => j.kind === 'TRAIN' && j.status === 'QUEUED')) {
      await h.gql(h.aliceKey, CANCEL, { id: job.id });
    }
  });

  test('training on an uploaded dataset prefix', async () => {
    const key = await h.upload(h.aliceKey, fixture('painting-1.jpg'), 'image/jpeg', 'set-1/style');
    expect(key).toMatch(/^uploads\/alice\/set-1\/style\//);
    const TRAIN = `mutation($p: String!) { startTraining(input: { dataset: { uploadPrefix: $p }, preset: tiny, steps: 5 }) { id } }`;
    // A set needs content/ and two style images; what is missing is named with the group to upload to.
    const noContent = await h.gql(h.aliceKey, TRAIN, { p: 'uploads/alice/set-1/' });
    expect(codeOf(noContent.body)).toBe('BAD_REQUEST');
    expect(noContent.body.errors?.[0]?.message).toMatch(/no content image under content\/.*group: "set-1\/content"/);
    await h.upload(h.aliceKey, fixture('photo-1.jpg'), 'image/jpeg', 'set-1/content');
    const oneStyle = await h.gql(h.aliceKey, TRAIN, { p: 'uploads/alice/set-1/' });
    expect(oneStyle.body.errors?.[0]?.message).toMatch(/1 style image under style\/; training needs at least 2/);
    await h.upload(h.aliceKey, fixture('painting-2.jpg'), 'image/jpeg', 'set-1/style');
    const ok = await h.gql(h.aliceKey, TRAIN, { p: 'uploads/alice/set-1/' });
    expect(ok.body.errors).toBeUndefined();
    expect((await h.deps.jobs.get(ok.body.data!.startTraining.id))?.input).toMatchObject({
      dataset: { uploadPrefix: 'uploads/alice/set-1/' },
      preset: 'tiny',
      steps: 5,
    });
    const empty = await h.gql(h.aliceKey, TRAIN, { p: 'uploads/alice/set-2/' });
    expect(codeOf(empty.body)).toBe('NOT_FOUND');
  });

  test('introspection is off unless configured', async () => {
    const { body } = await h.gql(h.aliceKey, '{ __schema { queryType { name } } }');
    expect(codeOf(body)).toBe('BAD_REQUEST');
    expect(body.errors?.[0]?.message).toMatch(/introspection/i);
  });
});

describe('query size', () => {
  test('a document over the token limit is BAD_REQUEST on HTTP and WebSocket', async () => {
    const many = `{ models { ${Array.from({ length: 2100 }, () => 'id').join(' ')} } }`;
    const { status, body } = await h.gql(h.aliceKey, many);
    expect(status).toBe(400);
    expect(codeOf(body)).toBe('BAD_REQUEST');
    expect(body.errors?.[0]?.message).toMatch(/2000 tokens/);
    const stream = collect(
      h.wsClient({ apiKey: h.aliceKey }),
      `subscription { myJobs { ${Array.from({ length: 2100 }, () => 'type').join(' ')} } }`,
    );
    const { error } = await stream.done;
    expect((error as { message: string; extensions?: { code?: string } }[])[0]).toMatchObject({
      extensions: { code: 'BAD_REQUEST' },
    });
  });
});

test('"bob smith" and "h-7e50351d7a4c51161920af1a3526e79e" do not share an upload area', async () => {
  const h2 = await startHarness();
  try {
    const spaced = (await h2.apiKeys.create('bob smith', 'test')).key;
    const forger = (await h2.apiKeys.create('h-7e50351d7a4c51161920af1a3526e79e', 'test')).key;
    const content = await h2.upload(spaced, fixture('photo-1.jpg'), 'image/jpeg', 'set-1');
    const stolen = await h2.gql(
      forger,
      `mutation($c: String!) { stylize(input: { content: $c, styles: [{ uploadKey: $c }] }) { id } }`,
      { c: content },
    );
    expect(stolen.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const prefix = content.slice(0, content.lastIndexOf('/') + 1);
    const training = await h2.gql(
      forger,
      `mutation($p: String!) { startTraining(input: { dataset: { uploadPrefix: $p }, preset: tiny, steps: 10 }) { id } }`,
      { p: prefix },
    );
    expect(training.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  } finally {
    await h2.close();
  }
});

/** A clock that stands still: no token comes back while a slow machine runs the test. */
function frozenClock(): () => number {
  const now = Date.now();
  return () => now;
}

describe('rate limiting', () => {
  test('every job-creating field costs a token: 15 aliased stylize fields use 15', async () => {
    const limited = await startHarness({ requestsPerMinute: 20 }, frozenClock());
    try {
      // Two createUpload requests: 2 tokens.
      const content = await limited.upload(limited.aliceKey, fixture('photo-1.jpg'));
      const style = await limited.upload(limited.aliceKey, fixture('painting-1.jpg'));
      const fields = Array.from(
        { length: 15 },
        (_, i) => `s${i}: stylize(input: { content: "${content}", styles: [{ uploadKey: "${style}" }] }) { id }`,
      );
      const many = await limited.gql(limited.aliceKey, `mutation { ${fields.join(' ')} }`);
      expect(many.body.errors).toBeUndefined();
      expect(Object.keys(many.body.data ?? {})).toHaveLength(15);
      // 2 + 15 tokens are gone: three more requests fit in the budget of 20, the fourth does not.
      for (let i = 0; i < 3; i += 1)
        expect((await limited.gql(limited.aliceKey, '{ models { id } }')).status).toBe(200);
      const refused = await limited.gql(limited.aliceKey, '{ models { id } }');
      expect(refused.status).toBe(429);
      expect((await limited.gql(limited.bobKey, '{ models { id } }')).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  test('a job-creating field past the budget is refused with RATE_LIMITED', async () => {
    const limited = await startHarness({ requestsPerMinute: 4 }, frozenClock());
    try {
      const content = await limited.upload(limited.aliceKey, fixture('photo-1.jpg'));
      const style = await limited.upload(limited.aliceKey, fixture('painting-1.jpg'));
      const fields = Array.from(
        { length: 3 },
        (_, i) => `s${i}: stylize(input: { content: "${content}", styles: [{ uploadKey: "${style}" }] }) { id }`,
      );
      const many = await limited.gql(limited.aliceKey, `mutation { ${fields.join(' ')} }`);
      expect(many.body.errors?.[0]).toMatchObject({ path: ['s2'], extensions: { code: 'RATE_LIMITED' } });
    } finally {
      await limited.close();
    }
  });

  test('requests over the per-minute budget are 429 RATE_LIMITED, per key', async () => {
    const limited = await startHarness({ requestsPerMinute: 3 }, frozenClock());
    try {
      for (let i = 0; i < 3; i += 1)
        expect((await limited.gql(limited.aliceKey, '{ models { id } }')).status).toBe(200);
      const refused = await limited.gql(limited.aliceKey, '{ models { id } }');
      expect(refused.status).toBe(429);
      expect(codeOf(refused.body)).toBe('RATE_LIMITED');
      expect((await limited.gql(limited.bobKey, '{ models { id } }')).status).toBe(200);
      const stream = collect(limited.wsClient({ apiKey: limited.aliceKey }), `subscription { myJobs { type } }`);
      const { error } = await stream.done;
      expect((error as { extensions?: { code?: string } }[])[0]?.extensions?.code).toBe('RATE_LIMITED');
    } finally {
      await limited.close();
    }
  });
});
