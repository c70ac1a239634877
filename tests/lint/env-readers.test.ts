/**
 * The rule in eslint.config.js that keeps `process.env` in the configuration modules: code placed at a
 * given path is linted as if it sat there, and each refusal has a permitted counterpart beside it (so a
 * rule that refuses everything, or nothing, fails).
 */
import path from 'node:path';
import { ESLint } from 'eslint';
import { only } from '../support/checked';

const root = path.join(__dirname, '..', '..');
// Loaded here rather than by ESLint, whose loader uses a dynamic import that jest's sandbox refuses.
const eslint = new ESLint({ cwd: root, overrideConfigFile: true, overrideConfig: require('../../eslint.config.js') });

/** The messages of the `process.env` rule for `code` placed at `file` (relative to the repo). */
async function envMessages(file: string, code: string): Promise<string[]> {
  const result = only(await eslint.lintText(code, { filePath: path.join(root, file) }));
  return result.messages.filter((m) => m.ruleId === 'no-restricted-properties').map((m) => m.message);
}

const READ = 'export const port = process.env.PEERSTYLE_PORT;\n';
const MESSAGE = /'process\.env' is restricted.*Only the configuration modules \(functions\/config\.ts, /;

describe('process.env outside the configuration modules', () => {
  const refused: { where: string; file: string; code: string }[] = [
    { where: 'the AWS composition root', file: 'functions/wiring/example.ts', code: READ },
    {
      where: 'a CLI command, handing it on',
      file: 'functions/cli/commands/example.ts',
      code: 'declare function run(env: NodeJS.ProcessEnv): void;\nrun(process.env);\n',
    },
    {
      where: 'the trainer, destructured',
      file: 'trainer/example.ts',
      code: 'const { env } = process;\nexport const threads = env.PEERSTYLE_THREADS;\n',
    },
    {
      where: 'an infra construct, by a computed key',
      file: 'infra/lib/example.ts',
      code: "export const account = process['env'].CDK_DEFAULT_ACCOUNT;\n",
    },
  ];

  it.each(refused)('is refused in $where', async ({ file, code }) => {
    expect(await envMessages(file, code)).toEqual([expect.stringMatching(MESSAGE)]);
  });

  it('is not needed there: an environment taken as a parameter passes', async () => {
    const code = 'export const region = (env: NodeJS.ProcessEnv) => env.AWS_REGION;\n';
    expect(await envMessages('functions/wiring/example.ts', code)).toEqual([]);
  });
});

describe('process.env in a configuration module', () => {
  it.each([
    'functions/config.ts',
    'functions/handlers/support/handler-env.ts',
    'trainer/trainer-env.ts',
    'infra/app.ts',
  ])('is permitted in %s', async (file) => {
    expect(await envMessages(file, READ)).toEqual([]);
  });

  it('is permitted in tests, which set up the environments they run code in, also where they mirror functions/', async () => {
    expect(await envMessages('tests/functions/local/example.test.ts', READ)).toEqual([]);
  });
});
