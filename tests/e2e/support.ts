/**
 * Shared pieces of the end-to-end tests: a model package to serve (the bundled one when the tree has
 * it, otherwise random `tiny` weights exported by the real exporter, which is all plumbing tests need),
 * fixture images, and GraphQL over plain `fetch`, as any client would speak to the server.
 */

/* eslint-disable @typescript-eslint/no-explicit-any -- GraphQL results are untyped JSON read by path. */

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BUNDLED_MODEL_DIR } from '../../functions/local/main';
import { exportTinyPackage } from '../engine/tiny-package';

export const IMAGES = path.join(__dirname, '..', 'fixtures', 'images');
export const image = (name: string): Buffer => readFileSync(path.join(IMAGES, name));

/** A model package folder, and whether the caller should remove it afterwards. */
export async function modelPackage(): Promise<{ dir: string; temporary: boolean }> {
  if (existsSync(path.join(BUNDLED_MODEL_DIR, 'manifest.json'))) return { dir: BUNDLED_MODEL_DIR, temporary: false };
  const { dir, store } = await exportTinyPackage(5);
  store.dispose();
  return { dir, temporary: true };
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
