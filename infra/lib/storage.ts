/**
 * The platform's S3 buckets: uploads (including the drop folder), results,
 * models and datasets, plus a bucket that receives their server access logs.
 *
 * Inputs and outputs live in separate buckets so that nothing written by a
 * worker can ever land where the drop-folder notification watches. Every
 * bucket blocks public access, encrypts at rest, refuses plain HTTP and TLS
 * below 1.2, disables ACLs, and cleans up abandoned multipart uploads.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { BLOB_PREFIXES } from '../../functions/core/blob-prefixes';

/** Props for {@link Storage}. */
export interface StorageProps {
  /**
   * Days an uploaded input is kept before it is deleted.
   * @default 7
   */
  readonly uploadRetentionDays?: number;
  /**
   * Days a stylized result is kept before it is deleted.
   * @default 30
   */
  readonly resultRetentionDays?: number;
  /**
   * Days a replaced (non-current) model version is kept.
   * @default 90
   */
  readonly noncurrentModelRetentionDays?: number;
  /**
   * Days server access logs are kept.
   * @default 90
   */
  readonly accessLogRetentionDays?: number;
  /**
   * Browser origins allowed to upload with a presigned POST.
   * @default - none; uploads from browsers are refused by CORS
   */
  readonly allowedOrigins?: readonly string[];
}

/** The platform's buckets. */
export class Storage extends Construct {
  /** Uploaded inputs; objects under `drop/` start stylize jobs. */
  public readonly uploadsBucket: s3.Bucket;
  /** Stylized outputs under `out/`; deliberately has no notifications. */
  public readonly resultsBucket: s3.Bucket;
  /** ONNX model packages, training checkpoints and SageMaker output; versioned. */
  public readonly modelsBucket: s3.Bucket;
  /** Training image sets. */
  public readonly datasetsBucket: s3.Bucket;
  /** Receives the server access logs of the four buckets above. */
  public readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: StorageProps = {}) {
    super(scope, id);
    const abortUploads: s3.LifecycleRule = {
      id: 'abort-incomplete-multipart-uploads',
      abortIncompleteMultipartUploadAfter: Duration.days(1),
    };

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      ...secureDefaults(),
      lifecycleRules: [{ id: 'expire-logs', expiration: Duration.days(props.accessLogRetentionDays ?? 90) }],
    });
    Validations.of(this.accessLogsBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This bucket is the destination of the other buckets\u2019 access logs; logging it into itself would log its own log deliveries without end.',
    });

    const logged = (name: string): Partial<s3.BucketProps> => ({
      ...secureDefaults(),
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: `${name}/`,
    });

    const origins = props.allowedOrigins ?? [];
    this.uploadsBucket = new s3.Bucket(this, 'Uploads', {
      ...logged('uploads'),
      lifecycleRules: [
        abortUploads,
        {
          id: 'expire-dropped-inputs',
          prefix: BLOB_PREFIXES.drop,
          expiration: Duration.days(props.uploadRetentionDays ?? 7),
        },
        {
          // API uploads are inputs too: once a job has read them, or a training run has copied them to
          // the datasets bucket, nothing refers to them, so they age out like dropped files.
          id: 'expire-api-uploads',
          prefix: BLOB_PREFIXES.uploads,
          expiration: Duration.days(props.uploadRetentionDays ?? 7),
        },
        {
          // Copies of a job's uploads, taken at submission; the job has long run by then.
          // Registered styles (saved-styles/) have no rule: a saved style is kept until deleted.
          id: 'expire-job-inputs',
          prefix: BLOB_PREFIXES.jobInputs,
          expiration: Duration.days(props.uploadRetentionDays ?? 7),
        },
        {
          id: 'expire-rejected-inputs',
          prefix: BLOB_PREFIXES.rejected,
          expiration: Duration.days(props.uploadRetentionDays ?? 7),
        },
      ],
      // Browsers upload straight to S3 with a presigned POST, so the bucket
      // (not the API) must answer their CORS preflight.
      cors:
        origins.length === 0
          ? undefined
          : [
              {
                allowedOrigins: [...origins],
                allowedMethods: [s3.HttpMethods.POST],
                allowedHeaders: ['*'],
                maxAge: 3600,
              },
            ],
    });

    this.resultsBucket = new s3.Bucket(this, 'Results', {
      ...logged('results'),
      lifecycleRules: [
        abortUploads,
        {
          id: 'expire-results',
          prefix: BLOB_PREFIXES.out,
          expiration: Duration.days(props.resultRetentionDays ?? 30),
        },
      ],
    });

    this.modelsBucket = new s3.Bucket(this, 'Models', {
      ...logged('models'),
      // A model version that a user's style points at must survive an
      // accidental overwrite or delete.
      versioned: true,
      lifecycleRules: [
        abortUploads,
        {
          id: 'expire-replaced-versions',
          noncurrentVersionExpiration: Duration.days(props.noncurrentModelRetentionDays ?? 90),
        },
      ],
    });

    this.datasetsBucket = new s3.Bucket(this, 'Datasets', {
      ...logged('datasets'),
      lifecycleRules: [abortUploads],
    });
  }
}

/** Settings every bucket shares. */
function secureDefaults(): Pick<
  s3.BucketProps,
  'blockPublicAccess' | 'encryption' | 'enforceSSL' | 'minimumTLSVersion' | 'objectOwnership' | 'removalPolicy'
> {
  return {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    // User data and trained models outlive a stack deletion.
    removalPolicy: RemovalPolicy.RETAIN,
  };
}
