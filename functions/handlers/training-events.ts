/**
 * Lambda entry point: EventBridge "SageMaker Training Job State Change" events for the platform's
 * training runs update their TRAIN jobs and register finished models (see `applyTrainingState`).
 *
 * An event that is not one of this platform's training state changes is logged and dropped, since
 * retrying it cannot help; a service failure is thrown, so EventBridge retries the delivery (and
 * finally sends it to the rule's dead-letter queue).
 */

import type { EventBridgeEvent } from 'aws-lambda';
import { ErrorCode, isDomainError } from '../core';
import { applyTrainingState, type ApplyResult, type TrainingStateDeps } from './events/apply-training-state';
import { parseTrainingStateChange, type TRAINING_STATE_CHANGE } from './events/training-state-change';
import { trainingStateDepsFromEnv } from '../wiring/aws';

let deps: TrainingStateDeps | undefined;

/** The function's handler. */
export async function handler(
  event: EventBridgeEvent<typeof TRAINING_STATE_CHANGE, unknown>,
): Promise<ApplyResult | { action: 'dropped'; reason: string }> {
  let change;
  try {
    change = parseTrainingStateChange(event);
  } catch (error) {
    if (!isDomainError(error, ErrorCode.BAD_REQUEST)) throw error;
    console.warn(JSON.stringify({ level: 'WARN', id: event.id, dropped: error.message }));
    return { action: 'dropped', reason: error.message };
  }
  deps ??= trainingStateDepsFromEnv();
  const result = await applyTrainingState(deps, change);
  const { jobId, action, reason } = result;
  const status = result.job?.status;
  console.log(
    JSON.stringify({
      level: 'INFO',
      id: event.id,
      trainingJobName: change.trainingJobName,
      jobId,
      action,
      reason,
      status,
    }),
  );
  return result;
}
