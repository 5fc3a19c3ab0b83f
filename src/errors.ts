/**
 * The closed list of error codes the JSON API answers with, mapped to HTTP statuses
 * in one switch. Domains throw AppError; the HTTP layer renders
 * {"error":{"code","message","requestId","details?"}}.
 */
export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'BAD_REQUEST'
  | 'INVALID_JSON'
  | 'INVALID_CLAIMS'
  | 'TOKEN_TOO_LARGE'
  | 'INVALID_DEFINITION'
  | 'MISSING_ANSWERS'
  | 'UNKNOWN_PLACEHOLDER'
  | 'REDIRECT_NOT_ALLOWED'
  | 'JWT_SECRET_REQUIRED'
  | 'UNAUTHENTICATED'
  | 'INVALID_CREDENTIALS'
  | 'INVALID_TOKEN'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_NOT_YET_VALID'
  | 'TOKEN_REPLAYED'
  | 'CSRF_FAILED'
  | 'FORBIDDEN'
  | 'USER_GENERATION_DISABLED'
  | 'SURVEY_CLOSED'
  | 'ENTRY_REFUSED'
  | 'NOT_FOUND'
  | 'ROUTE_NOT_FOUND'
  | 'ACCOUNT_NOT_FOUND'
  | 'SURVEY_NOT_FOUND'
  | 'USER_NOT_FOUND'
  | 'RESPONDENT_NOT_FOUND'
  | 'TOKEN_NOT_FOUND'
  | 'JOB_NOT_FOUND'
  | 'WEBHOOK_NOT_FOUND'
  | 'DELIVERY_NOT_FOUND'
  | 'RECORD_NOT_FOUND'
  | 'INBOUND_KEY_NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'CONFLICT'
  | 'SLUG_TAKEN'
  | 'EMAIL_TAKEN'
  | 'RESPONDENT_EXISTS'
  | 'RECORD_LOCKED'
  | 'ALREADY_SUBMITTED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RATE_LIMITED'
  | 'INTERNAL_ERROR'
  | 'DATABASE_UNAVAILABLE'
  | 'NOT_READY';

export function statusFor(code: ErrorCode): number {
  switch (code) {
    case 'VALIDATION_FAILED':
    case 'BAD_REQUEST':
    case 'INVALID_JSON':
    case 'INVALID_CLAIMS':
    case 'TOKEN_TOO_LARGE':
    case 'INVALID_DEFINITION':
    case 'MISSING_ANSWERS':
    case 'UNKNOWN_PLACEHOLDER':
    case 'REDIRECT_NOT_ALLOWED':
    case 'JWT_SECRET_REQUIRED':
      return 400;
    case 'UNAUTHENTICATED':
    case 'INVALID_CREDENTIALS':
    case 'INVALID_TOKEN':
    case 'TOKEN_EXPIRED':
    case 'TOKEN_NOT_YET_VALID':
    case 'TOKEN_REPLAYED':
      return 401;
    case 'CSRF_FAILED':
    case 'FORBIDDEN':
    case 'USER_GENERATION_DISABLED':
    case 'SURVEY_CLOSED':
    case 'ENTRY_REFUSED':
      return 403;
    case 'NOT_FOUND':
    case 'ROUTE_NOT_FOUND':
    case 'ACCOUNT_NOT_FOUND':
    case 'SURVEY_NOT_FOUND':
    case 'USER_NOT_FOUND':
    case 'RESPONDENT_NOT_FOUND':
    case 'TOKEN_NOT_FOUND':
    case 'JOB_NOT_FOUND':
    case 'WEBHOOK_NOT_FOUND':
    case 'DELIVERY_NOT_FOUND':
    case 'RECORD_NOT_FOUND':
    case 'INBOUND_KEY_NOT_FOUND':
      return 404;
    case 'METHOD_NOT_ALLOWED':
      return 405;
    case 'CONFLICT':
    case 'SLUG_TAKEN':
    case 'EMAIL_TAKEN':
    case 'RESPONDENT_EXISTS':
    case 'RECORD_LOCKED':
    case 'ALREADY_SUBMITTED':
      return 409;
    case 'PAYLOAD_TOO_LARGE':
      return 413;
    case 'UNSUPPORTED_MEDIA_TYPE':
      return 415;
    case 'RATE_LIMITED':
      return 429;
    case 'INTERNAL_ERROR':
      return 500;
    case 'DATABASE_UNAVAILABLE':
    case 'NOT_READY':
      return 503;
  }
}

export interface FieldError {
  /** JSON pointer-ish path of the offending value, e.g. "/body/email" or "questions/2/options". */
  path: string;
  message: string;
}

export class AppError extends Error {
  readonly status: number;
  constructor(
    public readonly code: ErrorCode,
    message: string,
    public readonly details?: { fields?: FieldError[]; [k: string]: unknown },
    /** Extra response headers, e.g. Retry-After. */
    public readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
    this.status = statusFor(code);
  }
}

