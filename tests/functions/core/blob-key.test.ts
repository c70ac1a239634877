/**
 * Unit tests of the shared blob-key rules: safe keys pass, every traversal trick fails.
 */

import { assertBlobKey, assertBlobPrefix, ErrorCode } from '../../../functions/core';
import { expectDomainError } from '../../support/expect-domain-error';

test.each(['drop/u1/photo.jpg', 'a', 'out/ü/é.png', '50%off.jpg', 'a/b..c/d', '..hidden'])('accepts %j', (key) => {
  expect(() => assertBlobKey(key)).not.toThrow();
});

test.each([
  '../x',
  '/etc/passwd',
  'a/../../b',
  '%2e%2e/x',
  '%2E%2E%2Fx',
  'a%5c..%5cb',
  'a\\b',
  'C:/x',
  'a/',
  'x\u0007',
  'k'.repeat(1025),
])('rejects %j with BAD_REQUEST', async (key) => {
  const error = await expectDomainError(() => assertBlobKey(key), ErrorCode.BAD_REQUEST);
  expect(error.message).toContain('Keys are relative paths');
});

test('prefixes may be empty or end in a slash, but not escape', async () => {
  expect(() => assertBlobPrefix('')).not.toThrow();
  expect(() => assertBlobPrefix('drop/')).not.toThrow();
  expect(() => assertBlobPrefix('drop/ph')).not.toThrow();
  await expectDomainError(() => assertBlobPrefix('../'), ErrorCode.BAD_REQUEST);
});
