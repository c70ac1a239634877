/**
 * Serves the playground: a static page at `/`, its script, stylesheet and icon under `/playground/`, and
 * `/favicon.ico`. The page is plain HTML with a module script and talks to the API like any other client
 * (GraphQL over HTTP, graphql-ws, presigned uploads, signed downloads), so it needs no build step and no
 * server state.
 */

import { promises as fs } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

/** Where the playground page is served. */
export const PLAYGROUND_PATH = '/';

/** Request path → file in this folder and its content type. */
const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  [PLAYGROUND_PATH]: { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/playground/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/playground/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
  '/playground/icon.svg': { file: 'icon.svg', type: 'image/svg+xml' },
  // Browsers ask for it whatever the page links; a 32 px PNG in an ICO container (icon.svg, rendered).
  '/favicon.ico': { file: 'favicon.ico', type: 'image/x-icon' },
};

/**
 * A request hook for `createApiServer({ routes })`: answers GET and HEAD for the playground's files and
 * leaves every other request to the server (resolves false).
 */
export function createPlaygroundRoute(
  dir: string = __dirname,
): (request: IncomingMessage, response: ServerResponse) => Promise<boolean> {
  // Read once: the files ship with the server and do not change while it runs.
  const cache = new Map<string, Promise<Buffer>>();
  return async (request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    const asset = ASSETS[new URL(request.url ?? '/', 'http://localhost').pathname];
    if (asset === undefined) return false;
    let body = cache.get(asset.file);
    if (body === undefined) {
      body = fs.readFile(path.join(dir, asset.file));
      cache.set(asset.file, body);
    }
    const bytes = await body;
    response.writeHead(200, {
      'content-type': asset.type,
      'content-length': bytes.length,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      // Only this origin's script, styles, API and WebSocket; images may be local previews (blob:).
      'content-security-policy':
        "default-src 'self'; img-src 'self' blob: data:; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'",
    });
    response.end(request.method === 'HEAD' ? undefined : bytes);
    return true;
  };
}
