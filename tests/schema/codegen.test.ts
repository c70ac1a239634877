/**
 * The committed resolver types must be exactly what the codegen script makes from the schema today,
 * so a schema change without regenerating fails here instead of drifting silently. The script runs in
 * a child process under tsx, as CI would run it.
 */

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = join(__dirname, '..', '..');
const generated = join(root, 'functions', 'graphql', 'generated', 'resolvers-types.ts');

async function check(against?: string): Promise<{ code: number; stderr: string }> {
  const args = ['schema/codegen.ts', '--check', ...(against ? ['--against', against] : [])];
  try {
    await promisify(execFile)(join(root, 'node_modules', '.bin', 'tsx'), args, { cwd: root });
    return { code: 0, stderr: '' };
  } catch (error) {
    const failure = error as { code?: number; stderr?: string };
    return { code: failure.code ?? -1, stderr: failure.stderr ?? '' };
  }
}

test('the committed resolver types match a fresh generation, and drift is detected', async () => {
  expect(readFileSync(generated, 'utf8')).toContain('export type Resolvers<ContextType = GraphQLContext>');
  expect(await check()).toEqual({ code: 0, stderr: '' });
  const dir = mkdtempSync(join(tmpdir(), 'peerstyle-codegen-'));
  try {
    const stale = join(dir, 'resolvers-types.ts');
    writeFileSync(stale, readFileSync(generated, 'utf8').replace('cancelRequested', 'cancelWanted'));
    const drifted = await check(stale);
    expect(drifted.code).toBe(1);
    expect(drifted.stderr).toMatch(/is out of date/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
