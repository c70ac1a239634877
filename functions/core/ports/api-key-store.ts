/**
 * The API key store port: long-lived keys for scripts and the CLI, identifying their owner.
 *
 * The plaintext key is shown once, at creation; stores keep only a hash, so a leaked database does not
 * leak working keys.
 */

/** A key as listed: never includes the secret. */
export interface ApiKeyInfo {
  id: string;
  owner: string;
  /** Owner-chosen name, e.g. "laptop". */
  label: string;
  /** The first characters of the key, so the owner can tell keys apart. */
  prefix: string;
  /** ISO-8601. */
  createdAt: string;
  /** ISO-8601, or null while the key works. */
  revokedAt: string | null;
}

/** What `create` returns: the record plus the plaintext key, which is never retrievable again. */
export interface CreatedApiKey extends ApiKeyInfo {
  key: string;
}

/** API keys, stored as hashes. */
export interface ApiKeyStore {
  create(owner: string, label: string): Promise<CreatedApiKey>;
  /** The owner of a working key, or null for an unknown or revoked key. */
  verify(key: string): Promise<string | null>;
  /** The owner's keys, newest first, revoked ones included. */
  list(owner: string): Promise<ApiKeyInfo[]>;
  /** Revokes a key; NOT_FOUND when the owner has no key with this id. */
  revoke(id: string, owner: string): Promise<void>;
}
