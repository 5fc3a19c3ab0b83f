/**
 * Panel mode's entry screening: rules on captured entry parameters and labels, evaluated
 * before the survey starts, so screening that needs no question refuses at the door (status
 * 19 by default: screened out on entry, no replacement). Pure: no I/O.
 */
import type { Static } from 'typebox';
import type { EntryScreeningRule } from '../surveys/settings.ts';

export type EntryRule = Static<typeof EntryScreeningRule>;

export interface EntryFacts {
  params: Record<string, string>;
  labels: Record<string, string | null | undefined>;
}

/** The first rule that matches, or null. A rule with neither `equals` nor `in` never matches. */
export function matchEntryScreening(rules: readonly EntryRule[] | undefined, facts: EntryFacts): EntryRule | null {
  for (const rule of rules ?? []) {
    const value = 'param' in rule.when ? facts.params[rule.when.param] : facts.labels[rule.when.label];
    if (value === undefined || value === null) continue;
    if (rule.equals !== undefined && value === rule.equals) return rule;
    if (rule.in !== undefined && rule.in.includes(value)) return rule;
  }
  return null;
}
