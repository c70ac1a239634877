/**
 * Revocation for open WebSocket connections: a socket authenticated with a key that has since been
 * revoked is closed with 4403.
 *
 * Subscribe messages re-verify the key themselves; this module covers sockets that stay open without
 * sending anything, by re-verifying the key of every open socket on one timer per server. A sweep
 * verifies each distinct key once, however many sockets share it, and a sweep still running when the
 * next tick comes makes that tick a no-op, so a slow store never piles sweeps up.
 */

import { CloseCode } from 'graphql-ws';
import type { WebSocket } from 'ws';
import type { ApiKeyStore } from '../../core';
import type { ErrorLogger } from '../../graphql';

/** How often open connections have their key re-verified, unless configured otherwise. */
export const DEFAULT_KEY_RECHECK_MS = 30_000;

/** The close reason a client sees when its key was revoked (the code is 4403, Forbidden). */
export const KEY_REVOKED_REASON = 'API key revoked';

/** Closes `socket` because its key no longer verifies; active subscriptions on it end. */
export function closeForRevokedKey(socket: WebSocket): void {
  if (socket.readyState === socket.OPEN) socket.close(CloseCode.Forbidden, KEY_REVOKED_REASON);
}

/** What `startKeyRecheck` needs. */
export interface KeyRecheckOptions {
  /** The server's open sockets. */
  sockets: () => Iterable<WebSocket>;
  /** The key a socket authenticated with, or undefined before its connection_init was accepted. */
  keyOf: (socket: WebSocket) => string | undefined;
  apiKeys: ApiKeyStore;
  /** Time between sweeps, in milliseconds. */
  intervalMs: number;
  /** Where a failed sweep is reported; the sockets stay open and the next sweep tries again. */
  log: ErrorLogger;
}

/** A running re-check timer. */
export interface KeyRecheck {
  stop(): void;
}

/** Verifies every open socket's key once and closes the sockets whose key no longer works. */
export async function sweepRevokedKeys(options: Omit<KeyRecheckOptions, 'intervalMs' | 'log'>): Promise<void> {
  const verdicts = new Map<string, Promise<boolean>>();
  const works = (key: string): Promise<boolean> => {
    let verdict = verdicts.get(key);
    if (verdict === undefined) {
      verdict = options.apiKeys.verify(key).then((owner) => owner !== null);
      verdicts.set(key, verdict);
    }
    return verdict;
  };
  await Promise.all(
    [...options.sockets()].map(async (socket) => {
      const key = options.keyOf(socket);
      if (key !== undefined && !(await works(key))) closeForRevokedKey(socket);
    }),
  );
}

/** Starts sweeping every `intervalMs`; the timer does not keep the process alive. */
export function startKeyRecheck(options: KeyRecheckOptions): KeyRecheck {
  let sweeping = false;
  const timer = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    sweepRevokedKeys(options)
      .catch((error: unknown) => options.log('Re-verifying WebSocket API keys failed', error))
      .finally(() => {
        sweeping = false;
      });
  }, options.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
