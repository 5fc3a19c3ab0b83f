import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkAnswer, isAnswered, isIsoDate, matchScreening, validateDefinition, type Definition, type Question } from '../../src/runtime/definition.ts';
import { exportCell } from '../../src/runtime/export.ts';

const q = (over: Partial<Question>): Question => ({ id: 'q', type: 'text', label: 'Q', ...over }) as Question;

describe('definition validation', () => {
  it('accepts a definition using every question type and rule kind', () => {
    const def: Definition = {
      questions: [
        q({ id: 't', type: 'text', max: 20 }), q({ id: 'l', type: 'longtext' }), q({ id: 'n', type: 'number', min: -5, max: 5 }),
        q({ id: 's', type: 'single', options: [{ value: 'a', label: 'A' }] }), q({ id: 'm', type: 'multi', options: [{ value: 'a', label: 'A' }, { value: 'b', label: 'B' }], max: 1 }),
        q({ id: 'b', type: 'boolean' }), q({ id: 'd', type: 'date' }),
      ],
      screening: [
        { when: { question: 'n', lt: 0 }, outcome: 'disqualified' },
        { when: { question: 'd', gt: '2020-01-01' }, outcome: 'quota_full', status: 15 },
        { when: { question: 'm', in: ['b'] }, outcome: 'disqualified' },
        { when: { question: 'b', equals: false }, outcome: 'disqualified' },
      ],
    };
    expect(validateDefinition(def)).toEqual([]);
  });

  it('names the path of every problem', () => {
    const errors = validateDefinition({
      questions: [q({ id: 'a', type: 'single' }), q({ id: 'a', type: 'number', min: 3, max: 1 }), q({ id: 'c', type: 'text', options: [{ value: 'x', label: 'X' }] })],
      screening: [
        { when: { question: 'zzz', equals: 1 }, outcome: 'disqualified' },
        { when: { question: 'c', lt: 3 }, outcome: 'disqualified' },
        { when: { question: 'c', equals: 'x', in: ['y'] }, outcome: 'disqualified' },
      ],
    });
    expect(errors.map((e) => e.path)).toEqual([
      '/body/questions/0/options', '/body/questions/1/id', '/body/questions/1/min', '/body/questions/2/options',
      '/body/screening/0/when/question', '/body/screening/1/when/lt', '/body/screening/2/when',
    ]);
  });
});

describe('answers', () => {
  it('checks each type', () => {
    expect(checkAnswer(q({ type: 'text', max: 3 }), 'abcd')).toMatch(/at most 3/);
    expect(checkAnswer(q({ type: 'text' }), 5)).toBe('must be text');
    expect(checkAnswer(q({ type: 'number', min: 1 }), 0)).toMatch(/at least 1/);
    expect(checkAnswer(q({ type: 'number' }), Number.NaN)).toBe('must be a number');
    expect(checkAnswer(q({ type: 'boolean' }), 'true')).not.toBeNull();
    expect(checkAnswer(q({ type: 'date' }), '2024-02-29')).toBeNull();
    expect(checkAnswer(q({ type: 'date' }), '2023-02-29')).not.toBeNull();
    const opts = [{ value: 'a', label: 'A' }, { value: 'b', label: 'B' }];
    expect(checkAnswer(q({ type: 'single', options: opts }), 'a')).toBeNull();
    expect(checkAnswer(q({ type: 'single', options: opts }), 'c')).not.toBeNull();
    expect(checkAnswer(q({ type: 'multi', options: opts, max: 1 }), ['a', 'b'])).toMatch(/at most 1/);
    expect(checkAnswer(q({ type: 'multi', options: opts }), [])).toBeNull();
    expect(isAnswered('  ')).toBe(false);
    expect(isAnswered(false)).toBe(true);
    expect(isAnswered([])).toBe(false);
  });

  it('never throws on any value', () => {
    const types = ['text', 'longtext', 'number', 'single', 'multi', 'boolean', 'date'] as const;
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.jsonValue(), (type, value) => {
        const r = checkAnswer(q({ type, options: [{ value: 'a', label: 'A' }] }), value);
        expect(r === null || typeof r === 'string').toBe(true);
      }),
    );
    fc.assert(fc.property(fc.string(), (s) => typeof isIsoDate(s) === 'boolean'));
  });

  it('screens by the first matching rule; unanswered questions never match', () => {
    const def: Definition = {
      questions: [q({ id: 'age', type: 'number' }), q({ id: 'pets', type: 'multi', options: [{ value: 'cat', label: 'Cat' }] })],
      screening: [
        { when: { question: 'age', lt: 18 }, outcome: 'disqualified', status: 14 },
        { when: { question: 'pets', equals: 'cat' }, outcome: 'quota_full' },
      ],
    };
    expect(matchScreening(def, {})).toBeNull();
    expect(matchScreening(def, { age: 10, pets: ['cat'] })?.status).toBe(14);
    expect(matchScreening(def, { age: 30, pets: ['cat'] })?.outcome).toBe('quota_full');
    expect(matchScreening(def, { age: 30, pets: [] })).toBeNull();
  });
});

describe('export cells', () => {
  it('guards strings a spreadsheet would run, and leaves numbers alone', () => {
    for (const v of ['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx']) expect(exportCell(v).replace(/^"|"$/g, '')).toBe(`'${v}`);
    for (const v of ['hello', '1', '']) expect(exportCell(v)).toBe(v);
    expect(exportCell(-5)).toBe('-5');
    expect(exportCell(true)).toBe('true');
    expect(exportCell(['=a', 'b'])).toBe("'=a;b");
    expect(exportCell('a,"b"')).toBe('"a,""b"""');
    expect(exportCell(null)).toBe('');
  });
});
