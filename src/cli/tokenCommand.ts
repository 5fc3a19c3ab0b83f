/**
 * `surveybridge token create-user --survey S --user U [--redirect URL] [--name N]
 *  [--expires-in SECONDS] [--alg HS256|HS512] [--secret S] [--public-url URL]`
 * prints a create-user JWT (and the link that uses it), signed with --secret or
 * SURVEYBRIDGE_JWT_SECRET: what a third party would generate, for trying the flow by hand.
 */
import { createUserToken, createUserUrl } from '../sdk/index.ts';
import { UsageError, parseCommandArgs } from './usage.ts';

export const TOKEN_HELP = `Usage: surveybridge token create-user --survey S --user U [--redirect URL] [--name N]
                          [--expires-in SECONDS] [--alg HS256|HS512] [--secret S] [--public-url URL]

Prints a create-user JWT signed with --secret (or SURVEYBRIDGE_JWT_SECRET), then the browser link
that uses it (PUBLIC_URL or --public-url as its base).`;

export async function tokenCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    survey: { type: 'string' },
    user: { type: 'string' },
    redirect: { type: 'string' },
    name: { type: 'string' },
    'expires-in': { type: 'string' },
    alg: { type: 'string' },
    secret: { type: 'string' },
    'public-url': { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(`${TOKEN_HELP}\n`);
    return 0;
  }
  if (positionals[0] !== 'create-user') throw new UsageError('expected "token create-user"');
  const survey = values.survey as string | undefined;
  const user = values.user as string | undefined;
  const secret = (values.secret as string | undefined) ?? process.env.SURVEYBRIDGE_JWT_SECRET;
  if (!survey) throw new UsageError('--survey is required');
  if (!user) throw new UsageError('--user is required');
  if (!secret) throw new UsageError('--secret or SURVEYBRIDGE_JWT_SECRET is required');
  const alg = (values.alg as string | undefined) ?? 'HS256';
  if (alg !== 'HS256' && alg !== 'HS512') throw new UsageError('--alg must be HS256 or HS512');
  const expiresRaw = values['expires-in'] as string | undefined;
  if (expiresRaw !== undefined && !/^[1-9][0-9]{0,8}$/.test(expiresRaw)) throw new UsageError('--expires-in must be a positive number of seconds');
  const redirect = values.redirect as string | undefined;
  if (redirect !== undefined && !/^https?:\/\//.test(redirect)) throw new UsageError('--redirect must be an http(s) URL');
  const opts = { secret, user, redirect, name: values.name as string | undefined, expiresIn: expiresRaw ? Number(expiresRaw) : undefined, alg: alg as 'HS256' | 'HS512' };
  const publicUrl = (values['public-url'] as string | undefined) ?? process.env.PUBLIC_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`;
  process.stdout.write(`${createUserToken(opts)}\n${createUserUrl({ ...opts, publicUrl, survey })}\n`);
  return 0;
}
