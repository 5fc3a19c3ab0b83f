/**
 * The console's API client: same-origin fetch with the session cookie, the CSRF token on
 * every write, and the chosen account in `X-Account`. Every failure becomes an ApiError that
 * carries the API's message and its field errors, so pages can show them where they belong.
 */

export interface FieldError {
  path: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null,
    readonly fields: FieldError[],
  ) {
    super(message);
  }
}

const CSRF_KEY = 'sb.csrf';
const ACCOUNT_KEY = 'sb.account';

// sessionStorage: the CSRF token lives as long as the tab, never in a cookie JavaScript can
// read across tabs. A new tab (or a cleared one) signs in again.
export const clientState = {
  csrf: () => sessionStorage.getItem(CSRF_KEY),
  setCsrf: (v: string) => sessionStorage.setItem(CSRF_KEY, v),
  account: () => sessionStorage.getItem(ACCOUNT_KEY),
  setAccount: (id: number | null) => (id === null ? sessionStorage.removeItem(ACCOUNT_KEY) : sessionStorage.setItem(ACCOUNT_KEY, String(id))),
  clear: () => {
    sessionStorage.removeItem(CSRF_KEY);
    sessionStorage.removeItem(ACCOUNT_KEY);
  },
};

let unauthenticated: ((message: string) => void) | null = null;
/** Called when any request answers 401 (the session ended): the app shows the sign-in form. */
export function onUnauthenticated(handler: ((message: string) => void) | null) {
  unauthenticated = handler;
}

function headersFor(method: string, json: boolean): Record<string, string> {
  const h: Record<string, string> = { accept: 'application/json' };
  if (json) h['content-type'] = 'application/json';
  const csrf = clientState.csrf();
  if (method !== 'GET' && csrf) h['x-csrf-token'] = csrf;
  const account = clientState.account();
  if (account) h['x-account'] = account;
  return h;
}

async function failure(res: Response, path: string): Promise<ApiError> {
  let body: { error?: { code?: string; message?: string; requestId?: string; details?: { fields?: FieldError[] } } } | null = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  const e = body?.error;
  const err = new ApiError(
    res.status,
    e?.code ?? `HTTP_${res.status}`,
    e?.message ?? `The server answered ${res.status} ${res.statusText || ''}`.trim(),
    e?.requestId ?? null,
    Array.isArray(e?.details?.fields) ? e!.details!.fields! : [],
  );
  if (res.status === 401 && !path.startsWith('/api/auth/')) unauthenticated?.(err.message);
  // The session cookie belongs to a newer sign-in (another tab): this tab's CSRF token is stale.
  if (err.code === 'CSRF_FAILED') unauthenticated?.('Your session changed (signed in from another tab?). Sign in again.');
  return err;
}

async function send(method: string, path: string, init: RequestInit & { json?: boolean }): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(path, { ...init, method, credentials: 'same-origin', headers: { ...headersFor(method, init.json ?? false), ...(init.headers as Record<string, string> | undefined) } });
  } catch {
    throw new ApiError(0, 'NETWORK_ERROR', 'The server cannot be reached. Check your connection and try again.', null, []);
  }
  if (!res.ok) throw await failure(res, path);
  return res;
}

/** A JSON request; 204 answers resolve to undefined. */
export async function api<T = unknown>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const res = await send(method, path, body === undefined ? {} : { json: true, body: JSON.stringify(body) });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Uploads raw bytes (e.g. a CSV file) with its content type. */
export async function upload<T = unknown>(path: string, file: Blob, contentType: string): Promise<T> {
  const res = await send('POST', path, { body: file, headers: { 'content-type': contentType } });
  return (await res.json()) as T;
}

/** Downloads a file through fetch (so X-Account applies) and hands it to the browser. */
export async function download(path: string, filename: string): Promise<void> {
  const res = await send('GET', path, { headers: { accept: '*/*' } });
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export interface Account {
  id: number;
  name: string;
  role: string;
}

export interface Me {
  userId: number;
  email: string;
  superuser: boolean;
  account: Account;
  accounts: Account[];
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export const ROLES = ['viewer', 'reviewer', 'admin', 'owner'] as const;
export type Role = (typeof ROLES)[number];

export function roleAtLeast(role: string, min: Role): boolean {
  return ROLES.indexOf(role as Role) >= ROLES.indexOf(min);
}

/** A random secret for "Generate": 32 bytes, base64url (43 characters). */
export function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
