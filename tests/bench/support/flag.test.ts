/**
 * The benchmarks' `--name value` reader: the value after the flag, the fallback without the flag, and an
 * error naming the flag when it comes last with no value (the scripts used to run on with `undefined`).
 */
import { flag } from '../../../bench/support/flag';

const argv = ['node', 'bench.ts', '--size', '1024', '--threads'];

describe('bench flag', () => {
  it('reads the value after the flag', () => {
    expect(flag('size', '512', argv)).toBe('1024');
  });

  it('falls back when the flag is absent', () => {
    expect(flag('reps', '3', argv)).toBe('3');
  });

  it('refuses a flag given last without its value', () => {
    expect(() => flag('threads', '2', argv)).toThrow('--threads needs a value.');
  });
});
