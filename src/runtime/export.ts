/**
 * Submission exports, streamed: CSV (one column per question, spreadsheet-safe) and JSON
 * (an array of objects, values as stored). Rows are produced lazily from the records
 * cursor, so a large survey never sits in memory.
 */
import type { Outcome } from '../db/schema/index.ts';
import { csvCell } from '../lib/csv.ts';
import type { RecordsService } from './records.ts';
import type { SurveyRow } from './data.ts';

const FIXED = ['recordId', 'userId', 'username', 'outcome', 'status', 'definitionVersion', 'reviewLevel', 'createdAt', 'submittedAt'] as const;

/**
 * One CSV cell. Strings (and multi answers, joined with ";") get the platform's formula guard
 * (src/lib/csv.ts: a leading apostrophe before = + - @ tab CR, the same as the respondents
 * export); numbers and booleans cannot be formulas and are written as they are, so -5 stays a number.
 */
export function exportCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return csvCell(String(value), false);
  if (Array.isArray(value)) return csvCell(value.map(String).join(';'));
  return csvCell(typeof value === 'string' ? value : JSON.stringify(value));
}

function fixedValues(r: { record: { id: number; respondentId: number; outcome: Outcome | null; statusCode: number | null; definitionVersion: number; reviewLevel: string | null; createdAt: Date; submittedAt: Date | null }; username: string }) {
  return {
    recordId: r.record.id,
    userId: r.record.respondentId,
    username: r.username,
    outcome: r.record.outcome,
    status: r.record.statusCode,
    definitionVersion: r.record.definitionVersion,
    reviewLevel: r.record.reviewLevel,
    createdAt: r.record.createdAt.toISOString(),
    submittedAt: r.record.submittedAt?.toISOString() ?? null,
  };
}

export async function* submissionsCsv(records: RecordsService, survey: SurveyRow, filter: { outcome?: Outcome }): AsyncGenerator<string> {
  const columns = await records.exportColumns(survey);
  // Question columns are named by id (stable across versions); labels live in the JSON export and the definition.
  yield [...FIXED, ...columns.map((c) => c.id)].map(exportCell).join(',') + '\r\n';
  let chunk = '';
  for await (const r of records.submissions(survey, filter)) {
    const fixed = fixedValues(r);
    chunk += [...FIXED.map((k) => fixed[k]), ...columns.map((c) => r.record.answers[c.id])].map(exportCell).join(',') + '\r\n';
    if (chunk.length > 64 * 1024) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

export async function* submissionsJson(records: RecordsService, survey: SurveyRow, filter: { outcome?: Outcome }): AsyncGenerator<string> {
  const columns = await records.exportColumns(survey);
  const labels = Object.fromEntries(columns.map((c) => [c.id, c.label]));
  yield `{"questions":${JSON.stringify(labels)},"items":[`;
  let first = true;
  let chunk = '';
  for await (const r of records.submissions(survey, filter)) {
    chunk += (first ? '' : ',') + JSON.stringify({ ...fixedValues(r), answers: r.record.answers });
    first = false;
    if (chunk.length > 64 * 1024) {
      yield chunk;
      chunk = '';
    }
  }
  yield `${chunk}]}`;
}
