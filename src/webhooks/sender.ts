/**
 * One HTTP attempt with undici: POST, no redirects followed, bounded by the endpoint's
 * timeout, response body read up to 64 KB (the first 4 KB kept for the log), SSRF guard
 * applied to the resolved address of every connection.
 */
import { Agent, request } from 'undici';
import { BlockedAddressError, guardedLookup, literalHostRefusal, type GuardPolicy } from './ssrf.ts';

const MAX_BODY_READ = 64 * 1024;
const EXCERPT_BYTES = 4 * 1024;

export interface AttemptResult {
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  responseExcerpt: string | null;
  /** Seconds from a Retry-After header (delta or HTTP date), if the receiver sent one. */
  retryAfterSeconds: number | null;
  /** The address was refused by the guard (a configuration problem, not worth retrying). */
  blocked: boolean;
}

export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return null;
  if (/^\s*\d+\s*$/.test(v)) return Number(v);
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, Math.round((at - now) / 1000));
}

export class WebhookSender {
  private readonly agent: Agent;
  constructor(private readonly policy: GuardPolicy) {
    this.agent = new Agent({
      connect: { lookup: guardedLookup(policy) as never },
      keepAliveTimeout: 10_000,
      connections: 128,
    });
  }

  async send(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<AttemptResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const fail = (error: string, blocked = false): AttemptResult => ({ statusCode: null, latencyMs: elapsed(), error, responseExcerpt: null, retryAfterSeconds: null, blocked });
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return fail('the endpoint URL is not valid', true);
    }
    const literal = literalHostRefusal(parsed, this.policy);
    if (literal) return fail(`refused: ${literal}`, true);
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const res = await request(parsed, {
        method: 'POST',
        headers,
        body,
        dispatcher: this.agent,
        signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      } as Parameters<typeof request>[1]);
      const chunks: Buffer[] = [];
      let read = 0;
      try {
        for await (const chunk of res.body) {
          const buf = chunk as Buffer;
          chunks.push(buf);
          read += buf.length;
          // Enough to keep an excerpt; the rest is not worth the memory or the wait.
          if (read >= MAX_BODY_READ) break;
        }
      } catch {
        /* a body cut short does not change the status the receiver answered */
      } finally {
        res.body.destroy();
      }
      const excerpt = Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8');
      return {
        statusCode: res.statusCode,
        latencyMs: elapsed(),
        error: null,
        responseExcerpt: excerpt,
        retryAfterSeconds: parseRetryAfter(res.headers['retry-after']),
        blocked: false,
      };
    } catch (err) {
      const e = err as Error & { code?: string; cause?: unknown };
      const blocked = findBlocked(e);
      if (blocked) return fail(`refused: ${blocked.message}`, true);
      if (signal.aborted || e.name === 'TimeoutError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT') {
        return fail(`timed out after ${timeoutMs} ms`);
      }
      return fail(`${e.code ? `${e.code}: ` : ''}${e.message}`.slice(0, 500));
    }
  }

  async close() {
    await this.agent.close().catch(() => {});
  }
}

function findBlocked(err: unknown): BlockedAddressError | null {
  for (let e = err as { cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e instanceof BlockedAddressError || (e as { code?: string }).code === 'EBLOCKEDADDRESS') return e as BlockedAddressError;
  }
  return null;
}
