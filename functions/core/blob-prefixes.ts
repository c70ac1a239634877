/**
 * The first segment of every blob key, named once: each kind of object the platform stores lives
 * under one of these prefixes.
 *
 * The use cases, the drop-folder intake, the stylize worker and the training launcher build and match
 * keys under them; on AWS each prefix also picks its bucket (wiring/aws.ts), and the CDK stack scopes
 * grants, lifecycle rules and the drop-folder notification by them. With one table, the key a use case
 * writes and the grant that lets it do so cannot drift apart. ESLint refuses a copy of any of them
 * spelled as a literal elsewhere in functions/ and infra/ (eslint.config.js lists them too; a lint test
 * checks that the two agree).
 */

/** Key prefixes, each ending in "/". */
export const BLOB_PREFIXES = {
  /** Uploads bucket: objects landing here start a stylize job. */
  drop: 'drop/',
  /**
   * Uploads bucket: files sent through `createUpload`'s presigned POST, `uploads/<owner>/[<group>/]<uuid>`.
   * Stylize inputs, style images for registerStyle and training image sets all come from here.
   */
  uploads: 'uploads/',
  /**
   * Uploads bucket: copies of uploads saved as styles by `registerStyle`, `saved-styles/<owner>/<uuid>`.
   * Never expired, and out of reach of upload forms (no form is issued for these keys).
   */
  savedStyles: 'saved-styles/',
  /**
   * Uploads bucket: copies of the uploads a stylize job reads, taken when it is submitted, so that
   * reposting an upload form cannot change a job's input. Expired like uploads.
   */
  jobInputs: 'job-inputs/',
  /** Uploads bucket: inputs that failed validation, with a reason. */
  rejected: 'rejected/',
  /**
   * Uploads bucket: style images referenced by drop-folder jobs (`drop/<style>/…`
   * names `styles/<style>…`); read when a job is created and when it runs.
   */
  styles: 'styles/',
  /** Results bucket: stylized outputs; never watched, so they cannot re-trigger. */
  out: 'out/',
  /**
   * Local blob store: stylized outputs and previews of the local workers. On AWS the same objects go
   * to `out/` in the results bucket.
   */
  results: 'results/',
  /** Models bucket: exported ONNX model packages, `models/<modelId>/<version>/`. */
  models: 'models/',
  /** Models bucket: training checkpoints, one folder per training job. */
  checkpoints: 'checkpoints/',
  /** Models bucket: SageMaker's model artifact output. */
  trainingOutput: 'training-output/',
  /** Datasets bucket: content and style image sets used for training. */
  datasets: 'datasets/',
} as const;
