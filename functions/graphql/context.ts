/**
 * What every resolver receives: who is calling and the use-case dependencies.
 *
 * Transports build it after authenticating the caller (see `auth.ts`), so a resolver never sees an
 * anonymous request and never reads headers itself.
 */

import type { UseCaseDeps } from '../core/use-cases';

/** The per-operation context. */
export interface GraphQLContext {
  /** The authenticated owner every operation acts for. */
  owner: string;
  deps: UseCaseDeps;
  /**
   * Takes one rate-limit token for a job-creating field, or throws RATE_LIMITED (see `jobCharger`).
   * Absent where no budget is configured.
   */
  chargeJob?: () => void | Promise<void>;
}
