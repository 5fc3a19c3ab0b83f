import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { computeRedirect, statusCodeFor, type RedirectInput, type RedirectRespondent, type RedirectSurvey } from '../../src/redirects/resolve.ts';
import { verifyLink } from '../../src/redirects/signing.ts';
import { respondentRedirectProblem, validateRedirectSettings } from '../../src/redirects/validator.ts';
import { AppError } from '../../src/errors.ts';
import type { SurveyView } from '../../src/surveys/settings.ts';

const survey = (settings: Record<string, unknown> = {}, extra: Partial<RedirectSurvey> = {}): RedirectSurvey => ({
  id: 1, slug: 'diet-study', followUpUrl: null, allowedRedirectOrigins: [], settings, ...extra,
});
const respondent = (extra: Partial<RedirectRespondent> = {}): RedirectRespondent => ({
  id: 42, username: 'xyz', redirectUrl: null, customFields: {}, entryParams: {}, ...extra,
});
function go(s: RedirectSurvey, r: RedirectRespondent, outcome: string, extra: Partial<RedirectInput> = {}) {
  return computeRedirect({
    survey: s, respondent: r, outcome, statusCode: statusCodeFor(s.settings, outcome), reward: null, rewardId: null,
    entrySurveySlug: s.slug, secret: null, ...extra,
  });
}

const OWN = 'https://own.example/back';
const DONE = 'https://partner.example/success';
const FAIL = 'https://partner.example/failure';
const FOLLOW = 'https://follow.example/next';

describe('where the respondent goes', () => {
  it('completed: own URL → outcomeUrls.completed → followUpUrl → built-in', () => {
    const full = survey({ outcomeUrls: { completed: DONE } }, { followUpUrl: FOLLOW });
    expect(go(full, respondent({ redirectUrl: OWN }), 'completed')).toMatchObject({ target: 'respondent', url: `${OWN}` });
    expect(go(full, respondent(), 'completed')).toMatchObject({ target: 'outcomeUrl', url: DONE });
    expect(go(survey({}, { followUpUrl: FOLLOW }), respondent(), 'completed')).toMatchObject({ target: 'followUpUrl', url: FOLLOW });
    expect(go(survey(), respondent(), 'completed')).toEqual({ target: 'builtin', url: null, skipped: [] });
  });

  it('other outcomes: outcomeUrls[outcome] → own URL → followUpUrl → built-in, never bypassing a failure URL', () => {
    const s = survey({ outcomeUrls: { completed: DONE, disqualified: FAIL } }, { followUpUrl: FOLLOW });
    expect(go(s, respondent({ redirectUrl: OWN }), 'disqualified')).toMatchObject({ target: 'outcomeUrl', url: `${FAIL}?status=13` });
    // Without a URL of their own, the shared target still hears the outcome and status.
    expect(go(s, respondent({ redirectUrl: OWN }), 'quota_full')).toMatchObject({ target: 'respondent', url: `${OWN}?outcome=quota_full&status=15` });
    expect(go(s, respondent(), 'exited')).toMatchObject({ target: 'followUpUrl', url: `${FOLLOW}?outcome=exited&status=13` });
    expect(go(survey({ outcomeUrls: { completed: DONE } }), respondent(), 'exited')).toMatchObject({ target: 'builtin', url: null });
  });

  it('skips a respondent URL outside allowedRedirectOrigins or not http(s), and says why', () => {
    const s = survey({ outcomeUrls: { completed: DONE } }, { allowedRedirectOrigins: ['https://partner.example'] });
    const r = go(s, respondent({ redirectUrl: 'https://evil.example/steal' }), 'completed');
    expect(r).toMatchObject({ target: 'outcomeUrl', url: DONE });
    expect(r.skipped[0].reason).toContain('https://evil.example is not in allowedRedirectOrigins');
    expect(go(s, respondent({ redirectUrl: 'javascript:alert(1)' }), 'completed').target).toBe('outcomeUrl');
    expect(go(survey(), respondent({ redirectUrl: 'https://own.example/x#top' }), 'completed').url).toBe('https://own.example/x');
    // The list applies to survey-level targets too (when they were saved before the list changed).
    expect(go(survey({ outcomeUrls: { completed: 'https://other.example/' } }, { allowedRedirectOrigins: ['https://partner.example'] }), respondent(), 'completed').url).toBeNull();
  });
});

