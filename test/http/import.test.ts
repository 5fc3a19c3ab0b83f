import { describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { setupApp, type TestAdmin } from '../helpers/app.ts';
import { rowsOf } from '../../src/db/client.ts';
import { CsvReader } from '../../src/lib/csv.ts';

describe('CSV import and export', () => {
  const ctx = setupApp();

  const importCsv = (admin: TestAdmin, slug: string, csv: string | Buffer, query = 'wait=true') =>
    ctx.inject({ method: 'POST', url: `/api/admin/surveys/${slug}/respondents/import?${query}`, headers: { ...admin.headers, 'content-type': 'text/csv' }, payload: csv });
  const exportCsv = async (admin: TestAdmin, slug: string) => {
    const res = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/respondents/export.csv`, headers: admin.headers });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/csv');
    const reader = new CsvReader();
    const recs = [...reader.push(res.body), ...reader.end()].map((r) => r.fields);
    const [header, ...rows] = recs;
    return { header, rows: rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]]))), body: res.body };
  };
  const count = async (slug: string, table: 'respondents' | 'events') =>
    rowsOf<{ n: number }>(await ctx.services().database.db.execute(
      sql`SELECT count(*)::int AS n FROM ${sql.identifier(table)} t JOIN surveys s ON s.id = t.survey_id WHERE s.slug = ${slug}`))[0].n;

  it('imports a good file (custom columns listed back), emits respondent.created per row, and round-trips through export', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const csv = [
      'username,password,name,email,phone,redirect url,l1,l2,Cohort,Site',
      'p1,,Ann,ann@example.org,+44 20 7946 0000,https://panel.example/done?u=p1,A,x,2024,Leeds',
      'p2,secret-password,"Smith, Bob",,,,"B ""quoted""",,2025,',
      'p3,,=cmd|calc,,,,@SUM(A1),-1,,York',
    ].join('\n');
    const res = await importCsv(admin, slug, csv);
    expect(res.statusCode).toBe(200);
    const job = res.json();
    expect(job.state).toBe('succeeded');
    expect(job.result).toMatchObject({ total: 3, created: 3, updated: 0, skipped: 0, customFields: ['Cohort', 'Site'] });
    expect(job.errors).toEqual([]);
    expect(await count(slug, 'events')).toBe(3);
    // The bulk path builds the same event as one-by-one creation does.
    await ctx.inject({ method: 'POST', url: `/api/admin/surveys/${slug}/respondents`, headers: admin.headers, payload: { username: 'one-by-one' } });
    const evs = rowsOf<{ payload: Record<string, any> }>(await ctx.services().database.db.execute(
      sql`SELECT e.payload FROM events e JOIN surveys s ON s.id = e.survey_id WHERE s.slug = ${slug} ORDER BY e.seq`)).map((r) => r.payload);
    const p1event = evs.find((e) => e.respondent.username === 'p1')!;
    expect(p1event).toEqual({
      id: expect.any(String), type: 'respondent.created', occurredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      survey: { id: expect.any(Number), slug, name: `Survey ${slug}` },
      respondent: { userId: expect.any(Number), username: 'p1' },
      data: {
        userId: p1event.respondent.userId, username: 'p1', name: 'Ann', email: 'ann@example.org', phone: '+44 20 7946 0000',
        redirectUrl: 'https://panel.example/done?u=p1', l1: 'A', l2: 'x', l3: null, l4: null, l5: null, l6: null, l7: null, l8: null, l9: null, l10: null,
        customFields: { Cohort: '2024', Site: 'Leeds' }, status: 'created', createdVia: 'csv',
      },
    });
    const single = evs.find((e) => e.respondent.username === 'one-by-one')!;
    expect(Object.keys(single).sort()).toEqual(Object.keys(p1event).sort());
    expect(Object.keys(single.data).sort()).toEqual(Object.keys(p1event.data).sort());
    await ctx.inject({ method: 'DELETE', url: `/api/admin/surveys/${slug}/respondents/one-by-one`, headers: admin.headers });

    const p2 = (await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/respondents/p2`, headers: admin.headers })).json();
    expect(p2).toMatchObject({ name: 'Smith, Bob', l1: 'B "quoted"', hasPassword: true, customFields: { Cohort: '2025' }, createdVia: 'csv' });
    const login = await ctx.inject({ method: 'POST', url: `/api/surveys/${slug}/login`, payload: { username: 'p2', password: 'secret-password' } });
    expect(login.statusCode).toBe(200);

    const out = await exportCsv(admin, slug);
    expect(out.header).toEqual(['user_id', 'username', 'name', 'status', 'auth_token', 'auth_url', 'short_auth_url', 'redirect_url', 'l1', 'l2', 'l3', 'l4', 'l5', 'l6', 'l7', 'l8', 'l9', 'l10']);
    expect(out.rows).toHaveLength(3);
    const p3 = out.rows.find((r) => r.username === 'p3')!;
    // Formula-injection cells come back neutralised; token and URLs are plain.
    expect(p3.name).toBe("'=cmd|calc");
    expect(p3.l1).toBe("'@SUM(A1)");
    expect(p3.l2).toBe("'-1");
    expect(p3.auth_url).toBe(`http://127.0.0.1:3000/surveys/${slug}?auth=${p3.auth_token}`);
    expect(p3.short_auth_url).toBe(`http://127.0.0.1:3000/a/${p3.auth_token}`);
    expect(out.rows.find((r) => r.username === 'p1')!.redirect_url).toBe('https://panel.example/done?u=p1');

    // Export → import into another survey gives the same respondents back.
    const other = await ctx.newSurvey(admin);
    const again = await importCsv(admin, other, out.body);
    expect(again.json().state).toBe('succeeded');
    expect(again.json().result.ignoredColumns).toEqual(['user_id', 'status', 'auth_token', 'auth_url', 'short_auth_url']);
    expect(again.json().result.customFields).toEqual([]);
    const back = await exportCsv(admin, other);
    // Status is not imported: p2's sign-in above started its session, the imported copy has not begun.
    expect(out.rows.find((r) => r.username === 'p2')!.status).toBe('started');
    expect(back.rows.find((r) => r.username === 'p2')!.status).toBe('created');
    const strip = (rows: Record<string, string>[]) => rows.map(({ user_id: _u, auth_token: _t, auth_url: _a, short_auth_url: _s, status: _st, ...rest }) => rest);
    expect(strip(back.rows)).toEqual(strip(out.rows));
    const p3b = (await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${other}/respondents/p3`, headers: admin.headers })).json();
    expect(p3b).toMatchObject({ name: '=cmd|calc', l1: '@SUM(A1)', l2: '-1' });
  });

  it('a file with one bad row in 10,000 writes nothing and names that line', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const lines = ['username,email,l1'];
    for (let i = 1; i <= 10_000; i++) lines.push(i === 7_321 ? `user-${i},not-an-email,x` : `user-${i},u${i}@example.org,label ${i}`);
    const res = await importCsv(admin, slug, lines.join('\n'));
    expect(res.statusCode).toBe(200);
    const job = res.json();
    expect(job.state).toBe('failed');
    expect(job.errors).toEqual([{ line: 7_322, column: 'email', code: 'invalid_email', message: expect.stringContaining('email') }]);
    expect(job.result).toMatchObject({ total: 10_000, errorCount: 1, created: 0 });
    expect(await count(slug, 'respondents')).toBe(0);
    expect(await count(slug, 'events')).toBe(0);

    // Fixed, the same file imports whole.
    lines[7_321] = 'user-7321,fixed@example.org,x';
    const ok = await importCsv(admin, slug, lines.join('\n'));
    expect(ok.json()).toMatchObject({ state: 'succeeded', processed: 10_000, total: 10_000 });
    expect(await count(slug, 'respondents')).toBe(10_000);
    expect(await count(slug, 'events')).toBe(10_000);
  });

  it('lists every error with line, column, code and message', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin, { allowedRedirectOrigins: ['https://ok.example'] });
    await ctx.inject({ method: 'POST', url: `/api/admin/surveys/${slug}/respondents`, headers: admin.headers, payload: { username: 'taken' } });
    const csv = [
      'username,email,redirect_url,phone,l1,password,notes',
      'good1,,,,,,',
      ',a@b.example,,,,,',                                  // 3 missing username
      'dup,,,,,,',                                          // 4
      'dup,,,,,,',                                          // 5 duplicate of 4
      'taken,,,,,,',                                        // 6 exists in the survey
      'bad-url,,javascript:alert(1),,,,',                   // 7
      'elsewhere,,https://evil.example/x,,,,',              // 8 outside allowed origins
      'phone,,,call me,,,',                                 // 9
      `long,,,,${'x'.repeat(1001)},,`,                      // 10
      'short-pw,,,,,abc,',                                  // 11
      'cols,,,',                                            // 12 wrong column count
      'quote"in,,,,,,',                                     // 13 malformed quoting
      `${'u'.repeat(257)},,,,,,`,                           // 14 username too long
      '"multi',                                             // 15 quoted field spanning lines
      'line",,,,,,',
      'after-multi,,,,,,',                                  // 17
      'bad-email,nope,,,,,',                                // 18
    ].join('\r\n');
    const res = await importCsv(admin, slug, csv);
    const job = res.json();
    expect(job.state).toBe('failed');
    const got = job.errors.map((e: { line: number; column: string | null; code: string }) => [e.line, e.column, e.code]);
    expect(got).toEqual([
      [3, 'username', 'missing_username'],
      [5, 'username', 'duplicate_username'],
      [6, 'username', 'username_exists'],
      [7, 'redirect_url', 'invalid_url'],
      [8, 'redirect_url', 'invalid_url'],
      [9, 'phone', 'invalid_phone'],
      [10, 'l1', 'too_long'],
      [11, 'password', 'invalid_password'],
      [12, null, 'wrong_column_count'],
      [13, null, 'malformed_quoting'],
      [14, 'username', 'too_long'],
      [15, 'username', 'invalid_username'], // a line break in a username
      [18, 'email', 'invalid_email'],
    ]);
    expect(job.errors[1].message).toContain('line 4');
    expect(await count(slug, 'respondents')).toBe(1);
  });

  it('onExisting=skip leaves existing respondents; onExisting=update changes the columns in the file and emits respondent.updated', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    await importCsv(admin, slug, 'username,name,l1,l2,Team\na,Ann,one,two,red\nb,Bob,uno,dos,blue');
    const skip = await importCsv(admin, slug, 'username,name\na,CHANGED\nc,Cee', 'wait=true&onExisting=skip');
    expect(skip.json().result).toMatchObject({ created: 1, skipped: 1, updated: 0 });
    const a1 = (await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/respondents/a`, headers: admin.headers })).json();
    expect(a1.name).toBe('Ann');

    const err = await importCsv(admin, slug, 'username,name\na,X');
    expect(err.json().errors[0]).toMatchObject({ line: 2, code: 'username_exists' });

    const upd = await importCsv(admin, slug, 'username,l1,Team\na,ONE,\nb,uno,green\nd,new,', 'wait=true&onExisting=update');
    expect(upd.json().result).toMatchObject({ created: 1, updated: 2, unchanged: 0 });
    const a2 = (await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/respondents/a`, headers: admin.headers })).json();
    expect(a2).toMatchObject({ name: 'Ann', l1: 'ONE', l2: 'two', customFields: {} });
    const b2 = (await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/respondents/b`, headers: admin.headers })).json();
    expect(b2).toMatchObject({ l1: 'uno', customFields: { Team: 'green' } });
    const changed = rowsOf<{ payload: { respondent: { username: string }; data: { changed: string[] } } }>(await ctx.services().database.db.execute(
      sql`SELECT e.payload FROM events e JOIN surveys s ON s.id = e.survey_id WHERE s.slug = ${slug} AND e.type = 'respondent.updated' ORDER BY e.seq`));
    expect(changed.map((c) => [c.payload.respondent.username, c.payload.data.changed])).toEqual([['a', ['l1', 'customFields']], ['b', ['customFields']]]);
    // The same update again changes nothing.
    const same = await importCsv(admin, slug, 'username,l1,Team\na,ONE,\nb,uno,green', 'wait=true&onExisting=update');
    expect(same.json().result).toMatchObject({ created: 0, updated: 0, unchanged: 2 });
  });

  it('runs as a job: 202 {jobId}, then GET /api/admin/jobs/{id}; accepts multipart files', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const res = await importCsv(admin, slug, 'username\nj1\nj2', '');
    expect(res.statusCode).toBe(202);
    const { jobId } = res.json();
    let job;
    for (let i = 0; i < 100; i++) {
      job = (await ctx.inject({ method: 'GET', url: `/api/admin/jobs/${jobId}`, headers: admin.headers })).json();
      if (job.state === 'succeeded' || job.state === 'failed') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(job).toMatchObject({ id: jobId, state: 'succeeded', processed: 2, total: 2, result: { created: 2 } });
    const stranger = await ctx.newAdmin();
    expect((await ctx.inject({ method: 'GET', url: `/api/admin/jobs/${jobId}`, headers: stranger.headers })).statusCode).toBe(404);
    expect((await ctx.inject({ method: 'GET', url: '/api/admin/jobs/not-a-uuid', headers: admin.headers })).statusCode).toBe(404);

    const boundary = '----sbtest';
    const body = [`--${boundary}`, 'Content-Disposition: form-data; name="file"; filename="r.csv"', 'Content-Type: text/csv', '', 'username,l1\nm1,x\nm2,y', `--${boundary}--`, ''].join('\r\n');
    const mp = await ctx.inject({
      method: 'POST', url: `/api/admin/surveys/${slug}/respondents/import?wait=true`,
      headers: { ...admin.headers, 'content-type': `multipart/form-data; boundary=${boundary}` }, payload: body,
    });
    expect(mp.statusCode).toBe(200);
    expect(mp.json()).toMatchObject({ state: 'succeeded', result: { created: 2 } });
  });

  it('refuses bad requests: no username column, empty file, wrong content type, viewer role, another account', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    const noUser = await importCsv(admin, slug, 'name,email\nA,a@b.example');
    expect(noUser.json().errors[0]).toMatchObject({ line: 1, code: 'missing_column' });
    expect((await importCsv(admin, slug, '')).statusCode).toBe(400);
    const badHeader = await importCsv(admin, slug, '"user"name,l1\nx,y');
    expect(badHeader.json().errors).toEqual([expect.objectContaining({ line: 1, code: 'malformed_quoting' })]);
    const notText = await importCsv(admin, slug, Buffer.concat([Buffer.from('username\nok\n'), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]));
    expect(notText.json().errors).toEqual([expect.objectContaining({ code: 'invalid_encoding' })]);
    const headerOnly = await importCsv(admin, slug, 'username\n');
    expect(headerOnly.json().errors[0].code).toBe('no_rows');
    const json = await ctx.inject({ method: 'POST', url: `/api/admin/surveys/${slug}/respondents/import`, headers: admin.headers, payload: { username: 'x' } });
    expect(json.statusCode).toBe(415);
    const viewer = await ctx.newAdmin('viewer', admin.accountId);
    expect((await importCsv(viewer, slug, 'username\nv')).statusCode).toBe(403);
    const stranger = await ctx.newAdmin();
    expect((await importCsv(stranger, slug, 'username\nv')).statusCode).toBe(404);
  });

  it('exports JSON lines with every field', async () => {
    const admin = await ctx.newAdmin();
    const slug = await ctx.newSurvey(admin);
    await importCsv(admin, slug, 'username,email,Team\nj1,j1@example.org,red\nj2,,blue');
    const res = await ctx.inject({ method: 'GET', url: `/api/admin/surveys/${slug}/respondents/export.json`, headers: admin.headers });
    expect(res.statusCode).toBe(200);
    const lines = res.body.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ username: 'j1', email: 'j1@example.org', customFields: { Team: 'red' } });
    expect(lines[0].authUrl).toContain(lines[0].authToken);
  });
});
