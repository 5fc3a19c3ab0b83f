/**
 * `surveybridge sign-link URL --secret S` and `surveybridge verify-link URL --secret S`: the
 * link signature as a command, for integrators checking their own implementation and for
 * making signed entry links by hand. No database, no configuration: the secret is all it needs.
 * Exit codes: 0 signed / valid, 1 invalid or missing hash, 2 bad usage.
 */
import { UsageError, parseCommandArgs } from '../cli/usage.ts';
import { signUrl, stripHash, verifyLink } from './signing.ts';

export const SIGN_LINK_HELP = `Usage: surveybridge sign-link URL --secret S

Prints URL with its signature appended as the last parameter:
  hash = base64url(HMAC-SHA256(secret, URL)) without "=" padding.
A hash already at the end of URL is replaced. Instead of --secret, the secret may come from
the environment variable LINK_SIGNING_SECRET (keeps it out of the process list).`;

export const VERIFY_LINK_HELP = `Usage: surveybridge verify-link URL --secret S

Checks the hash parameter at the end of URL. Prints "valid" and exits 0, or prints
"invalid: …" and exits 1 (also when the hash is missing). Instead of --secret, the secret may
come from the environment variable LINK_SIGNING_SECRET.`;

function parse(args: string[]): { url: string; secret: string } | null {
  const { values, positionals } = parseCommandArgs(args, { secret: { type: 'string' } });
  if (values.help) return null;
  if (positionals.length !== 1) throw new UsageError('expected exactly one URL (quote it: the shell treats "&" specially)');
  const secret = (values.secret as string | undefined) ?? process.env.LINK_SIGNING_SECRET;
  if (!secret) throw new UsageError('--secret is required (or set LINK_SIGNING_SECRET)');
  const url = positionals[0];
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`not a URL: ${url}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError('the URL must be http:// or https://');
  return { url, secret };
}

export async function signLinkCommand(args: string[]): Promise<number> {
  const p = parse(args);
  if (!p) {
    process.stdout.write(SIGN_LINK_HELP + '\n');
    return 0;
  }
  process.stdout.write(signUrl(stripHash(p.url), p.secret) + '\n');
  return 0;
}

export async function verifyLinkCommand(args: string[]): Promise<number> {
  const p = parse(args);
  if (!p) {
    process.stdout.write(VERIFY_LINK_HELP + '\n');
    return 0;
  }
  const check = verifyLink(p.url, p.secret);
  if (check === 'valid') {
    process.stdout.write('valid\n');
    return 0;
  }
  process.stdout.write(check === 'missing' ? 'invalid: no hash parameter at the end of the URL\n' : 'invalid: the hash does not match this URL and secret\n');
  return 1;
}
