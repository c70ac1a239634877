/**
 * Summary statistics and plain-text tables for benchmark output.
 *
 * Percentiles use the nearest-rank method on the sorted samples: with a few thousand samples it is as
 * good as interpolation, and every reported figure is a latency that was actually observed.
 */

/** A latency distribution, in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** The nearest-rank `p`-th percentile (0 < p ≤ 100) of ascending `sorted`; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Summarises latency samples in milliseconds. */
export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const total = sorted.reduce((sum, value) => sum + value, 0);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
    mean: sorted.length === 0 ? Number.NaN : total / sorted.length,
  };
}

/** Formats rows as a left-aligned text table with a header rule. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  // Every row has a cell per header column.
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

/** Milliseconds with a precision that suits their size. */
export function ms(value: number): string {
  return Number.isFinite(value) ? value.toFixed(value < 10 ? 2 : 1) : 'n/a';
}

/**
 * Parses `--name=integer` flags over `defaults`, rejecting unknown names and non-positive values so a
 * typo cannot silently run the default scale.
 */
export function parseIntFlags<T extends Record<string, number>>(argv: readonly string[], defaults: T): T {
  const result: Record<string, number> = { ...defaults };
  const problems: string[] = [];
  for (const arg of argv) {
    const [, name, digits] = /^--([a-zA-Z]+)=(\d+)$/.exec(arg) ?? [];
    if (name === undefined || digits === undefined || !(name in defaults)) {
      problems.push(
        `Unknown or malformed flag "${arg}". Expected --name=<positive integer>, one of: ${Object.keys(defaults)
          .map((k) => `--${k}`)
          .join(', ')}.`,
      );
      continue;
    }
    const value = Number(digits);
    if (value <= 0) problems.push(`--${name} must be positive, got ${value}.`);
    result[name] = value;
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return result as T;
}
