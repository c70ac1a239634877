/**
 * The clock port: where time comes from.
 *
 * Leases, expiries and timestamps all read time through this function so that tests can move time
 * forward instantly instead of sleeping, and so that the domain never calls `Date.now()` directly.
 */

/** Returns the current time as milliseconds since the Unix epoch. */
export type Clock = () => number;

/** The wall clock. */
export const systemClock: Clock = () => Date.now();
