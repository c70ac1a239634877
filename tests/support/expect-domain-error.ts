/**
 * Assertion helper shared by the contract suites and unit tests: a promise (or call) must fail with a
 * `DomainError` of the given code, since callers act on codes and never on messages.
 */

import { DomainError, type ErrorCode } from '../../functions/core';

/** Awaits `action` and asserts it failed with a DomainError carrying `code`; returns the error. */
export async function expectDomainError(
  action: Promise<unknown> | (() => unknown),
  code: ErrorCode,
): Promise<DomainError> {
  let caught: unknown;
  try {
    await (typeof action === 'function' ? action() : action);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(DomainError);
  expect((caught as DomainError).code).toBe(code);
  return caught as DomainError;
}
