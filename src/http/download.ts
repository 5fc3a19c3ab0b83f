import type { FastifyReply } from 'fastify';

/**
 * Sends a streamed export as a file download: never cached (it may carry auth tokens),
 * with a filename the browser saves it under.
 */
export function sendDownload(reply: FastifyReply, contentType: string, filename: string, body: unknown) {
  return reply
    .type(contentType)
    .header('content-disposition', `attachment; filename="${filename}"`)
    .header('cache-control', 'no-store')
    .send(body);
}
