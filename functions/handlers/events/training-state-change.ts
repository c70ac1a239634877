/**
 * Reading EventBridge's "SageMaker Training Job State Change" events.
 *
 * Only the fields the platform acts on are kept. The platform job a training run belongs to is read
 * from the run's `peerstyle:job-id` tag when the event carries tags, and otherwise from the run's name,
 * which the launcher derives from the job id (`<prefix>-<job id>`).
 */

import { badRequest, isRecord } from '../../core';

/** The detail-type SageMaker uses; the stack's rule matches the same string. */
export const TRAINING_STATE_CHANGE = 'SageMaker Training Job State Change';

/**
 * The name prefix of the platform's training runs (the stack's rule matches on it too, and a test
 * holds the two equal); the events function is not told it, because it reads the job id from the tag.
 */
export const TRAINING_JOB_PREFIX = 'peerstyle-';

/** The tag the launcher puts on every training run. */
export const JOB_ID_TAG = 'peerstyle:job-id';

/** The primary statuses SageMaker reports. */
export const TRAINING_JOB_STATUSES = ['InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped'] as const;
/** A primary status SageMaker reports. */
export type TrainingJobStatus = (typeof TRAINING_JOB_STATUSES)[number];

/** One state change of one training run. */
export interface TrainingStateChange {
  trainingJobName: string;
  /** The platform job the run belongs to. */
  jobId: string;
  status: TrainingJobStatus;
  /** Finer-grained step, e.g. "Downloading", "Training", "Interrupted", "MaxRuntimeExceeded". */
  secondaryStatus: string | null;
  failureReason: string | null;
  /** s3:// URI of model.tar.gz, present once the run completed. */
  modelArtifacts: string | null;
}

const text = (value: unknown): string | null => (typeof value === 'string' && value.length > 0 ? value : null);

function tagValue(tags: unknown, key: string): string | null {
  // Seen both as a map and in the API's [{Key, Value}] shape.
  if (Array.isArray(tags)) {
    const tag = tags.find((t: unknown) => isRecord(t) && t.Key === key) as { Value?: unknown } | undefined;
    return text(tag?.Value);
  }
  return isRecord(tags) ? text(tags[key]) : null;
}

/**
 * Parses one event; BAD_REQUEST when it is not a training state change of this platform's (such an
 * event will never apply, so the caller drops it rather than have EventBridge retry it).
 */
export function parseTrainingStateChange(
  event: unknown,
  jobNamePrefix: string = TRAINING_JOB_PREFIX,
): TrainingStateChange {
  if (!isRecord(event) || event['detail-type'] !== TRAINING_STATE_CHANGE || !isRecord(event.detail)) {
    throw badRequest(`Expected an EventBridge "${TRAINING_STATE_CHANGE}" event.`);
  }
  const detail = event.detail;
  const trainingJobName = text(detail.TrainingJobName);
  if (trainingJobName === null) throw badRequest('The event has no TrainingJobName.');
  const status = detail.TrainingJobStatus;
  if (typeof status !== 'string' || !(TRAINING_JOB_STATUSES as readonly string[]).includes(status)) {
    throw badRequest(
      `Unknown TrainingJobStatus ${JSON.stringify(status)}. Expected one of: ${TRAINING_JOB_STATUSES.join(', ')}.`,
    );
  }
  const prefix = `${jobNamePrefix.replace(/-+$/, '')}-`;
  const jobId =
    tagValue(detail.Tags, JOB_ID_TAG) ??
    (trainingJobName.startsWith(prefix) ? trainingJobName.slice(prefix.length) : null);
  if (jobId === null || jobId === '')
    throw badRequest(`Training job ${trainingJobName} is not one of this platform's (no "${prefix}" prefix).`);
  return {
    trainingJobName,
    jobId,
    status: status as TrainingJobStatus,
    secondaryStatus: text(detail.SecondaryStatus),
    failureReason: text(detail.FailureReason),
    modelArtifacts: isRecord(detail.ModelArtifacts) ? text(detail.ModelArtifacts.S3ModelArtifacts) : null,
  };
}
