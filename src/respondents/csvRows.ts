/**
 * Reading an import CSV: the header (known columns, custom fields, ignored export columns),
 * each row checked into an ImportRow with every error it has, and usernames seen so far in
 * the file (a compact hash set, so a million rows stay small). The importer
 * (csvImport.ts) drives two passes over these.
 */
import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { readCsv, unneutralise } from '../lib/csv.ts';
import type { SurveyRow } from '../surveys/service.ts';
import {
  LABELS, LIMITS, checkCustomFieldName, checkEmail, checkPassword, checkPhone, checkRedirectUrl, checkText, checkUsername,
} from './fields.ts';
import type { RespondentRow } from './service.ts';

export type OnExisting = 'error' | 'skip' | 'update';

export interface ImportError {
  line: number | null;
  column: string | null;
  code: string;
  message: string;
}

export type Field = 'username' | 'password' | 'name' | 'email' | 'phone' | 'redirectUrl' | (typeof LABELS)[number];

/** Header names (lower-cased, trimmed) and what they mean. */
export const KNOWN: Record<string, Field> = {
  username: 'username', 'user name': 'username', user_name: 'username', user: 'username',
  password: 'password', name: 'name', email: 'email', phone: 'phone',
  'redirect url': 'redirectUrl', redirect_url: 'redirectUrl', redirecturl: 'redirectUrl',
};
for (const l of LABELS) KNOWN[l] = l;
/** Columns of our own export that carry nothing to import (so export → import round-trips). */
export const IGNORED = new Set(['user_id', 'status', 'auth_token', 'auth_url', 'short_auth_url']);

export interface Header {
  /** Per column: a known field, a custom field name, or null (ignored). */
  columns: ({ kind: 'field'; field: Field } | { kind: 'custom'; name: string } | { kind: 'test' } | null)[];
  names: string[];
  present: Set<Field>;
  customFields: string[];
  ignored: string[];
}

export interface ImportRow {
  line: number;
  username: string;
  values: Partial<Record<Exclude<Field, 'username'>, string | null>>;
  custom: Record<string, string | null>;
  /** The reserved `test` column (panel mode): a test respondent, set at creation only. */
  test?: boolean;
}

export function parseHeader(fields: string[]): { header: Header; errors: ImportError[] } {
  const errors: ImportError[] = [];
  const header: Header = { columns: [], names: fields.map((f) => f.trim()), present: new Set(), customFields: [], ignored: [] };
  const seen = new Map<string, number>();
  fields.forEach((raw, i) => {
    const name = raw.trim();
    const key = name.toLowerCase();
    if (name === '') {
      errors.push({ line: 1, column: `#${i + 1}`, code: 'empty_header', message: `column ${i + 1} has no name in the header row` });
      header.columns.push(null);
      return;
    }
    const known = KNOWN[key];
    const id = key === 'test' ? 'test' : known ? `field:${known}` : IGNORED.has(key) ? `ignored:${key}` : `custom:${name}`;
    if (seen.has(id)) {
      errors.push({ line: 1, column: name, code: 'duplicate_column', message: `column "${name}" repeats column ${seen.get(id)! + 1}` });
      header.columns.push(null);
      return;
    }
    seen.set(id, i);
    if (key === 'test') {
      header.columns.push({ kind: 'test' }); // reserved: never a custom field
    } else if (known) {
      header.columns.push({ kind: 'field', field: known });
      header.present.add(known);
    } else if (IGNORED.has(key)) {
      header.columns.push(null);
      header.ignored.push(name);
    } else {
      const bad = checkCustomFieldName(name);
      if (bad) errors.push({ line: 1, column: name, code: 'bad_column_name', message: bad });
      header.columns.push({ kind: 'custom', name });
      header.customFields.push(name);
    }
  });
  if (!header.present.has('username')) {
    errors.push({ line: 1, column: 'username', code: 'missing_column', message: 'the header row has no "username" column' });
  }
  if (header.customFields.length > LIMITS.customFieldCount) {
    errors.push({ line: 1, column: null, code: 'too_many_columns', message: `at most ${LIMITS.customFieldCount} custom-field columns` });
  }
  return { header, errors };
}

