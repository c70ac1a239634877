/**
 * The SageMaker metric definitions for the TSPR trainer's log lines.
 *
 * The trainer prints one line per logging step, for example
 * `METRIC step=120 loss_idt=0.0412 loss_adv_g=0.98 loss_d=0.51 it_per_s=0.42`,
 * and SageMaker turns each capture below into a CloudWatch metric. This module
 * is plain data with no aws-cdk-lib import, so the trainer's own tests can
 * check these patterns against the lines it really prints.
 */

/** One SageMaker MetricDefinition (the API's field names). */
export interface MetricDefinition {
  /** The CloudWatch metric name. */
  readonly Name: string;
  /** A regex (at most 500 characters) whose first capture group is the value. */
  readonly Regex: string;
}

/** The `key=value` fields of a METRIC line that become metrics. */
export const TRAINING_METRIC_KEYS = ['step', 'loss_idt', 'loss_adv_g', 'loss_d', 'it_per_s'] as const;

// A decimal or exponent number, such as 120, 0.0412, -1.5 or 3e-05.
const NUMBER = '[-+]?[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?';

/**
 * One definition per key. The pattern anchors on the `METRIC` tag and on the
 * whitespace before the key, so `loss_d` never matches inside another name,
 * and any other log line that happens to contain `key=` is ignored.
 */
export const TRAINING_METRIC_DEFINITIONS: readonly MetricDefinition[] = TRAINING_METRIC_KEYS.map((key) => ({
  Name: `train:${key}`,
  Regex: `METRIC\\s(?:.*\\s)?${key}=(${NUMBER})`,
}));

/**
 * Applies the definitions to one log line the way SageMaker does (first
 * capture group of the first match), returning the values found by name.
 */
export function scrapeMetrics(line: string): Record<string, number> {
  const values: Record<string, number> = {};
  for (const { Name, Regex } of TRAINING_METRIC_DEFINITIONS) {
    const match = new RegExp(Regex).exec(line);
    if (match?.[1] !== undefined) values[Name] = Number(match[1]);
  }
  return values;
}
