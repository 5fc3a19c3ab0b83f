/**
 * A survey at a glance: respondents by status, completes per day (14 days), and deliveries
 * of the last 24 h by state. There is no aggregate API, so the counts come from the list
 * endpoints with their filters, one page of up to 500 each: a count that fills the page
 * shows as "500+".
 */
import { api, type Page } from '../api.ts';
import { RESPONDENT_STATUSES, type DeliverySummary, type Endpoint } from '../types.ts';
import { ErrorMessage, Loading, useLoad } from '../ui.tsx';
import type { SurveyTabProps } from './SurveyPage.tsx';

const PAGE = 500;
const DAYS = 14;

interface Count {
  n: number;
  more: boolean;
}
const count = (p: Page<unknown>): Count => ({ n: p.items.length, more: p.nextCursor !== null });
const show = (c: Count) => `${c.n}${c.more ? '+' : ''}`;

function dayKey(d: Date) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function CompletesChart({ days }: { days: { day: string; n: number }[] }) {
  const max = Math.max(1, ...days.map((d) => d.n));
  const w = 22;
  const h = 100;
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${days.length * w} ${h + 18}`} role="img" aria-label={`Completes per day: ${days.map((d) => `${d.day} ${d.n}`).join(', ')}`}>
        <line x1={0} y1={h + 0.5} x2={days.length * w} y2={h + 0.5} className="axis" />
        {days.map((d, i) => {
          const bh = Math.round((d.n / max) * h);
          return (
            <g key={d.day}>
              <rect x={i * w + 3} y={h - bh} width={w - 6} height={bh} className="bar">
                <title>{`${d.day}: ${d.n}`}</title>
              </rect>
              {d.n > 0 && (
                <text x={i * w + w / 2} y={h - bh - 2} textAnchor="middle" className="bar-label">
                  {d.n}
                </text>
              )}
              <text x={i * w + w / 2} y={h + 13} textAnchor="middle" className="axis-label">
                {d.day.slice(8)}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption className="small muted">
        {days.every((d) => d.n === 0) ? `No completes in the last ${DAYS} days.` : `Completes per day, last ${DAYS} days (day of month below each bar).`}
      </figcaption>
    </figure>
  );
}

export function Dashboard({ survey }: SurveyTabProps) {
  const base = `/api/admin/surveys/${encodeURIComponent(survey.slug)}`;
  const data = useLoad(async () => {
    const since24h = new Date(Date.now() - 24 * 3600_000).toISOString();
    const [byStatus, completes, endpoints] = await Promise.all([
      Promise.all(RESPONDENT_STATUSES.map((s) => api<Page<unknown>>('GET', `${base}/respondents?status=${s}&test=false&limit=${PAGE}`).then(count))),
      api<Page<{ submittedAt: string | null }>>('GET', `${base}/records?outcome=completed&test=false&limit=${PAGE}`),
      api<Page<Endpoint>>('GET', `${base}/webhooks?limit=100`),
    ]);
    const states = ['succeeded', 'failed', 'pending'] as const;
    const deliveries = await Promise.all(
      states.map(async (state) => {
        const per = await Promise.all(
          endpoints.items.map((e) => api<Page<DeliverySummary>>('GET', `${base}/webhooks/${e.id}/deliveries?status=${state}&since=${encodeURIComponent(since24h)}&limit=${PAGE}`).then(count)),
        );
        return { state, n: per.reduce((a, c) => a + c.n, 0), more: per.some((c) => c.more) };
      }),
    );
    const today = new Date();
    const days = Array.from({ length: DAYS }, (_, i) => {
      const d = new Date(today);
      d.setDate(today.getDate() - (DAYS - 1 - i));
      return { day: dayKey(d), n: 0 };
    });
    for (const r of completes.items) {
      if (!r.submittedAt) continue;
      const slot = days.find((d) => d.day === dayKey(new Date(r.submittedAt!)));
      if (slot) slot.n++;
    }
    return { byStatus, days, completesMore: completes.nextCursor !== null, deliveries, endpoints: endpoints.items.length };
  }, [base]);

  if (data.loading && !data.data) return <Loading label="Counting…" />;
  if (data.error) return <ErrorMessage error={data.error} />;
  const d = data.data!;
  return (
    <div className="dashboard">
      <section className="card section" aria-labelledby="dash-resp">
        <h2 id="dash-resp">Respondents by status</h2>
        <dl className="stats">
          {RESPONDENT_STATUSES.map((s, i) => (
            <div key={s}>
              <dt>{s.replace('_', ' ')}</dt>
              <dd data-testid={`count-${s}`}>{show(d.byStatus[i])}</dd>
            </div>
          ))}
        </dl>
      </section>
      <section className="card section" aria-labelledby="dash-completes">
        <h2 id="dash-completes">Completes</h2>
        <CompletesChart days={d.days} />
        {d.completesMore && <p className="small muted">Counted from the latest {PAGE} completes.</p>}
      </section>
      <section className="card section" aria-labelledby="dash-deliveries">
        <h2 id="dash-deliveries">Webhook deliveries, last 24 h</h2>
        {d.endpoints === 0 ? (
          <p className="muted">No webhook endpoints.</p>
        ) : (
          <dl className="stats">
            {d.deliveries.map((x) => (
              <div key={x.state}>
                <dt>{x.state}</dt>
                <dd>{show(x)}</dd>
              </div>
            ))}
          </dl>
        )}
      </section>
      <div className="actions">
        <button type="button" onClick={() => void data.reload()} disabled={data.loading}>
          {data.loading ? 'Counting…' : 'Refresh'}
        </button>
      </div>
    </div>
  );
}
