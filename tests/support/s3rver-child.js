/**
 * Runs s3rver on a free loopback port in its own process and prints `{"port": N}` on stdout once it
 * listens; it stops when its parent closes stdin.
 *
 * It runs apart from the test process because s3rver encrypts ListObjectsV2 continuation tokens with
 * DES, which OpenSSL 3 serves only through the legacy provider, and that provider can be enabled only
 * when a process starts (the parent passes NODE_OPTIONS=--openssl-legacy-provider). Plain JavaScript,
 * so that starting it costs no compiler.
 */
'use strict';

const S3rver = require('s3rver');

async function main() {
  const directory = process.argv[2];
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  const { port } = await server.run();
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => {
    server.close().finally(() => process.exit(0));
  });
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
