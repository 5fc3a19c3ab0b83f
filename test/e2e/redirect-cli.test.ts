/**
 * The real binary, once per exit code (each run starts a process, which is slow on a small
 * machine); every other case of the handlers runs in process in test/unit/redirect-signing.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

const SECRET = 's3cr3t-shared-with-partner';
const URL_SO_FAR = 'https://exampleclient.com/success?surveyId=58f12ab5&entrySurveyId=58f12ab5&userId=xyz&mid=MS4wSM8xLjUx&reward=10&rewardId=1d16f66e-9b7a-44fa-840e-8ec8afb4d60e';
/** The worked example of docs/redirects.md, computed with Python's hmac. */
const SIGNED = `${URL_SO_FAR}&hash=gb-I7ve3dZAAbpUJneSc_HbG2TUqAA3xkw4e3s9LJro`;
// The commands need no database or configuration: an environment without them proves it.
const ENV = { LINK_SIGNING_SECRET: '', DATABASE_URL: '', SECRET_KEY: '' };

describe('surveybridge sign-link / verify-link', () => {
  it('signs the documented example (0), verifies it (0), rejects a tampered copy (1)', async () => {
    const [signed, valid, tampered] = await Promise.all([
      runCli(['sign-link', URL_SO_FAR, '--secret', SECRET], ENV),
      runCli(['verify-link', SIGNED], { ...ENV, LINK_SIGNING_SECRET: SECRET }),
      runCli(['verify-link', SIGNED.replace('reward=10', 'reward=99'), '--secret', SECRET], ENV),
    ]);
    expect(signed).toMatchObject({ code: 0, stdout: `${SIGNED}\n` });
    expect(valid).toMatchObject({ code: 0, stdout: 'valid\n' });
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain('invalid');
  });

  it('exits 2 on bad usage, with a one-line reason', async () => {
    const noSecret = await runCli(['sign-link', URL_SO_FAR], ENV);
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toBe('surveybridge: --secret is required (or set LINK_SIGNING_SECRET)\n');
  });
});
