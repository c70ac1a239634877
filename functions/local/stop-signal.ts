/**
 * The stop signal of a long-running process. Listening starts when this is called, so a process calls
 * it before it starts anything and before it announces readiness: a SIGTERM that arrives during
 * start-up, or the instant a supervisor reads the announcement, then leads to a clean stop instead of
 * the default action, which ends the process without stopping its workers or closing its database.
 */
export type StopSignal = 'SIGTERM' | 'SIGINT';

export function listenForStopSignal(): Promise<StopSignal> {
  return new Promise((resolve) => {
    const stop = (signal: StopSignal) => () => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      resolve(signal);
    };
    const onTerm = stop('SIGTERM');
    const onInt = stop('SIGINT');
    process.once('SIGTERM', onTerm);
    process.once('SIGINT', onInt);
  });
}
