/** TypeBox schemas of the webhooks API (endpoints, deliveries). */
import { Type, type Static } from 'typebox';
import { EVENT_TYPES } from '../events/outbox.ts';
import { HttpUrl, Nullable } from '../http/schemas.ts';

/** Events an endpoint can subscribe to (`ping` is only ever sent by the test button). */
export const SUBSCRIBABLE_EVENTS = EVENT_TYPES.filter((t) => t !== 'ping');
export const EventName = Type.Union([...SUBSCRIBABLE_EVENTS.map((t) => Type.Literal(t)), Type.Literal('*')]);

export const UuidParam = Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' });
export const EndpointParams = Type.Object({ slug: Type.String({ minLength: 1, maxLength: 64 }), id: UuidParam });
export const DeliveryParams = Type.Object({ slug: Type.String({ minLength: 1, maxLength: 64 }), deliveryId: UuidParam });

export const AuthInput = Type.Union([
  Type.Object(
    {
      type: Type.Literal('jwt'),
      /** The endpoint's own secret; absent = the survey's jwtSecret. Write-only. */
      secret: Type.Optional(Type.String({ minLength: 16, maxLength: 512 })),
      /** `iss`; absent = the survey's notificationIssuer, else "surveybridge". */
      issuer: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { type: Type.Literal('basic'), username: Type.String({ minLength: 1, maxLength: 200, pattern: '^[^:\\r\\n]*$' }), password: Type.String({ minLength: 1, maxLength: 500 }) },
    { additionalProperties: false },
  ),
  Type.Object({ type: Type.Literal('hmac') }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('none') }, { additionalProperties: false }),
]);
export type AuthInput = Static<typeof AuthInput>;

const HeaderValues = Type.Record(Type.String({ minLength: 1, maxLength: 100 }), Type.String({ maxLength: 2000, pattern: '^[\\x20-\\x7E\\t]*$' }), { maxProperties: 20 });

const endpointFields = {
  url: HttpUrl,
  events: Type.Array(EventName, { minItems: 1, maxItems: 20, uniqueItems: true }),
  format: Type.Optional(Type.Union([Type.Literal('standard'), Type.Literal('trialkit')])),
  mode: Type.Optional(Type.Union([Type.Literal('async'), Type.Literal('sync')])),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 30_000 })),
  enabled: Type.Optional(Type.Boolean()),
  /** Extra static headers; stored sealed, values never shown again. */
  headers: Type.Optional(HeaderValues),
  auth: Type.Optional(AuthInput),
};

export const EndpointCreate = Type.Object(endpointFields, { additionalProperties: false });
export type EndpointCreate = Static<typeof EndpointCreate>;
export const EndpointPatch = Type.Object(
  { ...endpointFields, url: Type.Optional(HttpUrl), events: Type.Optional(endpointFields.events) },
  { additionalProperties: false },
);
export type EndpointPatch = Static<typeof EndpointPatch>;

export const EndpointView = Type.Object({
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  format: Type.String(),
  mode: Type.String(),
  timeoutMs: Type.Integer(),
  enabled: Type.Boolean(),
  disabledReason: Nullable(Type.String()),
  /** Names of the static headers (their values may be credentials). */
  headerNames: Type.Array(Type.String()),
  auth: Type.Object({
    type: Type.String(),
    username: Type.Optional(Type.String()),
    issuer: Type.Optional(Type.String()),
    /** jwt: whether the endpoint has its own secret (else the survey's is used). */
    ownSecret: Type.Optional(Type.Boolean()),
    /** hmac: until when the previous secret still signs, after a rotation. */
    previousSecretExpiresAt: Type.Optional(Nullable(Type.String())),
  }),
  /** "submissionNotificationUrl" when the survey setting manages this endpoint. */
  managedBy: Nullable(Type.String()),
  failingSince: Nullable(Type.String()),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type EndpointView = Static<typeof EndpointView>;

/** The endpoint, plus the hmac secret when one was just generated (shown this once). */
export const EndpointWithSecret = Type.Object({ ...EndpointView.properties, secret: Type.Optional(Type.String()) });
export type EndpointWithSecret = Static<typeof EndpointWithSecret>;

export const DeliveryStateName = Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]);

export const DeliverySummary = Type.Object({
  id: Type.String(),
  endpointId: Type.String(),
  eventId: Type.String(),
  eventType: Type.String(),
  state: Type.String(),
  attemptCount: Type.Integer(),
  lastStatusCode: Nullable(Type.Integer()),
  lastError: Nullable(Type.String()),
  nextAttemptAt: Nullable(Type.String()),
  createdAt: Type.String(),
  completedAt: Nullable(Type.String()),
});
export type DeliverySummary = Static<typeof DeliverySummary>;

export const AttemptView = Type.Object({
  at: Type.String(),
  statusCode: Nullable(Type.Integer()),
  latencyMs: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  responseExcerpt: Nullable(Type.String()),
  requestHeaders: Type.Record(Type.String(), Type.String()),
});
export type AttemptView = Static<typeof AttemptView>;

export const DeliveryDetail = Type.Object({
  ...DeliverySummary.properties,
  attempts: Type.Array(AttemptView),
});
export type DeliveryDetail = Static<typeof DeliveryDetail>;

export const DeliveryListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 512 })),
  status: Type.Optional(DeliveryStateName),
  eventType: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  since: Type.Optional(Type.String({ format: 'date-time' })),
  until: Type.Optional(Type.String({ format: 'date-time' })),
});
export type DeliveryListQuery = Static<typeof DeliveryListQuery>;

export const ReplayBody = Type.Object(
  { since: Type.String({ format: 'date-time' }), until: Type.Optional(Type.String({ format: 'date-time' })), status: Type.Optional(DeliveryStateName) },
  { additionalProperties: false },
);
export type ReplayBody = Static<typeof ReplayBody>;

/** What a sync hook (or the test button) did, as the requests that waited for it report it. */
export const HookResult = Type.Object({
  endpointId: Type.String(),
  deliveryId: Type.String(),
  ok: Type.Boolean(),
  statusCode: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
});
export type HookResult = Static<typeof HookResult>;
