/* Generated from schema/schema.graphql by schema/codegen.ts. Do not edit. */
import type { GraphQLResolveInfo } from 'graphql';
import type { Job as DomainJob, Style as DomainStyle, ModelInfo } from '../../core';
import type { JobWatchEvent } from '../../core/use-cases';
import type { GraphQLContext } from '../context';
export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
export type Omit<T, K extends keyof T> = Pick<T, Exclude<keyof T, K>>;
export type RequireFields<T, K extends keyof T> = Omit<T, K> & { [P in K]-?: NonNullable<T[P]> };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
};

export type Query = {
  __typename?: 'Query';
  /** One of the caller's jobs, or null when there is none with this id. */
  job: Maybe<Job>;
  /** The caller's jobs, newest first. */
  jobs: JobConnection;
  /** The built-in model first, then the caller's trained models, newest first. */
  models: Array<Model>;
  /** A model the caller may use, or null. */
  model: Maybe<Model>;
  /** The caller's saved styles, newest first. */
  styles: StyleConnection;
};


export type QueryJobArgs = {
  id: Scalars['ID']['input'];
};


export type QueryJobsArgs = {
  filter?: InputMaybe<JobFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
  after?: InputMaybe<Scalars['String']['input']>;
};


export type QueryModelArgs = {
  id: Scalars['ID']['input'];
};


export type QueryStylesArgs = {
  first?: InputMaybe<Scalars['Int']['input']>;
  after?: InputMaybe<Scalars['String']['input']>;
};

export type Mutation = {
  __typename?: 'Mutation';
  /**
   * Returns a short-lived form to POST one image to (S3 presigned-POST shape): send every field,
   * then the file as the last part. `byteSize` must not exceed the server's limit and `contentType`
   * must be image/*. `group` (letters, digits, "-", "_", up to three "/"-separated segments) places
   * the upload under a shared prefix, so that a training dataset can be named by `uploadPrefix`.
   */
  createUpload: UploadTarget;
  /** Saves an uploaded image as a named style for later stylize jobs. */
  registerStyle: Style;
  /** Queues a stylize job. The same idempotencyKey returns the same job. */
  stylize: Job;
  /** Queues a training job. The same idempotencyKey returns the same job. */
  startTraining: Job;
  /** Cancels a queued job at once, or asks a running job's worker to stop. */
  cancelJob: Job;
};


export type MutationCreateUploadArgs = {
  contentType: Scalars['String']['input'];
  byteSize: Scalars['Int']['input'];
  group?: InputMaybe<Scalars['String']['input']>;
};


export type MutationRegisterStyleArgs = {
  name: Scalars['String']['input'];
  uploadKey: Scalars['String']['input'];
};


export type MutationStylizeArgs = {
  input: StylizeInput;
};


export type MutationStartTrainingArgs = {
  input: TrainingInput;
};


export type MutationCancelJobArgs = {
  id: Scalars['ID']['input'];
};

export type Subscription = {
  __typename?: 'Subscription';
  /**
   * Events of one job: first its current state (type SNAPSHOT), then each change. The stream
   * completes after the job reaches SUCCEEDED, FAILED or CANCELLED.
   */
  jobProgress: JobEvent;
  /** Events of all the caller's jobs, as they happen. */
  myJobs: JobEvent;
};


export type SubscriptionJobProgressArgs = {
  id: Scalars['ID']['input'];
};

/** A form field of an upload target. */
export type FormField = {
  __typename?: 'FormField';
  name: Scalars['String']['output'];
  value: Scalars['String']['output'];
};

/** Where and how to upload one file. */
export type UploadTarget = {
  __typename?: 'UploadTarget';
  /** POST a multipart/form-data body here. */
  url: Scalars['String']['output'];
  /** Send these fields, in this order, before the file. */
  fields: Array<FormField>;
  /** The key the file will be stored under; pass it to registerStyle or stylize. */
  key: Scalars['String']['output'];
  /** The target is refused after this time. */
  expiresAt: Scalars['String']['output'];
};

export type Style = {
  __typename?: 'Style';
  id: Scalars['ID']['output'];
  name: Scalars['String']['output'];
  /** A signed link to the style image, for previews. */
  image: Download;
  createdAt: Scalars['String']['output'];
};

