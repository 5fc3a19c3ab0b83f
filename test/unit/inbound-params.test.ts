import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parse as parseQuery } from 'fast-querystring';
import { AppError } from '../../src/errors.ts';
import { mergeParams, readAddRespondent, readUpdateRespondent, type Params } from '../../src/inbound/params.ts';

const LABEL = fc.integer({ min: 1, max: 10 }).map((i) => `l${i}`);
const NAME = fc.oneof(fc.constantFrom('id_survey', 'id_respondent', 'username', 'email', 'redirect_url', 'on_existing', 'l1', 'l10'), fc.string({ minLength: 1, maxLength: 12 }));
/** Any text PostgreSQL can store. */
const TEXT = fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => !s.includes('\u0000'));
const MAP = fc.dictionary(NAME, TEXT, { maxKeys: 12 });

const asObject = (p: Params) => Object.fromEntries(p);

/** Whatever the parser does with hostile input, it answers or throws a 400 AppError: nothing else. */
function only400(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).status).toBe(400);
  }
}

describe('inbound parameter parser', () => {
  it('merges query and body, the body winning for the same name', () => {
    fc.assert(fc.property(MAP, MAP, (query, body) => {
      expect(asObject(mergeParams(query, body))).toEqual({ ...query, ...body });
    }));
  });

  it('reads the same parameters from a query string, a form body and a JSON body', () => {
    fc.assert(fc.property(MAP, (params) => {
      const encoded = new URLSearchParams(Object.entries(params)).toString();
      const viaQuery = mergeParams(parseQuery(encoded), undefined);
      const viaForm = mergeParams({}, parseQuery(encoded));
      const viaJson = mergeParams(undefined, JSON.parse(JSON.stringify(params)));
      expect(asObject(viaQuery)).toEqual(params);
      expect(asObject(viaForm)).toEqual(params);
      expect(asObject(viaJson)).toEqual(params);
    }));
  });

  it('refuses a name given twice in one source, naming it', () => {
    fc.assert(fc.property(LABEL, TEXT, TEXT, (l, a, b) => {
      const q = parseQuery(`${l}=${encodeURIComponent(a)}&${l}=${encodeURIComponent(b)}`);
      expect(() => mergeParams(q, undefined)).toThrow(new RegExp(`^${l} is given more than once`));
    }));
  });

  it('turns JSON numbers and booleans into text and null into empty, and refuses objects and arrays', () => {
    expect(asObject(mergeParams(undefined, { id_respondent: 12, l1: true, l2: null, l3: 1.5 }))).toEqual({ id_respondent: '12', l1: 'true', l2: null, l3: '1.5' });
    for (const bad of [{ a: 1 }, [1], [], ['x']]) expect(() => mergeParams(undefined, { l1: bad })).toThrow(/^l1 must be a string or a number/);
    for (const bad of [[1, 2], 'text', 42, true]) expect(() => mergeParams(undefined, bad)).toThrow(/body must be an object/);
    expect(() => mergeParams({ l1: 'a\u0000b' }, undefined)).toThrow(/^l1 must not contain NUL/);
    expect(() => mergeParams(undefined, { username: '\ud800x' })).toThrow(/^username must be valid Unicode/);
    expect(asObject(mergeParams(undefined, { username: '😀' }))).toEqual({ username: '😀' });
  });

  it('never throws anything but a 400, whatever JSON arrives', () => {
    fc.assert(fc.property(fc.jsonValue(), fc.jsonValue(), (q, b) => {
      only400(() => readUpdateRespondent(mergeParams(q, b)));
      only400(() => readAddRespondent(mergeParams(q, b)));
    }), { numRuns: 300 });
    fc.assert(fc.property(fc.anything(), (v) => only400(() => readAddRespondent(mergeParams(undefined, v)))), { numRuns: 300 });
  });

  it('accepts labels up to 1000 characters and refuses longer ones, naming the label', () => {
    fc.assert(fc.property(LABEL, fc.string({ unit: 'grapheme-ascii', minLength: 0, maxLength: 1000 }), (l, v) => {
      const r = readUpdateRespondent(new Map([['id_survey', 's'], ['id_respondent', '1'], [l, v]]));
      expect(r.labels[l as 'l1']).toBe(v === '' ? null : v);
    }), { numRuns: 50 });
    fc.assert(fc.property(LABEL, fc.integer({ min: 1001, max: 3000 }), (l, n) => {
      expect(() => readUpdateRespondent(new Map([['id_survey', 's'], ['id_respondent', '1'], [l, 'é'.repeat(n)]]))).toThrow(new RegExp(`^${l} must be at most 1000`));
    }), { numRuns: 20 });
  });

  it('refuses l0, l11 and beyond, and unknown names, naming them', () => {
    fc.assert(fc.property(fc.oneof(fc.constant(0), fc.integer({ min: 11, max: 10_000 })), (n) => {
      expect(() => readUpdateRespondent(new Map([['id_survey', 's'], ['id_respondent', '1'], [`l${n}`, 'x']]))).toThrow(new RegExp(`^l${n} is not a label`));
    }));
    expect(() => readUpdateRespondent(new Map([['id_survey', 's'], ['id_respondent', '1'], ['L1', 'x']]))).toThrow(/^L1 is not a parameter of update-respondent/);
  });

  it('reads update-respondent: id_survey required, id_respondent or username, empty clears', () => {
    const p = (o: Record<string, string | null>) => new Map(Object.entries(o));
    expect(readUpdateRespondent(p({ id_survey: '399793', id_respondent: '12345', l4: 'SuperVIP', l7: '9', l2: '', l3: null }))).toEqual({
      surveyRef: '399793', respondentId: 12345, labels: { l2: null, l3: null, l4: 'SuperVIP', l7: '9' },
    });
    expect(readUpdateRespondent(p({ id_survey: 'my-survey', username: 'u', redirect_url: '' }))).toEqual({ surveyRef: 'my-survey', username: 'u', labels: {}, redirectUrl: null });
    expect(() => readUpdateRespondent(p({ id_respondent: '1' }))).toThrow(/^id_survey is required/);
    expect(() => readUpdateRespondent(p({ id_survey: 's' }))).toThrow(/^id_respondent is required/);
    for (const bad of ['0', '-1', '1.5', 'abc', '2147483648', '1e3']) {
      expect(() => readUpdateRespondent(p({ id_survey: 's', id_respondent: bad }))).toThrow(/^id_respondent must be/);
    }
    for (const bad of ['javascript:alert(1)', 'ftp://x.example', 'https://user:pw@x.example', 'x'.repeat(3000)]) {
      expect(() => readUpdateRespondent(p({ id_survey: 's', id_respondent: '1', redirect_url: bad }))).toThrow(/^redirect_url /);
    }
  });

  it('reads add-respondent: the email is the username when there is none', () => {
    const p = (o: Record<string, string>) => new Map(Object.entries(o));
    expect(readAddRespondent(p({ id_survey: 's', email: 'a@example.test', l1: 'x' }))).toEqual({ surveyRef: 's', username: 'a@example.test', email: 'a@example.test', labels: { l1: 'x' }, onExisting: 'error' });
    expect(readAddRespondent(p({ id_survey: 's', username: 'u', email: 'a@example.test', on_existing: 'update' }))).toMatchObject({ username: 'u', onExisting: 'update' });
    expect(() => readAddRespondent(p({ id_survey: 's' }))).toThrow(/^username is required/);
    expect(() => readAddRespondent(p({ id_survey: 's', email: 'nope' }))).toThrow(/^email is not an email address/);
    expect(() => readAddRespondent(p({ id_survey: 's', username: 'u', id_respondent: '1' }))).toThrow(/^id_respondent is not a parameter of add-respondent/);
  });
});
