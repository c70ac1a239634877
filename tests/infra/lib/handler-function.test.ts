/**
 * HandlerFunction and the handler table: every function runs a file under
 * functions/handlers/ on Node 24, writes to its own log group with a
 * retention period, and starts with a role that may only write those logs.
 */
import path from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { HANDLER_ENTRIES } from '../../../infra/lib/handlers';
import { logicalIdOf, statementsOfRole, synthesizeStack, type TemplateResource } from '../support/synth';
import { defined } from '../../support/checked';

describe('handler table', () => {
  it('lists the twelve handlers, each a TypeScript file under functions/handlers/', () => {
    const entries = Object.values(HANDLER_ENTRIES);
    expect(entries).toHaveLength(12);
    for (const entry of entries) expect(entry).toMatch(/^functions\/handlers\/[a-z-]+\.ts$/);
    expect(new Set(entries).size).toBe(entries.length);
  });

  it('exports from each entry an async handler of (event, context), which nodejs24.x requires', async () => {
    // The Node.js 24 runtime runs promise-returning handlers only; a handler with a third (callback)
    // parameter is refused at invocation. Importing an entry does no work (the handlers build their
    // clients on first use), so this checks the real modules.
    for (const entry of Object.values(HANDLER_ENTRIES)) {
      const { handler } = (await import(path.join(__dirname, '..', '..', '..', entry))) as { handler: unknown };
      expect([entry, typeof handler]).toEqual([entry, 'function']);
      const fn = handler as (...args: unknown[]) => unknown;
      expect([entry, fn.length <= 2, fn.constructor.name]).toEqual([entry, true, 'AsyncFunction']);
    }
  });
});

describe('HandlerFunction', () => {
  let template: Template;
  let functions: Record<string, TemplateResource>;
  let intake: { fn: string; role: string; logs: string };

  beforeAll(() => {
    const synth = synthesizeStack();
    template = synth.template;
    functions = template.findResources('AWS::Lambda::Function', {
      Properties: { Runtime: Match.stringLikeRegexp('^nodejs') },
    }) as Record<string, TemplateResource>;
    const handler = synth.stack.dropFolder.intakeFunction;
    intake = {
      fn: logicalIdOf(handler.function),
      role: logicalIdOf(handler.role),
      logs: logicalIdOf(handler.logGroup),
    };
  });

  it('creates one Node 24 ARM function per handler entry', () => {
    const ours = Object.values(functions).filter((fn) => fn.Properties?.Architectures !== undefined);
    expect(ours).toHaveLength(Object.keys(HANDLER_ENTRIES).length);
    for (const fn of ours) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
      });
    }
  });

  it('logs to a dedicated log group with a retention period', () => {
    const fn = defined(functions[intake.fn], 'the intake function');
    expect(fn.Properties?.LoggingConfig).toEqual({ LogGroup: { Ref: intake.logs } });
    const group = template.toJSON().Resources[intake.logs] as TemplateResource;
    expect(group.Properties?.RetentionInDays).toBe(30);
  });

  it('uses a role without managed policies whose log permission covers only its own group', () => {
    const role = template.toJSON().Resources[intake.role] as TemplateResource;
    expect(role.Properties?.ManagedPolicyArns).toBeUndefined();
    const logStatements = statementsOfRole(template, intake.role).filter((s) =>
      s.Action.some((a) => a.startsWith('logs:')),
    );
    expect(logStatements).toHaveLength(1);
    expect(logStatements[0]?.Resource).toEqual([{ 'Fn::GetAtt': [intake.logs, 'Arn'] }]);
  });
});
