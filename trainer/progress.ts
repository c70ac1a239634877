/**
 * Training output: a one-line progress bar (iteration, rate, ETA, main losses) redrawn on a terminal,
 * and metric lines in a stable `METRIC step=<n> name=value …` form on stdout that a regex (a SageMaker
 * MetricDefinition, the local runtime's job monitor) can scrape.
 */

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(r).padStart(2, '0')}s` : `${r}s`;
}

function formatValue(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(4) : v.toPrecision(5);
}

/** `METRIC step=120 loss_idt=0.041200 …`: one line, names [a-z0-9_], values as plain decimals or exponentials. */
export function metricLine(step: number, values: Record<string, number>): string {
  const parts = Object.entries(values).map(([k, v]) => `${k}=${formatValue(v)}`);
  return `METRIC step=${step} ${parts.join(' ')}`;
}

/** Parses a metric line back into its values (null for any other line). */
export function parseMetricLine(line: string): { step: number; values: Record<string, number> } | null {
  const m = /^METRIC step=(\d+)((?: [a-z0-9_]+=(?:[-+0-9.eE]+|NaN|-?Infinity))*)\s*$/.exec(line.trim());
  const [, step, pairs] = m ?? [];
  if (step === undefined || pairs === undefined) return null;
  const values: Record<string, number> = {};
  for (const pair of pairs.trim().split(/\s+/).filter(Boolean)) {
    // The pattern above allows exactly one '=' in each pair.
    const eq = pair.indexOf('=');
    values[pair.slice(0, eq)] = Number(pair.slice(eq + 1));
  }
  return { step: Number(step), values };
}

export class ProgressBar {
  private readonly started = Date.now();
  private lastDraw = 0;

  constructor(
    private readonly total: number,
    private readonly startIteration: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  /** Redraws the bar (at most 4 times a second on a terminal; every call writes a line otherwise only when forced). */
  update(iteration: number, losses: Record<string, number>, force = false): void {
    const now = Date.now();
    if (!force && now - this.lastDraw < 250) return;
    this.lastDraw = now;
    const done = iteration - this.startIteration;
    const rate = done / Math.max(1e-9, (now - this.started) / 1000);
    const eta = (this.total - iteration) / Math.max(rate, 1e-9);
    const width = 24;
    const filled = Math.round((width * iteration) / Math.max(1, this.total));
    const bar = '#'.repeat(Math.min(width, filled)).padEnd(width, '.');
    const shown = ['loss_idt', 'loss_idt_aux', 'loss_adv_g', 'loss_d']
      .flatMap((k) => {
        const value = losses[k];
        return value === undefined ? [] : [`${k}=${formatValue(value)}`];
      })
      .join(' ');
    const text = `iter ${iteration}/${this.total} [${bar}] ${rate.toFixed(2)} it/s ETA ${formatDuration(eta)} ${shown}`;
    if (this.stream.isTTY) this.stream.write(`\r\x1b[2K${text}`);
    else if (force) this.stream.write(`${text}\n`);
  }

  finish(): void {
    if (this.stream.isTTY) this.stream.write('\n');
  }
}
