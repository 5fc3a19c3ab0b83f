// The respondent API as the page uses it: same-origin fetch with the survey's session cookie
// (the browser adds the Origin header the server checks on writes).

export type QuestionType = 'text' | 'longtext' | 'number' | 'single' | 'multi' | 'boolean' | 'date';
export interface Question {
  id: string;
  type: QuestionType;
  label: string;
  help?: string;
  required?: boolean;
  options?: { value: string; label: string }[];
  min?: number;
  max?: number;
}
export type AnswerValue = string | number | boolean | string[];
export type Answers = Record<string, AnswerValue>;
export interface Outcome {
  outcome: 'completed' | 'disqualified' | 'quota_full' | 'exited';
  status: number | null;
  redirectUrl: string | null;
}
export interface Hook {
  endpointId: string;
  deliveryId: string | null;
  ok: boolean;
  statusCode: number | null;
  error: string | null;
}
export interface Session {
  survey: { slug: string; name: string };
  respondent: { userId: number; username: string };
  definitionVersion: number;
  definition: { questions: Question[]; completion: { message?: string; redirectTimer?: number } };
  answers: Answers;
  recordId: number | null;
  state: string;
  locked: boolean;
  result: Outcome | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: { fields?: { path: string; message: string }[]; missing?: string[] } = {},
  ) {
    super(message);
  }
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'The connection failed. Check your network and try again.');
  }
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string; details?: ApiError['details'] } } | null)?.error;
    throw new ApiError(res.status, err?.code ?? `HTTP_${res.status}`, err?.message ?? `The server answered ${res.status}.`, err?.details ?? {});
  }
  return data as T;
}

export const surveyApi = (slug: string) => {
  const base = `/api/surveys/${encodeURIComponent(slug)}`;
  return {
    session: () => api<Session>('GET', `${base}/session`),
    login: (username: string, password: string) => api<unknown>('POST', `${base}/login`, { username, password }),
    save: (answers: Record<string, AnswerValue | null>) => api<{ recordId: number; answers: Answers; changed: string[]; hooks: Hook[] }>('PUT', `${base}/session/answers`, { answers }),
    submit: () => api<Outcome & { hooks: Hook[] }>('POST', `${base}/session/submit`),
    exit: () => api<Outcome & { hooks: Hook[] }>('POST', `${base}/session/exit`),
    retryHook: (deliveryId: string) => api<Hook>('POST', `${base}/session/hooks/${encodeURIComponent(deliveryId)}/retry`),
  };
};
export type SurveyApi = ReturnType<typeof surveyApi>;
