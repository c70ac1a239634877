// Lint rules: typescript-eslint's recommended set, plus import boundaries that hold the architecture:
// the domain core imports nothing from adapters, the trainer or foreign runtimes, onnxruntime-node is imported only
// by the engine's session module (and, for training's convolutions, by trainer/native-conv/ort-binding.ts), the AWS SDK only by the AWS adapters (and the CDK app), and the code
// both runtimes share (functions/worker/) and the Lambda handlers import nothing of the local runtime.
//
// A later block's `no-restricted-imports` replaces an earlier one's for the files it matches, so every
// block lists all the restrictions that still hold for its files.
//
// `process.env` is read only by the configuration modules, which validate what they read and hand typed
// settings on; other code takes the setting, or an environment to read, as a parameter. Entry points
// outside these folders (bin/) hand the process's environment down.
//
// Blob key prefixes (`drop/`, `uploads/`, `out/`, …) are named once, in functions/core/blob-prefixes.ts:
// platform code builds and matches keys from that table, never from a copy of its strings.
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

// TF.js is the trainer's runtime: the platform code (functions/, infra/) runs without it.
const TFJS_OUTSIDE_TRAINER = {
  group: ['@tensorflow/*'],
  message: 'Only trainer/, bench/ and tests/ import TF.js (@tensorflow/*).',
};

// Each AWS SDK client lives in one adapter module; everything else reaches AWS through the ports.
const AWS_SDK_OUTSIDE_ADAPTERS = {
  group: ['@aws-sdk/*'],
  message: 'Only functions/adapters/aws/, infra/, bench/ and tests/ import the AWS SDK (@aws-sdk/*).',
};

const ONNXRUNTIME_MESSAGE =
  'Only functions/engine/onnx-session.ts (inference) and trainer/native-conv/ort-binding.ts (training convolutions) import onnxruntime-node.';
const ONNXRUNTIME_OWNER = { name: 'onnxruntime-node', message: ONNXRUNTIME_MESSAGE };
// Its files too (the synchronous binding lives in onnxruntime-node/dist/binding).
const ONNXRUNTIME_FILES = { group: ['onnxruntime-node/*'], message: ONNXRUNTIME_MESSAGE };

// Relative imports that climb up into functions/local/ (and, for the worker, into functions/handlers/).
const HANDLERS_WITHOUT_LOCAL = {
  regex: '^(\\.\\./)+local(/|$)',
  message: 'The Lambda handlers import nothing from functions/local/ (the local runtime).',
};

const WORKER_WITHOUT_RUNTIMES = {
  regex: '^(\\.\\./)+(local|handlers)(/|$)',
  message: 'functions/worker/ runs in both runtimes: it imports nothing from functions/local/ or functions/handlers/.',
};

/** The modules that read `process.env`, each for its own runtime. */
const ENV_READERS = [
  'functions/config.ts', // the local runtime and the `peerstyle` command
  'functions/handlers/support/handler-env.ts', // the Lambda functions and the Batch container
  'trainer/trainer-env.ts', // the trainer
  'infra/app.ts', // the CDK app
];

/** The table of blob key prefixes, the one module that spells them. */
const BLOB_PREFIX_TABLE = 'functions/core/blob-prefixes.ts';

// The table's values without their "/". A config file cannot load the TypeScript module, so they are
// repeated here; tests/lint/blob-prefixes.test.ts lints every value of the table and fails on one
// missing below.
const BLOB_PREFIX_ROOTS = [
  'drop',
  'uploads',
  'saved-styles',
  'job-inputs',
  'rejected',
  'styles',
  'out',
  'results',
  'models',
  'checkpoints',
  'training-output',
  'datasets',
];

// Refused are the forms a key takes: a string that starts with "<prefix>/", a template part that does
// (`drop/${id}`, or `/datasets/` after a bucket in an S3 URI), and a constant holding the bare word (a
// key root to which "/" is added later). The bare words stay free elsewhere: folder names in
// path.join, type unions of the table's keys and the like.
const BLOB_PREFIX_MESSAGE = `A blob key prefix is spelled only in ${BLOB_PREFIX_TABLE}: build the key from BLOB_PREFIXES.`;
const ROOTS = BLOB_PREFIX_ROOTS.join('|');
const BLOB_PREFIX_COPIES = [
  { selector: `Literal[value=/^(${ROOTS})\\//]`, message: BLOB_PREFIX_MESSAGE },
  { selector: `TemplateElement[value.raw=/^\\/?(${ROOTS})\\//]`, message: BLOB_PREFIX_MESSAGE },
  {
    selector: `VariableDeclarator > Literal.init[value=/^(${ROOTS})$/]`,
    message: `${BLOB_PREFIX_MESSAGE} A folder name that matches one is written where it is used, not held in a constant.`,
  },
];

