import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { CsvReader, csvCell, csvRow, readCsv, unneutralise } from '../../src/lib/csv.ts';

async function parse(text: string | Buffer, chunk = 7) {
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunk) parts.push(buf.subarray(i, i + chunk));
  const out = [];
  for await (const batch of readCsv(Readable.from(parts))) out.push(...batch);
  return out;
}

describe('CSV reader', () => {
  it('reads RFC 4180 with quotes, doubled quotes, embedded newlines and mixed line ends, with start lines', async () => {
    const recs = await parse('a,b\r\n1,"x, ""y"""\n2,"multi\r\nline"\r3,z\n\n4,\n');
    expect(recs.map((r) => [r.line, r.fields])).toEqual([
      [1, ['a', 'b']],
      [2, ['1', 'x, "y"']],
      [3, ['2', 'multi\r\nline']],
      [5, ['3', 'z']],
      [7, ['4', '']],
    ]);
    expect(recs.every((r) => !r.error)).toBe(true);
  });

  it('strips a BOM and reads a file without a final newline', async () => {
    const recs = await parse('\ufeffusername\nalice');
    expect(recs.map((r) => r.fields)).toEqual([['username'], ['alice']]);
  });

  it('reports malformed quoting on its line and carries on with the next', async () => {
    const recs = await parse('h1,h2\nok,1\nbad"quote,2\n"closed"junk,3\nfine,4\n"never closed,5\nmore\n');
    expect(recs.map((r) => [r.line, r.error?.code ?? null])).toEqual([
      [1, null], [2, null], [3, 'malformed_quoting'], [4, 'malformed_quoting'], [5, null], [6, 'malformed_quoting'],
    ]);
    expect(recs[5].error?.message).toContain('line 6');
  });

  it('reports invalid UTF-8', async () => {
    const recs = await parse(Buffer.concat([Buffer.from('a\n'), Buffer.from([0xff, 0xfe, 0x41]), Buffer.from('\n')]));
    expect(recs.some((r) => r.error?.code === 'invalid_encoding')).toBe(true);
  });

  it('round-trips any table through csvRow (property)', () => {
    fc.assert(fc.property(fc.array(fc.array(fc.string({ unit: 'grapheme' }), { minLength: 2, maxLength: 4 }), { minLength: 1, maxLength: 5 }), (rows) => {
      const width = rows[0].length;
      const table = rows.map((r) => Array.from({ length: width }, (_, i) => r[i] ?? 'x'));
      const text = table.map((r) => csvRow(r, new Set(r.map((_, i) => i)))).join('');
      const reader = new CsvReader();
      const recs = [...reader.push(text), ...reader.end()];
      const expected = table.filter((r) => !(r.length === 1 && r[0] === ''));
      expect(recs.map((x) => x.fields)).toEqual(expected);
    }));
  });
});

describe('formula neutralisation', () => {
  it('prefixes cells a spreadsheet would run, and the import undoes exactly that', () => {
    for (const v of ['=1+1', '+44 20', '-5', '@SUM(A1)', '\tx', '\rx', "=HYPERLINK(\"http://x\")", "'=already quoted", "''-two"]) {
      const cell = csvCell(v);
      const inner = cell.startsWith('"') ? cell.slice(1, -1).replace(/""/g, '"') : cell;
      expect(inner.startsWith("'")).toBe(true);
      expect(unneutralise(inner)).toBe(v);
    }
    expect(csvCell('plain')).toBe('plain');
    expect(unneutralise("'plain")).toBe("'plain");
    expect(unneutralise("'")).toBe("'");
  });
});
