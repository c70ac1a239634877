/**
 * `peerstyle train` as a user runs it: the real command in a child process on real images (tiny
 * preset, wasm backend). Bad input gets one clear error and leaves no checkpoint; SIGTERM checkpoints
 * and exits 0; the SageMaker layout works end to end.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli, startCli } from '../../../support/run-cli';

const SAMPLE = path.join(__dirname, '..', '..', '..', '..', 'datasets', 'sample');

async function dataset(styles: string[] = ['starry-night.jpg', 'brick.jpg']): Promise<string> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-cli-data-'));
  await fs.mkdir(path.join(root, 'content'));
  await fs.mkdir(path.join(root, 'style'));
  for (const f of ['astronaut.jpg', 'chelsea.jpg'])
    await fs.copyFile(path.join(SAMPLE, 'content', f), path.join(root, 'content', f));
  for (const f of styles) await fs.copyFile(path.join(SAMPLE, 'style', f), path.join(root, 'style', f));
  return root;
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

describe('peerstyle train: bad input', () => {
  let out: string;
  beforeEach(async () => {
    out = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-cli-out-')), 'run');
  });

  const cases: [string, () => Promise<string[]>, RegExp][] = [
    ['a missing data folder', async () => ['--data', '/nonexistent/peerstyle-data'], /nonexistent\/peerstyle-data/],
    [
      'an empty data folder',
      async () => ['--data', await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-empty-'))],
      /content/,
    ],
    ['fewer than two style classes', async () => ['--data', await dataset(['brick.jpg'])], /style/i],
    [
      'an unknown preset',
      async () => ['--data', await dataset(), '--preset', 'larg'],
      /Unknown preset "larg"\. Expected one of: paper, small, tiny\./,
    ],
    ['an unknown key', async () => ['--data', await dataset(), '--ngff=3'], /Unknown key "ngff"\. Valid keys: /],
    [
      'an out-of-range value',
      async () => ['--data', await dataset(), '--knn=0'],
      /knn must be between 1 and 64, got 0\./,
    ],
    [
      'a thread count out of range',
      async () => ['--data', await dataset(), '--threads', '9'],
      /--threads must be an integer from 1 to 8, got "9"\./,
    ],
    [
      'a keep-every that is not a positive integer',
      async () => ['--data', await dataset(), '--keep-every', '2.5'],
      /--keep-every must be a positive integer, got "2\.5"\./,
    ],
    [
      'an unknown flag',
      async () => ['--data', await dataset(), '--stepz', '3'],
      /Unknown option --stepz\. Valid options: /,
    ],
  ];

  it.each(cases)('%s gives one clear error and no checkpoint', async (_name, args, message) => {
    const r = await runCli(['train', '--preset', 'tiny', '--out', out, ...(await args())]);
    expect(r.code).not.toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(await exists(path.join(out, 'checkpoints'))).toBe(false);
  });
});

describe('peerstyle train: runs', () => {
  it('stops on SIGTERM with a checkpoint and exit code 0', async () => {
    const data = await dataset();
    const out = await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-sigterm-'));
    const { child, done } = startCli([
      'train',
      '--preset',
      'tiny',
      '--data',
      data,
      '--out',
      out,
      '--logEvery=1',
      '--checkpointEvery=1000',
    ]);
    await new Promise<void>((resolve) => {
      child.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('METRIC step=')) resolve();
      });
    });
    const sent = Date.now();
    child.kill('SIGTERM');
    const r = await done;
    expect(Date.now() - sent).toBeLessThan(30_000);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/# stopped at iteration \d+/);
    // tiny is far below the size where the wasm thread pool pays off, so it trains on one thread.
    expect(r.stdout).toMatch(/^# backend=wasm conv=onnxruntime threads=1 /m);
    const latest = (await fs.readFile(path.join(out, 'checkpoints', 'latest'), 'utf8')).trim();
    expect(await exists(path.join(out, 'checkpoints', latest, 'tensors.bin'))).toBe(true);
  });

  it('follows the SageMaker container layout', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-optml-'));
    await fs.mkdir(path.join(root, 'input', 'config'), { recursive: true });
    await fs.mkdir(path.join(root, 'input', 'data'), { recursive: true });
    await fs.rename(await dataset(), path.join(root, 'input', 'data', 'training'));
    await fs.writeFile(
      path.join(root, 'input', 'config', 'hyperparameters.json'),
      JSON.stringify({
        preset: 'tiny',
        steps: '4',
        backend: 'wasm',
        threads: '2',
        logEvery: '2',
        checkpointEvery: '1',
        'keep-every': '2',
        // The platform names the package so; a name that looks like options stays a name.
        'model-name': '--verify --name',
      }),
    );
    const r = await runCli(['train', '--sagemaker', '--opt-ml', root]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^METRIC step=4 .*loss_idt=/m);
    // The threads hyperparameter reaches the wasm backend, and its pool does not keep the process alive.
    expect(r.stdout).toMatch(/^# backend=wasm conv=onnxruntime threads=2 /m);
    expect(JSON.parse(await fs.readFile(path.join(root, 'model', 'weights.json'), 'utf8')).iteration).toBe(4);
    expect(await exists(path.join(root, 'checkpoints', 'latest'))).toBe(true);
    // keep-every 2 keeps checkpoint 2 besides the last two; checkpoint 1 is pruned.
    const kept = (await fs.readdir(path.join(root, 'checkpoints'))).filter((n) => n.startsWith('ckpt-')).sort();
    expect(kept).toEqual(['ckpt-00000002', 'ckpt-00000003', 'ckpt-00000004']);
    // The completed run leaves an ONNX package beside the weights, which SageMaker uploads as model.tar.gz.
    const manifest = JSON.parse(await fs.readFile(path.join(root, 'model', 'manifest.json'), 'utf8'));
    expect(manifest.preset).toBe('tiny');
    expect(manifest.name).toBe('--verify --name');
    for (const graph of ['encoder.onnx', 'tpfr.onnx', 'decoder.onnx']) {
      expect((await fs.stat(path.join(root, 'model', graph))).size).toBeGreaterThan(1000);
    }
    expect(r.stdout).toMatch(/^# exported model package /m);
  });

  it('writes the failure reason under the SageMaker layout', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-optml-bad-'));
    await fs.mkdir(path.join(root, 'input', 'config'), { recursive: true });
    await fs.writeFile(
      path.join(root, 'input', 'config', 'hyperparameters.json'),
      JSON.stringify({ preset: 'tiny', knn: '0' }),
    );
    const r = await runCli(['train', '--sagemaker', '--opt-ml', root]);
    expect(r.code).toBe(1);
    expect(await fs.readFile(path.join(root, 'output', 'failure'), 'utf8')).toMatch(
      /No input channels|knn must be between/,
    );
  });
});

describe('peerstyle train: settings from the environment', () => {
  let out: string;
  beforeEach(async () => {
    out = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-cli-env-')), 'run');
  });

  it('takes PEERSTYLE_THREADS when no --threads is given, naming it in the error', async () => {
    const args = ['train', '--preset', 'tiny', '--out', out, '--data', await dataset()];
    const r = await runCli(args, { PEERSTYLE_THREADS: 'many' });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('peerstyle train: PEERSTYLE_THREADS must be an integer from 1 to 8, got "many".');
    // The flag wins: the variable is not even looked at, and the run gets as far as the next problem.
    const flagged = await runCli([...args, '--threads', '1', '--knn=0'], { PEERSTYLE_THREADS: 'many' });
    expect(flagged.stderr).toMatch(/knn must be between 1 and 64, got 0\./);
    expect(flagged.stderr).not.toMatch(/PEERSTYLE_THREADS/);
  });

  it('takes PEERSTYLE_BACKEND when no --backend is given, naming it in the error', async () => {
    const r = await runCli(['train', '--preset', 'tiny', '--out', out, '--data', await dataset()], {
      PEERSTYLE_BACKEND: 'tpu',
    });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'peerstyle train: Unknown backend "tpu" (from PEERSTYLE_BACKEND). Expected one of: gpu, tensorflow, node, wasm, cpu.',
    );
  });

  it('runs under the SageMaker layout at PEERSTYLE_OPT_ML when no --data is given', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-optml-env-'));
    await fs.mkdir(path.join(root, 'input', 'config'), { recursive: true });
    await fs.writeFile(
      path.join(root, 'input', 'config', 'hyperparameters.json'),
      JSON.stringify({ preset: 'tiny', knn: '0' }),
    );
    const r = await runCli(['train'], { PEERSTYLE_OPT_ML: root });
    expect(r.code).toBe(1);
    expect(await fs.readFile(path.join(root, 'output', 'failure'), 'utf8')).toMatch(
      /No input channels|knn must be between/,
    );
    // Without it, `train` alone is a usage error.
    const plain = await runCli(['train']);
    expect(plain.code).toBe(2);
    expect(plain.stderr.trim()).toBe('peerstyle train: --data <dir> is required.');
  });

  it('prints the stack trace of a failure after its message when PEERSTYLE_DEBUG is set', async () => {
    const args = ['train', '--out', out, '--data', await dataset(), '--threads', '9'];
    const debug = await runCli(args, { PEERSTYLE_DEBUG: '1' });
    const lines = debug.stderr.trim().split('\n');
    expect(lines[0]).toBe('peerstyle train: --threads must be an integer from 1 to 8, got "9".');
    expect(lines[1]).toMatch(/UsageError: --threads must be/);
    expect(lines.slice(2).some((line) => /^\s+at /.test(line))).toBe(true);
    // Blank counts as unset.
    const quiet = await runCli(args, { PEERSTYLE_DEBUG: '' });
    expect(quiet.stderr.trim().split('\n')).toHaveLength(1);
  });
});