/** Turns one record into a row, or errors. Cells are un-neutralised; empty cells are null. */
export function toRow(header: Header, fields: string[], line: number, survey: SurveyRow): { row?: ImportRow; errors: ImportError[] } {
  const errors: ImportError[] = [];
  if (fields.length !== header.columns.length) {
    errors.push({ line, column: null, code: 'wrong_column_count', message: `has ${fields.length} columns; the header has ${header.columns.length}` });
    return { errors };
  }
  const row: ImportRow = { line, username: '', values: {}, custom: {} };
  for (let i = 0; i < fields.length; i++) {
    const col = header.columns[i];
    if (!col) continue;
    let v: string = unneutralise(fields[i]);
    const column = header.names[i];
    if (col.kind === 'test') {
      const t = v.trim().toLowerCase();
      if (['true', '1', 'yes'].includes(t)) row.test = true;
      else if (!['', 'false', '0', 'no'].includes(t)) errors.push({ line, column, code: 'invalid_value', message: `${column} must be true or false` });
      continue;
    }
    if (col.kind === 'custom') {
      const r = v === '' ? null : checkText(v, LIMITS.customFieldValue);
      if (r) errors.push({ line, column, code: 'too_long', message: `${column} ${r}` });
      row.custom[col.name] = v === '' ? null : v;
      continue;
    }
    const f = col.field;
    if (f === 'email' || f === 'phone' || f === 'redirectUrl') v = v.trim();
    if (f === 'username') {
      if (v === '') {
        errors.push({ line, column, code: 'missing_username', message: 'username is empty' });
      } else {
        const r = checkUsername(v);
        if (r) errors.push({ line, column, code: r.includes('at most') ? 'too_long' : 'invalid_username', message: `username ${r}` });
      }
      row.username = v;
      continue;
    }
    if (v === '') {
      row.values[f] = null;
      continue;
    }
    let r: string | null = null;
    let code = 'invalid_value';
    if (f === 'email') (r = checkEmail(v)), (code = 'invalid_email');
    else if (f === 'phone') (r = checkPhone(v)), (code = 'invalid_phone');
    else if (f === 'redirectUrl') (r = checkRedirectUrl(v, survey.allowedRedirectOrigins)), (code = 'invalid_url');
    else if (f === 'password') (r = checkPassword(v)), (code = 'invalid_password');
    else if (f === 'name') (r = checkText(v, LIMITS.name)), (code = 'too_long');
    else (r = checkText(v, LIMITS.label)), (code = 'too_long');
    if (r) errors.push({ line, column, code, message: `${column} ${r}` });
    row.values[f] = v;
  }
  return errors.length ? { errors } : { row, errors };
}

/**
 * A set of 64-bit username hashes with the line each was first seen on, in typed arrays
 * (about 24 bytes per row at most: a million rows cost ~24 MB, not a Map of strings).
 */
export class SeenUsernames {
  private cap = 1 << 16;
  private hi = new Uint32Array(this.cap);
  private lo = new Uint32Array(this.cap);
  private lines = new Uint32Array(this.cap);
  private size = 0;

  /** Adds; returns the earlier line when the username was seen already, else 0. */
  add(username: string, line: number): number {
    const h = createHash('sha256').update(username).digest();
    const a = h.readUInt32LE(0) || 1;
    const b = h.readUInt32LE(4);
    if ((this.size + 1) * 2 > this.cap) this.grow();
    return this.put(a, b, line);
  }

  private put(a: number, b: number, line: number): number {
    const mask = this.cap - 1;
    let i = (a ^ Math.imul(b, 0x9e3779b1)) & mask;
    for (;;) {
      if (this.hi[i] === 0) {
        this.hi[i] = a;
        this.lo[i] = b;
        this.lines[i] = line;
        this.size++;
        return 0;
      }
      if (this.hi[i] === a && this.lo[i] === b) return this.lines[i];
      i = (i + 1) & mask;
    }
  }

  private grow() {
    const { hi, lo, lines } = this;
    this.cap *= 2;
    this.hi = new Uint32Array(this.cap);
    this.lo = new Uint32Array(this.cap);
    this.lines = new Uint32Array(this.cap);
    this.size = 0;
    for (let i = 0; i < hi.length; i++) if (hi[i] !== 0) this.put(hi[i], lo[i], lines[i]);
  }
}

/** Streams the spooled file's rows (the header applied), for the write pass. */
export async function* rowsOfFile(path: string, survey: SurveyRow): AsyncGenerator<ImportRow[]> {
  let header: Header | null = null;
  for await (const batch of readCsv(createReadStream(path, { highWaterMark: 256 * 1024 }))) {
    const out: ImportRow[] = [];
    for (const rec of batch) {
      if (!header) {
        header = parseHeader(rec.fields).header;
        continue;
      }
      const { row } = toRow(header, rec.fields, rec.line, survey);
      if (!row) throw new Error(`row on line ${rec.line} changed between the passes`);
      out.push(row);
    }
    if (out.length) yield out;
  }
}

/** snake_case row from `to_jsonb(respondents.*)` → the Drizzle row shape. */
export function rowFromJson(j: Record<string, unknown>): RespondentRow {
  const date = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string));
  const r: Record<string, unknown> = {
    id: j.id, surveyId: j.survey_id, username: j.username, name: j.name, email: j.email, phone: j.phone, redirectUrl: j.redirect_url,
    customFields: j.custom_fields, status: j.status, createdVia: j.created_via, passwordHash: j.password_hash,
    authTokenSealed: j.auth_token_sealed, authTokenHash: j.auth_token_hash, tokenVersion: j.token_version, entryParams: j.entry_params,
    entrySurveyId: j.entry_survey_id, test: j.test, startedAt: date(j.started_at), createdAt: date(j.created_at), updatedAt: date(j.updated_at),
  };
  for (const l of LABELS) r[l] = j[l];
  return r as unknown as RespondentRow;
}

export const COLUMN_OF: Record<Exclude<Field, 'username'>, string> = {
  password: 'password_hash', name: 'name', email: 'email', phone: 'phone', redirectUrl: 'redirect_url',
  l1: 'l1', l2: 'l2', l3: 'l3', l4: 'l4', l5: 'l5', l6: 'l6', l7: 'l7', l8: 'l8', l9: 'l9', l10: 'l10',
};