/** The rule entry for files that may import neither TF.js nor the AWS SDK, plus `patterns`. */
const platformImports = (...patterns) => [
  'error',
  { paths: [ONNXRUNTIME_OWNER], patterns: [TFJS_OUTSIDE_TRAINER, AWS_SDK_OUTSIDE_ADAPTERS, ...patterns] },
];

module.exports = tseslint.config(
  { ignores: ['node_modules/**', '**/cdk.out/**', 'coverage/**', 'functions/graphql/generated/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        __dirname: 'readonly',
        console: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
      // Imports used only as types say so: they are erased at build time, so a reader (and esbuild, which
      // compiles one file at a time) sees which imports load a module at run time. `typeof import('x')`
      // stays allowed: it types the lazily required runtimes.
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      'no-restricted-imports': platformImports(),
    },
  },
  {
    files: ['functions/**', 'trainer/**', 'infra/**'],
    ignores: ENV_READERS,
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: `Only the configuration modules (${ENV_READERS.join(', ')}) read it; take the setting or the environment as a parameter.`,
        },
      ],
    },
  },
  {
    files: ['functions/**', 'infra/**'],
    ignores: [BLOB_PREFIX_TABLE],
    rules: { 'no-restricted-syntax': ['error', ...BLOB_PREFIX_COPIES] },
  },
  {
    files: ['functions/adapters/aws/**', 'infra/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [ONNXRUNTIME_OWNER], patterns: [TFJS_OUTSIDE_TRAINER] }] },
  },
  {
    files: ['trainer/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [ONNXRUNTIME_OWNER], patterns: [AWS_SDK_OUTSIDE_ADAPTERS, ONNXRUNTIME_FILES] },
      ],
    },
  },
  {
    // The trainer's one door to onnxruntime: its synchronous session, for the native convolutions.
    files: ['trainer/native-conv/ort-binding.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [AWS_SDK_OUTSIDE_ADAPTERS] }] },
  },
  {
    files: ['bench/**', 'tests/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [ONNXRUNTIME_OWNER], patterns: [ONNXRUNTIME_FILES] }] },
  },
  {
    files: ['functions/handlers/**/*.ts'],
    rules: { 'no-restricted-imports': platformImports(HANDLERS_WITHOUT_LOCAL) },
  },
  {
    files: ['functions/worker/**/*.ts'],
    rules: { 'no-restricted-imports': platformImports(WORKER_WITHOUT_RUNTIMES) },
  },
  {
    // The engine runs packages; of the trainer it may read only the package format, the config and the
    // tiled graphs' stage splitter, never the exporter or TF.js (the engine ships without them).
    files: ['functions/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [ONNXRUNTIME_OWNER],
          patterns: [
            {
              regex: '/trainer/(?!(config|export/package-format|export/graph-stages)$)',
              message: 'The engine imports only trainer/config, trainer/export/package-format and graph-stages.',
            },
            { group: ['@tensorflow/*'], message: 'The engine runs on onnxruntime only.' },
            AWS_SDK_OUTSIDE_ADAPTERS,
          ],
        },
      ],
    },
  },
  {
    files: ['functions/engine/onnx-session.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['functions/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // The trainer included: what the core needs of it comes through the training-rules port.
              group: [
                '**/adapters/**',
                '**/graphql/**',
                '**/engine/**',
                '**/local/**',
                '**/handlers/**',
                '**/worker/**',
                '**/wiring/**',
                '**/trainer/**',
              ],
              message: 'The core imports only the core.',
            },
            {
              group: ['@aws-sdk/*', 'graphql', 'onnxruntime-node', 'better-sqlite3', 'node:fs', 'fs', 'aws-cdk-lib'],
              message: 'The core imports no foreign runtime.',
            },
            TFJS_OUTSIDE_TRAINER,
          ],
        },
      ],
    },
  },
);
