/**
 * Respondents: the people of one survey, as a third party names them (`username`) and as the
 * platform numbers them (`userId`). Every door that creates or changes one (admin API, CSV
 * import, create-user JWT, inbound webhooks) goes through this service, which checks values
 * with ./fields.ts and writes the matching event to the outbox in the same transaction.
 *
 * Auth tokens are stored sealed (so they can be exported again) with a SHA-256 lookup hash.
 */
import { and, asc, eq, gt, ilike, inArray, or, sql, type SQL } from 'drizzle-orm';
import type { Database, Db, Tx } from '../db/client.ts';
import { respondents, surveys, type CreatedVia, type RespondentStatus, RESPONDENT_STATUSES } from '../db/schema/index.ts';
import { AppError, type FieldError } from '../errors.ts';
import { hashPassword, randomToken, sha256Hex, verifyPassword, type SecretBox } from '../lib/crypto.ts';
import { decodeCursor, page } from '../lib/pagination.ts';
import { signUrl } from '../redirects/signing.ts';
import { emitEvent, type RespondentRef } from '../events/outbox.ts';
import type { SurveysService } from '../surveys/service.ts';
import { surveyRef, type SurveyRow } from '../surveys/service.ts';
import {
  LABELS, LIMITS, checkEmail, checkPassword, checkPhone, checkRedirectUrl, checkText, checkUsername, mergeCustomFields,
  normaliseCustomFields, type Label,
} from './fields.ts';

export type RespondentRow = typeof respondents.$inferSelect;

/** What a caller may set on a respondent; `null` clears a value, `undefined` leaves it. */
export interface RespondentChanges {
  name?: string | null;
  email?: string | null;
  phone?: string | null;
  redirectUrl?: string | null;
  l1?: string | null; l2?: string | null; l3?: string | null; l4?: string | null; l5?: string | null;
  l6?: string | null; l7?: string | null; l8?: string | null; l9?: string | null; l10?: string | null;
  /** Merged into the stored fields; a null value removes that field. */
  customFields?: Record<string, string | null>;
  password?: string | null;
  status?: RespondentStatus;
}

export interface RespondentCreate extends RespondentChanges {
  username: string;
  test?: boolean; // a test respondent (panel mode); set at creation only
}

/** The respondent as every answer shows it (labels at top level). */
export interface RespondentView {
  userId: number;
  username: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  redirectUrl: string | null;
  l1: string | null; l2: string | null; l3: string | null; l4: string | null; l5: string | null;
  l6: string | null; l7: string | null; l8: string | null; l9: string | null; l10: string | null;
  customFields: Record<string, string>;
  status: RespondentStatus;
  createdVia: CreatedVia;
  hasPassword: boolean;
  test: boolean;
  /** Slug of the survey they came in through (another one when a replacement survey took them); null until they first come in. */
  entrySurvey: string | null;
  createdAt: string;
  updatedAt: string;
  authToken?: string;
  authUrl?: string;
  shortAuthUrl?: string;
}

export interface ListFilters {
  limit: number;
  cursor?: string;
  status?: RespondentStatus;
  search?: string;
  labels?: Partial<Record<Label, string>>;
  createdVia?: CreatedVia;
  test?: boolean;
}

/** The fields whose change is reported in `respondent.updated` (never secrets). */
const TRACKED = ['name', 'email', 'phone', 'redirectUrl', ...LABELS, 'customFields', 'status', 'password'] as const;

export function newAuthToken(box: SecretBox): { token: string; sealed: string; hash: string } {
  const token = randomToken(24);
  return { token, sealed: box.seal(token), hash: sha256Hex(token) };
}

export const respondentRef = (row: Pick<RespondentRow, 'id' | 'username' | 'test'> & { entrySurveyId?: number | null }): RespondentRef => ({
  userId: row.id,
  username: row.username,
  test: row.test,
  entrySurveyId: row.entrySurveyId ?? null,
});

/** The respondent's data as events carry it: no token, no password hash. */
export function eventData(row: RespondentRow): Record<string, unknown> {
  const out: Record<string, unknown> = {
    userId: row.id,
    username: row.username,
    name: row.name,
    email: row.email,
    phone: row.phone,
    redirectUrl: row.redirectUrl,
  };
  for (const l of LABELS) out[l] = row[l];
  out.customFields = row.customFields;
  out.status = row.status;
  out.createdVia = row.createdVia;
  return out;
}

