/**
 * The public surface of the AWS adapters: S3, DynamoDB and SQS implementations of the core ports (and one
 * blob store routing keys across buckets), the launchers for AWS Batch and SageMaker, the API Gateway
 * WebSocket publisher, the job events of the table stream, and the client factories they are built
 * from. The composition root (functions/wiring/aws.ts) imports from here and nowhere deeper.
 */

export * from './aws-client-config';
export * from './aws-errors';
export * from './s3-client';
export * from './dynamodb-client';
export * from './sqs-client';
export * from './s3-blob-store';
export * from './routed-blob-store';
export * from './dynamo-job-store';
export * from './sqs-job-queue';
export * from './batch-stylize-launcher';
export * from './sagemaker-training-launcher';
export * from './lambda-training-starter';
export * from './s3-dataset-stager';
export * from './websocket-publisher';
export * from './stream-job-events';
export * from './dynamo-api-key-store';
export * from './dynamo-request-limiter';
export * from './dynamo-style-store';
export * from './dynamo-model-registry';
export * from './dynamo-connection-store';
