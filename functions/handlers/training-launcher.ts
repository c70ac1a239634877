/**
 * Lambda entry point: starts the SageMaker training run of one TRAIN job.
 *
 * The API's `startTraining` path creates the job and invokes this function with `{"jobId": "<id>"}`
 * (the stack passes the function's name to the API as PEERSTYLE_TRAINING_LAUNCHER_FUNCTION). A payload
 * without a job id is answered with an error; a service failure is thrown, so an asynchronous
 * invocation is retried by Lambda and a synchronous caller sees it.
 */

import { trainingLaunchDepsFromEnv } from '../wiring/aws';
import { launchTraining, parseLaunchEvent, type LaunchResult } from './events/launch-training';

let deps: ReturnType<typeof trainingLaunchDepsFromEnv> | undefined;

/** The function's handler. */
export async function handler(event: unknown): Promise<LaunchResult> {
  const request = parseLaunchEvent(event);
  deps ??= trainingLaunchDepsFromEnv();
  const result = await launchTraining(deps, request);
  console.log(JSON.stringify({ level: 'INFO', ...result }));
  return result;
}