export type StyleConnection = {
  __typename?: 'StyleConnection';
  items: Array<Style>;
  nextCursor: Maybe<Scalars['String']['output']>;
};

export type Model = {
  __typename?: 'Model';
  id: Scalars['ID']['output'];
  /** The name in the package's manifest (the built-in model's), or the name given to startTraining. */
  name: Scalars['String']['output'];
  /** Counts the owner's registrations of this name: 1, 2, 3, … (1 for the built-in model). */
  version: Scalars['Int']['output'];
  /** The model package's own version, from its manifest (e.g. 0.3.0); null when it has none. */
  packageVersion: Maybe<Scalars['String']['output']>;
  /** True for the model that ships with the platform. */
  builtIn: Scalars['Boolean']['output'];
  /** Preset, image size and training steps, as JSON text. */
  manifest: Scalars['String']['output'];
  createdAt: Scalars['String']['output'];
};

export type JobKind =
  | 'STYLIZE'
  | 'TRAIN';

export type JobStatus =
  | 'QUEUED'
  | 'RUNNING'
  | 'SUCCEEDED'
  | 'FAILED'
  | 'CANCELLED';

export type ImageFormat =
  | 'JPEG'
  | 'PNG'
  | 'WEBP';

export type TrainingPreset =
  | 'tiny'
  | 'small'
  | 'paper';

export type StyleRef = {
  /** A saved style (from registerStyle); give this or uploadKey. */
  styleId?: InputMaybe<Scalars['ID']['input']>;
  /** An uploaded image (from createUpload); give this or styleId. */
  uploadKey?: InputMaybe<Scalars['String']['input']>;
  /** Relative weight when mixing styles, in (0, 1]. Default 1. */
  weight?: InputMaybe<Scalars['Float']['input']>;
};

/** How much of the content's structure a stylization keeps. */
export type StructureMode =
  | 'KEEP'
  | 'TRANSFER';

export type StylizeOptions = {
  /** How strongly to apply the style, 0..1. Default 1. */
  strength?: InputMaybe<Scalars['Float']['input']>;
  /** Keep the content image's colours. Default false. */
  preserveColor?: InputMaybe<Scalars['Boolean']['input']>;
  /** KEEP: the content keeps its own structure and takes only the style's recombined style codes (TSPR's first stage). TRANSFER: both stages, the structure codes too are recombined from the style's. Default: the model's own recommendation. */
  structure?: InputMaybe<StructureMode>;
  /** Longest side of the output in pixels, 64..2048. Default: the content image's own size. */
  size?: InputMaybe<Scalars['Int']['input']>;
  /** Longest side the style images are resized to, 64..2048: the scale at which the style's texture is read. Default: the model's own recommendation, else the output's long side, at most 512. */
  styleSize?: InputMaybe<Scalars['Int']['input']>;
  /** How many times the output's size the model works at before the result is shrunk to it (supersampling), 1..4: finer strokes and a closer rendering of the content, for about its square in time. The style is read at styleSize whatever the scale. Default: the model's own recommendation, else 1. */
  renderScale?: InputMaybe<Scalars['Float']['input']>;
  /** Default JPEG. */
  format?: InputMaybe<ImageFormat>;
  /** Encoder quality of a JPEG or WEBP output, 1..100: lower gives a smaller file with more compression artefacts. Default 80. PNG, which is lossless, ignores it. */
  quality?: InputMaybe<Scalars['Int']['input']>;
  /**
   * Deliver a small JPEG rendering (512 px on the long side) before the full image, as the job's
   * `preview` and a PREVIEW event. Default: on when the output's long side is over 512 px (the preview
   * then costs a few seconds and arrives long before the result); off for smaller outputs, whose result
   * is ready as soon as a preview would be. true asks for one at any size (an output of 512 px or less
   * is then its own preview, as JPEG); false never.
   */
  preview?: InputMaybe<Scalars['Boolean']['input']>;
};

export type StylizeInput = {
  /** Upload key of the content image. */
  content: Scalars['String']['input'];
  /** One to four styles to mix. */
  styles: Array<StyleRef>;
  options?: InputMaybe<StylizeOptions>;
  /** Default: the built-in model. */
  modelId?: InputMaybe<Scalars['ID']['input']>;
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
};

