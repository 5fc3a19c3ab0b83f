import { api, type Page } from '../api.ts';
import { Link } from '../router.tsx';
import { useSession } from '../session.tsx';
import type { Survey } from '../types.ts';
import { ErrorMessage, Loading, PageTitle, formatDate, useAction, useLoad } from '../ui.tsx';

export function SurveysList() {
  const { can } = useSession();
  const list = useLoad(() => api<Page<Survey>>('GET', '/api/admin/surveys?limit=100'), []);
  const more = useAction();
  const loadMore = async () => {
    const cursor = list.data?.nextCursor;
    if (!cursor) return;
    const next = await more.run(() => api<Page<Survey>>('GET', `/api/admin/surveys?limit=100&cursor=${encodeURIComponent(cursor)}`));
    if (next) list.setData({ items: [...(list.data?.items ?? []), ...next.items], nextCursor: next.nextCursor });
  };
  return (
    <>
      <div className="page-head">
        <PageTitle>Surveys</PageTitle>
        {can('admin') && (
          <Link to="/surveys/new" className="btn btn-primary">
            New survey
          </Link>
        )}
      </div>
      <ErrorMessage error={list.error} />
      {list.loading && !list.data && <Loading label="Loading surveys…" />}
      {list.data && list.data.items.length === 0 && <p className="empty">No surveys yet.{can('admin') ? ' Create the first one with “New survey”.' : ''}</p>}
      {list.data && list.data.items.length > 0 && (
        <div className="table-wrap">
          <table className="table" aria-label="Surveys">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Slug</th>
                <th scope="col">State</th>
                <th scope="col">JWT secret</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((s) => (
                <tr key={s.id}>
                  <td data-label="Name">
                    <Link to={`/surveys/${encodeURIComponent(s.slug)}`}>{s.name}</Link>
                  </td>
                  <td data-label="Slug"><code>{s.slug}</code></td>
                  <td data-label="State"><span className={`badge state-${s.state}`}>{s.state}</span></td>
                  <td data-label="JWT secret">{s.jwtSecretSet ? 'set' : 'not set'}</td>
                  <td data-label="Updated">{formatDate(s.updatedAt)}</td>
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
