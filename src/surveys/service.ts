/**
 * Surveys: CRUD within an account, settings validation and sealed secrets.
 * Another account's survey is "not found" on every verb: nothing about it leaks.
 */
import { and, asc, eq, gt, inArray } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { surveys } from '../db/schema/index.ts';
import { AppError, type FieldError } from '../errors.ts';
import type { SecretBox } from '../lib/crypto.ts';
import { decodeCursor, page } from '../lib/pagination.ts';
import { EXTRA_SETTING_KEYS, type SurveyCreate, type SurveyView, type SurveyWritable } from './settings.ts';
import type { SurveyRef } from '../events/outbox.ts';

export type SurveyRow = typeof surveys.$inferSelect;

/** A check on the merged settings of a survey before they are saved; returns field errors. */
export type SettingsValidator = (settings: SurveyView, row: SurveyRow | null) => FieldError[];

export function surveyRef(row: SurveyRow): SurveyRef {
  return { id: row.id, slug: row.slug, name: row.name, accountId: row.accountId };
}

export class SurveysService {
  private readonly validators: SettingsValidator[] = [];
  /** Called inside the transaction after a survey's settings change (e.g. managed webhooks). */
  private readonly afterSave: ((tx: Db, row: SurveyRow) => Promise<void>)[] = [];

  constructor(private readonly db: Db, private readonly box: SecretBox) {}

  addValidator(v: SettingsValidator) {
    this.validators.push(v);
  }
  onSave(hook: (tx: Db, row: SurveyRow) => Promise<void>) {
    this.afterSave.push(hook);
  }

  view(row: SurveyRow): SurveyView {
    const extra: Record<string, unknown> = {};
    for (const k of EXTRA_SETTING_KEYS) if (row.settings[k] !== undefined) extra[k] = row.settings[k];
    return {
      id: row.id,
      accountId: row.accountId,
      slug: row.slug,
      name: row.name,
      state: row.state,
      allowUserGeneration: row.allowUserGeneration,
      jwtSecretSet: row.jwtSecretSealed !== null,
      linkSigningSecretSet: row.linkSigningSecretSealed !== null,
      followUpUrl: row.followUpUrl,
      allowedRedirectOrigins: row.allowedRedirectOrigins,
      ...extra,
      definitionVersion: row.definitionVersion,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
    } as SurveyView;
  }

  jwtSecret(row: SurveyRow): string | null {
    return row.jwtSecretSealed ? this.box.open(row.jwtSecretSealed) : null;
  }
  linkSigningSecret(row: SurveyRow): string | null {
    return row.linkSigningSecretSealed ? this.box.open(row.linkSigningSecretSealed) : null;
  }

  /** A survey of the account, by slug (404 SURVEY_NOT_FOUND otherwise). */
  async get(accountId: number, slug: string, db: Db = this.db): Promise<SurveyRow> {
    const [row] = await db.select().from(surveys).where(and(eq(surveys.accountId, accountId), eq(surveys.slug, slug)));
    if (!row) throw new AppError('SURVEY_NOT_FOUND', `survey "${slug}" not found`);
    return row;
  }

  /** A survey by slug for public (respondent) routes. */
  async getPublic(slug: string, db: Db = this.db): Promise<SurveyRow> {
    const [row] = await db.select().from(surveys).where(eq(surveys.slug, slug));
    if (!row) throw new AppError('SURVEY_NOT_FOUND', `survey "${slug}" not found`);
    return row;
  }

  async list(accountId: number, limit: number, cursor?: string) {
    const after = decodeCursor<number>(cursor, 'number');
    const rows = await this.db
      .select()
      .from(surveys)
      .where(and(eq(surveys.accountId, accountId), after === null ? undefined : gt(surveys.id, after)))
      .orderBy(asc(surveys.id))
      .limit(limit + 1);
    const p = page(rows, limit, (r) => r.id);
    return { items: p.items.map((r) => this.view(r)), nextCursor: p.nextCursor };
  }

