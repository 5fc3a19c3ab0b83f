/** A survey's records: list with outcome and review level, detail with answers and history, review moves. */
import { useState } from 'react';
import { api, download, type Page } from '../api.ts';
import { Link } from '../router.tsx';
import { OUTCOMES, OUTCOME_LABELS } from '../types.ts';
import { useSession } from '../session.tsx';
import { ErrorMessage, Field, Loading, formatDate, useAction, useLoad } from '../ui.tsx';
import type { SurveyTabProps } from './SurveyPage.tsx';

interface RecordView {
  id: number;
  respondent: { userId: number; username: string };
  attempt: number;
  definitionVersion: number;
  answers: Record<string, unknown>;
  outcome: string | null;
  status: number | null;
  reviewLevel: string | null;
  locked: boolean;
  redirectUrl: string | null;
  createdAt: string;
  updatedAt: string;
  submittedAt: string | null;
}
interface RecordDetail extends RecordView {
  labelledAnswers: { questionId: string; label: string; type: string; value: unknown }[];
  history: { id: number; actor: string; action: string; change: Record<string, unknown>; at: string }[];
}
interface ReviewResult {
  record: RecordView;
  changed: boolean;
  lockBroken: boolean;
  hooks: { ok: boolean; statusCode: number | null; error: string | null }[];
}

const show = (v: unknown) => (v === null || v === undefined ? '—' : Array.isArray(v) ? v.join(', ') : typeof v === 'object' ? JSON.stringify(v) : String(v));

function RecordDetailView({ survey, id }: { survey: SurveyTabProps['survey']; id: string }) {
  const path = `/api/admin/surveys/${encodeURIComponent(survey.slug)}/records/${encodeURIComponent(id)}`;
  const rec = useLoad(() => api<RecordDetail>('GET', path), [path]);
  const levels = [...(survey.reviewLevels ?? [])].sort((a, b) => a.seq - b.seq);
  const [level, setLevel] = useState('');
  const move = useAction();
  const [notice, setNotice] = useState<string | null>(null);
  const levelName = (lid: string | null) => (lid ? (levels.find((l) => l.id === lid)?.name ?? lid) : 'none');

  const doMove = async () => {
    setNotice(null);
    const r = await move.run(() => api<ReviewResult>('POST', `${path}/review`, { level }));
    if (r) {
      setNotice(r.changed ? `Moved to ${levelName(r.record.reviewLevel)}.${r.hooks.some((h) => !h.ok) ? ' A sync webhook did not accept it.' : ''}` : 'The record already was at that level.');
      void rec.reload();
    }
  };

  return (
    <>
      <p className="crumbs">
        <Link to={`/surveys/${encodeURIComponent(survey.slug)}/records`}>Records</Link> /
      </p>
      <h2>Record {id}</h2>
      <ErrorMessage error={rec.error} />
      {rec.loading && !rec.data && <Loading label="Loading the record…" />}
      {rec.data && (
        <>
          <p className="muted small">
            {rec.data.respondent.username} · attempt {rec.data.attempt} · definition v{rec.data.definitionVersion} · outcome {rec.data.outcome ?? 'in progress'}
            {rec.data.status !== null && ` (status ${rec.data.status})`} · review level {levelName(rec.data.reviewLevel)}
            {rec.data.locked && ' · locked'} · submitted {formatDate(rec.data.submittedAt)}
          </p>
          {levels.length > 0 && (
            <section className="card section" aria-labelledby="review-title">
              <h3 id="review-title">Review level</h3>
              <div className="grid-preview">
                <Field label="Move to" path="level" fields={move.fields}>
                  {(p) => (
                    <select {...p} value={level} onChange={(e) => setLevel(e.target.value)}>
                      <option value="">Choose a level…</option>
                      {levels.map((l) => (
                        <option key={l.id} value={l.id}>
                          {l.name}{l.lock ? ' (locks)' : ''} — {l.roles.join(', ')}
                        </option>
                      ))}
                    </select>
                  )}
                </Field>
                <div className="actions align-end">
                  <button type="button" onClick={doMove} disabled={!level || move.busy}>{move.busy ? 'Moving…' : 'Move'}</button>
                </div>
              </div>
              <ErrorMessage error={move.error} />
              {notice && <p className="alert alert-success" role="status">{notice}</p>}
            </section>
          )}
          <section className="card section" aria-labelledby="answers-title">
            <h3 id="answers-title">Answers</h3>
            {rec.data.labelledAnswers.length === 0 ? (
              <p className="muted">No answers.</p>
            ) : (
              <dl className="pairs">
                {rec.data.labelledAnswers.map((a) => (
                  <div key={a.questionId}>
                    <dt>{a.label}</dt>
                    <dd>{show(a.value)}</dd>
                  </div>
                ))}
              </dl>
            )}
          </section>
          <section className="card section" aria-labelledby="history-title">
            <h3 id="history-title">History</h3>
            <ol className="attempts">
              {rec.data.history.map((h) => (
                <li key={h.id}>
                  <strong>{formatDate(h.at)}</strong> {h.action} by {h.actor}
                  {Object.keys(h.change).length > 0 && <div className="small muted"><code className="wrap">{JSON.stringify(h.change)}</code></div>}
                </li>
              ))}
            </ol>
          </section>
        </>
      )}
    </>
  );
}