describe('appended parameters and signing', () => {
  const inbrain = ['surveyId', 'entrySurveyId', 'userId', 'mid', 'reward', 'rewardId'];

  it('appends redirectParams in configured order, after the template\'s own, with hash last', () => {
    const s = survey({ outcomeUrls: { completed: `${DONE}?src=sb` }, redirectParams: inbrain });
    const r = go(s, respondent({ entryParams: { mid: 'MS4wSM8xLjUx' } }), 'completed', {
      reward: '10', rewardId: '1d16f66e-9b7a-44fa-840e-8ec8afb4d60e', entrySurveySlug: 'entry-one', secret: 'partner-secret-0001',
    });
    const url = new URL(r.url!);
    expect([...url.searchParams.keys()]).toEqual(['src', ...inbrain, 'hash']);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      surveyId: 'diet-study', entrySurveyId: 'entry-one', userId: 'xyz', mid: 'MS4wSM8xLjUx', reward: '10', rewardId: '1d16f66e-9b7a-44fa-840e-8ec8afb4d60e',
    });
    expect(verifyLink(r.url!, 'partner-secret-0001')).toBe('valid');
  });

  it('leaves out parameters without a value, and adds status for every outcome that has a code', () => {
    const s = survey({ outcomeUrls: { completed: DONE, disqualified: FAIL }, redirectParams: ['userId', 'respondentId', 'mid', 'reward', 'rewardId', 'outcome'] });
    expect(go(s, respondent(), 'completed').url).toBe(`${DONE}?userId=xyz&respondentId=42&outcome=completed`);
    expect(go(s, respondent(), 'disqualified').url).toBe(`${FAIL}?userId=xyz&respondentId=42&outcome=disqualified&status=13`);
    expect(go(s, respondent(), 'disqualified', { statusCode: 14 }).url).toBe(`${FAIL}?userId=xyz&respondentId=42&outcome=disqualified&status=14`);
    const withCodes = survey({ outcomeUrls: { completed: DONE }, statusCodes: { completed: 0, disqualified: 30 } });
    expect(go(withCodes, respondent(), 'completed').url).toBe(`${DONE}?status=0`);
    expect(statusCodeFor(withCodes.settings, 'disqualified')).toBe(30);
    expect(statusCodeFor({}, 'quota_full')).toBe(15);
    expect(statusCodeFor({}, 'completed')).toBeNull();
    // A template that already carries status/outcome is not given a second one.
    expect(go(survey({ outcomeUrls: { exited: `${FAIL}?status={status}` } }), respondent(), 'exited').url).toBe(`${FAIL}?status=13`);
  });

  it('fills placeholders in respondent-specific URLs too, and every placeholder from its source', () => {
    const r = respondent({
      redirectUrl: 'https://own.example/{survey}/{username}?i={identifier}&id={respondentId}&o={outcome}&s={status}&l={l2}&c={custom:dept}&m={entry:mid}&rw={reward}',
      l2: 'L two', customFields: { dept: 'R&D', token: 'tok' }, entryParams: { mid: 'm-1' },
    });
    const out = go(survey({ redirectIdentifier: 'dept' }), r, 'completed', { reward: '5' }).url!;
    expect(out).toBe('https://own.example/diet-study/xyz?i=R%26D&id=42&o=completed&s=&l=L%20two&c=R%26D&m=m-1&rw=5');
    const viaUserId = go(survey({ redirectIdentifier: 'userId' }), respondent({ redirectUrl: 'https://own.example/?i={identifier}' }), 'completed').url;
    expect(viaUserId).toBe('https://own.example/?i=42');
    const viaToken = go(survey({ redirectIdentifier: 'authToken' }), respondent({ redirectUrl: 'https://own.example/?i={identifier}' }), 'completed', { authToken: () => 'tk-1' }).url;
    expect(viaToken).toBe('https://own.example/?i=tk-1');
    expect(go(survey(), respondent({ redirectUrl: 'https://own.example/?i={identifier}' }), 'completed').url).toBe('https://own.example/?i=xyz');
  });

  it('no respondent value can add a parameter, change the host or path, or break the signature', () => {
    const s = survey({ outcomeUrls: { completed: 'https://partner.example/cb/{username}?u={username}' }, redirectParams: ['userId', 'mid'] });
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), fc.string({ maxLength: 20 }), (username, mid) => {
        const r = go(s, respondent({ username, entryParams: { mid } }), 'completed', { secret: 'partner-secret-0001' });
        const url = new URL(r.url!);
        expect(url.origin).toBe('https://partner.example');
        expect(url.pathname.split('/')).toHaveLength(3);
        const keys = [...url.searchParams.keys()];
        expect(keys.slice(-1)).toEqual(['hash']);
        expect(keys.filter((k) => k !== 'userId' && k !== 'mid')).toEqual(['u', 'hash']);
        expect(url.searchParams.get('u')).toBe(username);
        if (username) expect(url.searchParams.get('userId')).toBe(username);
        expect(url.href).toBe(r.url);
        expect(verifyLink(r.url!, 'partner-secret-0001')).toBe('valid');
      }),
      { numRuns: 300 },
    );
  });
});

