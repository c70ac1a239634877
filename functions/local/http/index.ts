/**
 * The local HTTP/WebSocket API server's public surface; the composition root imports from here.
 */

export * from './api-server';
export * from './local-blob-store';
export { HTTP_STATUS } from './http-io';
export { parseMultipart, multipartBoundary, type MultipartForm } from './multipart';
