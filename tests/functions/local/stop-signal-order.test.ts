/**
 * The long-running processes announce that they are ready only once a stop signal is handled: a
 * supervisor that sends SIGTERM as soon as it reads the announcement must get a clean stop (exit 0),
 * not the default action of a signal nobody listens to, which kills the process mid-write.
 */
import path from 'node:path';
import { serve } from '../../../functions/local/main';
import { runWorkerProcess } from '../../../functions/local/worker/worker-process';
import { InvertTestEngine } from '../../support/invert-test-engine';
import { REPO, tempDir } from '../../support/runtime';

/**
 * Calls `start` and, when it first writes `announcement` to stdout, records whether a SIGTERM listener
 * beyond the ones present before was installed, then delivers SIGTERM as a supervisor would.
 */
async function signalOnAnnouncement(announcement: string, start: () => Promise<number>) {
  const listenersBefore = process.listenerCount('SIGTERM');
  let handledWhenAnnounced: boolean | null = null;
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array) => {
    if (handledWhenAnnounced === null && String(chunk).includes(announcement)) {
      handledWhenAnnounced = process.listenerCount('SIGTERM') > listenersBefore;
      setImmediate(() => process.emit('SIGTERM'));
    }
    return true;
  }) as typeof process.stdout.write);
  try {
    const code = await start();
    return { code, handledWhenAnnounced };
  } finally {
    spy.mockRestore();
  }
}

describe('stop signals during start-up', () => {
  it('the worker process handles SIGTERM before it prints "workers ready"', async () => {
    const dataDir = await tempDir('signal-order-worker');
    const env = { PEERSTYLE_DATA_DIR: dataDir, PEERSTYLE_WORKERS: '1', PEERSTYLE_DROP_DIR: 'off' };
    const result = await signalOnAnnouncement('workers ready', () =>
      runWorkerProcess([], env, { engine: new InvertTestEngine() }),
    );
    expect(result).toEqual({ code: 0, handledWhenAnnounced: true });
  });

  it('the server handles SIGTERM before it prints its address', async () => {
    const dataDir = await tempDir('signal-order-serve');
    const env = { PEERSTYLE_DATA_DIR: dataDir, PEERSTYLE_PORT: '0', PEERSTYLE_DROP_DIR: 'off', PEERSTYLE_WORKERS: '1' };
    const result = await signalOnAnnouncement('Peerstyle is running', () =>
      serve([], { env, cwd: REPO, modelDir: path.join(REPO, 'models', 'default') }),
    );
    expect(result).toEqual({ code: 0, handledWhenAnnounced: true });
  });
});
