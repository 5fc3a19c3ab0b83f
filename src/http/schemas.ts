/** Shared TypeBox pieces for route schemas. */
import { Type, type TSchema } from 'typebox';

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ pattern: '^[A-Z][A-Z0-9_]*$' }),
      message: Type.String(),
      requestId: Type.String(),
      details: Type.Optional(Type.Object({}, { additionalProperties: true })),
    }),
  },
  { $id: 'ErrorBody', description: 'The one error shape of the JSON API' },
);

/** Standard error responses to list in a route schema (OpenAPI shows them). */
export function errors(...statuses: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = {};
  for (const s of statuses) out[s] = Type.Ref('ErrorBody');
  return out;
}

export const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 512 })),
});

export function ListOf<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });
}

export const Slug = Type.String({ pattern: '^[a-z0-9-]{1,64}$', minLength: 1, maxLength: 64 });
export const SlugParams = Type.Object({ slug: Type.String({ minLength: 1, maxLength: 64 }) });
export const HttpUrl = Type.String({ maxLength: 2048, pattern: '^https?://' });
export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
