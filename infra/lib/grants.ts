/**
 * Least-privilege grants on the platform's data: S3 objects under one key
 * prefix and DynamoDB items, with exact action names.
 *
 * The Bucket.grant* helpers hand out action patterns such as `s3:GetObject*`
 * and `s3:List*`; on buckets that hold user data we want every permission to
 * be spelled out, so a reviewer can read a policy and know what it allows.
 * The wildcard that remains (the object keys under a prefix, the indexes of a
 * table) is acknowledged to cdk-nag here, once, next to the grant.
 */
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource } from './nag';

/**
 * Which operations a grantee may perform under a prefix. `readPut` is `readWrite` without multipart
 * aborts, for a grantee that writes only whole objects (a signed POST form, a CopyObject).
 */
export type ObjectAccess = 'read' | 'write' | 'readWrite' | 'readPut';

const READ_ACTIONS = ['s3:GetObject'];
const WRITE_ACTIONS = ['s3:PutObject', 's3:AbortMultipartUpload'];
const ACTIONS: Record<ObjectAccess, string[]> = {
  read: READ_ACTIONS,
  write: WRITE_ACTIONS,
  readWrite: [...READ_ACTIONS, ...WRITE_ACTIONS],
  readPut: [...READ_ACTIONS, 's3:PutObject'],
};

/**
 * Lets `grantee` read and/or write objects whose keys start with `prefix`,
 * and list only that part of the bucket.
 *
 * @param prefix a key prefix ending in `/`, or `''` for the whole bucket
 */
export function grantObjects(grantee: iam.IGrantable, bucket: s3.IBucket, prefix: string, access: ObjectAccess): void {
  const actions = ACTIONS[access];
  const objects = bucket.arnForObjects(`${prefix}*`);
  grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources: [objects] }));
  acknowledgeOnPrincipal(
    grantee,
    objects,
    `Object keys are chosen at run time (job ids, user ids), so access is granted to every key under the ${prefix || 'bucket root'} prefix and nothing outside it.`,
  );
  if (access !== 'write') {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        ...(prefix === '' ? {} : { conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } } }),
      }),
    );
  }
}

/**
 * Lets `grantee` perform exactly `actions` on the items of `table` (and of its
 * indexes, where those actions apply to indexes).
 */
export function grantItems(grantee: iam.IGrantable, table: dynamodb.ITable, ...actions: string[]): void {
  table.grant(grantee, ...actions);
  acknowledgeOnPrincipal(
    grantee,
    `${table.tableArn}/index/*`,
    'The table grant extends to its global secondary indexes so that queries on them are allowed; the indexes belong to this table only.',
  );
}

/** Acknowledges a wildcard resource on the role that received the grant. */
function acknowledgeOnPrincipal(grantee: iam.IGrantable, resource: string, reason: string): void {
  const principal = grantee.grantPrincipal;
  if (Construct.isConstruct(principal)) acknowledgeWildcardResource(principal, resource, reason);
}
