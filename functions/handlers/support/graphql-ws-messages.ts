/**
 * The graphql-ws protocol (server side) for one message arriving on API Gateway's `$default` route.
 *
 * State lives in the connection row, not in memory, because each message may reach a different
 * container: `connection_init` verifies the key from its payload and stores only the owner and the
 * key's hash; `subscribe` re-verifies that hash (a revoked key is answered with UNAUTHENTICATED and the
 * socket is closed with 4403), checks the document and the caller's ownership of the job before it
 * stores anything, then answers with the job's current state (and `complete` at once if the job is
 * already finished); `complete` forgets the subscription. Protocol violations close the socket (see
 * `WebSocketPublisher.disconnect`). Ping and pong are answered at any time, as the protocol allows;
 * any other message before a successful `connection_init` closes with 4401.
 */

import { CloseCode, MessageType, parseMessage, type Message } from 'graphql-ws';
import { hashApiKey, jobTopic, ownerTopic } from '../../adapters/aws';
import { DomainError, ErrorCode, isTerminal, type JsonObject, type JsonValue } from '../../core';
import { getJob } from '../../core/use-cases';
import { checkSubscription, connectionKey, createDocumentRules, renderEvent, unknownOrRevokedKey } from '../../graphql';
import { wsApiKeys, wsConnectionStore, wsEventContext, wsJobStore, wsPublisher } from '../../wiring/aws';
import { once } from './handler-env';
import { KEY_REVOKED_REASON, keyStillWorks } from './subscriber-access';

/** What became of the message: handled, or the socket was closed with a graphql-ws close code. */
export type MessageOutcome = { closed: false } | { closed: true; code: CloseCode; reason: string };

const HANDLED: MessageOutcome = { closed: false };

/** Built on the first subscribe and kept for the container's lifetime. */
const documentRules = once(createDocumentRules);

async function send(connectionId: string, message: Message): Promise<void> {
  await wsPublisher().publish(connectionId, message as unknown as JsonValue);
}

async function close(connectionId: string, code: CloseCode, reason: string): Promise<MessageOutcome> {
  await wsConnectionStore().remove(connectionId);
  await wsPublisher().disconnect(connectionId);
  return { closed: true, code, reason };
}

/** Handles one text frame from `connectionId`. */
export async function handleGraphQLWsMessage(connectionId: string, body: string | undefined): Promise<MessageOutcome> {
  let message: Message;
  try {
    message = parseMessage(body ?? '');
  } catch (error) {
    return close(connectionId, CloseCode.BadRequest, error instanceof Error ? error.message : 'Invalid message');
  }
  if (message.type === MessageType.Ping) {
    await send(connectionId, { type: MessageType.Pong });
    return HANDLED;
  }
  if (message.type === MessageType.Pong) return HANDLED;

  const connection = await wsConnectionStore().getConnection(connectionId);
  if (connection === null) return close(connectionId, CloseCode.Unauthorized, 'Unknown connection');
  if (connection.owner === undefined && message.type !== MessageType.ConnectionInit) {
    return close(connectionId, CloseCode.Unauthorized, 'Unauthorized');
  }

  switch (message.type) {
    case MessageType.ConnectionInit: {
      if (connection.owner !== undefined) {
        return close(connectionId, CloseCode.TooManyInitialisationRequests, 'Too many initialisation requests');
      }
      // The key is used here and dropped: only the owner it names and its hash (to re-verify it on
      // later messages) are persisted.
      const key = connectionKey(message.payload);
      const owner = key === null ? null : await wsApiKeys().verify(key);
      if (key === null || owner === null) return close(connectionId, CloseCode.Forbidden, 'Forbidden');
      if (!(await wsConnectionStore().authorise(connectionId, owner, hashApiKey(key)))) {
        return close(connectionId, CloseCode.Unauthorized, 'Unknown connection');
      }
      await send(connectionId, { type: MessageType.ConnectionAck });
      return HANDLED;
    }
    case MessageType.Subscribe: {
      const owner = connection.owner as string;
      const keyHash = connection.keyHash;
      if (keyHash === undefined || !(await keyStillWorks(wsApiKeys(), keyHash, owner))) {
        const error = unknownOrRevokedKey();
        const formatted = documentRules().formatError({ message: error.message }, error);
        await send(connectionId, { id: message.id, type: MessageType.Error, payload: [formatted] });
        return close(connectionId, CloseCode.Forbidden, KEY_REVOKED_REASON);
      }
      await subscribe(connectionId, { owner, keyHash }, message.id, message.payload);
      return HANDLED;
    }
    case MessageType.Complete:
      await wsConnectionStore().removeSubscription(connectionId, message.id);
      return HANDLED;
    default:
      return close(connectionId, CloseCode.BadRequest, `Unexpected message of type ${message.type}`);
  }
}

async function subscribe(
  connectionId: string,
  { owner, keyHash }: { owner: string; keyHash: string },
  id: string,
  payload: { query: string; variables?: Record<string, unknown> | null; operationName?: string | null },
): Promise<void> {
  const rules = documentRules();
  const checked = checkSubscription(rules, payload);
  if (!checked.ok) {
    await send(connectionId, { id, type: MessageType.Error, payload: checked.errors });
    return;
  }
  const { request } = checked;
  const record = {
    connectionId,
    subscriptionId: id,
    owner,
    // Copied from the connection so the publisher can re-verify the key from this row alone.
    keyHash,
    query: request.query,
    ...(request.variables !== undefined && { variables: request.variables }),
    ...(request.operationName !== undefined && { operationName: request.operationName }),
  };
  if (request.field === 'myJobs') {
    await wsConnectionStore().addSubscription({ ...record, topic: ownerTopic(owner) });
    return;
  }
  const jobId = request.jobId as string;
  if ((await getJob({ jobs: wsJobStore() }, owner, jobId)) === null) {
    const error = new DomainError(ErrorCode.NOT_FOUND, `No job with id ${jobId}.`, { id: jobId });
    const formatted = rules.formatError({ message: error.message }, error);
    await send(connectionId, { id, type: MessageType.Error, payload: [formatted] });
    return;
  }
  // Stored before the snapshot is read, so a change landing in between reaches the client through
  // the stream publisher rather than falling between the two.
  await wsConnectionStore().addSubscription({ ...record, topic: jobTopic(jobId) });
  const job = await getJob({ jobs: wsJobStore() }, owner, jobId);
  if (job === null) return;
  const next = await renderEvent(rules, request, { type: 'SNAPSHOT', job }, wsEventContext(owner));
  await send(connectionId, { id, type: MessageType.Next, payload: next as JsonObject as never });
  if (isTerminal(job.status)) {
    await wsConnectionStore().removeSubscription(connectionId, id);
    await send(connectionId, { id, type: MessageType.Complete });
  }
}
