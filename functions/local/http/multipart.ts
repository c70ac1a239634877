/**
 * A small multipart/form-data parser for presigned-POST uploads.
 *
 * The body is already buffered (and bounded) by the caller, so parsing is a scan for boundaries rather
 * than a streaming state machine. It accepts what browsers and S3 clients send: text fields first,
 * then one file part, as S3 requires; anything after the file is ignored, as S3 does.
 */

import { badRequest, type DomainError } from '../../core';

/** A parsed form. */
export interface MultipartForm {
  /** Text fields, by name; a repeated name keeps the first value. */
  fields: Record<string, string>;
  /** The file part, if any. */
  file: { fieldName: string; filename: string; contentType: string | null; data: Buffer } | null;
}

function malformed(message: string): DomainError {
  return badRequest(`Malformed multipart form: ${message}.`);
}

/** The boundary from a Content-Type header, or BAD_REQUEST when it is not multipart/form-data. */
export function multipartBoundary(contentType: string | undefined): string {
  const match = /^multipart\/form-data\s*;.*boundary=(?:"([^"]+)"|([^\s;]+))/i.exec(contentType ?? '');
  // Exactly one of the two groups takes part: the quoted boundary or the bare one.
  const boundary = match?.[1] ?? match?.[2];
  if (boundary === undefined) throw malformed('expected Content-Type multipart/form-data with a boundary');
  return boundary;
}

function parseHeaders(text: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

function dispositionParam(disposition: string, name: string): string | null {
  const match = new RegExp(`;\\s*${name}="([^"]*)"`, 'i').exec(disposition);
  return match?.[1] ?? null;
}

/** Parses a buffered multipart body. */
export function parseMultipart(body: Buffer, boundary: string): MultipartForm {
  const delimiter = Buffer.from(`--${boundary}`);
  // No prototype: a field named "__proto__" or "constructor" is just a field.
  const form: MultipartForm = { fields: Object.create(null) as Record<string, string>, file: null };
  let position = body.indexOf(delimiter);
  if (position < 0) throw malformed('no boundary found');
  for (;;) {
    position += delimiter.length;
    // "--" after a delimiter closes the form.
    if (body[position] === 0x2d && body[position + 1] === 0x2d) return form;
    if (body[position] !== 0x0d || body[position + 1] !== 0x0a)
      throw malformed('boundary not followed by a line break');
    const headerEnd = body.indexOf('\r\n\r\n', position + 2);
    if (headerEnd < 0) throw malformed('part headers are not terminated');
    const headers = parseHeaders(body.subarray(position + 2, headerEnd).toString('utf8'));
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headerEnd + 4);
    if (next < 0) throw malformed('a part is not terminated by the boundary');
    const data = body.subarray(headerEnd + 4, next);
    const disposition = headers.get('content-disposition') ?? '';
    const name = dispositionParam(disposition, 'name');
    if (name === null) throw malformed('a part has no name');
    const filename = dispositionParam(disposition, 'filename');
    if (filename !== null) {
      form.file = {
        fieldName: name,
        filename,
        contentType: headers.get('content-type') ?? null,
        data: Buffer.from(data),
      };
      return form;
    }
    if (!(name in form.fields)) form.fields[name] = data.toString('utf8');
    position = next + 2;
  }
}
