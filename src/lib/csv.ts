/**
 * CSV in and out, streaming.
 *
 * The reader is a small RFC 4180 state machine that knows the file line each record starts
 * on, accepts \r\n, \n or \r line ends, and on malformed quoting marks that record as bad
 * and carries on at the next line (so one run reports every bad row). It never holds more
 * than one chunk and the records of that chunk.
 *
 * The writer quotes where needed and neutralises cells that a spreadsheet would run as a
 * formula (leading = + - @ tab CR) with a leading apostrophe; `unneutralise` undoes exactly
 * that on import, so export → import round-trips.
 */
import type { Readable } from 'node:stream';

export interface CsvRecord {
  /** File line (1-based) the record starts on. */
  line: number;
  fields: string[];
  /** Set when the record is malformed; its fields are then incomplete. */
  error?: { code: 'malformed_quoting' | 'invalid_encoding'; message: string };
}

const enum S {
  FieldStart,
  Unquoted,
  Quoted,
  QuoteInQuoted,
  SkipLine,
}

export class CsvReader {
  private state = S.FieldStart;
  private field = '';
  private fields: string[] = [];
  line = 1;
  private recordLine = 1;
  private quoteLine = 1;
  private error: CsvRecord['error'] | undefined;
  private pendingCR = false;
  private first = true;
  private out: CsvRecord[] = [];

  private endRecord() {
    this.fields.push(this.field);
    this.field = '';
    const rec: CsvRecord = { line: this.recordLine, fields: this.fields };
    if (this.error) rec.error = this.error;
    // A line with nothing on it is not a record.
    if (!(rec.fields.length === 1 && rec.fields[0] === '' && !rec.error)) this.out.push(rec);
    this.fields = [];
    this.error = undefined;
    this.state = S.FieldStart;
  }

  private fail(message: string) {
    this.error = { code: 'malformed_quoting', message };
    this.state = S.SkipLine;
  }

  /** Feeds decoded text; returns the records completed by it. */
  push(text: string): CsvRecord[] {
    this.out = [];
    let i = 0;
    if (this.first) {
      this.first = false;
      if (text.charCodeAt(0) === 0xfeff) i = 1;
    }
    const n = text.length;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (this.pendingCR) {
        this.pendingCR = false;
        if (c === 10) {
          // The \n of a \r\n: the line was counted at the \r (inside quotes, it is kept in the value).
          if (this.state === S.Quoted) this.field += '\n';
          continue;
        }
      }
      switch (this.state) {
        case S.FieldStart:
          if (c === 34) {
            this.state = S.Quoted;
            this.quoteLine = this.line;
          } else if (c === 44) {
            this.fields.push('');
          } else if (c === 10 || c === 13) {
            this.newline(c);
            this.endRecord();
            this.recordLine = this.line;
          } else {
            this.field = text[i];
            this.state = S.Unquoted;
          }
          break;
        case S.Unquoted: {
          // Copy the run of plain characters at once.
          let j = i;
          while (j < n) {
            const d = text.charCodeAt(j);
            if (d === 44 || d === 10 || d === 13 || d === 34) break;
            j++;
          }
          if (j > i) {
            this.field += text.slice(i, j);
            i = j - 1;
            break;
          }
          if (c === 44) {
            this.fields.push(this.field);
            this.field = '';
            this.state = S.FieldStart;
          } else if (c === 10 || c === 13) {
            this.newline(c);
            this.endRecord();
            this.recordLine = this.line;
          } else {
            this.fail(`a quote inside an unquoted field (column ${this.fields.length + 1}); quote the whole field and double inner quotes`);
          }
          break;
        }
        case S.Quoted: {
          let j = i;
          while (j < n) {
            const d = text.charCodeAt(j);
            if (d === 34 || d === 10 || d === 13) break;
            j++;
          }
          if (j > i) {
            this.field += text.slice(i, j);
            i = j - 1;
            break;
          }
          if (c === 34) this.state = S.QuoteInQuoted;
          else {
            // A line break inside quotes is part of the value.
            this.field += text[i];
            this.newline(c);
          }
          break;
        }
        case S.QuoteInQuoted:
          if (c === 34) {
            this.field += '"';
            this.state = S.Quoted;
          } else if (c === 44) {
            this.fields.push(this.field);
            this.field = '';
            this.state = S.FieldStart;
          } else if (c === 10 || c === 13) {
            this.newline(c);
            this.endRecord();
            this.recordLine = this.line;
          } else {
            this.fail(`unexpected character after a closing quote (column ${this.fields.length + 1}); double quotes inside a quoted field`);
          }
          break;
        case S.SkipLine:
          if (c === 10 || c === 13) {
            this.newline(c);
            this.endRecord();
            this.recordLine = this.line;
          }
          break;
      }
    }
    return this.out;
  }

  private newline(c: number) {
    this.line++;
    if (c === 13) this.pendingCR = true;
  }

  /** Ends the input; returns the last record, if any. */
  end(): CsvRecord[] {
    this.out = [];
    if (this.state === S.Quoted) {
      this.error = { code: 'malformed_quoting', message: `a quoted field opened on line ${this.quoteLine} is never closed` };
      this.endRecord();
    } else if (this.state !== S.FieldStart || this.fields.length > 0) {
      this.endRecord();
    }
    return this.out;
  }
}

/** Reads a byte stream as CSV records, a batch per chunk. Invalid UTF-8 ends it with an error record. */
export async function* readCsv(stream: Readable): AsyncGenerator<CsvRecord[]> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const reader = new CsvReader();
  for await (const chunk of stream) {
    let text: string;
    try {
      text = decoder.decode(chunk as Buffer, { stream: true });
    } catch {
      yield [{ line: reader.line, fields: [], error: { code: 'invalid_encoding', message: 'the file is not UTF-8 text (save it as "CSV UTF-8")' } }];
      return;
    }
    const recs = reader.push(text);
    if (recs.length) yield recs;
  }
  let tail = '';
  try {
    tail = decoder.decode();
  } catch {
    yield [{ line: reader.line, fields: [], error: { code: 'invalid_encoding', message: 'the file ends in the middle of a UTF-8 character' } }];
    return;
  }
  const recs = [...reader.push(tail), ...reader.end()];
  if (recs.length) yield recs;
}

// A value that already starts with apostrophes before such a character gets one more, so
// that the import's removal of one apostrophe gives the value back exactly.
const FORMULA_START = /^'*[=+\-@\t\r]/;
const NEUTRALISED = /^'+[=+\-@\t\r]/;

/** One CSV cell: neutralised against formula injection, quoted when needed. */
export function csvCell(value: string | number | null | undefined, neutralise = true): string {
  if (value === null || value === undefined) return '';
  let s = String(value);
  if (neutralise && FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(cells: (string | number | null | undefined)[], plain: ReadonlySet<number> = new Set()): string {
  return cells.map((c, i) => csvCell(c, !plain.has(i))).join(',') + '\r\n';
}

/** Undoes `csvCell`'s neutralisation: one leading ' before (more ' and then) = + - @ tab CR is removed. */
export function unneutralise(cell: string): string {
  return NEUTRALISED.test(cell) ? cell.slice(1) : cell;
}
