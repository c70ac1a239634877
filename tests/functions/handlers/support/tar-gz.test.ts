/**
 * The in-memory tar.gz reader, on archives written by the system's GNU tar (the same tool SageMaker's
 * containers use to pack /opt/ml/model): plain files, a directory, a name longer than the 100 bytes a
 * ustar header holds, a symlink that must not be followed, and damaged input.
 */

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ErrorCode } from '../../../../functions/core';
import { readTarGz } from '../../../../functions/handlers/support/tar-gz';
import { expectDomainError } from '../../../support/expect-domain-error';
import { at } from '../../../support/checked';

function pack(format: 'gnu' | 'pax'): Buffer {
  const root = mkdtempSync(join(tmpdir(), 'peerstyle-tar-'));
  const dir = join(root, 'model');
  mkdirSync(join(dir, 'nested'), { recursive: true });
  writeFileSync(join(dir, 'manifest.json'), '{"name":"m"}\n');
  writeFileSync(join(dir, 'encoder.onnx'), Buffer.alloc(1500, 7)); // spans three blocks
  writeFileSync(join(dir, 'empty.txt'), '');
  writeFileSync(join(dir, 'nested', `${'n'.repeat(120)}.bin`), 'long');
  symlinkSync('/etc/passwd', join(dir, 'link'));
  const archive = join(root, 'model.tar.gz');
  execFileSync('tar', ['--format', format, '-czf', archive, '-C', dir, '.']);
  return readFileSync(archive);
}

test.each(['gnu', 'pax'] as const)('reads the regular files of a %s archive and skips the rest', (format) => {
  const files = readTarGz(pack(format));
  const byName = new Map(files.map((file) => [file.name, file.data]));
  expect([...byName.keys()].sort()).toEqual(
    ['empty.txt', 'encoder.onnx', 'manifest.json', `nested/${'n'.repeat(120)}.bin`].sort(),
  );
  expect(byName.get('manifest.json')?.toString()).toBe('{"name":"m"}\n');
  expect(byName.get('encoder.onnx')).toEqual(Buffer.alloc(1500, 7));
  expect(byName.get('empty.txt')?.length).toBe(0);
  expect(byName.get(`nested/${'n'.repeat(120)}.bin`)?.toString()).toBe('long');
});

test('damaged input is BAD_REQUEST: not gzip, a bad checksum, a truncated entry', async () => {
  await expectDomainError(() => readTarGz(Buffer.from('plain text')), ErrorCode.BAD_REQUEST);
  const tar = Buffer.from(execFileSync('gzip', ['-dc'], { input: pack('gnu') }));
  const flipped = Buffer.from(tar);
  flipped[10] = at(flipped, 10) ^ 0xff; // inside the first name field
  await expectDomainError(() => readTarGz(gzipSync(flipped)), ErrorCode.BAD_REQUEST);
  await expectDomainError(() => readTarGz(gzipSync(tar.subarray(0, 700))), ErrorCode.BAD_REQUEST);
});
