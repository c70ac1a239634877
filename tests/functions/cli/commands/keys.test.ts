/**
 * `peerstyle keys` on the runtime's real SQLite file, while the platform serves the same data folder:
 * a created key works against the API, `list` shows it, and after `revoke` the API refuses it.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../../../functions/config';
import { startPlatform, type Platform } from '../../../../functions/local/main';
import { gql } from '../../../e2e/support';
import { runCli } from '../../../support/run-cli';

describe('peerstyle keys', () => {
  let dir: string;
  let dataDir: string;
  let platform: Platform;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'peerstyle-keys-'));
    dataDir = path.join(dir, 'data');
    const config = loadConfig(['--port', '0', '--data-dir', dataDir, '--drop-dir=off', '--workers=0'], {}, dir);
    platform = await startPlatform({ config, modelDir: null, log: { info: () => undefined, error: () => undefined } });
  });

  afterAll(async () => {
    await platform?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates, lists and revokes keys; a revoked key is refused by the API', async () => {
    const created = await runCli(['keys', 'create', '--owner', 'carol', '--label', 'laptop', '--data-dir', dataDir]);
    expect(created.code).toBe(0);
    const key = /^(psk_\S+)$/m.exec(created.stdout)?.[1];
    const id = /Created key (\S+) for "carol"/.exec(created.stdout)?.[1];
    expect(key).toBeDefined();
    expect(id).toBeDefined();

    const ok = await gql(platform.origin, key!, '{ jobs { items { id } } }');
    expect(ok.errors).toBeUndefined();
    expect(ok.data.jobs.items).toEqual([]);

    const listed = await runCli(['keys', 'list', '--owner', 'carol', `--data-dir=${dataDir}`]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(id!);
    expect(listed.stdout).toContain('laptop');
    expect(listed.stdout).toContain('active');
    expect(listed.stdout).not.toContain(key!); // only the prefix is ever shown again

    const revoked = await runCli(['keys', 'revoke', id!, '--owner', 'carol', '--data-dir', dataDir]);
    expect(revoked.code).toBe(0);
    const refused = await gql(platform.origin, key!, '{ jobs { items { id } } }');
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await runCli(['keys', 'list', '--owner', 'carol', '--data-dir', dataDir])).stdout).toMatch(
      /revoked \d{4}-/,
    );

    // Another owner cannot revoke carol's key: NOT_FOUND, a non-zero exit, a message on stderr.
    const wrongOwner = await runCli(['keys', 'revoke', id!, '--data-dir', dataDir]);
    expect(wrongOwner.code).toBe(1);
    expect(wrongOwner.stderr).toMatch(/peerstyle keys: /);

    const usage = await runCli(['keys', 'rotate', '--data-dir', dataDir]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('create, list, revoke');
  });
});