  private split(input: SurveyWritable, current: SurveyRow | null) {
    const columns: Partial<typeof surveys.$inferInsert> = {};
    if (input.name !== undefined) columns.name = input.name;
    if (input.state !== undefined) columns.state = input.state;
    if (input.allowUserGeneration !== undefined) columns.allowUserGeneration = input.allowUserGeneration;
    if (input.jwtSecret !== undefined) columns.jwtSecretSealed = input.jwtSecret === null ? null : this.box.seal(input.jwtSecret);
    if (input.linkSigningSecret !== undefined) {
      columns.linkSigningSecretSealed = input.linkSigningSecret === null ? null : this.box.seal(input.linkSigningSecret);
    }
    if (input.followUpUrl !== undefined) columns.followUpUrl = input.followUpUrl;
    if (input.allowedRedirectOrigins !== undefined) columns.allowedRedirectOrigins = input.allowedRedirectOrigins.map((o) => new URL(o).origin);
    const settings: Record<string, unknown> = { ...(current?.settings ?? {}) };
    for (const k of EXTRA_SETTING_KEYS) {
      const v = (input as Record<string, unknown>)[k];
      if (v === null) delete settings[k];
      else if (v !== undefined) settings[k] = v;
    }
    columns.settings = settings;
    return columns;
  }

  private validate(candidate: SurveyRow, current: SurveyRow | null) {
    const fields = this.validators.flatMap((v) => v(this.view(candidate), current));
    if (fields.length > 0) throw new AppError('VALIDATION_FAILED', fields.map((f) => `${f.path}: ${f.message}`).join('; '), { fields });
  }

  async create(accountId: number, input: SurveyCreate): Promise<SurveyView> {
    const columns = this.split(input, null);
    const now = new Date();
    const candidate = {
      id: 0, accountId, slug: input.slug, name: input.name, state: 'draft', allowUserGeneration: false, jwtSecretSealed: null,
      linkSigningSecretSealed: null, followUpUrl: null, allowedRedirectOrigins: [], settings: {}, definitionVersion: 0,
      createdAt: now, updatedAt: now, ...columns,
    } as SurveyRow;
    this.validate(candidate, null);
    return this.db.transaction(async (tx) => {
      const inserted = await tx
        .insert(surveys)
        .values({ ...columns, accountId, slug: input.slug, name: input.name })
        .onConflictDoNothing({ target: surveys.slug })
        .returning();
      if (inserted.length === 0) throw new AppError('SLUG_TAKEN', `the slug "${input.slug}" is taken`);
      await this.checkReplacements(tx as unknown as Db, inserted[0]);
      for (const hook of this.afterSave) await hook(tx as unknown as Db, inserted[0]);
      return this.view(inserted[0]);
    });
  }

  async update(accountId: number, slug: string, input: SurveyWritable): Promise<SurveyView> {
    return this.db.transaction(async (tx) => {
      const [current] = await tx.select().from(surveys).where(and(eq(surveys.accountId, accountId), eq(surveys.slug, slug))).for('update');
      if (!current) throw new AppError('SURVEY_NOT_FOUND', `survey "${slug}" not found`);
      const columns = this.split(input, current);
      this.validate({ ...current, ...columns } as SurveyRow, current);
      const [row] = await tx.update(surveys).set({ ...columns, updatedAt: new Date() }).where(eq(surveys.id, current.id)).returning();
      if (input.replacements !== undefined) await this.checkReplacements(tx as unknown as Db, row);
      for (const hook of this.afterSave) await hook(tx as unknown as Db, row);
      return this.view(row);
    });
  }

  /**
   * Panel mode: `replacements` must name other surveys of the same account. Checked when the
   * list is written (a survey deleted later is skipped at entry). Throws inside the caller's
   * transaction, so a bad list writes nothing.
   */
  private async checkReplacements(db: Db, row: SurveyRow) {
    const list = (row.settings.replacements as string[] | undefined) ?? [];
    if (list.length === 0) return;
    const found = await db.select({ slug: surveys.slug }).from(surveys).where(and(eq(surveys.accountId, row.accountId), inArray(surveys.slug, list)));
    const known = new Set(found.map((f) => f.slug));
    const fields = list.flatMap((slug, i) =>
      slug === row.slug ? [{ path: `/body/replacements/${i}`, message: 'is this survey itself' }]
        : known.has(slug) ? [] : [{ path: `/body/replacements/${i}`, message: `no survey "${slug}" in this account` }]);
    if (fields.length > 0) throw new AppError('VALIDATION_FAILED', fields.map((f) => `${f.path}: ${f.message}`).join('; '), { fields });
  }

  async remove(accountId: number, slug: string): Promise<void> {
    const deleted = await this.db.delete(surveys).where(and(eq(surveys.accountId, accountId), eq(surveys.slug, slug))).returning({ id: surveys.id });
    if (deleted.length === 0) throw new AppError('SURVEY_NOT_FOUND', `survey "${slug}" not found`);
  }
}
