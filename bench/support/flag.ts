/**
 * The `--name value` flags of the benchmark scripts: one reader, so that a flag given last without its
 * value stops the script with a message instead of running it with `undefined`.
 */

/** The value after `--name` in `argv`, or `fallback` when the flag is absent. */
export function flag(name: string, fallback: string, argv: readonly string[] = process.argv): string {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = argv[i + 1];
  if (value === undefined) throw new Error(`--${name} needs a value.`);
  return value;
}