export type DatasetInput = {
  /** A prefix of the caller's uploads, e.g. uploads/<owner>/my-set/ (see createUpload's group). */
  uploadPrefix?: InputMaybe<Scalars['String']['input']>;
  /** A dataset folder the server offers by name. */
  folder?: InputMaybe<Scalars['String']['input']>;
};

export type HyperparameterInput = {
  /** A key of the trainer's config, e.g. lr or knn. */
  key: Scalars['String']['input'];
  /** The value as text, as on the command line. */
  value: Scalars['String']['input'];
};

export type TrainingInput = {
  dataset: DatasetInput;
  preset: TrainingPreset;
  /** Training iterations. */
  steps: Scalars['Int']['input'];
  hyperparameters?: InputMaybe<Array<HyperparameterInput>>;
  /** Name of the resulting model. Default: the preset's name. */
  modelName?: InputMaybe<Scalars['String']['input']>;
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
};

export type JobFilter = {
  status?: InputMaybe<JobStatus>;
  kind?: InputMaybe<JobKind>;
};

export type JobConnection = {
  __typename?: 'JobConnection';
  items: Array<Job>;
  nextCursor: Maybe<Scalars['String']['output']>;
};

export type JobMessage = {
  __typename?: 'JobMessage';
  at: Scalars['String']['output'];
  level: Scalars['String']['output'];
  text: Scalars['String']['output'];
};

/** The latest value of one metric. */
export type Metric = {
  __typename?: 'Metric';
  name: Scalars['String']['output'];
  value: Scalars['Float']['output'];
  /** The step the value was recorded at. */
  step: Scalars['Int']['output'];
};

/** One metric sample of the history. */
export type MetricPoint = {
  __typename?: 'MetricPoint';
  step: Scalars['Int']['output'];
  at: Scalars['String']['output'];
  values: Array<MetricValue>;
};

export type MetricValue = {
  __typename?: 'MetricValue';
  name: Scalars['String']['output'];
  value: Scalars['Float']['output'];
};

export type Download = {
  __typename?: 'Download';
  /** A signed link, created when read; it stops working at expiresAt. */
  url: Scalars['String']['output'];
  expiresAt: Scalars['String']['output'];
};

export type JobResult = {
  __typename?: 'JobResult';
  /** The stylized images (stylize jobs). */
  downloads: Array<Download>;
  /** The trained model (training jobs). */
  modelId: Maybe<Scalars['ID']['output']>;
};

export type JobError = {
  __typename?: 'JobError';
  code: Scalars['String']['output'];
  message: Scalars['String']['output'];
};

/** A small early rendering of a stylize job's result. */
export type JobPreview = {
  __typename?: 'JobPreview';
  /** A signed link, created when read; it stops working at expiresAt. */
  url: Scalars['String']['output'];
  expiresAt: Scalars['String']['output'];
  width: Scalars['Int']['output'];
  height: Scalars['Int']['output'];
};

export type Job = {
  __typename?: 'Job';
  id: Scalars['ID']['output'];
  kind: JobKind;
  status: JobStatus;
  /** Name of the current step. */
  stage: Scalars['String']['output'];
  /** Fraction done, 0..1. */
  progress: Scalars['Float']['output'];
  messages: Array<JobMessage>;
  /** Latest value of each metric. */
  metrics: Array<Metric>;
  /** Metric samples, oldest first. */
  metricHistory: Array<MetricPoint>;
  result: Maybe<JobResult>;
  /** The stylize job's preview (see StylizeOptions.preview), once stored; it is kept after the job finishes. */
  preview: Maybe<JobPreview>;
  error: Maybe<JobError>;
  cancelRequested: Scalars['Boolean']['output'];
  attempts: Scalars['Int']['output'];
  createdAt: Scalars['String']['output'];
  startedAt: Maybe<Scalars['String']['output']>;
  finishedAt: Maybe<Scalars['String']['output']>;
  updatedAt: Scalars['String']['output'];
};

export type JobEventType =
  /** The job's state when the subscription started. */
  | 'SNAPSHOT'
  | 'CREATED'
  | 'STATUS_CHANGED'
  | 'PROGRESS'
  | 'CANCEL_REQUESTED'
  /** The job's preview is stored: job.preview has its link. It comes before the job's SUCCEEDED event. */
  | 'PREVIEW';

export type JobEvent = {
  __typename?: 'JobEvent';
  type: JobEventType;
  job: Job;
};



