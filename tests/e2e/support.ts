/**
 * Shared pieces of the end-to-end tests: a model package to serve (the bundled one when the tree has
 * it, otherwise random `tiny` weights exported by the real exporter, which is all plumbing tests need),
 * fixture images, and GraphQL over plain `fetch`, as any client would speak to the server.
 */

/* eslint-disable @typescript-eslint/no-explicit-any -- GraphQL results are untyped JSON read by path. */

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../functions/config';
import { BUNDLED_MODEL_DIR, startPlatform, type Platform } from '../../functions/local/main';
import { exportTinyPackage } from '../support/tiny-package';

export const IMAGES = path.join(__dirname, '..', 'fixtures', 'images');
export const image = (name: string): Buffer => readFileSync(path.join(IMAGES, name));

/** A model package folder, and whether the caller should remove it afterwards. */
export async function modelPackage(): Promise<{ dir: string; temporary: boolean }> {
  if (existsSync(path.join(BUNDLED_MODEL_DIR, 'manifest.json'))) return { dir: BUNDLED_MODEL_DIR, temporary: false };
  const { dir, store } = await exportTinyPackage(5);
  store.dispose();
  return { dir, temporary: true };
}

/**
 * The whole platform on a fresh temporary folder, on a free port with the drop folder off and quiet
 * logs, serving {@link modelPackage}; `flags` adds runtime settings. `stop` stops it and removes the
 * folder (and the model, when it was made for the test).
 */
export async function startTestPlatform(
  name: string,
  flags: string[] = [],
): Promise<{ platform: Platform; stop(): Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), `peerstyle-${name}-`));
  const model = await modelPackage();
  const config = loadConfig(['--port', '0', '--data-dir', path.join(dir, 'data'), '--drop-dir=off', ...flags], {}, dir);
  const platform = await startPlatform({
    config,
    modelDir: model.dir,
    log: { info: () => undefined, error: () => undefined },
  });
  return {
    platform,
    async stop() {
      await platform.stop();
      rmSync(dir, { recursive: true, force: true });
      if (model.temporary) rmSync(model.dir, { recursive: true, force: true });
    },
  };
}

/** Runs one GraphQL operation over HTTP; throws on GraphQL errors unless `allowErrors`. */
export async function gql(
  origin: string,
  key: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<{ status: number; data: any; errors?: { message: string; extensions?: { code?: string } }[] }> {
  const response = await fetch(`${origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as {
    data?: any;
    errors?: { message: string; extensions?: { code?: string } }[];
  };
  return { status: response.status, data: body.data, ...(body.errors ? { errors: body.errors } : {}) };
}

/** createUpload (into `group`, when given), then the presigned POST a browser would send; returns the upload key. */
export async function upload(
  origin: string,
  key: string,
  bytes: Buffer,
  contentType = 'image/jpeg',
  group?: string,
): Promise<string> {
  const { data, errors } = await gql(
    origin,
    key,
    'mutation($t: String!, $n: Int!, $g: String) { createUpload(contentType: $t, byteSize: $n, group: $g) { url key fields { name value } } }',
    { t: contentType, n: bytes.length, g: group ?? null },
  );
  if (errors) throw new Error(JSON.stringify(errors));
  const target = data.createUpload as { url: string; key: string; fields: { name: string; value: string }[] };
  const form = new FormData();
  for (const { name, value } of target.fields) form.append(name, value);
  form.append('Content-Type', contentType);
  form.append('file', new Blob([new Uint8Array(bytes)], { type: contentType }), 'image');
  const response = await fetch(target.url, { method: 'POST', body: form });
  if (response.status !== 204) throw new Error(`upload failed: ${response.status} ${await response.text()}`);
  return target.key;
}
