/**
 * A write-only secret: shows "set / not set", never the value. "Generate" saves a random
 * secret and shows it once with a copy button; "Replace" saves one typed in; "Clear" removes it.
 */
import { useState } from 'react';
import { ApiError, randomSecret } from '../api.ts';
import { ErrorMessage, ShownOnce, fieldErrors, useAction } from '../ui.tsx';

export function SecretControl(props: {
  label: string;
  name: string;
  hint: string;
  isSet: boolean;
  disabled: boolean;
  save: (value: string | null) => Promise<unknown>;
}) {
  const action = useAction();
  const [shown, setShown] = useState<string | null>(null);
  const [replacing, setReplacing] = useState(false);
  const [typed, setTyped] = useState('');
  const inputId = `${props.name}-input`;

  const generate = async () => {
    if (props.isSet && !window.confirm(`Replace the ${props.label}? Systems that use the current one stop working until they get the new one.`)) return;
    const value = randomSecret();
    const ok = await action.run(() => props.save(value));
    if (ok !== undefined) {
      setShown(value);
      setReplacing(false);
    }
  };
  const replace = async () => {
    if (typed.length < 16) {
      action.setError(new ApiError(400, 'VALIDATION_FAILED', `The ${props.label.toLowerCase()} needs 16 characters or more.`, null, [{ path: props.name, message: 'needs 16 characters or more' }]));
      return;
    }
    const ok = await action.run(() => props.save(typed));
    if (ok !== undefined) {
      setTyped('');
      setReplacing(false);
    }
  };
  const clear = async () => {
    if (!window.confirm(`Remove the ${props.label}?`)) return;
    await action.run(() => props.save(null));
  };
  const errs = fieldErrors(action.fields, props.name);

  return (
    <div className="secret" data-secret={props.name}>
      <div className="secret-head">
        <span className="secret-label" id={`${props.name}-label`}>{props.label}</span>
        <span className={`badge ${props.isSet ? 'badge-ok' : 'badge-off'}`} data-testid={`${props.name}-status`}>
          {props.isSet ? 'set' : 'not set'}
        </span>
      </div>
      <p className="hint">{props.hint}</p>
      <ErrorMessage error={action.error} />
      {shown && <ShownOnce label={`New ${props.label}`} value={shown} onDone={() => setShown(null)} />}
      {replacing ? (
        // Not a <form>: this sits inside the settings form; Enter saves the secret alone.
        <div className="secret-replace">
          <label htmlFor={inputId}>New {props.label.toLowerCase()} (16 characters or more)</label>
          <div className="copy-row">
            <input
              id={inputId}
              type="password"
              autoComplete="off"
              maxLength={512}
              value={typed}
              onChange={(e) => setTyped(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter') {
                  e.preventDefault();
                  void replace();
                }
              }}
              aria-invalid={errs.length ? true : undefined}
              aria-describedby={errs.length ? `${inputId}-err` : undefined}
            />
            <button type="button" className="btn-primary btn-small" onClick={() => void replace()} disabled={action.busy || props.disabled}>
              {action.busy ? 'Saving…' : 'Save'}
            </button>
            <button type="button" className="btn-small" onClick={() => setReplacing(false)}>
              Cancel
            </button>
          </div>
          {errs.length > 0 && <div className="field-error" id={`${inputId}-err`}>{errs.join('; ')}</div>}
        </div>
      ) : (
        <div className="actions">
          <button type="button" className="btn-small" onClick={generate} disabled={action.busy || props.disabled}>
            {action.busy ? 'Saving…' : 'Generate'}
          </button>
          <button type="button" className="btn-small" onClick={() => setReplacing(true)} disabled={action.busy || props.disabled}>
            {props.isSet ? 'Replace' : 'Enter one'}
          </button>
          {props.isSet && (
            <button type="button" className="btn-small btn-danger" onClick={clear} disabled={action.busy || props.disabled}>
              Clear
            </button>
          )}
        </div>
      )}
    </div>
  );
}