export type ResolverTypeWrapper<T> = Promise<T> | T;


export type ResolverWithResolve<TResult, TParent, TContext, TArgs> = {
  resolve: ResolverFn<TResult, TParent, TContext, TArgs>;
};
export type Resolver<TResult, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> = ResolverFn<TResult, TParent, TContext, TArgs> | ResolverWithResolve<TResult, TParent, TContext, TArgs>;

export type ResolverFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => Promise<TResult> | TResult;

export type SubscriptionSubscribeFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => AsyncIterable<TResult> | Promise<AsyncIterable<TResult>>;

export type SubscriptionResolveFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => TResult | Promise<TResult>;

export interface SubscriptionSubscriberObject<TResult, TKey extends string, TParent, TContext, TArgs> {
  subscribe: SubscriptionSubscribeFn<{ [key in TKey]: TResult }, TParent, TContext, TArgs>;
  resolve?: SubscriptionResolveFn<TResult, { [key in TKey]: TResult }, TContext, TArgs>;
}

export interface SubscriptionResolverObject<TResult, TParent, TContext, TArgs> {
  subscribe: SubscriptionSubscribeFn<any, TParent, TContext, TArgs>;
  resolve: SubscriptionResolveFn<TResult, any, TContext, TArgs>;
}

export type SubscriptionObject<TResult, TKey extends string, TParent, TContext, TArgs> =
  | SubscriptionSubscriberObject<TResult, TKey, TParent, TContext, TArgs>
  | SubscriptionResolverObject<TResult, TParent, TContext, TArgs>;

export type SubscriptionResolver<TResult, TKey extends string, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> =
  | ((...args: any[]) => SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>)
  | SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>;

export type TypeResolveFn<TTypes, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>> = (
  parent: TParent,
  context: TContext,
  info: GraphQLResolveInfo
) => Maybe<TTypes> | Promise<Maybe<TTypes>>;

export type IsTypeOfResolverFn<T = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>> = (obj: T, context: TContext, info: GraphQLResolveInfo) => boolean | Promise<boolean>;

export type NextResolverFn<T> = () => Promise<T>;

