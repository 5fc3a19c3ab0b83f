/**
 * Panel-mode settings as the form holds them (strings and booleans) and back. Entry screening
 * rules become editable rows; a row nobody touched is sent back exactly as it was saved (its
 * `orig`), so saving the page never rewrites rules the form cannot show in full.
 */
import type { Survey } from '../types.ts';

export type EntryRule = NonNullable<Survey['entryScreening']>[number];

export interface RuleDraft {
  source: 'param' | 'label';
  /** The entry parameter's name, or the label l1…l10. */
  name: string;
  op: 'equals' | 'in';
  /** One value (equals) or values separated by commas (in). */
  value: string;
  outcome: '' | 'disqualified' | 'quota_full';
  status: string;
  orig?: EntryRule;
}

export interface PanelDraft {
  replacements: string[];
  maxAttemptsPerRespondent: string;
  terminateTestRespondents: boolean;
  entryScreening: RuleDraft[];
}

export const newRule = (): RuleDraft => ({ source: 'param', name: '', op: 'equals', value: '', outcome: '', status: '' });

export function toRuleDraft(rule: EntryRule): RuleDraft {
  const when = rule.when as { param?: string; label?: string };
  const op = rule.equals === undefined && rule.in !== undefined ? 'in' : 'equals';
  return {
    source: when.label !== undefined ? 'label' : 'param',
    name: when.label ?? when.param ?? '',
    op,
    value: op === 'in' ? (rule.in ?? []).join(', ') : (rule.equals ?? ''),
    outcome: rule.outcome ?? '',
    status: rule.status === undefined ? '' : String(rule.status),
    orig: rule,
  };
}

const sameRow = (a: RuleDraft, b: RuleDraft) => a.source === b.source && a.name === b.name && a.op === b.op && a.value === b.value && a.outcome === b.outcome && a.status === b.status;
// A number the API will check; anything else goes as typed so the API names the problem.
export const num = (v: string): number | string => (/^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v);

export function ruleBody(r: RuleDraft): EntryRule | Record<string, unknown> {
  if (r.orig && sameRow(r, toRuleDraft(r.orig))) return r.orig;
  const rule: Record<string, unknown> = { when: r.source === 'label' ? { label: r.name } : { param: r.name.trim() } };
  if (r.op === 'in') rule.in = r.value.split(',').map((x) => x.trim()).filter(Boolean);
  else rule.equals = r.value.trim();
  if (r.outcome) rule.outcome = r.outcome;
  if (r.status.trim() !== '') rule.status = num(r.status);
  return rule;
}

export function toPanelDraft(s: Survey): PanelDraft {
  return {
    replacements: [...(s.replacements ?? [])],
    maxAttemptsPerRespondent: s.maxAttemptsPerRespondent == null ? '' : String(s.maxAttemptsPerRespondent),
    terminateTestRespondents: s.terminateTestRespondents ?? false,
    entryScreening: (s.entryScreening ?? []).map(toRuleDraft),
  };
}

export function panelBody(d: PanelDraft): Record<string, unknown> {
  return {
    replacements: d.replacements,
    // Not nullable in the API: an emptied field saves the default (1 attempt).
    maxAttemptsPerRespondent: d.maxAttemptsPerRespondent.trim() === '' ? 1 : num(d.maxAttemptsPerRespondent),
    terminateTestRespondents: d.terminateTestRespondents,
    entryScreening: d.entryScreening.map(ruleBody),
  };
}
