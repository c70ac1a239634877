/**
 * The two GPU container images, built from the repository at deploy time.
 *
 * Synthesis only fingerprints the build context, so `cdk synth` needs no
 * Docker engine; `cdk deploy` builds and pushes the images. The context is the
 * repository root (the images run the project's own code), narrowed by an
 * allow-list so that node_modules, cdk.out and test data neither slow the
 * fingerprint nor leak into the image.
 */
import * as path from 'node:path';
import { IgnoreMode } from 'aws-cdk-lib';
import { DockerImageAsset, Platform } from 'aws-cdk-lib/aws-ecr-assets';
import type { Construct } from 'constructs';
import { REPOSITORY_ROOT } from './handler-function';

/** The images the platform builds; each has infra/docker/<name>/Dockerfile. */
export type PeerstyleImage = 'stylize-worker' | 'trainer';

/** What the images may see of the repository (Docker ignore syntax). */
export const IMAGE_BUILD_CONTEXT = [
  '*',
  '!package.json',
  '!package-lock.json',
  '!tsconfig.json',
  '!bin',
  '!functions',
  '!trainer',
  '!schema',
  '!models',
  '!infra/docker',
  // The table of environment names the handlers and the worker read (no CDK imports).
  '!infra/lib/handlers.ts',
  '**/node_modules',
  '**/cdk.out',
];

/** Declares the image asset for one of the platform's Dockerfiles. */
export function peerstyleImageAsset(scope: Construct, id: string, image: PeerstyleImage): DockerImageAsset {
  return new DockerImageAsset(scope, id, {
    directory: REPOSITORY_ROOT,
    file: path.join('infra', 'docker', image, 'Dockerfile'),
    exclude: IMAGE_BUILD_CONTEXT,
    ignoreMode: IgnoreMode.DOCKER,
    // GPU instances (g4dn, g5, ml.g*) are x86_64.
    platform: Platform.LINUX_AMD64,
  });
}
