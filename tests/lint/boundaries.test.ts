/**
 * The import boundaries in eslint.config.js, shown by linting a deliberate violation of each as if it
 * sat at a given path, and a permitted import beside it (so a rule that refuses everything fails too).
 */
import path from 'node:path';
import { ESLint } from 'eslint';
import { only } from '../support/checked';

const root = path.join(__dirname, '..', '..');
// The config is handed over already loaded: ESLint's own loader uses a dynamic import, which jest's
// module sandbox does not allow.
const eslint = new ESLint({ cwd: root, overrideConfigFile: true, overrideConfig: require('../../eslint.config.js') });

/** The boundary messages ESLint gives for `code` placed at `file` (relative to the repo). */
async function boundaryMessages(file: string, code: string): Promise<string[]> {
  const result = only(await eslint.lintText(code, { filePath: path.join(root, file) }));
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const cases: { rule: string; file: string; refused: string; allowed: string; message: RegExp }[] = [
  {
    rule: 'onnxruntime-node only in the engine’s session module',
    file: 'functions/local/worker/example.ts',
    refused: "import * as ort from 'onnxruntime-node';\nexport const x = ort;\n",
    allowed: "import { loadModelPackage } from '../../engine';\nexport const x = loadModelPackage;\n",
    message: /Only functions\/engine\/onnx-session\.ts \(inference\) and trainer\/native-conv\/ort-binding\.ts/,
  },
  {
    rule: 'the core imports only the core',
    file: 'functions/core/use-cases/example.ts',
    refused: "import * as store from '../../adapters/local/sqlite-job-store';\nexport const x = store;\n",
    allowed: "import { DomainError } from '../errors';\nexport const x = DomainError;\n",
    message: /The core imports only the core/,
  },
  {
    rule: 'the core imports nothing of the trainer',
    file: 'functions/core/use-cases/example.ts',
    refused: "import { presetConfig } from '../../../trainer/config';\nexport const x = presetConfig;\n",
    allowed: "import type { TrainingRules } from '../ports/training-rules';\nexport type X = TrainingRules;\n",
    message: /The core imports only the core/,
  },
  {
    rule: 'the core imports nothing of the shared worker',
    file: 'functions/core/example.ts',
    refused: "import { toJobError } from '../worker/job-error';\nexport const x = toJobError;\n",
    allowed: "import { DomainError } from './errors';\nexport const x = DomainError;\n",
    message: /The core imports only the core/,
  },
  {
    rule: 'the engine reads the package format, not the exporter',
    file: 'functions/engine/example.ts',
    refused: "import { writePackage } from '../../trainer/export/package-writer';\nexport const x = writePackage;\n",
    allowed: "import { MANIFEST_FILE } from '../../trainer/export/package-format';\nexport const x = MANIFEST_FILE;\n",
    message: /The engine imports only trainer\/config/,
  },
  {
    rule: 'the engine runs without TF.js',
    file: 'functions/engine/example.ts',
    refused: "import * as tf from '@tensorflow/tfjs-core';\nexport const x = tf;\n",
    allowed: "import { presetConfig } from '../../trainer/config';\nexport const x = presetConfig;\n",
    message: /The engine runs on onnxruntime only/,
  },
  {
    rule: 'onnxruntime-node stays out of the engine’s other modules too',
    file: 'functions/engine/example.ts',
    refused: "import * as ort from 'onnxruntime-node';\nexport const x = ort;\n",
    allowed: "import { EXECUTION_PROVIDERS } from './onnx-session';\nexport const x = EXECUTION_PROVIDERS;\n",
    message: /Only functions\/engine\/onnx-session\.ts \(inference\) and trainer\/native-conv\/ort-binding\.ts/,
  },
  {
    rule: 'TF.js only under trainer/, bench/ and tests/ (the CLI)',
    file: 'functions/cli/commands/example.ts',
    refused: "import * as tf from '@tensorflow/tfjs-core';\nexport const x = tf;\n",
    allowed: "import { checkParity } from '../../../trainer/export/parity';\nexport const x = checkParity;\n",
    message: /Only trainer\/, bench\/ and tests\/ import TF\.js/,
  },
  {
    rule: 'TF.js only under trainer/, bench/ and tests/ (infra)',
    file: 'infra/lib/example.ts',
    refused: "import * as tf from '@tensorflow/tfjs-node';\nexport const x = tf;\n",
    allowed: "import * as path from 'node:path';\nexport const x = path;\n",
    message: /Only trainer\/, bench\/ and tests\/ import TF\.js/,
  },
  {
    rule: 'the trainer imports TF.js',
    file: 'trainer/export/example.ts',
    refused: "import * as ort from 'onnxruntime-node';\nexport const x = ort;\n",
    allowed: "import * as tf from '@tensorflow/tfjs-core';\nexport const x = tf;\n",
    message: /Only functions\/engine\/onnx-session\.ts \(inference\) and trainer\/native-conv\/ort-binding\.ts/,
  },
  {
    rule: 'the trainer reaches onnxruntime only through its binding module',
    file: 'trainer/wasm-kernels/example.ts',
    refused: "import { binding } from 'onnxruntime-node/dist/binding';\nexport const x = binding;\n",
    allowed: "import { loadSyncOrt } from '../native-conv/ort-binding';\nexport const x = loadSyncOrt;\n",
    message: /Only functions\/engine\/onnx-session\.ts \(inference\) and trainer\/native-conv\/ort-binding\.ts/,
  },
  {
    rule: 'the trainer’s binding module imports onnxruntime, and still not the AWS SDK',
    file: 'trainer/native-conv/ort-binding.ts',
    refused: "import { S3Client } from '@aws-sdk/client-s3';\nexport const x = S3Client;\n",
    allowed: "import { binding } from 'onnxruntime-node/dist/binding';\nexport const x = binding;\n",
    message: /Only functions\/adapters\/aws\/, infra\/, bench\/ and tests\/ import the AWS SDK/,
  },
  {
    rule: 'the AWS SDK only in the AWS adapters (handlers)',
    file: 'functions/handlers/support/example.ts',
    refused: "import { S3Client } from '@aws-sdk/client-s3';\nexport const x = S3Client;\n",
    allowed: "import { S3BlobStore } from '../../adapters/aws';\nexport const x = S3BlobStore;\n",
    message: /Only functions\/adapters\/aws\/, infra\/, bench\/ and tests\/ import the AWS SDK/,
  },
  {
    rule: 'the AWS SDK only in the AWS adapters (composition root)',
    file: 'functions/wiring/example.ts',
    refused: "import { SQSClient } from '@aws-sdk/client-sqs';\nexport const x = SQSClient;\n",
    allowed: "import { SqsJobQueue } from '../adapters/aws';\nexport const x = SqsJobQueue;\n",
    message: /Only functions\/adapters\/aws\/, infra\/, bench\/ and tests\/ import the AWS SDK/,
  },
  {
    rule: 'the AWS SDK only in the AWS adapters (trainer)',
    file: 'trainer/example.ts',
    refused: "import { S3Client } from '@aws-sdk/client-s3';\nexport const x = S3Client;\n",
    allowed: "import * as tf from '@tensorflow/tfjs-core';\nexport const x = tf;\n",
    message: /Only functions\/adapters\/aws\/, infra\/, bench\/ and tests\/ import the AWS SDK/,
  },
  {
    rule: 'the AWS adapters import the AWS SDK',
    file: 'functions/adapters/aws/example.ts',
    refused: "import * as tf from '@tensorflow/tfjs-core';\nexport const x = tf;\n",
    allowed: "import { S3Client } from '@aws-sdk/client-s3';\nexport const x = S3Client;\n",
    message: /Only trainer\/, bench\/ and tests\/ import TF\.js/,
  },
  {
    rule: 'infra imports the AWS SDK',
    file: 'infra/lib/example.ts',
    refused: "import * as ort from 'onnxruntime-node';\nexport const x = ort;\n",
    allowed: "import { S3Client } from '@aws-sdk/client-s3';\nexport const x = S3Client;\n",
    message: /Only functions\/engine\/onnx-session\.ts \(inference\) and trainer\/native-conv\/ort-binding\.ts/,
  },
  {
    // Tests mirror the source tree; the rules of the folder a test mirrors must not reach it.
    rule: 'tests import the AWS SDK, also where they mirror the handlers',
    file: 'tests/functions/handlers/example.test.ts',
    refused: "import * as ort from 'onnxruntime-node';\nexport const x = ort;\n",
    allowed: "import { S3Client } from '@aws-sdk/client-s3';\nexport const x = S3Client;\n",
    message: /Only functions\/engine\/onnx-session\.ts \(inference\) and trainer\/native-conv\/ort-binding\.ts/,
  },
  {
    rule: 'the handlers import nothing of the local runtime',
    file: 'functions/handlers/events/example.ts',
    refused: "import { startWorkerPool } from '../../local/worker/worker-pool';\nexport const x = startWorkerPool;\n",
    allowed:
      "import { runBatchStylizeJob } from '../../worker/run-batch-stylize-job';\nexport const x = runBatchStylizeJob;\n",
    message: /The Lambda handlers import nothing from functions\/local\//,
  },
  {
    rule: 'the handlers keep the AWS SDK rule beside their own',
    file: 'functions/handlers/example.ts',
    refused: "import { BatchClient } from '@aws-sdk/client-batch';\nexport const x = BatchClient;\n",
    allowed: "import { FsBlobStore } from '../adapters/local';\nexport const x = FsBlobStore;\n",
    message: /Only functions\/adapters\/aws\/, infra\/, bench\/ and tests\/ import the AWS SDK/,
  },
  {
    rule: 'the shared worker imports nothing of the local runtime',
    file: 'functions/worker/example.ts',
    refused:
      "import { createTrainExecutor } from '../local/worker/train-executor';\nexport const x = createTrainExecutor;\n",
    allowed: "import { claimJob } from '../core/use-cases/run-claim-job';\nexport const x = claimJob;\n",
    message: /functions\/worker\/ runs in both runtimes/,
  },
  {
    rule: 'the shared worker imports nothing of the handlers',
    file: 'functions/worker/example.ts',
    refused: "import { HANDLER_ENV } from '../handlers/support/handler-env';\nexport const x = HANDLER_ENV;\n",
    allowed: "import { toJobError } from './job-error';\nexport const x = toJobError;\n",
    message: /functions\/worker\/ runs in both runtimes/,
  },
  {
    rule: 'the shared worker keeps the AWS SDK rule beside its own',
    file: 'functions/worker/example.ts',
    refused: "import { S3Client } from '@aws-sdk/client-s3';\nexport const x = S3Client;\n",
    allowed: "import type { ExecutionProvider } from '../engine';\nexport type X = ExecutionProvider;\n",
    message: /Only functions\/adapters\/aws\/, infra\/, bench\/ and tests\/ import the AWS SDK/,
  },
  {
    rule: 'the engine keeps the AWS SDK rule beside its own',
    file: 'functions/engine/example.ts',
    refused: "import { S3Client } from '@aws-sdk/client-s3';\nexport const x = S3Client;\n",
    allowed: "import { presetConfig } from '../../trainer/config';\nexport const x = presetConfig;\n",
    message: /Only functions\/adapters\/aws\/, infra\/, bench\/ and tests\/ import the AWS SDK/,
  },
];

describe.each(cases)('$rule', ({ file, refused, allowed, message }) => {
  it('refuses the violation', async () => {
    expect(await boundaryMessages(file, refused)).toEqual([expect.stringMatching(message)]);
  });
  it('lets the permitted import through', async () => {
    expect(await boundaryMessages(file, allowed)).toEqual([]);
  });
});

describe('imports used only as types', () => {
  const typeImportMessages = async (code: string): Promise<string[]> => {
    const result = only(await eslint.lintText(code, { filePath: path.join(root, 'functions/core/example.ts') }));
    return result.messages
      .filter((m) => m.ruleId === '@typescript-eslint/consistent-type-imports')
      .map((m) => m.message);
  };

  it('must be marked as type imports', async () => {
    expect(await typeImportMessages("import { Job } from '../job';\nexport type X = Job;\n")).toHaveLength(1);
  });

  it('pass when marked, inline or whole', async () => {
    expect(await typeImportMessages("import { type Job } from '../job';\nexport type X = Job;\n")).toEqual([]);
    expect(await typeImportMessages("import type { Job } from '../job';\nexport type X = Job;\n")).toEqual([]);
  });
});
