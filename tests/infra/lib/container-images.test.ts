/**
 * The GPU images: both are declared as Docker image assets built from their
 * Dockerfiles at deploy time, and the Dockerfiles pin the CUDA userland each
 * native runtime needs and follow the container contracts the platform uses.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import { IMAGE_BUILD_CONTEXT } from '../../../infra/lib/container-images';
import { REPOSITORY_ROOT } from '../../../infra/lib/handler-function';
import { synthesizeStack } from '../support/synth';

const dockerfile = (name: string) =>
  fs.readFileSync(path.join(REPOSITORY_ROOT, 'infra', 'docker', name, 'Dockerfile'), 'utf8');

/** Dockerfile instructions with comments removed, so prose cannot satisfy a check. */
const instructions = (name: string) =>
  dockerfile(name)
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n');

describe('GPU image assets', () => {
  it('declares both images from their Dockerfiles, for x86_64', () => {
    const { app, stack } = synthesizeStack();
    const directory = app.synth().directory;
    const manifest = JSON.parse(fs.readFileSync(path.join(directory, `${stack.artifactId}.assets.json`), 'utf8')) as {
      dockerImages: Record<string, { source: { dockerFile?: string; platform?: string } }>;
    };
    const images = Object.values(manifest.dockerImages).map(({ source }) => ({
      file: source.dockerFile,
      platform: source.platform,
    }));
    expect(images).toEqual(
      expect.arrayContaining([
        { file: 'infra/docker/stylize-worker/Dockerfile', platform: 'linux/amd64' },
        { file: 'infra/docker/trainer/Dockerfile', platform: 'linux/amd64' },
      ]),
    );
    expect(images).toHaveLength(2);
  });
});

describe('stylize-worker Dockerfile', () => {
  const text = instructions('stylize-worker');

  it('runs Node 22 on a CUDA 12 runtime base', () => {
    expect(text).toMatch(/^FROM node:22[-.\w]* AS node$/m);
    expect(text).toMatch(/^FROM nvidia\/cuda:12\.[\d.]+-cudnn-runtime-/m);
  });

  it('runs onnxruntime-node\u2019s install script for the CUDA 12 provider and never skips it', () => {
    expect(text).toMatch(/ONNXRUNTIME_NODE_INSTALL=cuda12/);
    expect(text).toMatch(/node node_modules\/onnxruntime-node\/script\/install/);
    expect(text).toMatch(/libonnxruntime_providers_cuda\.so/);
    expect(text).not.toMatch(/--ignore-scripts|ONNXRUNTIME_NODE_INSTALL=skip|onnxruntime-node-install(-cuda)?=skip/);
  });
});

describe('trainer Dockerfile', () => {
  const text = instructions('trainer');

  it('runs Node 22 on the CUDA 11.2 + cuDNN 8 base that libtensorflow 2.9 expects', () => {
    expect(text).toMatch(/^FROM node:22[-.\w]* AS node$/m);
    expect(text).toMatch(/^FROM nvidia\/cuda:11\.2\.\d+-cudnn8-runtime-/m);
  });

  it('installs @tensorflow/tfjs-node-gpu 4.22.0 with its install script, and checks the version', () => {
    expect(text).toMatch(/require\('@tensorflow\/tfjs-node-gpu\/package\.json'\)\.version/);
    expect(text).toMatch(/v !== '4\.22\.0'/);
    expect(text).toMatch(/tfjs-node-gpu\/lib\/napi-v\*\/tfjs_binding\.node/);
    expect(text).not.toMatch(/--ignore-scripts/);
  });

  it('starts as `docker run <image> train` running `peerstyle train`, with the /opt/ml layout', () => {
    expect(text).toMatch(/^ENTRYPOINT \["node", "\/app\/bin\/peerstyle\.js"\]$/m);
    expect(text).toMatch(/^CMD \["train"\]$/m);
    for (const dir of ['/opt/ml/input/data', '/opt/ml/model', '/opt/ml/checkpoints']) expect(text).toContain(dir);
  });
});

/**
 * Whether a repository-relative path is sent to `docker build` under the context's ignore rules
 * (Docker's syntax as the stack uses it: `*` for every top-level entry, `!dir` to take a folder back,
 * `**` then a slash and a name for a folder at any depth; the last rule that matches decides).
 */
function inBuildContext(file: string, rules: readonly string[]): boolean {
  const parts = file.split('/');
  let included = true;
  for (const rule of rules) {
    const negated = rule.startsWith('!');
    const pattern = negated ? rule.slice(1) : rule;
    const matches =
      pattern === '*'
        ? true
        : pattern.startsWith('**/')
          ? parts.includes(pattern.slice(3))
          : file === pattern || file.startsWith(`${pattern}/`);
    if (matches) included = negated;
  }
  return included;
}

describe('image build context', () => {
  it('holds every source file the containers’ `peerstyle` entry point loads', async () => {
    // The import graph from bin/peerstyle.js's target, packages left out (npm ci installs those).
    const result = await build({
      entryPoints: [path.join(REPOSITORY_ROOT, 'functions', 'cli', 'main.ts')],
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      packages: 'external',
      logLevel: 'silent',
    });
    const sources = Object.keys(result.metafile.inputs);
    expect(sources.length).toBeGreaterThan(50);
    expect(sources.filter((f) => !inBuildContext(f, IMAGE_BUILD_CONTEXT))).toEqual([]);
    expect(inBuildContext('bin/peerstyle.js', IMAGE_BUILD_CONTEXT)).toBe(true);
  });

  it('leaves out what the images do not need', () => {
    for (const file of ['README.md', 'tests/e2e/x.test.ts', 'infra/lib/storage.ts', 'functions/node_modules/a.js'])
      expect([file, inBuildContext(file, IMAGE_BUILD_CONTEXT)]).toEqual([file, false]);
  });
});
