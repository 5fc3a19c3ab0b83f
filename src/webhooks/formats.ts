/**
 * Payload formats. `standard` is the event as stored (src/events/outbox.ts StandardEvent);
 * `trialkit` reproduces TrialKit's hook bodies exactly (ids as strings, as TrialKit sends
 * them), so a receiver written for TrialKit works unchanged.
 */
import type { StandardEvent } from '../events/outbox.ts';

export const WEBHOOK_FORMATS = ['standard', 'trialkit'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** Event types a trialkit endpoint may subscribe to (TrialKit only has record hooks). */
export const TRIALKIT_EVENT_TYPES = ['record.inserted', 'record.updated', 'record.review_changed'] as const;

interface ReviewLevelRef {
  id?: string;
  seq: number;
  name: string;
  lock: boolean;
}

/**
 * TrialKit's `wf_object` for a review level. Its role ids and flags have no counterpart in
 * our levels (roles are names, not TrialKit role numbers): roles are sent as -1 ("none", as
 * TrialKit does for unused slots) and the flags with the values of TrialKit's sample.
 */
function workflowObject(level: ReviewLevelRef) {
  return {
    wf_id: level.seq,
    wf_seq: level.seq,
    wf_name: level.name,
    wf_role1: -1,
    wf_role2: -1,
    wf_role3: -1,
    wf_fl: true,
    wf_lock: level.lock,
    wf_sign: false,
    wf_soft: false,
    wf_status: level.seq,
    wf_desc: level.name,
  };
}

export function trialkitBody(event: StandardEvent): Record<string, unknown> {
  const data = event.data as { recordId?: number | string; to?: ReviewLevelRef | null; lockBroken?: boolean };
  const base = {
    trans_id: String(data.recordId ?? ''),
    form_id: String(event.survey.id),
    form_name: event.survey.name,
  };
  switch (event.type) {
    case 'record.inserted':
      return { ...base, OnInsert: true };
    case 'record.updated':
      return { ...base, OnUpdate: true };
    case 'record.review_changed': {
      const to = data.to ?? { seq: 0, name: '', lock: false };
      return { ...base, OnReview: true, wf_id: to.seq, wf_object: workflowObject(to), wf_status: to.seq, LockBroken: data.lockBroken === true };
    }
    default:
      // A ping (the admin's "test" button) to a trialkit endpoint: TrialKit's shape with a
      // flag no TrialKit event has, so a receiver can tell it apart.
      return { ...base, OnPing: true };
  }
}

/** The exact bytes sent (signatures cover this string). */
export function renderBody(format: WebhookFormat, event: StandardEvent): string {
  return JSON.stringify(format === 'trialkit' ? trialkitBody(event) : event);
}
