import { Writable } from 'node:stream';

/** Collects every log line of a test app, so tests can assert that no secret was logged. */
export class LogCapture {
  readonly lines: string[] = [];
  stream(): Writable {
    return new Writable({
      write: (chunk, _enc, cb) => {
        this.lines.push(chunk.toString());
        cb();
      },
    });
  }
  text(): string {
    return this.lines.join('');
  }
}
