/**
 * Builds the Peerstyle stack for template assertions, without Docker and
 * without the Lambda handler sources.
 *
 * Bundling is switched off with the `aws:cdk:bundling-stacks` context (an
 * empty list: no stack needs bundling), so esbuild never runs. NodejsFunction
 * still requires each entry file to exist, so the app is pointed (through the
 * `peerstyle:sourceRoot` context) at a scratch directory holding an empty stub
 * for every handler in HANDLER_ENTRIES and an empty lock file. Docker image
 * assets are only fingerprinted at synthesis, never built.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { REPOSITORY_ROOT, SOURCE_ROOT_CONTEXT } from '../../../infra/lib/handler-function';
import { HANDLER_ENTRIES } from '../../../infra/lib/handlers';
import { PeerstyleStack, type PeerstyleStackProps } from '../../../infra/lib/peerstyle-stack';

/** A synthesized stack and its template. */
export interface Synthesized {
  readonly app: App;
  readonly stack: PeerstyleStack;
  readonly template: Template;
}

/** Creates a directory with a stub file for each handler entry; returns its path. */
export function makeStubSourceRoot(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'peerstyle-infra-'));
  fs.writeFileSync(path.join(root, 'package-lock.json'), '{"lockfileVersion":3}\n');
  for (const entry of Object.values(HANDLER_ENTRIES)) {
    fs.mkdirSync(path.join(root, path.dirname(entry)), { recursive: true });
    fs.writeFileSync(path.join(root, entry), 'export const handler = async () => undefined;\n');
  }
  return root;
}

/** The feature flags in cdk.json, so tests synthesize as `cdk synth` does. */
function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(REPOSITORY_ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

/** An App configured for offline, Docker-free synthesis in tests. */
export function makeTestApp(): App {
  return new App({
    context: {
      ...cdkJsonContext(),
      'aws:cdk:bundling-stacks': [],
      [SOURCE_ROOT_CONTEXT]: makeStubSourceRoot(),
    },
  });
}

/** Builds the stack in a test app and captures its template. */
export function synthesizeStack(props: PeerstyleStackProps = {}): Synthesized {
  const app = makeTestApp();
  const stack = new PeerstyleStack(app, 'PeerstyleTest', {
    env: { account: '123456789012', region: 'eu-west-1' },
    allowedOrigins: ['https://app.example.com'],
    ...props,
  });
  return { app, stack, template: Template.fromStack(stack) };
}

/** The logical id CloudFormation will use for a construct's main resource. */
export function logicalIdOf(construct: IConstruct): string {
  const resource = construct.node.defaultChild ?? construct;
  if (!(resource instanceof CfnElement)) throw new Error(`${construct.node.path} has no CloudFormation resource`);
  return Stack.of(resource).getLogicalId(resource);
}

/** A CloudFormation resource as it appears in the template. */
export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

/** One IAM policy statement, with Action and Resource normalised to arrays. */
export interface PolicyStatementJson {
  readonly policyLogicalId: string;
  readonly roles: unknown;
  readonly Effect: string;
  readonly Action: string[];
  readonly Resource: unknown[];
  readonly Condition?: unknown;
}

/** Every statement of every AWS::IAM::Policy in the template. */
export function policyStatements(template: Template): PolicyStatementJson[] {
  const policies = template.findResources('AWS::IAM::Policy') as Record<string, TemplateResource>;
  return Object.entries(policies).flatMap(([policyLogicalId, policy]) => {
    const props = policy.Properties as { PolicyDocument: { Statement: Record<string, unknown>[] }; Roles: unknown };
    return props.PolicyDocument.Statement.map((statement) => ({
      policyLogicalId,
      roles: props.Roles,
      Effect: statement.Effect as string,
      Action: ([] as string[]).concat(statement.Action as string | string[]),
      Resource: ([] as unknown[]).concat(statement.Resource as unknown),
      Condition: statement.Condition,
    }));
  });
}

/** The statements of the default policy attached to `role`. */
export function statementsOfRole(template: Template, roleLogicalId: string): PolicyStatementJson[] {
  return policyStatements(template).filter((statement) =>
    JSON.stringify(statement.roles).includes(`"${roleLogicalId}"`),
  );
}
