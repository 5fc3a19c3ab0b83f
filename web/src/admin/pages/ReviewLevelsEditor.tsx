/** Edits the survey's review levels: id, order, name, lock and the roles that may move records there. */
import { ROLES } from '../api.ts';
import type { FieldError } from '../api.ts';
import { fieldErrors } from '../ui.tsx';

export interface ReviewLevelDraft {
  id: string;
  seq: string;
  name: string;
  lock: boolean;
  roles: string[];
}

export function ReviewLevelsEditor({ levels, onChange, fields }: { levels: ReviewLevelDraft[]; onChange: (l: ReviewLevelDraft[]) => void; fields: FieldError[] }) {
  const set = (i: number, patch: Partial<ReviewLevelDraft>) => onChange(levels.map((l, j) => (j === i ? { ...l, ...patch } : l)));
  const move = (i: number, by: number) => {
    const next = [...levels];
    const [l] = next.splice(i, 1);
    next.splice(i + by, 0, l);
    onChange(next.map((x, j) => ({ ...x, seq: String(j + 1) })));
  };
  const add = () => onChange([...levels, { id: `level-${levels.length + 1}`, seq: String(levels.length + 1), name: '', lock: false, roles: ['owner', 'admin'] }]);
  return (
    <div className="levels">
      {levels.length === 0 && <p className="muted">No review levels: records are not reviewed.</p>}
      {levels.map((l, i) => {
        const errs = fieldErrors(fields, `reviewLevels/${i}`);
        return (
          <fieldset key={i} className="level">
            <legend>Level {i + 1}</legend>
            <div className="grid-3">
              <label>
                Id
                <input value={l.id} maxLength={64} required onChange={(e) => set(i, { id: e.target.value })} />
              </label>
              <label>
                Name
                <input value={l.name} maxLength={200} required onChange={(e) => set(i, { name: e.target.value })} />
              </label>
              <label>
                Order
                <input type="number" min={0} value={l.seq} onChange={(e) => set(i, { seq: e.target.value })} />
              </label>
            </div>
            <label className="check">
              <input type="checkbox" checked={l.lock} onChange={(e) => set(i, { lock: e.target.checked })} /> Lock the record at this level (no more changes)
            </label>
            <div className="checks" role="group" aria-label={`Roles that may move records to level ${i + 1}`}>
              <span className="small">Who may set it:</span>
              {ROLES.map((r) => (
                <label key={r} className="check">
                  <input
                    type="checkbox"
                    checked={l.roles.includes(r)}
                    onChange={(e) => set(i, { roles: e.target.checked ? [...l.roles, r] : l.roles.filter((x) => x !== r) })}
                  />{' '}
                  {r}
                </label>
              ))}
            </div>
            {errs.length > 0 && <div className="field-error">{errs.join('; ')}</div>}
            <div className="actions">
              <button type="button" className="btn-small" onClick={() => move(i, -1)} disabled={i === 0} aria-label={`Move level ${i + 1} up`}>
                ↑ Up
              </button>
              <button type="button" className="btn-small" onClick={() => move(i, 1)} disabled={i === levels.length - 1} aria-label={`Move level ${i + 1} down`}>
                ↓ Down
              </button>
              <button type="button" className="btn-small btn-danger" onClick={() => onChange(levels.filter((_, j) => j !== i))}>
                Remove
              </button>
            </div>
          </fieldset>
        );
      })}
      <button type="button" className="btn-small" onClick={add}>
        Add a review level
      </button>
    </div>
  );
}