/**
 * Checks the values of `changes` against the respondent rules; returns field errors with
 * paths under `prefix` (e.g. "/body").
 */
export function validateChanges(changes: RespondentChanges, survey: Pick<SurveyRow, 'allowedRedirectOrigins'>, prefix = '/body'): FieldError[] {
  const errs: FieldError[] = [];
  const bad = (field: string, reason: string | null) => {
    if (reason) errs.push({ path: `${prefix}/${field}`, message: reason });
  };
  if (changes.name != null) bad('name', checkText(changes.name, LIMITS.name));
  if (changes.email != null) bad('email', checkEmail(changes.email));
  if (changes.phone != null) bad('phone', checkPhone(changes.phone));
  if (changes.redirectUrl != null) bad('redirectUrl', checkRedirectUrl(changes.redirectUrl, survey.allowedRedirectOrigins));
  for (const l of LABELS) if (changes[l] != null) bad(l, checkText(changes[l], LIMITS.label));
  if (changes.password != null) bad('password', checkPassword(changes.password));
  if (changes.status !== undefined && !RESPONDENT_STATUSES.includes(changes.status)) bad('status', `must be one of ${RESPONDENT_STATUSES.join(', ')}`);
  if (changes.customFields !== undefined) {
    const r = normaliseCustomFields(changes.customFields);
    if ('path' in r) errs.push({ path: `${prefix}/customFields${r.path.replace(/^\./, '/')}`, message: r.reason });
  }
  return errs;
}

