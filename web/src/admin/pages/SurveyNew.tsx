import { useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { Link, navigate } from '../router.tsx';
import { ReadOnlyNote, useSession } from '../session.tsx';
import type { Survey } from '../types.ts';
import { ErrorMessage, Field, PageTitle, useAction } from '../ui.tsx';

const slugify = (name: string) =>
  name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);

export function SurveyNew() {
  const { can } = useSession();
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  const [slugTouched, setSlugTouched] = useState(false);
  const action = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const created = await action.run(() => api<Survey>('POST', '/api/admin/surveys', { name, slug }));
    if (created) navigate(`/surveys/${encodeURIComponent(created.slug)}/settings`);
  };
  return (
    <>
      <p className="crumbs">
        <Link to="/surveys">Surveys</Link> /
      </p>
      <PageTitle>New survey</PageTitle>
      <ReadOnlyNote need="admin" />
      <form onSubmit={submit} className="card form-narrow">
        <fieldset disabled={!can('admin')} className="plain">
          <ErrorMessage error={action.error} />
          <Field label="Name" path="name" fields={action.fields}>
            {(p) => (
              <input
                {...p}
                required
                maxLength={200}
                value={name}
                onChange={(e) => {
                  setName(e.target.value);
                  if (!slugTouched) setSlug(slugify(e.target.value));
                }}
              />
            )}
          </Field>
          <Field label="Slug" path="slug" fields={action.fields} hint="Lower-case letters, digits and dashes; part of every survey URL (/surveys/<slug>). It cannot change later.">
            {(p) => (
              <input
                {...p}
                required
                maxLength={64}
                pattern="[a-z0-9-]{1,64}"
                value={slug}
                onChange={(e) => {
                  setSlug(e.target.value);
                  setSlugTouched(true);
                }}
              />
            )}
          </Field>
          <div className="actions">
            <button type="submit" className="btn-primary" disabled={action.busy}>
              {action.busy ? 'Creating…' : 'Create survey'}
            </button>
            <Link to="/surveys" className="btn">Cancel</Link>
          </div>
        </fieldset>
      </form>
    </>
  );
}
