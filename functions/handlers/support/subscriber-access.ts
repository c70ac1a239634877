/**
 * Whether a WebSocket connection's API key still works, on AWS, where a connection keeps only the
 * hash of the key it authenticated with (in its connection row, copied onto each subscription row).
 *
 * ws-message asks at every subscribe message. The stream publisher asks before it delivers an event,
 * through a `SubscriberAccess` made for one batch of stream records: each distinct key is looked up
 * once per batch (one GetItem, however many subscriptions and records share it), and a connection
 * whose key no longer works is closed once and receives nothing more. A row without a hash cannot be
 * re-verified and counts as revoked: its client reconnects and authenticates again.
 */

import type { SubscriptionRecord } from '../../adapters/aws';

/** The close reason logged for a connection whose key was revoked (the code is 4403, Forbidden). */
export const KEY_REVOKED_REASON = 'API key revoked';

/** Looks a key up by its hash, as the keys table is keyed. */
export interface KeyHashVerifier {
  /** The owner of the working key with this hash, or null for an unknown or revoked one. */
  ownerOfKeyHash(keyHash: string): Promise<string | null>;
}

/** True when `keyHash` names a working key of `owner`. */
export async function keyStillWorks(
  keys: KeyHashVerifier,
  keyHash: string | undefined,
  owner: string,
): Promise<boolean> {
  return keyHash !== undefined && (await keys.ownerOfKeyHash(keyHash)) === owner;
}

/** The parts of a subscription that decide whether it may still receive events. */
export type Subscriber = Pick<SubscriptionRecord, 'connectionId' | 'owner' | 'keyHash'>;

/** Admits or refuses subscribers for one batch of deliveries; make a new one for every batch. */
export class SubscriberAccess {
  private readonly owners = new Map<string, Promise<string | null>>();
  private readonly closing = new Map<string, Promise<void>>();

  /** The key store, answering each hash from the first lookup of this batch. */
  private readonly cachedKeys: KeyHashVerifier = {
    ownerOfKeyHash: (keyHash) => {
      let owner = this.owners.get(keyHash);
      if (owner === undefined) {
        owner = this.keys.ownerOfKeyHash(keyHash);
        this.owners.set(keyHash, owner);
      }
      return owner;
    },
  };

  /** `closeRevoked` closes a connection and forgets its rows. */
  constructor(
    private readonly keys: KeyHashVerifier,
    private readonly closeRevoked: (connectionId: string) => Promise<void>,
  ) {}

  /**
   * True when the subscriber's key still works. Otherwise its connection is closed (once, however
   * many of its subscriptions ask) and false is returned, so nothing is delivered to it.
   */
  async admits(subscriber: Subscriber): Promise<boolean> {
    if (await keyStillWorks(this.cachedKeys, subscriber.keyHash, subscriber.owner)) return true;
    let closed = this.closing.get(subscriber.connectionId);
    if (closed === undefined) {
      closed = this.closeRevoked(subscriber.connectionId);
      this.closing.set(subscriber.connectionId, closed);
    }
    await closed;
    return false;
  }
}