function fail(fields: FieldError[]): never {
  throw new AppError('VALIDATION_FAILED', fields.map((f) => `${f.path} ${f.message}`).join('; '), { fields });
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export class RespondentsService {
  constructor(
    private readonly db: Db,
    private readonly database: Pick<Database, 'schemaName'>,
    private readonly box: SecretBox,
    private readonly surveys: SurveysService,
    private readonly publicUrl: string,
  ) {}

  // ---- links ---------------------------------------------------------------------------

  /**
   * `auth_url` and `short_auth_url` of a token. When the survey requires signed entry links
   * (and has a link-signing secret), both carry their `hash` as the last parameter.
   */
  authUrls(survey: SurveyRow, token: string): { authUrl: string; shortAuthUrl: string } {
    const authUrl = `${this.publicUrl}/surveys/${encodeURIComponent(survey.slug)}?auth=${encodeURIComponent(token)}`;
    const shortAuthUrl = `${this.publicUrl}/a/${encodeURIComponent(token)}`;
    const secret = survey.settings.requireSignedEntry === true ? this.surveys.linkSigningSecret(survey) : null;
    if (!secret) return { authUrl, shortAuthUrl };
    return { authUrl: signUrl(authUrl, secret), shortAuthUrl: signUrl(shortAuthUrl, secret) };
  }

  /** Returns a function that signs auth URLs of one survey (the secret is opened once). */
  authUrlsFor(survey: SurveyRow): (token: string) => { authUrl: string; shortAuthUrl: string } {
    const secret = survey.settings.requireSignedEntry === true ? this.surveys.linkSigningSecret(survey) : null;
    const base = `${this.publicUrl}/surveys/${encodeURIComponent(survey.slug)}?auth=`;
    return (token) => {
      const authUrl = base + encodeURIComponent(token);
      const shortAuthUrl = `${this.publicUrl}/a/${encodeURIComponent(token)}`;
      return secret ? { authUrl: signUrl(authUrl, secret), shortAuthUrl: signUrl(shortAuthUrl, secret) } : { authUrl, shortAuthUrl };
    };
  }

  token(row: Pick<RespondentRow, 'authTokenSealed'>): string {
    return this.box.open(row.authTokenSealed);
  }

  /** Entry surveys' slugs by id (slugs never change, so they are cached for the life of the process). */
  private readonly slugs = new Map<number, string>();

  async view(row: RespondentRow, survey: SurveyRow, opts: { withToken: boolean } = { withToken: true }): Promise<RespondentView> {
    return (await this.views([row], survey, opts))[0];
  }

  /** Views of rows of one survey, with one read for the entry surveys not cached yet. */
  async views(rows: RespondentRow[], survey: SurveyRow, opts: { withToken: boolean } = { withToken: true }): Promise<RespondentView[]> {
    this.slugs.set(survey.id, survey.slug);
    const missing = [...new Set(rows.flatMap((r) => (r.entrySurveyId !== null && !this.slugs.has(r.entrySurveyId) ? [r.entrySurveyId] : [])))];
    if (missing.length > 0) {
      for (const s of await this.db.select({ id: surveys.id, slug: surveys.slug }).from(surveys).where(inArray(surveys.id, missing))) this.slugs.set(s.id, s.slug);
    }
    return rows.map((r) => this.viewOf(r, survey, opts));
  }

  private viewOf(row: RespondentRow, survey: SurveyRow, opts: { withToken: boolean }): RespondentView {
    const v: RespondentView = {
      userId: row.id,
      username: row.username,
      name: row.name,
      email: row.email,
      phone: row.phone,
      redirectUrl: row.redirectUrl,
      l1: row.l1, l2: row.l2, l3: row.l3, l4: row.l4, l5: row.l5, l6: row.l6, l7: row.l7, l8: row.l8, l9: row.l9, l10: row.l10,
      customFields: row.customFields,
      status: row.status,
      createdVia: row.createdVia,
      hasPassword: row.passwordHash !== null,
      test: row.test,
      entrySurvey: row.entrySurveyId === null ? null : (this.slugs.get(row.entrySurveyId) ?? null),
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
    };
    if (opts.withToken) {
      const token = this.token(row);
      Object.assign(v, { authToken: token, ...this.authUrls(survey, token) });
    }
    return v;
  }

  // ---- reads ---------------------------------------------------------------------------

  async find(surveyId: number, username: string, db: Db | Tx = this.db): Promise<RespondentRow | null> {
    const [row] = await db.select().from(respondents).where(and(eq(respondents.surveyId, surveyId), eq(respondents.username, username)));
    return row ?? null;
  }

  async get(accountId: number, slug: string, username: string): Promise<{ row: RespondentRow; survey: SurveyRow }> {
    const survey = await this.surveys.get(accountId, slug);
    const row = await this.find(survey.id, username);
    if (!row) throw new AppError('RESPONDENT_NOT_FOUND', 'respondent not found');
    return { row, survey };
  }

  async list(accountId: number, slug: string, f: ListFilters, withToken: boolean) {
    const survey = await this.surveys.get(accountId, slug);
    const after = decodeCursor<number>(f.cursor, 'number');
    const where: (SQL | undefined)[] = [eq(respondents.surveyId, survey.id)];
    if (after !== null) where.push(gt(respondents.id, after));
    if (f.status) where.push(eq(respondents.status, f.status));
    if (f.createdVia) where.push(eq(respondents.createdVia, f.createdVia));
    if (f.test !== undefined) where.push(eq(respondents.test, f.test));
    for (const l of LABELS) {
      const v = f.labels?.[l];
      if (v !== undefined) where.push(eq(respondents[l], v));
    }
    if (f.search) {
      const pattern = `%${escapeLike(f.search)}%`;
      where.push(or(ilike(respondents.username, pattern), ilike(respondents.name, pattern), ilike(respondents.email, pattern)));
    }
    const rows = await this.db.select().from(respondents).where(and(...where)).orderBy(asc(respondents.id)).limit(f.limit + 1);
    const p = page(rows, f.limit, (r) => r.id);
    return { items: await this.views(p.items, survey, { withToken }), nextCursor: p.nextCursor };
  }

  /** The respondent and survey behind an auth token, or null. */
  async findByToken(token: string): Promise<{ respondent: RespondentRow; survey: SurveyRow } | null> {
    if (typeof token !== 'string' || token.length < 16 || token.length > 512) return null;
    const [row] = await this.db
      .select({ respondent: respondents, survey: surveys })
      .from(respondents)
      .innerJoin(surveys, eq(surveys.id, respondents.surveyId))
      .where(eq(respondents.authTokenHash, sha256Hex(token)));
    return row ?? null;
  }

  /** Username + password sign-in; the same answer and cost for an unknown user as for a wrong password. */
  async checkPassword(slug: string, username: string, password: string): Promise<{ respondent: RespondentRow; survey: SurveyRow }> {
    const survey = await this.surveys.getPublic(slug);
    const row = await this.find(survey.id, username);
    const ok = await verifyPassword(password, row?.passwordHash ?? null);
    if (!row || !ok) throw new AppError('INVALID_CREDENTIALS', 'username or password is wrong');
    return { respondent: row, survey };
  }

  // ---- writes --------------------------------------------------------------------------

  /** Column values for the changes (password hashed, custom fields merged into `stored`). */
  private async columns(changes: RespondentChanges, stored: Record<string, string>): Promise<Partial<typeof respondents.$inferInsert>> {
    const c: Partial<typeof respondents.$inferInsert> = {};
    for (const k of ['name', 'email', 'phone', 'redirectUrl', ...LABELS] as const) {
      if (changes[k] !== undefined) c[k] = changes[k];
    }
    if (changes.status !== undefined) c.status = changes.status;
    if (changes.customFields !== undefined) {
      const r = normaliseCustomFields(changes.customFields);
      if ('ok' in r) c.customFields = mergeCustomFields(stored, r.ok);
    }
    if (changes.password !== undefined) c.passwordHash = changes.password === null ? null : await hashPassword(changes.password);
    return c;
  }

  /**
   * Creates one respondent in an open transaction, with its `respondent.created` event.
   * 409 RESPONDENT_EXISTS when the username is taken in the survey.
   */
  async createIn(tx: Tx, survey: SurveyRow, input: RespondentCreate, via: CreatedVia, opts: { test?: boolean; prefix?: string } = {}): Promise<{ row: RespondentRow; token: string }> {
    const prefix = opts.prefix ?? '/body';
    const errs: FieldError[] = [];
    const u = checkUsername(input.username);
    if (u) errs.push({ path: `${prefix}/username`, message: u });
    errs.push(...validateChanges(input, survey, prefix));
    if (errs.length) fail(errs);
    const cols = await this.columns(input, {});
    const t = newAuthToken(this.box);
    const inserted = await tx
      .insert(respondents)
      .values({ ...cols, surveyId: survey.id, username: input.username, createdVia: via, authTokenSealed: t.sealed, authTokenHash: t.hash, test: opts.test ?? false })
      .onConflictDoNothing({ target: [respondents.surveyId, respondents.username] })
      .returning();
    if (inserted.length === 0) throw new AppError('RESPONDENT_EXISTS', `a respondent "${input.username}" already exists in this survey`);
    const row = inserted[0];
    await emitEvent(tx, this.database.schemaName, { type: 'respondent.created', survey: surveyRef(survey), respondent: respondentRef(row), data: eventData(row) });
    return { row, token: t.token };
  }

  async create(accountId: number, slug: string, input: RespondentCreate, via: CreatedVia = 'admin'): Promise<RespondentView> {
    const survey = await this.surveys.get(accountId, slug);
    const { row } = await this.db.transaction((tx) => this.createIn(tx, survey, { ...input, test: undefined }, via, { test: input.test === true }));
    return this.view(row, survey);
  }

  /**
   * Applies changes to one respondent in an open transaction (row locked), and emits
   * `respondent.updated` naming the fields that really changed (none: no event).
   */
  /** The column values and the names of the fields that `changes` would really change on `current`. */
  async diff(current: RespondentRow, changes: RespondentChanges): Promise<{ cols: Partial<typeof respondents.$inferInsert>; changed: string[] }> {
    const cols = await this.columns(changes, current.customFields);
    const changed: string[] = [];
    for (const f of TRACKED) {
      if (f === 'password') {
        if (changes.password !== undefined && !(changes.password === null && current.passwordHash === null)) changed.push('password');
      } else if (f === 'customFields') {
        if (cols.customFields && JSON.stringify(cols.customFields) !== JSON.stringify(current.customFields)) changed.push(f);
      } else if (cols[f] !== undefined && cols[f] !== current[f]) {
        changed.push(f);
      }
    }
    return { cols, changed };
  }

  /**
   * Applies changes to one respondent in an open transaction (row locked), and emits
   * `respondent.updated` naming the fields that really changed (none: no write, no event).
   */
  async updateIn(tx: Tx, survey: SurveyRow, respondentId: number, changes: RespondentChanges, prefix = '/body'): Promise<{ row: RespondentRow; changed: string[] }> {
    const errs = validateChanges(changes, survey, prefix);
    if (errs.length) fail(errs);
    const [current] = await tx.select().from(respondents).where(eq(respondents.id, respondentId)).for('update');
    if (!current) throw new AppError('RESPONDENT_NOT_FOUND', 'respondent not found');
    const { cols, changed } = await this.diff(current, changes);
    if (changed.length === 0) return { row: current, changed };
    const [row] = await tx.update(respondents).set({ ...cols, updatedAt: new Date() }).where(eq(respondents.id, respondentId)).returning();
    await emitEvent(tx, this.database.schemaName, {
      type: 'respondent.updated',
      survey: surveyRef(survey),
      respondent: respondentRef(row),
      data: { changed, respondent: eventData(row) },
    });
    return { row, changed };
  }

  async update(accountId: number, slug: string, username: string, changes: RespondentChanges): Promise<RespondentView> {
    const { row: existing, survey } = await this.get(accountId, slug, username);
    const { row } = await this.db.transaction((tx) => this.updateIn(tx, survey, existing.id, changes));
    return this.view(row, survey);
  }

  async remove(accountId: number, slug: string, username: string): Promise<void> {
    const survey = await this.surveys.get(accountId, slug);
    const deleted = await this.db
      .delete(respondents)
      .where(and(eq(respondents.surveyId, survey.id), eq(respondents.username, username)))
      .returning({ id: respondents.id });
    if (deleted.length === 0) throw new AppError('RESPONDENT_NOT_FOUND', 'respondent not found');
  }

  /** A new auth token: the old one stops working at once, and so do sessions made from it. */
  async rotateToken(accountId: number, slug: string, username: string): Promise<RespondentView> {
    const { row: existing, survey } = await this.get(accountId, slug, username);
    const t = newAuthToken(this.box);
    const [row] = await this.db
      .update(respondents)
      .set({ authTokenSealed: t.sealed, authTokenHash: t.hash, tokenVersion: sql`${respondents.tokenVersion} + 1`, updatedAt: new Date() })
      .where(eq(respondents.id, existing.id))
      .returning();
    if (!row) throw new AppError('RESPONDENT_NOT_FOUND', 'respondent not found');
    return this.view(row, survey);
  }

  /**
   * Creates the respondent `username`, or finds it and applies `changes` (present values
   * only), race-free: `INSERT … ON CONFLICT DO NOTHING` first, so concurrent first calls for
   * one new username make one row, and every caller then reads or updates that row.
   * Runs inside `tx`; emits respondent.created or (when something changed) respondent.updated.
   */
  async upsertIn(tx: Tx, survey: SurveyRow, username: string, changes: RespondentChanges, via: CreatedVia, prefix: string, test = false): Promise<{ row: RespondentRow; created: boolean; changed: string[] }> {
    const errs = validateChanges(changes, survey, prefix);
    if (errs.length) fail(errs);
    for (let attempt = 0; attempt < 3; attempt++) {
      const cols = await this.columns(changes, {});
      const t = newAuthToken(this.box);
      const inserted = await tx
        .insert(respondents)
        .values({ ...cols, surveyId: survey.id, username, createdVia: via, authTokenSealed: t.sealed, authTokenHash: t.hash, test })
        .onConflictDoNothing({ target: [respondents.surveyId, respondents.username] })
        .returning();
      if (inserted.length > 0) {
        const row = inserted[0];
        await emitEvent(tx, this.database.schemaName, { type: 'respondent.created', survey: surveyRef(survey), respondent: respondentRef(row), data: eventData(row) });
        return { row, created: true, changed: [] };
      }
      // The row exists (committed: ON CONFLICT waited for its inserter). Update what was given.
      const existing = await this.find(survey.id, username, tx);
      if (!existing) continue; // deleted in between: try the insert again
      const { row, changed } = await this.updateIn(tx, survey, existing.id, changes, prefix);
      return { row, created: false, changed };
    }
    throw new AppError('CONFLICT', 'the respondent changed concurrently; try again');
  }
}
