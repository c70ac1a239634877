/** Jest runs the TypeScript sources directly through swc; type checking is `npm run typecheck`. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  testTimeout: 120000,
  reporters: ['default', ['<rootDir>/tests/summary-reporter.js', {}]],
};
