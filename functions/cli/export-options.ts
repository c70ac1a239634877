/**
 * The options file of `peerstyle export --options <file>`: the manifest's name, version and default
 * structure mode as JSON (`{ "name": "…", "version": "…", "structureDefault": "keep" }`).
 *
 * Programs that export on someone else's behalf (the training worker) write the user's model name
 * here instead of on the command line, where a name such as `--verify` would be read as an option.
 */

import { promises as fs } from 'node:fs';
import { UsageError } from './args';

/** What an options file may set; every key is optional. */
export interface ExportOptionsFile {
  name?: string;
  version?: string;
  structureDefault?: string;
}

const KEYS: readonly (keyof ExportOptionsFile)[] = ['name', 'version', 'structureDefault'];

/** Reads and checks an options file; unknown keys and non-string values are usage errors. */
export async function readExportOptions(file: string): Promise<ExportOptionsFile> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`--options ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`--options ${file}: expected a JSON object.`);
  }
  const options: ExportOptionsFile = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      throw new UsageError(`--options ${file}: unknown key "${key}". Expected one of: ${KEYS.join(', ')}.`);
    }
    if (typeof value !== 'string') throw new UsageError(`--options ${file}: "${key}" must be a string.`);
    options[key as keyof ExportOptionsFile] = value;
  }
  return options;
}