export function Records({ survey, item }: SurveyTabProps) {
  if (item) return <RecordDetailView survey={survey} id={item} />;
  return <RecordList survey={survey} />;
}

function RecordList({ survey }: { survey: SurveyTabProps['survey'] }) {
  const slug = survey.slug;
  const [filter, setFilter] = useState({ status: '', outcome: '', reviewLevel: '' });
  const q = new URLSearchParams({ limit: '50' });
  for (const [k, v] of Object.entries(filter)) if (v) q.set(k, v);
  const qs = q.toString();
  const base = `/api/admin/surveys/${encodeURIComponent(slug)}`;
  const list = useLoad(() => api<Page<RecordView>>('GET', `${base}/records?${qs}`), [base, qs]);
  const more = useAction();
  const exporting = useAction();
  const { can } = useSession();
  const levels = [...(survey.reviewLevels ?? [])].sort((a, b) => a.seq - b.seq);
  const loadMore = async () => {
    const next = await more.run(() => api<Page<RecordView>>('GET', `${base}/records?${qs}&cursor=${encodeURIComponent(list.data?.nextCursor ?? '')}`));
    if (next) list.setData({ items: [...(list.data?.items ?? []), ...next.items], nextCursor: next.nextCursor });
  };
  return (
    <>
      <div className="card filters" role="search" aria-label="Filter records">
        <Field label="State">
          {(p) => (
            <select {...p} value={filter.status} onChange={(e) => setFilter({ ...filter, status: e.target.value })}>
              <option value="">Any</option>
              <option value="in_progress">in progress</option>
              <option value="finished">finished</option>
            </select>
          )}
        </Field>
        <Field label="Outcome">
          {(p) => (
            <select {...p} value={filter.outcome} onChange={(e) => setFilter({ ...filter, outcome: e.target.value })}>
              <option value="">Any</option>
              {OUTCOMES.map((o) => (
                <option key={o} value={o}>{OUTCOME_LABELS[o]}</option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Review level">
          {(p) => (
            <select {...p} value={filter.reviewLevel} onChange={(e) => setFilter({ ...filter, reviewLevel: e.target.value })}>
              <option value="">Any</option>
              <option value="none">none</option>
              {levels.map((l) => (
                <option key={l.id} value={l.id}>{l.name}</option>
              ))}
            </select>
          )}
        </Field>
        <div className="actions align-end">
          <button type="button" disabled={exporting.busy} onClick={() => void exporting.run(() => download(`${base}/submissions/export.csv`, `${slug}-submissions.csv`))}>
            {exporting.busy ? 'Preparing…' : 'Export CSV'}
          </button>
          {/* Rewards reveal payouts: the export needs the admin role. */}
          {can('admin') && (
            <button type="button" disabled={exporting.busy} onClick={() => void exporting.run(() => download(`${base}/rewards.csv`, `${slug}-rewards.csv`))}>
              Export rewards CSV
            </button>
          )}
        </div>
      </div>
      <ErrorMessage error={exporting.error} />
      <ErrorMessage error={list.error} />
      {list.loading && <Loading label="Loading records…" />}
      {list.data && list.data.items.length === 0 && !list.loading && <p className="empty">No records.</p>}
      {list.data && list.data.items.length > 0 && (
        <div className="table-wrap">
          <table className="table" aria-label="Records">
            <thead>
              <tr>
                <th scope="col">Record</th>
                <th scope="col">Respondent</th>
                <th scope="col">Outcome</th>
                <th scope="col">Review level</th>
                <th scope="col">Submitted</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((r) => (
                <tr key={r.id}>
                  <td data-label="Record">
                    <Link to={`/surveys/${encodeURIComponent(slug)}/records/${r.id}`}>#{r.id}</Link>
                  </td>
                  <td data-label="Respondent">{r.respondent.username}</td>
                  <td data-label="Outcome">{r.outcome ? OUTCOME_LABELS[r.outcome] ?? r.outcome : 'in progress'}{r.status !== null && <span className="muted small"> ({r.status})</span>}</td>
                  <td data-label="Review level">{r.reviewLevel ? (levels.find((l) => l.id === r.reviewLevel)?.name ?? r.reviewLevel) : '—'}{r.locked && ' 🔒'}</td>
                  <td data-label="Submitted">{formatDate(r.submittedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ErrorMessage error={more.error} />
      {list.data?.nextCursor && (
        <button type="button" onClick={loadMore} disabled={more.busy}>
          {more.busy ? 'Loading…' : 'Load more'}
        </button>
      )}
    </>
  );
}
