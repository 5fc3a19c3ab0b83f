/**
 * A local webhook receiver for tests (127.0.0.1 only): records every request and answers
 * what the test's `respond` says. `waitFor` resolves as soon as the recorded requests satisfy
 * a condition, so tests never sleep for a fixed time.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Milliseconds to wait before answering. */
  delayMs?: number;
}

export interface Receiver {
  url(path?: string): string;
  port: number;
  requests: ReceivedRequest[];
  /** Decides each answer (default 200 "ok"). */
  respond: (req: ReceivedRequest, index: number) => Reply;
  waitFor(cond: (reqs: ReceivedRequest[]) => boolean, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

export async function startReceiver(host = '127.0.0.1'): Promise<Receiver> {
  const waiters = new Set<() => void>();
  const r: Receiver = {
    port: 0,
    requests: [],
    respond: () => ({ status: 200, body: 'ok' }),
    url: (path = '/hook') => `http://${host.includes(':') ? `[${host}]` : host}:${r.port}${path}`,
    waitFor(cond, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (cond(r.requests)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(r.requests);
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`receiver: condition not met within ${timeoutMs} ms (${r.requests.length} requests so far)`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: ReceivedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      const index = r.requests.length;
      r.requests.push(rec);
      const reply = r.respond(rec, index);
      const send = () => {
        res.writeHead(reply.status ?? 200, reply.headers ?? {});
        res.end(reply.body ?? '');
        for (const w of [...waiters]) w();
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  r.port = (server.address() as AddressInfo).port;
  return r;
}