describe('settings validator', () => {
  const view = (v: Partial<SurveyView>) => ({ allowedRedirectOrigins: [], followUpUrl: null, ...v }) as SurveyView;
  const thrown = (v: Partial<SurveyView>) => {
    try {
      validateRedirectSettings(view(v));
    } catch (err) {
      return err as AppError;
    }
    return null;
  };

  it('names an unknown placeholder (UNKNOWN_PLACEHOLDER) and an entry param that is not whitelisted', () => {
    const e = thrown({ outcomeUrls: { completed: 'https://p.example/?u={usrname}' } });
    expect(e?.code).toBe('UNKNOWN_PLACEHOLDER');
    expect(e?.message).toContain('outcomeUrls/completed: unknown placeholder {usrname}');
    expect(thrown({ followUpUrl: 'https://p.example/?m={entry:mid}' })?.message).toContain('"mid" is not in the survey\'s entryParams');
    expect(thrown({ followUpUrl: 'https://p.example/?m={entry:mid}', entryParams: ['mid'] })).toBeNull();
  });

  it('applies allowedRedirectOrigins to every target (REDIRECT_NOT_ALLOWED)', () => {
    const e = thrown({ allowedRedirectOrigins: ['https://partner.example'], outcomeUrls: { completed: DONE, exited: 'https://else.example/' } });
    expect(e?.code).toBe('REDIRECT_NOT_ALLOWED');
    expect(e?.details?.fields).toEqual([{ path: 'outcomeUrls/exited', message: 'https://else.example is not in allowedRedirectOrigins' }]);
    expect(thrown({ allowedRedirectOrigins: ['https://partner.example'], followUpUrl: 'https://else.example/' })?.code).toBe('REDIRECT_NOT_ALLOWED');
  });

  it('tells other domains whether a respondent URL is usable', () => {
    expect(respondentRedirectProblem('https://partner.example/x?u={username}#top', ['https://partner.example'])).toBeNull();
    expect(respondentRedirectProblem('https://else.example/x', ['https://partner.example'])).toContain('allowedRedirectOrigins');
    expect(respondentRedirectProblem('javascript:alert(1)', [])).toContain('http');
  });

  it('returns field errors for placements, fragments, a reserved hash parameter and bad identifiers', () => {
    expect(validateRedirectSettings(view({ outcomeUrls: { completed: 'https://{username}.p.example/' } }))[0].message).toContain('scheme, host or port');
    expect(validateRedirectSettings(view({ followUpUrl: 'https://p.example/?hash=x' }))[0].message).toContain('"hash"');
    expect(validateRedirectSettings(view({ redirectIdentifier: 'has space' }))[0].path).toBe('redirectIdentifier');
    expect(validateRedirectSettings(view({ redirectIdentifier: 'dept', outcomeUrls: { completed: DONE } }))).toEqual([]);
  });
});
