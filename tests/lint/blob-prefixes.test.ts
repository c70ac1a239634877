/**
 * The rule in eslint.config.js that keeps blob key prefixes in functions/core/blob-prefixes.ts: a
 * copy of one, placed at a given path, is refused, and the same key built from the table beside it is
 * accepted (so a rule that refuses everything, or nothing, fails). Every value of the table is tried,
 * so a prefix added to the table but not to the config's list fails here.
 */
import path from 'node:path';
import { ESLint } from 'eslint';
import { BLOB_PREFIXES } from '../../functions/core';
import { only } from '../support/checked';

const root = path.join(__dirname, '..', '..');
// Loaded here rather than by ESLint, whose loader uses a dynamic import that jest's sandbox refuses.
const eslint = new ESLint({ cwd: root, overrideConfigFile: true, overrideConfig: require('../../eslint.config.js') });

/** The messages of the prefix rule for `code` placed at `file` (relative to the repo). */
async function prefixMessages(file: string, code: string): Promise<string[]> {
  const result = only(await eslint.lintText(code, { filePath: path.join(root, file) }));
  return result.messages.filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => m.message);
}

const MESSAGE = /spelled only in functions\/core\/blob-prefixes\.ts: build the key from BLOB_PREFIXES/;
const HANDLER = 'functions/handlers/events/example.ts';
const USE_CASE = 'functions/core/use-cases/example.ts';

describe('a blob key prefix spelled outside its table', () => {
  const refused: { what: string; file: string; code: string }[] = [
    {
      what: 'a string in a handler',
      file: HANDLER,
      code: "export const dropped = (key: string) => key.startsWith('drop/');\n",
    },
    {
      what: 'a template in a use case',
      file: USE_CASE,
      code: 'export const area = (owner: string) => `uploads/${owner}/`;\n',
    },
    {
      what: 'an S3 URI in an AWS adapter',
      file: 'functions/adapters/aws/example.ts',
      code: 'export const uri = (bucket: string, job: string) => `s3://${bucket}/checkpoints/${job}/`;\n',
    },
    { what: 'a key root held in a constant', file: USE_CASE, code: "export const UPLOADS_ROOT = 'uploads';\n" },
    { what: 'a grant scope in infra', file: 'infra/lib/example.ts', code: "export const scope = 'out/';\n" },
  ];

  it.each(refused)('is refused: $what', async ({ file, code }) => {
    expect(await prefixMessages(file, code)).toEqual([expect.stringMatching(MESSAGE)]);
  });

  it.each(Object.entries(BLOB_PREFIXES))('is refused for every entry of the table: %s', async (_name, prefix) => {
    expect(await prefixMessages(HANDLER, `export const key = '${prefix}x';\n`)).toEqual([
      expect.stringMatching(MESSAGE),
    ]);
  });
});

describe('the same keys built from the table', () => {
  it.each([
    {
      file: HANDLER,
      code: "import { BLOB_PREFIXES } from '../../core';\nexport const dropped = (key: string) => key.startsWith(BLOB_PREFIXES.drop);\n",
    },
    {
      file: USE_CASE,
      code: "import { BLOB_PREFIXES } from '../blob-prefixes';\nexport const area = (owner: string) => `${BLOB_PREFIXES.uploads}${owner}/`;\n",
    },
  ])('are accepted in $file', async ({ file, code }) => {
    expect(await prefixMessages(file, code)).toEqual([]);
  });

  it('leave the bare words free where they are not keys: folder names, unions of table keys, tags', async () => {
    const code = [
      "import path from 'node:path';",
      "export const modelsDir = (root: string) => path.join(root, 'models', 'default');",
      "export type Routed = 'drop' | 'uploads' | 'out';",
      "export const outcome = { action: 'rejected' } as const;",
      '',
    ].join('\n');
    expect(await prefixMessages('functions/local/example.ts', code)).toEqual([]);
  });
});

describe('where the prefixes may be spelled', () => {
  const copies = "export const drop = 'drop/';\nexport const area = (owner: string) => `uploads/${owner}/`;\n";

  it('the table module itself', async () => {
    expect(await prefixMessages('functions/core/blob-prefixes.ts', copies)).toEqual([]);
  });

  it('tests, which state the keys they expect', async () => {
    expect(await prefixMessages('tests/functions/handlers/events/example.test.ts', copies)).toEqual([]);
  });
});
