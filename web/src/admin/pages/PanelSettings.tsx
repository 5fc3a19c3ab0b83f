/**
 * The "Panel mode" group of the survey settings: replacement surveys (ordered), attempts per
 * respondent, test-respondent termination, entry screening rules and the status codes of the
 * termination catalogue. Edits the shared settings draft; "Save changes" sends them.
 */
import { useState, type KeyboardEvent } from 'react';
import { api, type FieldError, type Page } from '../api.ts';
import { LABELS, STATUS_CATALOGUE, STATUS_NAMES, type Survey } from '../types.ts';
import { Field, fieldErrors, fieldPath, useLoad } from '../ui.tsx';
import { newRule, type RuleDraft } from './panelDraft.ts';
import type { Draft } from './settingsDraft.ts';
import './panel.css';

interface Props {
  survey: Survey;
  draft: Draft;
  set: <K extends keyof Draft>(k: K, v: Draft[K]) => void;
  fields: FieldError[];
}

/** Errors at exactly `path` (not below it): a list's own errors, shown above its rows. */
const ownErrors = (fields: FieldError[], path: string) => fields.filter((f) => fieldPath(f.path) === path).map((f) => f.message);

function moved<T>(list: T[], i: number, by: number): T[] {
  const next = [...list];
  const [x] = next.splice(i, 1);
  next.splice(i + by, 0, x);
  return next;
}

function Errors({ messages }: { messages: string[] }) {
  if (messages.length === 0) return null;
  return <div className="field-error">{[...new Set(messages)].join('; ')}</div>;
}

function Replacements({ survey, draft, set, fields }: Props) {
  const surveys = useLoad(() => api<Page<Survey>>('GET', '/api/admin/surveys?limit=500'), []);
  const [adding, setAdding] = useState('');
  const names = new Map((surveys.data?.items ?? []).map((s) => [s.slug, s.name]));
  const others = (surveys.data?.items ?? []).filter((s) => s.slug !== survey.slug && !draft.replacements.includes(s.slug));
  const list = draft.replacements;
  const add = () => {
    const slug = adding.trim();
    if (slug === '' || list.includes(slug)) return;
    set('replacements', [...list, slug]);
    setAdding('');
  };
  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter') {
      e.preventDefault(); // not "Save changes"
      add();
    }
  };
  return (
    <div className="panel-block">
      <h3 id="replacements-title">Replacement surveys</h3>
      <p className="hint">Surveys of this account tried in this order when this one turns a respondent away at entry (closed, full, or screened out below).</p>
      <Errors messages={ownErrors(fields, 'replacements')} />
      {list.length === 0 ? (
        <p className="muted">No replacements: a respondent turned away is sent to the disqualified redirect (status 19).</p>
      ) : (
        <ol className="replacements" aria-labelledby="replacements-title">
          {list.map((slug, i) => {
            const errs = fieldErrors(fields, `replacements/${i}`);
            return (
              <li key={slug} className={errs.length ? 'has-error' : undefined} data-testid={`replacement-${slug}`}>
                <div className="replacement-row">
                  <span className="replacement-name">
                    <code>{slug}</code>
                    {names.has(slug) && <span className="muted small"> {names.get(slug)}</span>}
                  </span>
                  <span className="actions">
                    <button type="button" className="btn-small" disabled={i === 0} onClick={() => set('replacements', moved(list, i, -1))} aria-label={`Move ${slug} up`}>↑ Up</button>
                    <button type="button" className="btn-small" disabled={i === list.length - 1} onClick={() => set('replacements', moved(list, i, 1))} aria-label={`Move ${slug} down`}>↓ Down</button>
                    <button type="button" className="btn-small btn-danger" onClick={() => set('replacements', list.filter((_, j) => j !== i))} aria-label={`Remove ${slug}`}>Remove</button>
                  </span>
                </div>
                <Errors messages={errs} />
              </li>
            );
          })}
        </ol>
      )}
      <div className="add-row">
        <Field label="Add a replacement" hint={surveys.error ? 'The survey list could not be loaded: type the survey’s slug.' : 'The survey’s slug: pick from the list or type it.'}>
          {(p) => <input {...p} list="replacement-options" value={adding} maxLength={64} onKeyDown={onKey} onChange={(e) => setAdding(e.target.value)} />}
        </Field>
        <button type="button" className="align-end" onClick={add} disabled={adding.trim() === '' || list.includes(adding.trim())}>Add</button>
      </div>
      <datalist id="replacement-options">
        {others.map((s) => (
          <option key={s.slug} value={s.slug}>{s.name}</option>
        ))}
      </datalist>
    </div>
  );
}

// What the validator adds for every branch of a union (param | label, the outcome literals): noise
// next to the message that names the problem.
const UNION_NOISE = /^(must be equal to constant|must match a schema in anyOf|is not a known field|must have required property '(param|label)')$/;

