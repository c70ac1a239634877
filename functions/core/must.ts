/**
 * Reads that the code's own bookkeeping keeps in range: the entry of an array built with one entry per
 * stage, the value of a record filled for every name that is later looked up, a capture group that
 * always takes part in its match. The compiler types each such read as possibly undefined; `must` says
 * that it cannot be, and turns a broken guarantee into an error that names what was missing, where it
 * happened, instead of a TypeError or a NaN further on.
 */

/** `value`, which the caller's own logic guarantees is there; throws, naming `what`, when it is not. */
export function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`Internal error: ${what} is missing.`);
  return value;
}
