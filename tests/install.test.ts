/**
 * Installing prints nothing a user cannot act on: every package in the lockfile accepts Node 20 (npm
 * warns EBADENGINE for each one that does not), the project's .npmrc holds only settings npm knows
 * (npm warns "Unknown project config" before every `npx` command otherwise), and onnxruntime-node's
 * install script, which downloads the CUDA provider, is not approved to run.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { at, defined } from './support/checked';

const ROOT = path.join(__dirname, '..');
const NODE_20 = process.versions.node.startsWith('20.') ? process.versions.node : '20.19.0';

type Version = [number, number, number];
const parse = (text: string): Version => {
  const [major = 0, minor = 0, patch = 0] = text.split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : 0));
  return [major, minor, patch];
};
const compare = (a: Version, b: Version): number => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/**
 * Whether an engines range admits `version`: enough of npm's range syntax for what lockfiles hold
 * (`>=x`, `>x`, `<x`, `<=x`, `^x`, `~x`, `x`, `x.x`, `*`, joined by spaces and `||`).
 */
export function admits(range: string, version: string): boolean {
  const v = parse(version);
  return range.split('||').some((alternative) =>
    alternative
      .trim()
      .replace(/([<>=^~]+)\s+/g, '$1')
      .split(/\s+/)
      .filter((c) => c !== '' && c !== '*' && c !== 'x')
      .every((comparator) => {
        const [, op = '', raw] = /^([<>=^~]*)v?(.+)$/.exec(comparator) ?? [];
        const version = defined(raw, `the version in "${comparator}"`);
        const bound = parse(version.replace(/\.?[x*]/g, ''));
        const parts = version.split('.').filter((p) => /^\d+$/.test(p)).length;
        switch (op) {
          case '>=':
            return compare(v, bound) >= 0;
          case '>':
            return compare(v, bound) > 0;
          case '<':
            return compare(v, bound) < 0;
          case '<=':
            return compare(v, bound) <= 0;
          case '^':
            return compare(v, bound) >= 0 && v[0] === bound[0];
          case '~':
            return compare(v, bound) >= 0 && v[0] === bound[0] && (parts < 2 || v[1] === bound[1]);
          default: // "20", "20.x", "20.9.0"
            return v[0] === bound[0] && (parts < 2 || v[1] === bound[1]) && (parts < 3 || v[2] === bound[2]);
        }
      }),
  );
}

describe('installing', () => {
  it('reads engines ranges as npm does for the forms lockfiles hold', () => {
    expect(admits('>=22.12.0', '20.20.2')).toBe(false);
    expect(admits('^20.17.0 || >=22.9.0', '20.20.2')).toBe(true);
    expect(admits('>= 18', '20.20.2')).toBe(true);
    expect(admits('>=16 <20', '20.20.2')).toBe(false);
    expect(admits('18 || 20 || >=22', '20.20.2')).toBe(true);
    expect(admits('*', '20.20.2')).toBe(true);
  });

  it(`installs only packages that accept Node ${NODE_20}`, () => {
    const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
    };
    const refusing = Object.entries(lock.packages)
      .filter(([, entry]) => {
        const node = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
        return node !== undefined && !admits(node, NODE_20);
      })
      .map(
        ([name, entry]) =>
          `${name.replace(/^.*node_modules\//, '')}@${entry.version} (node ${JSON.stringify(entry.engines)})`,
      );
    expect(refusing).toEqual([]);
  });

  it('keeps .npmrc to settings npm knows, and leaves the CUDA download out', () => {
    const npmrc = readFileSync(path.join(ROOT, '.npmrc'), 'utf8');
    const keys = npmrc
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#') && !line.startsWith(';'))
      .map((line) => at(line.split('='), 0).trim());
    expect(keys.filter((key) => !['fund', 'audit'].includes(key))).toEqual([]);
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      allowScripts: Record<string, boolean>;
      devDependencies: Record<string, string>;
    };
    expect(pkg.allowScripts['onnxruntime-node']).toBe(false);
  });
});
