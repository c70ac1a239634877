// Entry of the engine thread: a worker thread starts without the parent's require hooks, so it loads
// the TypeScript sources through tsx itself, as bin/peerstyle.js does for the process.
require('tsx/cjs');
require('./thread-main.ts');
