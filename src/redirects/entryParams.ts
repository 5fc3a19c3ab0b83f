/**
 * Pass-through parameters of entry links (e.g. inBrain's `mid`): the survey whitelists names
 * (`entryParams`), and only short values of a safe alphabet are kept, so nothing a link
 * carries can smuggle markup, separators or megabytes into the respondent's row or into
 * redirect URLs.
 */
export const ENTRY_PARAM_MAX_LENGTH = 256;
const ENTRY_PARAM_VALUE = /^[A-Za-z0-9_.-]+$/;

/** Query values as Fastify hands them over (repeated names arrive as arrays). */
export type QueryValues = Record<string, unknown>;

/**
 * The whitelisted entry parameters of `query` whose values qualify (non-empty, at most 256
 * characters of A-Za-z0-9_-.). A repeated name takes its first value; a value that does not
 * qualify is left out rather than truncated (a truncated id would be a wrong id).
 */
export function captureEntryParams(query: QueryValues | null | undefined, whitelist: readonly string[] | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!query || !whitelist) return out;
  for (const name of whitelist) {
    if (!Object.prototype.hasOwnProperty.call(query, name)) continue;
    const raw = query[name];
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (typeof value !== 'string') continue;
    if (value.length > ENTRY_PARAM_MAX_LENGTH || !ENTRY_PARAM_VALUE.test(value)) continue;
    out[name] = value;
  }
  return out;
}
