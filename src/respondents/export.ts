/**
 * Streams every respondent of a survey as CSV or JSON lines, in keyset batches (memory stays
 * flat however many there are). CSV cells are neutralised against formula injection; the
 * token and URL columns never need it (tokens start with a letter or digit).
 */
import { Readable } from 'node:stream';
import { and, asc, eq, gt } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { respondents } from '../db/schema/index.ts';
import { csvRow } from '../lib/csv.ts';
import type { SurveyRow } from '../surveys/service.ts';
import { LABELS } from './fields.ts';
import type { RespondentsService } from './service.ts';

export const EXPORT_COLUMNS = ['user_id', 'username', 'name', 'status', 'auth_token', 'auth_url', 'short_auth_url', 'redirect_url', ...LABELS];
/** Columns written as they are: numbers, the status word, tokens and our own URLs. */
const PLAIN = new Set([0, 3, 4, 5, 6]);
const BATCH = 1000;

async function* batches(db: Db, surveyId: number) {
  let after = 0;
  for (;;) {
    const rows = await db
      .select()
      .from(respondents)
      .where(and(eq(respondents.surveyId, surveyId), gt(respondents.id, after)))
      .orderBy(asc(respondents.id))
      .limit(BATCH);
    if (rows.length === 0) return;
    yield rows;
    after = rows[rows.length - 1].id;
    if (rows.length < BATCH) return;
  }
}

export function exportCsv(db: Db, service: RespondentsService, survey: SurveyRow): Readable {
  const urls = service.authUrlsFor(survey);
  return Readable.from((async function* () {
    yield csvRow(EXPORT_COLUMNS, new Set(EXPORT_COLUMNS.map((_, i) => i)));
    for await (const rows of batches(db, survey.id)) {
      let out = '';
      for (const r of rows) {
        const token = service.token(r);
        const u = urls(token);
        out += csvRow([r.id, r.username, r.name, r.status, token, u.authUrl, u.shortAuthUrl, r.redirectUrl, ...LABELS.map((l) => r[l])], PLAIN);
      }
      yield out;
    }
  })());
}

export function exportJsonLines(db: Db, service: RespondentsService, survey: SurveyRow): Readable {
  return Readable.from((async function* () {
    for await (const rows of batches(db, survey.id)) {
      let out = '';
      for (const v of await service.views(rows, survey)) out += JSON.stringify(v) + '\n';
      yield out;
    }
  })());
}
