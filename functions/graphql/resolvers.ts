/**
 * The resolvers: each turns GraphQL arguments into a use-case call and the result into the GraphQL
 * shape. They hold no rules of their own (ownership, limits and validation live in the use cases), so
 * any other transport calling the same use cases behaves identically.
 */

import {
  cancelJob,
  createUpload,
  describeJobResult,
  getJob,
  getModel,
  listJobs,
  listModels,
  listStyles,
  registerStyle,
  signedDownload,
  startTraining,
  submitStylizeJob,
  watchJob,
  watchMyJobs,
  type JobWatchEvent,
} from '../core/use-cases';
import { BUILTIN_OWNER, roundProgress } from '../core';
import type { Resolvers } from './generated/resolvers-types';

const nullableConnection = <T>(page: {
  items: T[];
  nextCursor?: string;
}): { items: T[]; nextCursor: string | null } => ({
  items: page.items,
  nextCursor: page.nextCursor ?? null,
});

/** The resolver map for `schema/schema.graphql`. */
export const resolvers: Resolvers = {
  Query: {
    job: (_parent, { id }, { deps, owner }) => getJob(deps, owner, id),
    jobs: async (_parent, { filter, first, after }, { deps, owner }) =>
      nullableConnection(await listJobs(deps, owner, { status: filter?.status, kind: filter?.kind, first, after })),
    models: (_parent, _args, { deps, owner }) => listModels(deps, owner),
    model: (_parent, { id }, { deps, owner }) => getModel(deps, owner, id),
    styles: async (_parent, { first, after }, { deps, owner }) =>
      nullableConnection(await listStyles(deps, owner, { first, after })),
  },
  Mutation: {
    createUpload: async (_parent, args, { deps, owner }) => {
      const upload = await createUpload(deps, owner, args);
      // A list keeps the fields' order, which presigned-POST forms must preserve.
      return { ...upload, fields: Object.entries(upload.fields).map(([name, value]) => ({ name, value })) };
    },
    registerStyle: (_parent, args, { deps, owner }) => registerStyle(deps, owner, args),
    // Every job-creating field is charged to the rate limit, not just the request that carries it.
    stylize: async (_parent, { input }, { deps, owner, chargeJob }) => {
      await chargeJob?.();
      return submitStylizeJob(deps, owner, input);
    },
    startTraining: async (_parent, { input }, { deps, owner, chargeJob }) => {
      await chargeJob?.();
      return startTraining(deps, owner, input);
    },
    cancelJob: (_parent, { id }, { deps, owner }) => cancelJob(deps, owner, id),
  },
  Subscription: {
    jobProgress: {
      subscribe: (_parent, { id }, { deps, owner }) => watchJob(deps, owner, id),
      resolve: (event: JobWatchEvent) => event,
    },
    myJobs: {
      subscribe: (_parent, _args, { deps, owner }) => watchMyJobs(deps, owner),
      resolve: (event: JobWatchEvent) => event,
    },
  },
  Style: {
    image: (style, _args, { deps }) => signedDownload(deps, style.blobKey),
  },
  Model: {
    builtIn: (model) => model.owner === BUILTIN_OWNER,
    manifest: (model) => JSON.stringify(model.manifest),
    packageVersion: (model) =>
      typeof model.manifest.packageVersion === 'string' ? model.manifest.packageVersion : null,
  },
  Job: {
    // Also rounds what was stored before reports were rounded.
    progress: (job) => roundProgress(job.progress),
    metrics: (job) =>
      Object.entries(job.metrics.latest).map(([name, value]) => {
        // The step of a metric's latest value is that of the newest sample that recorded it.
        const point = [...job.metrics.history].reverse().find((sample) => name in sample.values);
        return { name, value, step: point?.step ?? 0 };
      }),
    metricHistory: (job) =>
      job.metrics.history.map((point) => ({
        step: point.step,
        at: point.at,
        values: Object.entries(point.values).map(([name, value]) => ({ name, value })),
      })),
    result: (job, _args, { deps }) => describeJobResult(deps, job),
    preview: async (job, _args, { deps }) =>
      job.preview === undefined
        ? null
        : {
            ...(await signedDownload(deps, job.preview.key)),
            width: job.preview.width,
            height: job.preview.height,
          },
    error: (job) => (job.error === null ? null : { code: job.error.code, message: job.error.message }),
  },
};
