/**
 * cdk-nag AwsSolutions checks for the app, and the helper that acknowledges a
 * wildcard IAM resource next to the grant that creates it.
 *
 * cdk-nag 3 runs as a CDK policy-validation plugin: findings are reported at
 * the end of synthesis (and in policy-validation-report.json), and each one is
 * either fixed or acknowledged on the construct it concerns with
 * `Validations.of(construct).acknowledge({ id, reason })`. A wildcard-resource
 * finding's id embeds the resource as cdk-nag prints it, which depends on
 * logical ids and on whether the stack's account and region are known; so the
 * id is computed from the same token the policy uses, with cdk-nag's own
 * formatter, instead of being written out by hand.
 */
import { type App, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
// Not re-exported from the package index; it is the formatter cdk-nag uses
// for finding ids, so ids built with it match the findings exactly.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import type { IConstruct } from 'constructs';

/** Registers the AwsSolutions pack on `app`, and returns it for direct use in tests. */
export function enableAwsSolutionsChecks(app: App): AwsSolutionsChecks {
  const checks = new AwsSolutionsChecks(app, { verbose: true });
  Validations.of(app).addPlugins(checks);
  return checks;
}

/**
 * Acknowledges the AwsSolutions-IAM5 finding for one wildcard resource in the
 * policies at or below `scope`.
 *
 * @param resource the resource exactly as granted (a string that may contain tokens)
 * @param reason why the wildcard cannot be narrowed further
 */
export function acknowledgeWildcardResource(scope: IConstruct, resource: string, reason: string): void {
  const printed = flattenCfnReference(Stack.of(scope).resolve(resource));
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${printed}]`, reason });
}
