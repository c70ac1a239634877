// Lint rules: typescript-eslint's recommended set, plus import boundaries that hold the architecture:
// the domain core imports nothing from adapters or foreign runtimes, and onnxruntime-node is imported
// only by the engine's session module.
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

// TF.js is the trainer's runtime: the platform code (functions/, infra/) runs without it.
const TFJS_OUTSIDE_TRAINER = {
  group: ['@tensorflow/*'],
  message: 'Only trainer/, bench/ and tests/ import TF.js (@tensorflow/*).',
};

const ONNXRUNTIME_OWNER = {
  name: 'onnxruntime-node',
  message: 'Only functions/engine/onnx-session.ts imports onnxruntime-node.',
};

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
      'no-restricted-imports': [
        'error',
        {
          paths: [ONNXRUNTIME_OWNER],
          patterns: [TFJS_OUTSIDE_TRAINER],
        },
      ],
    },
  },
  {
    files: ['trainer/**', 'bench/**', 'tests/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [ONNXRUNTIME_OWNER] }] },
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
              group: ['**/adapters/**', '**/graphql/**', '**/engine/**', '**/local/**', '**/handlers/**'],
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
