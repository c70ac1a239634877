/**
 * The engine's errors as data: a closed set of codes that callers (the CLI, the job runner, the GraphQL
 * boundary) can map without parsing messages. Each error carries one code and one clear message.
 */

/** Why a stylisation was refused or stopped. */
export const ENGINE_ERROR_CODES = [
  'INVALID_IMAGE',
  'UNSUPPORTED_FORMAT',
  'TOO_LARGE',
  'EMPTY',
  'TRUNCATED',
  'CANCELLED',
  'BAD_OPTION',
] as const;
export type EngineErrorCode = (typeof ENGINE_ERROR_CODES)[number];

/** An error raised by the engine, with a code from {@link ENGINE_ERROR_CODES}. */
export class EngineError extends Error {
  override name = 'EngineError';

  constructor(
    readonly code: EngineErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
