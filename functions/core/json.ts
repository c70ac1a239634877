/**
 * The JSON value type used for job inputs, results and manifest summaries.
 *
 * Job payloads cross every boundary the platform has (SQLite text columns, DynamoDB items, GraphQL JSON
 * scalars, queue messages), so they are restricted to what survives a JSON round trip.
 */

/** A value that `JSON.stringify` and `JSON.parse` carry through unchanged. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** True for a plain object (not null, not an array), so its keys may be read. */
export function isRecord(value: JsonValue | undefined): value is JsonObject;
export function isRecord(value: unknown): value is Record<string, unknown>;
export function isRecord(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
