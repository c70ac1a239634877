/**
 * `peerstyle serve` as a user runs it: a real child process on a free port with a fresh data folder.
 * It prints its URLs and a first API key; a stylize job goes through real HTTP (upload, mutation,
 * polling, signed download); SIGTERM stops it with exit code 0; a second start on the same data folder
 * creates no new key and still lists the job.
 */

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { startCli, type CliResult } from '../support/run-cli';
import { gql, image, modelPackage, upload } from './support';
import { at, defined } from '../support/checked';

interface Started {
  child: ReturnType<typeof startCli>['child'];
  done: Promise<CliResult>;
  stdout: () => string;
}

/** Starts `serve` and waits for its "Playground:" line (or its early exit). */
async function startServe(dataDir: string, modelDir: string): Promise<Started> {
  const { child, done } = startCli([
    'serve',
    '--port',
    '0',
    '--data-dir',
    dataDir,
    '--model',
    modelDir,
    '--drop-poll-ms=200',
  ]);
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (/Playground: \S+/.test(stdout)) resolve();
    };
    child.stdout!.on('data', check);
    void done.then((result) => reject(new Error(`serve exited early (${result.code}): ${result.stderr}`)));
  });
  return { child, done, stdout: () => stdout };
}

const JOB =
  'query($id: ID!) { job(id: $id) { id status stage progress error { code message } result { downloads { url } } } }';

describe('peerstyle serve', () => {
  let dataDir: string;
  let model: { dir: string; temporary: boolean };
  let running: Started | undefined;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'peerstyle-serve-'));
    model = await modelPackage();
  });

  afterAll(() => {
    if (running && running.child.exitCode === null) running.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    if (model.temporary) rmSync(model.dir, { recursive: true, force: true });
  });

  it('serves, stylizes over HTTP, stops on SIGTERM with 0, and keeps the job across a restart', async () => {
    running = await startServe(dataDir, model.dir);
    const out = running.stdout();
    const graphqlUrl = /GraphQL:\s+(\S+)/.exec(out)?.[1];
    const playgroundUrl = /Playground:\s+(\S+)/.exec(out)?.[1];
    const key = /API key for "local" .*: (psk_\S+)/.exec(out)?.[1];
    expect(graphqlUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    expect(key).toBeDefined();
    const origin = new URL(graphqlUrl!).origin;
    expect(playgroundUrl).toBe(`${origin}/`);
    expect((await fetch(playgroundUrl!)).headers.get('content-type')).toMatch(/^text\/html/);

    const content = image('photo-1.jpg');
    const contentKey = await upload(origin, key!, content);
    const styleKey = await upload(origin, key!, image('painting-1.jpg'));
    const source = await sharp(content).metadata();
    // Without `size` the output has the content's own size, as from `peerstyle stylize` (80×60 here;
    // the API used to upsample it to 512 px).
    const submitted = await gql(origin, key!, 'mutation($i: StylizeInput!) { stylize(input: $i) { id status } }', {
      i: { content: contentKey, styles: [{ uploadKey: styleKey }] },
    });
    expect(submitted.errors).toBeUndefined();
    const jobId = submitted.data.stylize.id as string;

    let job: { status: string; result?: { downloads: { url: string }[] }; error?: unknown } | undefined;
    for (let i = 0; i < 600; i += 1) {
      job = (await gql(origin, key!, JOB, { id: jobId })).data.job;
      if (job && ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.status)) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(job).toMatchObject({ status: 'SUCCEEDED', error: null });
    const download = await fetch(at(job!.result!.downloads, 0).url);
    expect(download.status).toBe(200);
    const result = await sharp(Buffer.from(await download.arrayBuffer())).metadata();
    expect([result.width, result.height]).toEqual([source.width, source.height]);

    // The bundled model is listed as its manifest names it.
    const manifest = JSON.parse(readFileSync(path.join(model.dir, 'manifest.json'), 'utf8'));
    const models = await gql(origin, key!, '{ models { id name version packageVersion builtIn createdAt } }');
    expect(models.data.models).toEqual([
      {
        id: 'tspr-default',
        name: manifest.name,
        version: 1,
        packageVersion: manifest.version,
        builtIn: true,
        createdAt: manifest.createdAt,
      },
    ]);

    running.child.kill('SIGTERM');
    const stopped = await running.done;
    expect(stopped.signal).toBeNull();
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toContain('Stopped.');

    running = await startServe(dataDir, model.dir);
    const again = running.stdout();
    expect(again).not.toContain('API key for');
    const origin2 = new URL(defined(/GraphQL:\s+(\S+)/.exec(again)?.[1], 'the GraphQL URL')).origin;
    const listed = await gql(origin2, key!, '{ jobs { items { id status } } }');
    expect(listed.data.jobs.items).toEqual([{ id: jobId, status: 'SUCCEEDED' }]);
    running.child.kill('SIGINT');
    expect((await running.done).code).toBe(0);
  });
});
