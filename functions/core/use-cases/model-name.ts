/**
 * What a model name may be. Names travel into manifests, listings and the export step, so they are
 * plain text: letters and digits (any script), spaces, ".", "_" and "-", starting with a letter or a
 * digit. A name can then never be mistaken for a command-line option ("--verify") or a path.
 */

import { DomainError, ErrorCode } from '../errors';

/** Longest model name accepted. */
export const MAX_MODEL_NAME_LENGTH = 100;

const MODEL_NAME = /^[\p{L}\p{N}][\p{L}\p{N} ._-]*$/u;

/** Returns the trimmed name, or BAD_REQUEST naming the rule. */
export function parseModelName(value: string, field = 'modelName'): string {
  const name = value.trim();
  if (name.length === 0 || name.length > MAX_MODEL_NAME_LENGTH || !MODEL_NAME.test(name)) {
    throw new DomainError(
      ErrorCode.BAD_REQUEST,
      `${field}: ${JSON.stringify(value)} is not a model name: use 1..${MAX_MODEL_NAME_LENGTH} letters, digits, ` +
        'spaces, ".", "_" or "-", starting with a letter or a digit.',
      { field },
    );
  }
  return name;
}