function RuleRow({ rule, i, count, fields: all, onChange, onMove, onRemove }: {
  rule: RuleDraft; i: number; count: number; fields: FieldError[];
  onChange: (r: RuleDraft) => void; onMove: (by: number) => void; onRemove: () => void;
}) {
  const at = `entryScreening/${i}`;
  const mine = all.filter((f) => fieldPath(f.path) === at || fieldPath(f.path).startsWith(`${at}/`));
  const clear = mine.filter((f) => !UNION_NOISE.test(f.message));
  const fields = clear.length > 0 ? clear : mine;
  const valuePath = `${at}/${rule.op}`;
  const shown = [`${at}/when`, valuePath, `${at}/outcome`, `${at}/status`];
  // Errors no field below shows (e.g. an unknown key): under the rule.
  const rest = fields.filter((f) => !shown.some((s) => fieldPath(f.path) === s || fieldPath(f.path).startsWith(`${s}/`)));
  const patch = (p: Partial<RuleDraft>) => onChange({ ...rule, ...p });
  return (
    <fieldset className="rule" data-testid={`rule-${i}`}>
      <legend>Rule {i + 1}</legend>
      <div className="grid-rule">
        <Field label="Match on">
          {(p) => (
            <select {...p} value={rule.source} onChange={(e) => patch({ source: e.target.value as RuleDraft['source'], name: e.target.value === 'label' ? 'l1' : '' })}>
              <option value="param">Parameter</option>
              <option value="label">Label</option>
            </select>
          )}
        </Field>
        {rule.source === 'label' ? (
          <Field label="Label" path={`${at}/when`} fields={fields}>
            {(p) => (
              <select {...p} value={rule.name} onChange={(e) => patch({ name: e.target.value })}>
                {LABELS.map((l) => <option key={l} value={l}>{l}</option>)}
              </select>
            )}
          </Field>
        ) : (
          <Field label="Parameter name" path={`${at}/when`} fields={fields}>
            {(p) => <input {...p} value={rule.name} maxLength={64} placeholder="country" onChange={(e) => patch({ name: e.target.value })} />}
          </Field>
        )}
        <Field label="Matches">
          {(p) => (
            <select {...p} value={rule.op} onChange={(e) => patch({ op: e.target.value as RuleDraft['op'] })}>
              <option value="equals">equals</option>
              <option value="in">is one of</option>
            </select>
          )}
        </Field>
        <Field label={rule.op === 'in' ? 'Values (comma-separated)' : 'Value'} path={valuePath} fields={fields}>
          {(p) => <input {...p} value={rule.value} onChange={(e) => patch({ value: e.target.value })} />}
        </Field>
        <Field label="Outcome" path={`${at}/outcome`} fields={fields}>
          {(p) => (
            <select {...p} value={rule.outcome} onChange={(e) => patch({ outcome: e.target.value as RuleDraft['outcome'] })}>
              <option value="">—</option>
              <option value="disqualified">Disqualified</option>
              <option value="quota_full">Quota full</option>
            </select>
          )}
        </Field>
        <Field label="Status" path={`${at}/status`} fields={fields}>
          {(p) => <input {...p} type="number" min={0} max={999} placeholder={String(STATUS_CATALOGUE.noReplacement.code)} value={rule.status} onChange={(e) => patch({ status: e.target.value })} />}
        </Field>
      </div>
      <Errors messages={rest.map((f) => f.message)} />
      <div className="actions">
        <button type="button" className="btn-small" disabled={i === 0} onClick={() => onMove(-1)} aria-label={`Move rule ${i + 1} up`}>↑ Up</button>
        <button type="button" className="btn-small" disabled={i === count - 1} onClick={() => onMove(1)} aria-label={`Move rule ${i + 1} down`}>↓ Down</button>
        <button type="button" className="btn-small btn-danger" onClick={onRemove} aria-label={`Remove rule ${i + 1}`}>Remove</button>
      </div>
    </fieldset>
  );
}

export function PanelSettings(props: Props) {
  const { draft, set, fields } = props;
  const rules = draft.entryScreening;
  return (
    <>
      <Replacements {...props} />
      <div className="narrow-field">
        <Field label="Attempts per respondent" path="maxAttemptsPerRespondent" fields={fields} hint="Entries a respondent may make; each new attempt after an outcome is a new record. Empty: 1.">
          {(p) => <input {...p} type="number" min={1} max={1000} placeholder="1" value={draft.maxAttemptsPerRespondent} onChange={(e) => set('maxAttemptsPerRespondent', e.target.value)} />}
        </Field>
      </div>
      <label className="check">
        <input type="checkbox" checked={draft.terminateTestRespondents} onChange={(e) => set('terminateTestRespondents', e.target.checked)} /> Terminate test respondents at submit (disqualified, status {STATUS_CATALOGUE.testTermination.code})
      </label>

      <div className="panel-block">
        <h3>Entry screening</h3>
        <p className="hint">Checked in order at entry, before the survey starts; the first rule that matches turns the respondent away (to a replacement survey when there is one) with its status.</p>
        <Errors messages={ownErrors(fields, 'entryScreening')} />
        {rules.length === 0 && <p className="muted">No entry screening rules.</p>}
        {rules.map((r, i) => (
          <RuleRow
            key={i}
            rule={r}
            i={i}
            count={rules.length}
            fields={fields}
            onChange={(n) => set('entryScreening', rules.map((x, j) => (j === i ? n : x)))}
            onMove={(by) => set('entryScreening', moved(rules, i, by))}
            onRemove={() => set('entryScreening', rules.filter((_, j) => j !== i))}
          />
        ))}
        <button type="button" className="btn-small" onClick={() => set('entryScreening', [...rules, newRule()])}>Add a screening rule</button>
      </div>

      <fieldset className="checks-block panel-block">
        <legend>Status codes</legend>
        <p className="hint">The code sent as <code>status</code> for each kind of termination. Empty: the default shown.</p>
        <div className="grid-codes">
          {STATUS_NAMES.map((name) => (
            <Field key={name} label={STATUS_CATALOGUE[name].meaning} path={`statusCodes/${name}`} fields={fields} hint={<code>{name}</code>}>
              {(p) => (
                <input {...p} type="number" min={0} max={999} placeholder={String(STATUS_CATALOGUE[name].code)} value={draft.statusCodes[name] ?? ''}
                  onChange={(e) => set('statusCodes', { ...draft.statusCodes, [name]: e.target.value })} />
              )}
            </Field>
          ))}
        </div>
      </fieldset>
    </>
  );
}
