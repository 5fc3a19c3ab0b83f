/**
 * Survey settings as the API names them. Columns hold the core ones; the rest live in the
 * survey's `settings` jsonb. One TypeBox schema describes both what PATCH accepts and what
 * reads return (secrets appear only as `…Set: boolean`).
 */
import { Type, type Static } from 'typebox';
import { HttpUrl, Nullable, Slug } from '../http/schemas.ts';

export const OUTCOME_NAMES = ['completed', 'disqualified', 'quota_full', 'exited'] as const;
const Outcome = Type.Union(OUTCOME_NAMES.map((o) => Type.Literal(o)));

export const REDIRECT_PARAM_NAMES = ['surveyId', 'entrySurveyId', 'userId', 'respondentId', 'mid', 'reward', 'rewardId', 'status', 'outcome'] as const;

export const ReviewLevel = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  seq: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  lock: Type.Boolean({ default: false }),
  roles: Type.Array(Type.Union([Type.Literal('owner'), Type.Literal('admin'), Type.Literal('reviewer'), Type.Literal('viewer')]), { maxItems: 4 }),
});

const LabelName = Type.Union(['l1', 'l2', 'l3', 'l4', 'l5', 'l6', 'l7', 'l8', 'l9', 'l10'].map((l) => Type.Literal(l)));
/** Panel mode: a screening rule evaluated at entry on captured entry parameters or labels. */
export const EntryScreeningRule = Type.Object({
  when: Type.Union([
    Type.Object({ param: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }) }, { additionalProperties: false }),
    Type.Object({ label: LabelName }, { additionalProperties: false }),
  ]),
  equals: Type.Optional(Type.String({ maxLength: 1000 })),
  in: Type.Optional(Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 200 })),
  outcome: Type.Optional(Type.Union([Type.Literal('disqualified'), Type.Literal('quota_full')])),
  /** The status of the refusal (default 19, no replacement). */
  status: Type.Optional(Type.Integer({ minimum: 0, maximum: 999 })),
}, { additionalProperties: false });

/** Settings stored in the jsonb column (every key optional). */
export const ExtraSettings = {
  /** Max age in seconds of a create-user JWT's `iat`. */
  jwtMaxAgeSeconds: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 31_536_000 }))),
  outcomeUrls: Type.Optional(
    Type.Object(
      {
        completed: Type.Optional(Nullable(HttpUrl)),
        disqualified: Type.Optional(Nullable(HttpUrl)),
        quota_full: Type.Optional(Nullable(HttpUrl)),
        exited: Type.Optional(Nullable(HttpUrl)),
      },
      { additionalProperties: false },
    ),
  ),
  redirectParams: Type.Optional(Type.Array(Type.Union(REDIRECT_PARAM_NAMES.map((p) => Type.Literal(p))), { maxItems: 9, uniqueItems: true })),
  redirectIdentifier: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  outcomeRewards: Type.Optional(
    Type.Record(Type.String({ maxLength: 32 }), Type.Object({ reward: Type.Union([Type.Number(), Type.String({ maxLength: 64 })]) }, { additionalProperties: false })),
  ),
  statusCodes: Type.Optional(Type.Record(Type.String({ maxLength: 32 }), Type.Integer({ minimum: 0, maximum: 999 }))),
  entryParams: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }), { maxItems: 50, uniqueItems: true })),
  requireSignedEntry: Type.Optional(Type.Boolean()),
  entryScreening: Type.Optional(Type.Array(EntryScreeningRule, { maxItems: 50 })),
  /**
   * Panel mode: surveys of the same account, tried in order, that take a respondent this
   * survey turns away at entry (closed, full, or screened out on `entryScreening`).
   */
  replacements: Type.Optional(Type.Array(Slug, { maxItems: 20, uniqueItems: true })),
  reviewLevels: Type.Optional(Type.Array(ReviewLevel, { maxItems: 50 })),
  /** Attempts a respondent may make (default 1); each new attempt after an outcome is a new record. */
  maxAttemptsPerRespondent: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  /** A test respondent's submit ends as disqualified with status 18 (test termination). */
  terminateTestRespondents: Type.Optional(Type.Boolean()),
  submissionNotificationUrl: Type.Optional(Nullable(HttpUrl)),
  /** `iss` of the platform's notification JWTs (default "surveybridge"). */
  notificationIssuer: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
};

export const SurveyWritable = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    state: Type.Optional(Type.Union([Type.Literal('draft'), Type.Literal('active'), Type.Literal('closed')])),
    allowUserGeneration: Type.Optional(Type.Boolean()),
    /** Write-only; null clears it. */
    jwtSecret: Type.Optional(Nullable(Type.String({ minLength: 16, maxLength: 512 }))),
    linkSigningSecret: Type.Optional(Nullable(Type.String({ minLength: 16, maxLength: 512 }))),
    followUpUrl: Type.Optional(Nullable(HttpUrl)),
    allowedRedirectOrigins: Type.Optional(Type.Array(Type.String({ pattern: '^https?://[^/?#]+$', maxLength: 300 }), { maxItems: 100 })),
    ...ExtraSettings,
  },
  { additionalProperties: false },
);
export type SurveyWritable = Static<typeof SurveyWritable>;

export const SurveyCreate = Type.Object(
  { ...SurveyWritable.properties, slug: Slug, name: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);
export type SurveyCreate = Static<typeof SurveyCreate>;

export const SurveyView = Type.Object({
  id: Type.Integer(),
  accountId: Type.Integer(),
  slug: Type.String(),
  name: Type.String(),
  state: Type.String(),
  allowUserGeneration: Type.Boolean(),
  jwtSecretSet: Type.Boolean(),
  linkSigningSecretSet: Type.Boolean(),
  followUpUrl: Nullable(Type.String()),
  allowedRedirectOrigins: Type.Array(Type.String()),
  ...ExtraSettings,
  definitionVersion: Type.Integer(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type SurveyView = Static<typeof SurveyView>;

export const EXTRA_SETTING_KEYS = Object.keys(ExtraSettings) as (keyof typeof ExtraSettings)[];
export type Outcome = Static<typeof Outcome>;
