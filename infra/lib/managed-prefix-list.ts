/**
 * The id of an AWS-managed prefix list (the address ranges of a regional service such as S3 or
 * DynamoDB), so that a security group can allow egress to that service and nowhere else.
 *
 * CloudFormation exposes no attribute with these ids and `PrefixList.fromLookup` needs credentials
 * at synthesis, which would break the offline `cdk synth`; so the id is read at deploy time with one
 * EC2 DescribeManagedPrefixLists call in a custom resource.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource } from './nag';

/** Props for {@link ManagedPrefixList}. */
export interface ManagedPrefixListProps {
  /** The service's endpoint name after the region, e.g. `s3` or `dynamodb`. */
  readonly service: string;
}

/** Looks up `com.amazonaws.<region>.<service>` at deploy time. */
export class ManagedPrefixList extends Construct {
  /** The prefix list id (`pl-…`), resolved at deploy time. */
  public readonly prefixListId: string;

  constructor(scope: Construct, id: string, props: ManagedPrefixListProps) {
    super(scope, id);
    const name = `com.amazonaws.${Stack.of(this).region}.${props.service}`;
    const call: cr.AwsSdkCall = {
      service: 'EC2',
      action: 'describeManagedPrefixLists',
      parameters: { Filters: [{ Name: 'prefix-list-name', Values: [name] }] },
      physicalResourceId: cr.PhysicalResourceId.of(name),
      outputPaths: ['PrefixLists.0.PrefixListId'],
    };
    const lookup = new cr.AwsCustomResource(this, 'Lookup', {
      onCreate: call,
      onUpdate: call,
      // DescribeManagedPrefixLists supports no resource-level permissions.
      policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: cr.AwsCustomResourcePolicy.ANY_RESOURCE }),
      installLatestAwsSdk: false,
    });
    this.prefixListId = lookup.getResponseField('PrefixLists.0.PrefixListId');
    acknowledgeWildcardResource(
      lookup,
      '*',
      'ec2:DescribeManagedPrefixLists supports no resource-level permissions; the call only reads public prefix list ids, at deploy time.',
    );
    // AwsCustomResource runs one CDK-provided singleton function at the stack root, with its own role.
    const provider = Stack.of(this).node.tryFindChild(PROVIDER_ID);
    if (provider !== undefined) {
      Validations.of(provider).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          'The role of the CDK-provided AwsCustomResource function, which runs only during deployment; CDK creates it with this policy for its logs.',
      });
    }
  }
}

/** The id CDK gives the AwsCustomResource singleton function (fixed in aws-cdk-lib). */
const PROVIDER_ID = 'AWS679f53fac002430cb0da5b7982bd2287';
