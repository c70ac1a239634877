/**
 * The real `npx cdk synth`, as a deployer runs it from the repository root, with real bundling: no AWS
 * credentials or account (every AWS_* and CDK_DEFAULT_* variable is cleared), no Docker engine (the
 * Docker client is pointed at a socket that does not exist, so any attempt to use it fails), and the
 * handlers bundled by the local esbuild. The other infrastructure tests synthesize with bundling off
 * and stub handlers; this one proves that the real handler sources bundle, once, in a child process.
 */

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HANDLER_ENTRIES } from '../../infra/lib/handlers';

const ROOT = path.join(__dirname, '..', '..');

interface Synth {
  code: number | null;
  output: string;
  seconds: number;
  outDir: string;
}

let synth: Synth;

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('AWS_') && !key.startsWith('CDK_DEFAULT_')) env[key] = value;
  }
  return { ...env, DOCKER_HOST: 'unix:///nonexistent/docker.sock', CDK_DISABLE_VERSION_CHECK: '1' };
}

beforeAll(
  async () => {
    const outDir = mkdtempSync(path.join(tmpdir(), 'peerstyle-synth-'));
    const started = Date.now();
    const child = spawn('npx', ['cdk', 'synth', '--quiet', '--no-notices', '-o', outDir], {
      cwd: ROOT,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    synth = { code, output, seconds: (Date.now() - started) / 1000, outDir };
    process.stdout.write(`cdk synth took ${synth.seconds.toFixed(1)} s\n`);
  },
  15 * 60 * 1000,
);

afterAll(() => {
  if (synth) rmSync(synth.outDir, { recursive: true, force: true });
});

interface Resource {
  Type: string;
  Properties?: { Code?: { S3Key?: unknown }; Handler?: string };
  Metadata?: Record<string, unknown>;
}

function template(): Record<string, Resource> {
  const file = path.join(synth.outDir, 'Peerstyle.template.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { Resources: Record<string, Resource> }).Resources;
}

/** The bundle directory of every Lambda function whose code is a bundled asset. */
function bundledFunctions(): { id: string; dir: string }[] {
  return Object.entries(template())
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.['aws:asset:property'] === 'Code')
    .map(([id, r]) => ({ id, dir: path.join(synth.outDir, String(r.Metadata?.['aws:asset:path'])) }));
}

test('synthesis succeeds with no credentials and no Docker engine', () => {
  expect({ code: synth.code, tail: synth.code === 0 ? '' : synth.output.slice(-3000) }).toEqual({ code: 0, tail: '' });
  expect(synth.output).not.toMatch(/docker (run|build)/i);
});

test('every handler is a Lambda function with its code bundled by esbuild into a single index.js', () => {
  const functions = bundledFunctions();
  // One per handler, plus CDK's own helper functions (which ship prebuilt code, not bundles).
  const bundles = functions.filter((f) => existsSync(path.join(f.dir, 'index.js')));
  expect(bundles.length).toBeGreaterThanOrEqual(Object.keys(HANDLER_ENTRIES).length);
  for (const bundle of bundles) {
    expect(statSync(path.join(bundle.dir, 'index.js')).size).toBeGreaterThan(1000);
  }
  const handlers = Object.values(template()).filter(
    (r) => r.Type === 'AWS::Lambda::Function' && r.Properties?.Handler === 'index.handler',
  );
  expect(handlers.length).toBeGreaterThanOrEqual(Object.keys(HANDLER_ENTRIES).length);
});

test('the drop-folder, dispatcher and training bundles hold their own code, without a native image library', () => {
  const sources = bundledFunctions()
    .map((f) => path.join(f.dir, 'index.js'))
    .filter((file) => existsSync(file))
    .map((file) => readFileSync(file, 'utf8'));
  const bundleWith = (marker: string): string | undefined => sources.find((source) => source.includes(marker));
  const intake = bundleWith('Images go in a folder named after a style id');
  expect(intake).toBeDefined();
  expect(intake).toContain('s3:TestEvent');
  // A native module's platform binary is not bundled; the intake reads image headers itself.
  expect(intake).not.toMatch(/@img\/sharp-/);
  expect(bundleWith('no jobId in the message body')).toBeDefined();
  expect(bundleWith('The training launcher is invoked with')).toBeDefined();
  expect(bundleWith('Registered model ')).toBeDefined();
  // No Lambda bundle reaches the inference engine.
  for (const source of sources) expect(source).not.toContain('onnxruntime-node');
});
