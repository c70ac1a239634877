/**
 * Reads the files of a gzip-compressed tar archive in memory, with node:zlib and nothing else.
 *
 * SageMaker hands a finished training run's /opt/ml/model folder back as one `model.tar.gz`; the
 * training events function unpacks it into the models bucket, where the worker loads packages file by
 * file. The archive is a few files written by GNU tar, so a small reader of the POSIX ustar format is
 * enough: regular files, the ustar name prefix, and the two long-name extensions GNU tar and pax
 * writers emit (`L` records and `path` in `x` headers). Directories, links and devices are skipped,
 * since a model package holds plain files only, and a link could point outside the package.
 */

import { gunzipSync } from 'node:zlib';
import { DomainError, ErrorCode } from '../../core';

/** One regular file of an archive. */
export interface TarFile {
  /** The path inside the archive, without a leading `./`. */
  name: string;
  data: Buffer;
}

const BLOCK = 512;

function field(header: Buffer, offset: number, length: number): string {
  const raw = header.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}

function octal(header: Buffer, offset: number, length: number, what: string): number {
  const text = field(header, offset, length).trim();
  if (!/^[0-7]*$/.test(text)) throw corrupt(`${what} is not an octal number`);
  return text === '' ? 0 : parseInt(text, 8);
}

function corrupt(reason: string): DomainError {
  return new DomainError(ErrorCode.BAD_REQUEST, `Not a readable tar archive: ${reason}.`);
}

/** The header checksum: the byte sum with the checksum field itself counted as spaces. */
function checksumOk(header: Buffer): boolean {
  let sum = 0;
  for (const [i, byte] of header.entries()) sum += i >= 148 && i < 156 ? 0x20 : byte;
  return sum === octal(header, 148, 8, 'the header checksum');
}

/** The `path` record of a pax extended header (`<length> path=<value>\n` lines), if any. */
function paxPath(data: Buffer): string | undefined {
  let offset = 0;
  let found: string | undefined;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    if (space === -1) break;
    const length = Number(data.subarray(offset, space).toString('ascii'));
    if (!Number.isInteger(length) || length <= 0) break;
    const record = data.subarray(space + 1, offset + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (record.slice(0, equals) === 'path') found = record.slice(equals + 1);
    offset += length;
  }
  return found;
}

/** Every regular file in `archive` (a .tar.gz), in archive order. Throws BAD_REQUEST on a damaged archive. */
export function readTarGz(archive: Uint8Array): TarFile[] {
  let tar: Buffer;
  try {
    tar = gunzipSync(archive);
  } catch (error) {
    throw corrupt(`gunzip failed (${(error as Error).message})`);
  }
  const files: TarFile[] = [];
  let longName: string | undefined;
  let offset = 0;
  let ended = false;
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    // Two zero blocks end the archive; one is enough to stop reading.
    if (header.every((byte) => byte === 0)) {
      ended = true;
      break;
    }
    if (!checksumOk(header)) throw corrupt(`bad header checksum at byte ${offset}`);
    const size = octal(header, 124, 12, 'an entry size');
    const type = String.fromCharCode(header[156] || 0x30);
    const start = offset + BLOCK;
    if (start + size > tar.length) throw corrupt(`an entry at byte ${offset} runs past the end`);
    const data = tar.subarray(start, start + size);
    offset = start + Math.ceil(size / BLOCK) * BLOCK;

    if (type === 'L') {
      longName = data.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    if (type === 'x') {
      longName = paxPath(data) ?? longName;
      continue;
    }
    const ustar = field(header, 257, 6) === 'ustar';
    const prefix = ustar ? field(header, 345, 155) : '';
    const name = longName ?? (prefix === '' ? field(header, 0, 100) : `${prefix}/${field(header, 0, 100)}`);
    longName = undefined;
    if (type !== '0' && type !== '7') continue; // directories, links, devices, global headers
    files.push({ name: name.replace(/^(\.\/)+/, ''), data: Buffer.from(data) });
  }
  // Without the end marker the archive was cut short, and files after the cut would be missing silently.
  if (!ended) throw corrupt('it ends before its end-of-archive marker');
  return files;
}
