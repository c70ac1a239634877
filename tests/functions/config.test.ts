/** The runtime configuration: defaults, precedence of flags over environment, and complete error reports. */
import path from 'node:path';
import { ConfigError, loadConfig } from '../../functions/config';

describe('loadConfig', () => {
  it('fills every setting with its default', () => {
    const config = loadConfig([], {}, '/srv/app');
    expect(config).toEqual({
      dataDir: path.resolve('/srv/app/.peerstyle/data'),
      port: 4000,
      host: '127.0.0.1',
      publicUrl: 'http://127.0.0.1:4000',
      workers: 1,
      leaseSeconds: 60,
      maxActiveJobsPerOwner: 50,
      maxActiveTrainingJobsPerOwner: 2,
      maxAttempts: 3,
      maxTrainingTflopPerOwner: 2000,
      maxTrainingMemoryMib: 8192,
      trainingRetentionHours: 24,
      intraOpThreads: 1,
      introspection: false,
      datasetsDir: path.resolve('/srv/app/datasets'),
      dropDir: path.resolve('/srv/app/.peerstyle/data/dropbox'),
      dropOwner: 'local',
      dropMaxBytes: 20 * 1024 * 1024,
      dropPollMs: 1000,
      dropSettleMs: 2000,
      signingSecret: null,
    });
  });

  it('reads the environment and lets flags win over it', () => {
    const env = {
      PEERSTYLE_WORKERS: '4',
      PEERSTYLE_PORT: '8080',
      PEERSTYLE_INTROSPECTION: 'off',
      NODE_ENV: 'development',
    };
    const config = loadConfig(['--workers=2', '--lease-seconds', '5', '--drop-dir=off', '--introspection'], env, '/x');
    expect(config.workers).toBe(2);
    expect(config.port).toBe(8080);
    expect(config.leaseSeconds).toBe(5);
    expect(config.introspection).toBe(true);
    expect(config.dropDir).toBeNull();
    expect(loadConfig([], { NODE_ENV: 'production' }).introspection).toBe(false);
    expect(loadConfig([], { NODE_ENV: 'development' }).introspection).toBe(false);
    expect(loadConfig(['--no-introspection'], {}).introspection).toBe(false);
  });

  it('reports every problem at once, naming the source and the valid range', () => {
    let error: unknown;
    try {
      loadConfig(['--workers=-1', '--porrt=1', '--max-attempts=two'], {
        PEERSTYLE_LEASE_SECONDS: '0',
        PEERSTYLE_INTROSPECTION: 'maybe',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(5);
    expect(problems).toEqual(
      expect.arrayContaining([
        'Unknown flag --porrt. Expected one of: --data-dir, --port, --host, --public-url, --workers, --lease-seconds, --max-attempts, --max-active-jobs, --max-active-training, --max-training-tflop, --max-training-memory-mib, --training-retention-hours, --intra-op-threads, --introspection, --datasets-dir, --drop-dir, --drop-owner, --drop-max-bytes, --drop-poll-ms, --drop-settle-ms, --signing-secret.',
        '--workers must be an integer in 0..64, got "-1".',
        '--max-attempts must be an integer in 1..20, got "two".',
        'PEERSTYLE_LEASE_SECONDS must be an integer in 1..43200, got "0".',
        'PEERSTYLE_INTROSPECTION must be one of: true, false, 1, 0, yes, no, on, off; got "maybe".',
      ]),
    );
    expect((error as Error).message).toContain('Invalid configuration:\n  - ');
  });
});
