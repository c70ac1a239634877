/**
 * The owner's upload area must be injective in the owner id: no owner name may map to the same key
 * segment as another (issue 12: "bob smith" and "h-7e50…" shared one area), and keys in the old
 * short-hash form are refused with a message that says why.
 */

import { createHash } from 'node:crypto';
import { ErrorCode } from '../../../../functions/core';
import { assertOwnUploadKey, ownerSegment, uploadPrefixFor } from '../../../../functions/core/use-cases';
import { expectDomainError } from '../../../support/expect-domain-error';

const oldShortHash = (owner: string): string =>
  `h-${createHash('sha256').update(owner, 'utf8').digest('hex').slice(0, 32)}`;

test('"bob smith" and the owner named like its old hashed segment get different upload areas', () => {
  const forged = oldShortHash('bob smith');
  expect(forged).toBe('h-7e50351d7a4c51161920af1a3526e79e');
  expect(uploadPrefixFor('bob smith')).not.toBe(uploadPrefixFor(forged));
  expect(ownerSegment('bob smith')).toMatch(/^h-[0-9a-f]{64}$/);
});

test('no name maps onto another name\'s segment, across plain, "h-" and hashed names', () => {
  const names = ['alice', 'bob smith', 'h-abc', 'h-', 'H-abc', 'a/b', '..', 'ålice', 'x'.repeat(65)];
  names.push(ownerSegment('bob smith'), ownerSegment('a/b'), oldShortHash('a/b'));
  const segments = names.map(ownerSegment);
  expect(new Set(segments).size).toBe(names.length);
  // Plain names (not starting with "h-") keep their segment, so existing local uploads stay reachable.
  expect(ownerSegment('alice')).toBe('alice');
  expect(ownerSegment('H-abc')).toBe('H-abc');
  expect(ownerSegment('h-abc')).toMatch(/^h-[0-9a-f]{64}$/);
});

test('a key in the old short-hash area is refused, saying why', async () => {
  const key = `uploads/${oldShortHash('bob smith')}/photo`;
  const error = await expectDomainError(() => assertOwnUploadKey('bob smith', key, 'content'), ErrorCode.NOT_FOUND);
  expect(error.message).toMatch(/old short-hash form .* no longer served; upload the file again/);
});