export type DirectiveResolverFn<TResult = Record<PropertyKey, never>, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> = (
  next: NextResolverFn<TResult>,
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => TResult | Promise<TResult>;





/** Mapping between all available schema types and the resolvers types */
export type ResolversTypes = {
  Query: ResolverTypeWrapper<Record<PropertyKey, never>>;
  ID: ResolverTypeWrapper<Scalars['ID']['output']>;
  Int: ResolverTypeWrapper<Scalars['Int']['output']>;
  String: ResolverTypeWrapper<Scalars['String']['output']>;
  Mutation: ResolverTypeWrapper<Record<PropertyKey, never>>;
  Subscription: ResolverTypeWrapper<Record<PropertyKey, never>>;
  FormField: ResolverTypeWrapper<FormField>;
  UploadTarget: ResolverTypeWrapper<UploadTarget>;
  Style: ResolverTypeWrapper<DomainStyle>;
  StyleConnection: ResolverTypeWrapper<Omit<StyleConnection, 'items'> & { items: Array<ResolversTypes['Style']> }>;
  Model: ResolverTypeWrapper<ModelInfo>;
  Boolean: ResolverTypeWrapper<Scalars['Boolean']['output']>;
  JobKind: JobKind;
  JobStatus: JobStatus;
  ImageFormat: ImageFormat;
  TrainingPreset: TrainingPreset;
  StyleRef: StyleRef;
  Float: ResolverTypeWrapper<Scalars['Float']['output']>;
  StructureMode: StructureMode;
  StylizeOptions: StylizeOptions;
  StylizeInput: StylizeInput;
  DatasetInput: DatasetInput;
  HyperparameterInput: HyperparameterInput;
  TrainingInput: TrainingInput;
  JobFilter: JobFilter;
  JobConnection: ResolverTypeWrapper<Omit<JobConnection, 'items'> & { items: Array<ResolversTypes['Job']> }>;
  JobMessage: ResolverTypeWrapper<JobMessage>;
  Metric: ResolverTypeWrapper<Metric>;
  MetricPoint: ResolverTypeWrapper<MetricPoint>;
  MetricValue: ResolverTypeWrapper<MetricValue>;
  Download: ResolverTypeWrapper<Download>;
  JobResult: ResolverTypeWrapper<JobResult>;
  JobError: ResolverTypeWrapper<JobError>;
  JobPreview: ResolverTypeWrapper<JobPreview>;
  Job: ResolverTypeWrapper<DomainJob>;
  JobEventType: JobEventType;
  JobEvent: ResolverTypeWrapper<JobWatchEvent>;
};

/** Mapping between all available schema types and the resolvers parents */
export type ResolversParentTypes = {
  Query: Record<PropertyKey, never>;
  ID: Scalars['ID']['output'];
  Int: Scalars['Int']['output'];
  String: Scalars['String']['output'];
  Mutation: Record<PropertyKey, never>;
  Subscription: Record<PropertyKey, never>;
  FormField: FormField;
  UploadTarget: UploadTarget;
  Style: DomainStyle;
  StyleConnection: Omit<StyleConnection, 'items'> & { items: Array<ResolversParentTypes['Style']> };
  Model: ModelInfo;
  Boolean: Scalars['Boolean']['output'];
  StyleRef: StyleRef;
  Float: Scalars['Float']['output'];
  StylizeOptions: StylizeOptions;
  StylizeInput: StylizeInput;
  DatasetInput: DatasetInput;
  HyperparameterInput: HyperparameterInput;
  TrainingInput: TrainingInput;
  JobFilter: JobFilter;
  JobConnection: Omit<JobConnection, 'items'> & { items: Array<ResolversParentTypes['Job']> };
  JobMessage: JobMessage;
  Metric: Metric;
  MetricPoint: MetricPoint;
  MetricValue: MetricValue;
  Download: Download;
  JobResult: JobResult;
  JobError: JobError;
  JobPreview: JobPreview;
  Job: DomainJob;
  JobEvent: JobWatchEvent;
};

export type QueryResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Query'] = ResolversParentTypes['Query']> = {
  job?: Resolver<Maybe<ResolversTypes['Job']>, ParentType, ContextType, RequireFields<QueryJobArgs, 'id'>>;
  jobs?: Resolver<ResolversTypes['JobConnection'], ParentType, ContextType, Partial<QueryJobsArgs>>;
  models?: Resolver<Array<ResolversTypes['Model']>, ParentType, ContextType>;
  model?: Resolver<Maybe<ResolversTypes['Model']>, ParentType, ContextType, RequireFields<QueryModelArgs, 'id'>>;
  styles?: Resolver<ResolversTypes['StyleConnection'], ParentType, ContextType, Partial<QueryStylesArgs>>;
};

export type MutationResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Mutation'] = ResolversParentTypes['Mutation']> = {
  createUpload?: Resolver<ResolversTypes['UploadTarget'], ParentType, ContextType, RequireFields<MutationCreateUploadArgs, 'contentType' | 'byteSize'>>;
  registerStyle?: Resolver<ResolversTypes['Style'], ParentType, ContextType, RequireFields<MutationRegisterStyleArgs, 'name' | 'uploadKey'>>;
  stylize?: Resolver<ResolversTypes['Job'], ParentType, ContextType, RequireFields<MutationStylizeArgs, 'input'>>;
  startTraining?: Resolver<ResolversTypes['Job'], ParentType, ContextType, RequireFields<MutationStartTrainingArgs, 'input'>>;
  cancelJob?: Resolver<ResolversTypes['Job'], ParentType, ContextType, RequireFields<MutationCancelJobArgs, 'id'>>;
};

export type SubscriptionResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Subscription'] = ResolversParentTypes['Subscription']> = {
  jobProgress?: SubscriptionResolver<ResolversTypes['JobEvent'], "jobProgress", ParentType, ContextType, RequireFields<SubscriptionJobProgressArgs, 'id'>>;
  myJobs?: SubscriptionResolver<ResolversTypes['JobEvent'], "myJobs", ParentType, ContextType>;
};

