#!/usr/bin/env node
// Entry point of the `peerstyle` command: loads the TypeScript sources through tsx's require hook,
// so the package runs straight from a clone with no build step.
require('tsx/cjs');
require('../functions/cli/main.ts')
  .main(process.argv.slice(2), process.env)
  .then((code) => {
    if (typeof code === 'number') process.exitCode = code;
  });
