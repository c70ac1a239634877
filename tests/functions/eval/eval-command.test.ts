/**
 * `peerstyle eval` as a user runs it: the real command in a child process. Bad input is refused with
 * one clear line before any image is read or any model loaded.
 */
import path from 'node:path';
import { runCli } from '../../support/run-cli';
import { FIXTURES, SAMPLE } from './images';

describe('peerstyle eval: bad input', () => {
  const style = path.join(SAMPLE, 'style');
  const cases: [string, string[], RegExp][] = [
    [
      'a missing content folder',
      ['--content', '/nonexistent/peerstyle-photos', '--style', style, '--out', '/tmp/x'],
      /^peerstyle eval: --content folder \/nonexistent\/peerstyle-photos does not exist\.$/,
    ],
    [
      'a missing style folder',
      ['--content', FIXTURES, '--style', '/nonexistent/peerstyle-paintings', '--out', '/tmp/x'],
      /--style folder \/nonexistent\/peerstyle-paintings does not exist\./,
    ],
    [
      'a missing model folder',
      ['--content', FIXTURES, '--style', style, '--out', '/tmp/x', '--model', '/nonexistent/peerstyle-model'],
      /--model folder \/nonexistent\/peerstyle-model does not exist\./,
    ],
    [
      'a bad limit',
      ['--content', FIXTURES, '--style', style, '--out', '/tmp/x', '--limit', '0'],
      /--limit must be a positive integer, got "0"\./,
    ],
    ['no --out', ['--content', FIXTURES, '--style', style], /--out <dir> is required\./],
    [
      'an unknown structure',
      ['--content', FIXTURES, '--style', style, '--out', '/tmp/x', '--structure', 'both'],
      /--structure must be keep or transfer, got "both"\./,
    ],
    [
      'a size below the engine’s 16 px',
      ['--content', FIXTURES, '--style', style, '--out', '/tmp/x', '--size', '8'],
      /--size must be at least 16 px, got 8\./,
    ],
    [
      'a size that is not a whole number',
      ['--content', FIXTURES, '--style', style, '--out', '/tmp/x', '--size', '256px'],
      /--size must be a positive integer, got "256px"\./,
    ],
    [
      'a style size outside the API’s range',
      ['--content', FIXTURES, '--style', style, '--out', '/tmp/x', '--style-size', '32'],
      /--style-size must be a whole number of pixels in 64\.\.2048, got "32"\./,
    ],
    [
      'a render scale outside the API’s range',
      ['--content', FIXTURES, '--style', style, '--out', '/tmp/x', '--render-scale', '0.5'],
      /--render-scale must be a number in 1\.\.4, got "0\.5"\./,
    ],
    [
      'a contact-sheet cell too small to see',
      ['--content', FIXTURES, '--style', style, '--out', '/tmp/x', '--sheet-cell', '10'],
      /--sheet-cell must be between 64 and 1024 px, got 10\./,
    ],
  ];

  it.each(cases)('%s gives one clear error and exit code 2', async (_name, args, message) => {
    const r = await runCli(['eval', ...args]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('lists its options with --help', async () => {
    const r = await runCli(['eval', '--help']);
    expect(r.code).toBe(0);
    for (const flag of [
      '--content',
      '--style',
      '--out',
      '--model',
      '--limit',
      '--seed',
      '--structure',
      '--size',
      '--style-size',
      '--sheet-cell',
    ])
      expect(r.stdout).toContain(flag);
  });
});
