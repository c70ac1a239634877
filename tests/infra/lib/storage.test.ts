/**
 * Storage: every bucket is private, encrypted, TLS-only and ACL-free; data
 * buckets log to the access-log bucket; models are versioned; uploads and
 * results expire by prefix; abandoned multipart uploads are cleaned up.
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { logicalIdOf, synthesizeStack, type TemplateResource } from '../support/synth';
import { defined } from '../../support/checked';

describe('Storage', () => {
  let template: Template;
  let ids: { uploads: string; results: string; models: string; datasets: string; logs: string };
  let buckets: Record<string, TemplateResource>;

  beforeAll(() => {
    const synth = synthesizeStack();
    template = synth.template;
    const storage = synth.stack.storage;
    ids = {
      uploads: logicalIdOf(storage.uploadsBucket),
      results: logicalIdOf(storage.resultsBucket),
      models: logicalIdOf(storage.modelsBucket),
      datasets: logicalIdOf(storage.datasetsBucket),
      logs: logicalIdOf(storage.accessLogsBucket),
    };
    buckets = template.findResources('AWS::S3::Bucket') as Record<string, TemplateResource>;
  });

  const dataBuckets = ['uploads', 'results', 'models', 'datasets'] as const;
  const bucket = (id: string): TemplateResource => defined(buckets[id], `bucket ${id}`);

  it('creates the four data buckets and the access-log bucket', () => {
    expect(Object.keys(buckets).sort()).toEqual(Object.values(ids).sort());
  });

  it('blocks public access, encrypts, and disables ACLs on every bucket', () => {
    for (const bucket of Object.values(buckets)) {
      expect(bucket.Properties).toMatchObject({
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      });
    }
  });

  it('denies plain-HTTP requests and TLS below 1.2 on every bucket', () => {
    for (const id of Object.values(ids)) {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: id },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 's3:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
            Match.objectLike({
              Effect: 'Deny',
              Action: 's3:*',
              Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
            }),
          ]),
        },
      });
    }
  });

  it('sends server access logs of each data bucket to the log bucket under its own prefix', () => {
    for (const name of dataBuckets) {
      expect(bucket(ids[name]).Properties?.LoggingConfiguration).toEqual({
        DestinationBucketName: { Ref: ids.logs },
        LogFilePrefix: `${name}/`,
      });
    }
  });

  it('versions the models bucket only', () => {
    const versioned = Object.entries(buckets)
      .filter(([, bucket]) => (bucket.Properties?.VersioningConfiguration as { Status?: string })?.Status === 'Enabled')
      .map(([id]) => id);
    expect(versioned).toEqual([ids.models]);
  });

  it('aborts incomplete multipart uploads after a day in every data bucket', () => {
    for (const name of dataBuckets) {
      const rules = (bucket(ids[name]).Properties?.LifecycleConfiguration as { Rules: object[] }).Rules;
      expect(rules).toContainEqual(
        expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
      );
    }
  });

  it('expires dropped inputs after 7 days and results after 30 days, by prefix', () => {
    const rulesOf = (id: string) => (bucket(id).Properties?.LifecycleConfiguration as { Rules: object[] }).Rules;
    expect(rulesOf(ids.uploads)).toContainEqual(expect.objectContaining({ Prefix: 'drop/', ExpirationInDays: 7 }));
    // Files sent through createUpload's presigned POST age out the same way.
    expect(rulesOf(ids.uploads)).toContainEqual(
      expect.objectContaining({ Prefix: 'uploads/', ExpirationInDays: 7, Status: 'Enabled' }),
    );
    expect(rulesOf(ids.results)).toContainEqual(expect.objectContaining({ Prefix: 'out/', ExpirationInDays: 30 }));
  });

  it('keeps saved styles for good and job inputs as long as uploads, and expires nothing bucket-wide', () => {
    const rules = (bucket(ids.uploads).Properties?.LifecycleConfiguration as { Rules: Record<string, unknown>[] })
      .Rules;
    expect(rules).toContainEqual(expect.objectContaining({ Prefix: 'job-inputs/', ExpirationInDays: 7 }));
    const expiring = rules.filter((rule) => rule.ExpirationInDays !== undefined);
    for (const rule of expiring) {
      expect(typeof rule.Prefix).toBe('string');
      expect('saved-styles/'.startsWith(rule.Prefix as string)).toBe(false);
    }
  });

  it('allows presigned POST uploads from the configured origins only', () => {
    expect(bucket(ids.uploads).Properties?.CorsConfiguration).toEqual({
      CorsRules: [expect.objectContaining({ AllowedOrigins: ['https://app.example.com'], AllowedMethods: ['POST'] })],
    });
    expect(bucket(ids.results).Properties?.CorsConfiguration).toBeUndefined();
  });
});
