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
