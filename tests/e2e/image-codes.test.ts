/**
 * One input, one code, on every path: each bad image goes through `peerstyle stylize` (a child process),
 * the API (createUpload, the upload form, stylize, the failed job's error) and the drop folder of the
 * `npm start` composition (its `.reason.txt`), and all three must name the code the README lists:
 * EMPTY, INVALID_IMAGE, UNSUPPORTED_FORMAT, TOO_LARGE (a 30000×30000 PNG bomb, refused from its header)
 * and TRUNCATED.
 */

/* eslint-disable @typescript-eslint/no-explicit-any -- GraphQL results are untyped JSON read by path. */

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { loadConfig } from '../../functions/config';
import { startPlatform, type Platform } from '../../functions/local/main';
import { runCli } from '../support/run-cli';
import { gql, image, IMAGES, modelPackage } from './support';
import { at, defined } from '../support/checked';

/** CRC-32 of PNG chunks. */
function crc32(bytes: Buffer): number {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A valid 30000×30000 one-bit PNG: 110 KB on disk, 900 megapixels decoded. */
function pngBomb(side = 30_000): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(side, 0);
  header.writeUInt32BE(side, 4);
  header[8] = 1; // bit depth
  header[9] = 0; // greyscale
  const rows = Buffer.alloc(side * (1 + Math.ceil(side / 8))); // filter byte 0 and all-black pixels per row
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('image error codes', () => {
  let dir: string;
  let model: { dir: string; temporary: boolean };
  let platform: Platform;
  let key: string;
  let styleId: string;
  let dropDir: string;
  const inputs: Record<string, { name: string; bytes: Buffer }> = {};

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'peerstyle-codes-'));
    dropDir = path.join(dir, 'dropbox');
    model = await modelPackage();
    const gif = await sharp(image('photo-1.jpg')).gif().toBuffer();
    Object.assign(inputs, {
      EMPTY: { name: 'empty.jpg', bytes: Buffer.alloc(0) },
      INVALID_IMAGE: { name: 'notes.jpg', bytes: image('corrupt.jpg') },
      UNSUPPORTED_FORMAT: { name: 'anim.gif', bytes: gif },
      TOO_LARGE: { name: 'bomb.png', bytes: pngBomb() },
      TRUNCATED: { name: 'cut.jpg', bytes: image('truncated.jpg') },
    });
    for (const { name, bytes } of Object.values(inputs)) writeFileSync(path.join(dir, name), bytes);
    const config = loadConfig(
      ['--port', '0', '--data-dir', path.join(dir, 'data'), '--drop-dir', dropDir, '--workers', '1'],
      {},
      dir,
    );
    platform = await startPlatform({
      config,
      modelDir: model.dir,
      log: { info: () => undefined, error: () => undefined },
    });
    key = platform.createdApiKey!;
    const style = await upload(image('painting-1.jpg'), 'image/jpeg');
    const saved = await gql(
      platform.origin,
      key,
      'mutation($k: String!) { registerStyle(name: "s", uploadKey: $k) { id } }',
      {
        k: style.key,
      },
    );
    styleId = saved.data.registerStyle.id;
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
    rmSync(dir, { recursive: true, force: true });
    if (model?.temporary) rmSync(model.dir, { recursive: true, force: true });
  });

  /** createUpload and the form POST; the code of whichever step refuses, else the key. */
  async function upload(bytes: Buffer, contentType: string): Promise<{ key?: string; code?: string }> {
    const created = await gql(
      platform.origin,
      key,
      'mutation($t: String!, $n: Int!) { createUpload(contentType: $t, byteSize: $n) { url key fields { name value } } }',
      { t: contentType, n: bytes.length },
    );
    if (created.errors) return { code: created.errors[0]?.extensions?.code };
    const target = created.data.createUpload as { url: string; key: string; fields: { name: string; value: string }[] };
    const form = new FormData();
    for (const { name, value } of target.fields) form.append(name, value);
    form.append('Content-Type', contentType);
    form.append('file', new Blob([new Uint8Array(bytes)], { type: contentType }), 'image');
    const response = await fetch(target.url, { method: 'POST', body: form });
    if (response.status !== 204) return { code: ((await response.json()) as any).error.code };
    return { key: target.key };
  }

  /** The code the API gives a content image: from the upload, the mutation, or the failed job. */
  async function apiCode(bytes: Buffer, contentType: string): Promise<string | undefined> {
    const uploaded = await upload(bytes, contentType);
    if (uploaded.key === undefined) return uploaded.code;
    const submitted = await gql(
      platform.origin,
      key,
      'mutation($c: String!, $s: ID!) { stylize(input: { content: $c, styles: [{ styleId: $s }] }) { id } }',
      { c: uploaded.key, s: styleId },
    );
    if (submitted.errors) return submitted.errors[0]?.extensions?.code;
    const id = submitted.data.stylize.id as string;
    for (const started = Date.now(); Date.now() - started < 30_000;) {
      const { data } = await gql(platform.origin, key, 'query($id: ID!) { job(id: $id) { status error { code } } }', {
        id,
      });
      if (data.job.status === 'FAILED') return data.job.error.code;
      if (data.job.status === 'SUCCEEDED') return 'SUCCEEDED';
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`job ${id} did not finish`);
  }

  /** The code the drop folder writes in front of its reason. */
  async function dropCode(name: string, bytes: Buffer): Promise<string> {
    const folder = path.join(dropDir, 'drop', styleId);
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, name), bytes);
    const reason = path.join(dropDir, 'rejected', styleId, `${name}.reason.txt`);
    for (const started = Date.now(); Date.now() - started < 30_000;) {
      if (existsSync(reason)) return at(readFileSync(reason, 'utf8').split(':'), 0);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${name} was not rejected`);
  }

  /** The code `peerstyle stylize` prints, checking that it wrote nothing. */
  async function cliCode(name: string): Promise<string | undefined> {
    const out = path.join(dir, `${name}.out.png`);
    const result = await runCli([
      'stylize',
      '--model',
      model.dir,
      '--threads',
      '1',
      '--content',
      path.join(dir, name),
      '--style',
      path.join(IMAGES, 'painting-1.jpg'),
      '--out',
      out,
    ]);
    expect(result.code).toBe(1);
    expect(existsSync(out)).toBe(false);
    return /\(([A-Z_]+)\)\n$/.exec(result.stderr)?.[1];
  }

  test('the bomb is a real image of 900 megapixels in a few hundred kilobytes', async () => {
    const bomb = defined(inputs.TOO_LARGE, 'the TOO_LARGE input').bytes;
    expect(bomb.length).toBeLessThan(200_000);
    expect(await sharp(bomb, { limitInputPixels: false }).metadata()).toMatchObject({ width: 30_000, height: 30_000 });
  });

  test.each(['EMPTY', 'INVALID_IMAGE', 'UNSUPPORTED_FORMAT', 'TOO_LARGE', 'TRUNCATED'])(
    '%s from the CLI, the API and the drop folder',
    async (code) => {
      const { name, bytes } = defined(inputs[code], `the ${code} input`);
      const contentType = name.endsWith('.png') ? 'image/png' : name.endsWith('.gif') ? 'image/gif' : 'image/jpeg';
      const [cli, api, drop] = await Promise.all([cliCode(name), apiCode(bytes, contentType), dropCode(name, bytes)]);
      expect({ cli, api, drop }).toEqual({ cli: code, api: code, drop: code });
    },
    60_000,
  );
});
