/**
 * Secrets must never reach a log line. URLs carry some (inbound webhook key/auth, respondent
 * auth tokens, create-user JWTs, link hashes): these helpers blank them before logging.
 */
const SECRET_QUERY_PARAMS = new Set(['auth', 'createuser', 'params', 'token', 'hash', 'password', 'secret', 'key']);

export function redactUrl(url: string): string {
  let out = url
    .replace(/^\/webhooks\/([^/?#]+)\/[^/?#]+\/[^/?#]+/, '/webhooks/$1/[redacted]/[redacted]')
    .replace(/^\/a\/[^/?#]+/, '/a/[redacted]');
  const q = out.indexOf('?');
  if (q >= 0) {
    const params = out
      .slice(q + 1)
      .split('&')
      .map((pair) => {
        const name = pair.split('=')[0];
        let decoded = name;
        try {
          decoded = decodeURIComponent(name);
        } catch {
          /* keep raw */
        }
        return SECRET_QUERY_PARAMS.has(decoded.toLowerCase()) ? `${name}=[redacted]` : pair;
      });
    out = `${out.slice(0, q)}?${params.join('&')}`;
  }
  return out;
}

/** pino redact paths for request logs and any object we log. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.secret',
  '*.jwtSecret',
  '*.linkSigningSecret',
  '*.token',
  '*.accessToken',
  '*.authToken',
];
