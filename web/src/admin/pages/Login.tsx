import { useState, type FormEvent } from 'react';
import { api, clientState } from '../api.ts';
import { ErrorMessage, Field, useAction } from '../ui.tsx';

interface LoginAnswer {
  accessToken: string;
  expiresIn: number;
  csrfToken: string;
}

export function Login({ notice, onSignedIn }: { notice: string | null; onSignedIn: () => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const action = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const answer = await action.run(() => api<LoginAnswer>('POST', '/api/auth/login', { email, password }));
    if (answer) {
      clientState.setCsrf(answer.csrfToken);
      onSignedIn();
    }
  };
  return (
    <main className="login" id="main">
      <form className="card login-card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Sign in to Surveybridge</h1>
        {notice && !action.error && (
          <p className="note" role="status">
            {notice}
          </p>
        )}
        <ErrorMessage error={action.error} />
        <Field label="Email" path="email" fields={action.fields}>
          {(p) => <input {...p} type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />}
        </Field>
        <Field label="Password" path="password" fields={action.fields}>
          {(p) => <input {...p} type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />}
        </Field>
        <button type="submit" className="btn-primary" disabled={action.busy}>
          {action.busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
