/**
 * Every setting of a survey, grouped as a person thinks of them. One form, one "Save changes"
 * (only changed settings are sent); secrets save on their own and are never shown again.
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import { api } from '../api.ts';
import { navigate } from '../router.tsx';
import { ReadOnlyNote, useSession } from '../session.tsx';
import { OUTCOMES, OUTCOME_DEFAULT_STATUS, OUTCOME_LABELS, REDIRECT_PARAMS, type Survey } from '../types.ts';
import { ErrorMessage, Field, useAction } from '../ui.tsx';
import type { SurveyTabProps } from './SurveyPage.tsx';
import { SecretControl } from './SecretControl.tsx';
import { ReviewLevelsEditor } from './ReviewLevelsEditor.tsx';
import { RedirectPreview } from './RedirectPreview.tsx';
import { PanelSettings } from './PanelSettings.tsx';
import { changes, toDraft, type Draft } from './settingsDraft.ts';

const SECTIONS = [
  ['general', 'General'],
  ['access', 'Respondent access'],
  ['redirects', 'Redirects'],
  ['panel', 'Panel mode'],
  ['notifications', 'Notifications'],
  ['review', 'Review levels'],
] as const;

function Section({ id, title, children }: { id: string; title: string; children: ReactNode }) {
  return (
    <section className="card section" id={`sec-${id}`} aria-labelledby={`sec-${id}-title`}>
      <h2 id={`sec-${id}-title`}>{title}</h2>
      {children}
    </section>
  );
}

export function SurveySettings({ survey, setSurvey }: SurveyTabProps) {
  const { can } = useSession();
  const readOnly = !can('admin');
  const [draft, setDraft] = useState<Draft>(() => toDraft(survey));
  const [saved, setSaved] = useState(false);
  const save = useAction();
  const remove = useAction();
  const path = `/api/admin/surveys/${encodeURIComponent(survey.slug)}`;
  const pending = changes(survey, draft);
  const dirty = Object.keys(pending).length > 0;
  const f = save.fields;

  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => {
    setSaved(false);
    setDraft((d) => ({ ...d, [k]: v }));
  };
  const setOutcome = (k: 'outcomeUrls' | 'outcomeRewards' | 'statusCodes', o: string, v: string) => set(k, { ...draft[k], [o]: v });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const updated = await save.run(() => api<Survey>('PATCH', path, pending));
    if (updated) {
      setSurvey(updated);
      setDraft(toDraft(updated));
      setSaved(true);
    }
  };
  const saveSecret = async (name: 'jwtSecret' | 'linkSigningSecret', value: string | null) => {
    const updated = await api<Survey>('PATCH', path, { [name]: value });
    setSurvey(updated);
    return updated;
  };
  const deleteSurvey = async () => {
    if (!window.confirm(`Delete the survey “${survey.name}” and everything in it (respondents, records, webhooks)? This cannot be undone.`)) return;
    const done = await remove.run(async () => {
      await api('DELETE', path);
      return true;
    });
    if (done) navigate('/surveys');
  };

  return (
    <>
      <ReadOnlyNote need="admin" />
      <nav className="jump" aria-label="Settings sections">
        {SECTIONS.map(([id, title]) => (
          <a key={id} href={`#sec-${id}`}>{title}</a>
        ))}
      </nav>
      <form onSubmit={submit} className="settings" noValidate>
        <fieldset disabled={readOnly} className="plain">
          <Section id="general" title="General">
            <Field label="Name" path="name" fields={f}>
              {(p) => <input {...p} value={draft.name} maxLength={200} onChange={(e) => set('name', e.target.value)} />}
            </Field>
            <Field label="Slug" hint="Fixed when the survey was created.">
              {(p) => <input {...p} value={survey.slug} readOnly />}
            </Field>
            <Field label="State" path="state" fields={f} hint="Draft: only previews. Active: respondents can enter. Closed: no new answers.">
              {(p) => (
                <select {...p} value={draft.state} onChange={(e) => set('state', e.target.value)}>
                  <option value="draft">Draft</option>
                  <option value="active">Active</option>
                  <option value="closed">Closed</option>
                </select>
              )}
            </Field>
          </Section>

          <Section id="access" title="Respondent access">
            <label className="check">
              <input type="checkbox" checked={draft.allowUserGeneration} onChange={(e) => set('allowUserGeneration', e.target.checked)} /> Let third parties create respondents on the fly (createUser links and API)
            </label>
            <SecretControl
              label="JWT secret"
              name="jwtSecret"
              hint="Signs the createUser tokens third parties send (HS256/HS512)."
              isSet={survey.jwtSecretSet}
              disabled={readOnly}
              save={(v) => saveSecret('jwtSecret', v)}
            />
            <Field label="Maximum token age (seconds)" path="jwtMaxAgeSeconds" fields={f} hint="Rejects createUser tokens issued longer ago than this. Empty: no limit.">
              {(p) => <input {...p} type="number" min={1} value={draft.jwtMaxAgeSeconds} onChange={(e) => set('jwtMaxAgeSeconds', e.target.value)} />}
            </Field>
            <SecretControl
              label="Link signing secret"
              name="linkSigningSecret"
              hint="Signs redirect URLs (the hash parameter) and checks signed entry links."
              isSet={survey.linkSigningSecretSet}
              disabled={readOnly}
              save={(v) => saveSecret('linkSigningSecret', v)}
            />
            <label className="check">
              <input type="checkbox" checked={draft.requireSignedEntry} onChange={(e) => set('requireSignedEntry', e.target.checked)} /> Require signed entry links
            </label>
            <Field label="Entry parameters to keep" path="entryParams" fields={f} hint="Query parameters of the entry link stored with the respondent (usable as {entry:name} in redirects), separated by commas.">
              {(p) => <input {...p} value={draft.entryParams} onChange={(e) => set('entryParams', e.target.value)} />}
            </Field>
          </Section>

          <Section id="redirects" title="Redirects">
            <p className="hint">Where respondents go when they finish, per outcome. Placeholders such as {'{username}'} or {'{entry:name}'} are filled in.</p>
            {OUTCOMES.map((o) => (
              <div key={o} className="outcome">
                <h3>{OUTCOME_LABELS[o]}</h3>
                <div className="grid-outcome">
                  <Field label="URL" path={`outcomeUrls/${o}`} fields={f}>
                    {(p) => <input {...p} type="url" placeholder="https://…" value={draft.outcomeUrls[o]} onChange={(e) => setOutcome('outcomeUrls', o, e.target.value)} />}
                  </Field>
                  <Field label="Reward" path={`outcomeRewards/${o}`} fields={f}>
                    {(p) => <input {...p} value={draft.outcomeRewards[o]} onChange={(e) => setOutcome('outcomeRewards', o, e.target.value)} />}
                  </Field>
                  <Field label="Status code" path={`statusCodes/${o}`} fields={f}>
                    {(p) => <input {...p} type="number" min={0} max={999} placeholder={OUTCOME_DEFAULT_STATUS[o] == null ? 'none' : String(OUTCOME_DEFAULT_STATUS[o])} value={draft.statusCodes[o]} onChange={(e) => setOutcome('statusCodes', o, e.target.value)} />}
                  </Field>
                </div>
              </div>
            ))}
            <Field label="Follow-up URL" path="followUpUrl" fields={f} hint="Used when an outcome has no URL of its own.">
              {(p) => <input {...p} type="url" value={draft.followUpUrl} onChange={(e) => set('followUpUrl', e.target.value)} />}
            </Field>
            <Field label="Allowed redirect origins" path="allowedRedirectOrigins" fields={f} hint="One origin per line (https://panel.example). Empty: any origin.">
              {(p) => <textarea {...p} rows={3} value={draft.allowedRedirectOrigins} onChange={(e) => set('allowedRedirectOrigins', e.target.value)} />}
            </Field>
            <fieldset className="checks-block">
              <legend>Parameters added to every redirect</legend>
              <div className="checks">
                {REDIRECT_PARAMS.map((name) => (
                  <label key={name} className="check">
                    <input
                      type="checkbox"
                      checked={draft.redirectParams.includes(name)}
                      onChange={(e) => set('redirectParams', REDIRECT_PARAMS.filter((x) => (x === name ? e.target.checked : draft.redirectParams.includes(x))))}
                    />{' '}
                    <code>{name}</code>
                  </label>
                ))}
              </div>
            </fieldset>
            <Field label="Respondent identifier" path="redirectIdentifier" fields={f} hint="What {userId} carries: username (default), userId, authToken, or a custom field name.">
              {(p) => <input {...p} list="identifier-options" value={draft.redirectIdentifier} placeholder="username" onChange={(e) => set('redirectIdentifier', e.target.value)} />}
            </Field>
            <datalist id="identifier-options">
              <option value="username" />
              <option value="userId" />
              <option value="authToken" />
            </datalist>
          </Section>

          <Section id="panel" title="Panel mode">
            <PanelSettings survey={survey} draft={draft} set={set} fields={f} />
          </Section>

          <Section id="notifications" title="Notifications">
            <Field label="Submission notification URL" path="submissionNotificationUrl" fields={f} hint="Receives a signed notification for each submission. Webhook endpoints for every event are on the Webhooks tab.">
              {(p) => <input {...p} type="url" value={draft.submissionNotificationUrl} onChange={(e) => set('submissionNotificationUrl', e.target.value)} />}
            </Field>
            <Field label="Notification issuer (iss)" path="notificationIssuer" fields={f} hint="Default: surveybridge.">
              {(p) => <input {...p} value={draft.notificationIssuer} placeholder="surveybridge" onChange={(e) => set('notificationIssuer', e.target.value)} />}
            </Field>
          </Section>

          <Section id="review" title="Review levels">
            <ReviewLevelsEditor levels={draft.reviewLevels} onChange={(l) => set('reviewLevels', l)} fields={f} />
          </Section>

          <div className="savebar" role="region" aria-label="Save">
            <ErrorMessage error={save.error} />
            {saved && !dirty && <span role="status" className="ok">Saved.</span>}
            {dirty && <span className="muted">Unsaved changes</span>}
            <button type="submit" className="btn-primary" disabled={!dirty || save.busy}>
              {save.busy ? 'Saving…' : 'Save changes'}
            </button>
            <button type="button" disabled={!dirty || save.busy} onClick={() => setDraft(toDraft(survey))}>
              Discard
            </button>
          </div>
        </fieldset>
      </form>
      {!readOnly && <RedirectPreview slug={survey.slug} />}
      {!readOnly && (
        <section className="card section danger" aria-labelledby="danger-title">
          <h2 id="danger-title">Delete this survey</h2>
          <p>Removes the survey with its respondents, records and webhooks.</p>
          <ErrorMessage error={remove.error} />
          <button type="button" className="btn-danger" onClick={deleteSurvey} disabled={remove.busy}>
            {remove.busy ? 'Deleting…' : 'Delete survey'}
          </button>
        </section>
      )}
    </>
  );
}