export type FormFieldResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['FormField'] = ResolversParentTypes['FormField']> = {
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  value?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type UploadTargetResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['UploadTarget'] = ResolversParentTypes['UploadTarget']> = {
  url?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  fields?: Resolver<Array<ResolversTypes['FormField']>, ParentType, ContextType>;
  key?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  expiresAt?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type StyleResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Style'] = ResolversParentTypes['Style']> = {
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  image?: Resolver<ResolversTypes['Download'], ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type StyleConnectionResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['StyleConnection'] = ResolversParentTypes['StyleConnection']> = {
  items?: Resolver<Array<ResolversTypes['Style']>, ParentType, ContextType>;
  nextCursor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
};

export type ModelResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Model'] = ResolversParentTypes['Model']> = {
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  version?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  packageVersion?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  builtIn?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  manifest?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type JobConnectionResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['JobConnection'] = ResolversParentTypes['JobConnection']> = {
  items?: Resolver<Array<ResolversTypes['Job']>, ParentType, ContextType>;
  nextCursor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
};

export type JobMessageResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['JobMessage'] = ResolversParentTypes['JobMessage']> = {
  at?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  level?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  text?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type MetricResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Metric'] = ResolversParentTypes['Metric']> = {
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  value?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  step?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
};

export type MetricPointResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['MetricPoint'] = ResolversParentTypes['MetricPoint']> = {
  step?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  at?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  values?: Resolver<Array<ResolversTypes['MetricValue']>, ParentType, ContextType>;
};

export type MetricValueResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['MetricValue'] = ResolversParentTypes['MetricValue']> = {
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  value?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
};

export type DownloadResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Download'] = ResolversParentTypes['Download']> = {
  url?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  expiresAt?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type JobResultResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['JobResult'] = ResolversParentTypes['JobResult']> = {
  downloads?: Resolver<Array<ResolversTypes['Download']>, ParentType, ContextType>;
  modelId?: Resolver<Maybe<ResolversTypes['ID']>, ParentType, ContextType>;
};

export type JobErrorResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['JobError'] = ResolversParentTypes['JobError']> = {
  code?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  message?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type JobPreviewResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['JobPreview'] = ResolversParentTypes['JobPreview']> = {
  url?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  expiresAt?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  width?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  height?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
};

export type JobResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Job'] = ResolversParentTypes['Job']> = {
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  kind?: Resolver<ResolversTypes['JobKind'], ParentType, ContextType>;
  status?: Resolver<ResolversTypes['JobStatus'], ParentType, ContextType>;
  stage?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  progress?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  messages?: Resolver<Array<ResolversTypes['JobMessage']>, ParentType, ContextType>;
  metrics?: Resolver<Array<ResolversTypes['Metric']>, ParentType, ContextType>;
  metricHistory?: Resolver<Array<ResolversTypes['MetricPoint']>, ParentType, ContextType>;
  result?: Resolver<Maybe<ResolversTypes['JobResult']>, ParentType, ContextType>;
  preview?: Resolver<Maybe<ResolversTypes['JobPreview']>, ParentType, ContextType>;
  error?: Resolver<Maybe<ResolversTypes['JobError']>, ParentType, ContextType>;
  cancelRequested?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  attempts?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  startedAt?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  finishedAt?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  updatedAt?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type JobEventResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['JobEvent'] = ResolversParentTypes['JobEvent']> = {
  type?: Resolver<ResolversTypes['JobEventType'], ParentType, ContextType>;
  job?: Resolver<ResolversTypes['Job'], ParentType, ContextType>;
};

export type Resolvers<ContextType = GraphQLContext> = {
  Query?: QueryResolvers<ContextType>;
  Mutation?: MutationResolvers<ContextType>;
  Subscription?: SubscriptionResolvers<ContextType>;
  FormField?: FormFieldResolvers<ContextType>;
  UploadTarget?: UploadTargetResolvers<ContextType>;
  Style?: StyleResolvers<ContextType>;
  StyleConnection?: StyleConnectionResolvers<ContextType>;
  Model?: ModelResolvers<ContextType>;
  JobConnection?: JobConnectionResolvers<ContextType>;
  JobMessage?: JobMessageResolvers<ContextType>;
  Metric?: MetricResolvers<ContextType>;
  MetricPoint?: MetricPointResolvers<ContextType>;
  MetricValue?: MetricValueResolvers<ContextType>;
  Download?: DownloadResolvers<ContextType>;
  JobResult?: JobResultResolvers<ContextType>;
  JobError?: JobErrorResolvers<ContextType>;
  JobPreview?: JobPreviewResolvers<ContextType>;
  Job?: JobResolvers<ContextType>;
  JobEvent?: JobEventResolvers<ContextType>;
};

