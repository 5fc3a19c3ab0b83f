// The respondent pages at /surveys/{slug}: sign-in when there is no session, the survey form,
// and the pages after it. Sign-in links (?auth=, ?createUser=, /a/{token}) are handled by the
// server, which sets the session cookie and redirects here.
import { StrictMode, useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import { createRoot } from 'react-dom/client';
import './survey.css';
import { ApiError, surveyApi, type Outcome, type Session, type SurveyApi } from './api.ts';
import { SurveyForm } from './form.tsx';
import { InfoPage, OutcomePage } from './outcome.tsx';

type View =
  | { kind: 'loading' }
  | { kind: 'signin' }
  | { kind: 'closed' }
  | { kind: 'missing' }
  | { kind: 'failed'; message: string }
  | { kind: 'form'; session: Session }
  | { kind: 'outcome'; session: Session | null; result: Outcome; fresh: boolean };

const slug = decodeURIComponent(window.location.pathname.split('/')[2] ?? '');

function SignIn({ client, onDone }: { client: SurveyApi; onDone: () => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!username || !password) return setError('Enter your username and password.');
    setBusy(true);
    setError(null);
    try {
      await client.login(username, password);
      onDone();
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'The username or password is not right.' : err instanceof Error ? err.message : 'Signing in failed.');
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="signin" noValidate onSubmit={submit}>
      <h2>Sign in</h2>
      <p>Use the link you were sent, or sign in with the username and password you were given.</p>
      <div className="question">
        <label htmlFor="username">Username</label>
        <input id="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} />
      </div>
      <div className="question">
        <label htmlFor="password">Password</label>
        <input id="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
      </div>
      {error ? <p className="notice error-box" role="alert">{error}</p> : null}
      <div className="actions"><button type="submit" disabled={busy}>Sign in</button></div>
    </form>
  );
}

function App() {
  const client = useMemo(() => surveyApi(slug), []);
  const [view, setView] = useState<View>({ kind: 'loading' });

  const load = useCallback(async () => {
    try {
      const session = await client.session();
      document.title = session.survey.name;
      setView(session.result ? { kind: 'outcome', session, result: session.result, fresh: false } : { kind: 'form', session });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) setView({ kind: 'signin' });
      else if (err instanceof ApiError && err.code === 'SURVEY_CLOSED') setView({ kind: 'closed' });
      else if (err instanceof ApiError && err.status === 404) setView({ kind: 'missing' });
      else setView({ kind: 'failed', message: err instanceof Error ? err.message : 'Something went wrong.' });
    }
  }, [client]);

  useEffect(() => void load(), [load]);

  const session = view.kind === 'form' || view.kind === 'outcome' ? view.session : null;
  const completion = session?.definition.completion ?? {};
  let body;
  switch (view.kind) {
    case 'loading':
      body = <p role="status">Loading…</p>;
      break;
    case 'signin':
      body = <SignIn client={client} onDone={() => void load()} />;
      break;
    case 'closed':
      body = <InfoPage kind="closed" title="This survey is closed" text="It is not accepting answers at the moment." />;
      break;
    case 'missing':
      body = <InfoPage kind="missing" title="Survey not found" text="Check the link you were given." />;
      break;
    case 'failed':
      body = (
        <>
          <InfoPage kind="failed" title="Something went wrong" text={view.message} />
          <button type="button" onClick={() => void load()}>Try again</button>
        </>
      );
      break;
    case 'form':
      body = (
        <SurveyForm
          session={view.session}
          client={client}
          onReload={() => void load()}
          onOutcome={(result, fresh) => setView({ kind: 'outcome', session: view.session, result, fresh })}
        />
      );
      break;
    case 'outcome':
      body = <OutcomePage result={view.result} fresh={view.fresh} message={completion.message} timer={completion.redirectTimer ?? 0} />;
      break;
  }
  return (
    <main>
      <h1>{session?.survey.name ?? 'Survey'}</h1>
      {body}
    </main>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
