/** The admin console: signs in, then routes between pages inside the layout. */
import { StrictMode, useCallback, useEffect, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import '../shared/admin.css';
import { ApiError, api, clientState, onUnauthenticated, type Me } from './api.ts';
import { navigate } from './router.tsx';
import { SessionContext, makeSession } from './session.tsx';
import { ErrorMessage, Loading } from './ui.tsx';
import { Login } from './pages/Login.tsx';
import { Layout } from './Layout.tsx';

const sentence = (m: string) => m.charAt(0).toUpperCase() + m.slice(1) + (/[.!?]$/.test(m) ? '' : '.');

type State = { kind: 'checking' } | { kind: 'signedOut'; notice: string | null } | { kind: 'signedIn'; me: Me } | { kind: 'failed'; error: ApiError };

function App() {
  const [state, setState] = useState<State>({ kind: 'checking' });

  const loadMe = useCallback(async (retried = false): Promise<void> => {
    // Without the CSRF token from sign-in the console cannot write: ask to sign in again.
    if (!clientState.csrf()) {
      setState({ kind: 'signedOut', notice: null });
      return;
    }
    setState({ kind: 'checking' });
    try {
      setState({ kind: 'signedIn', me: await api<Me>('GET', '/api/admin/me') });
    } catch (e) {
      const err = e as ApiError;
      if (err.status === 401) setState({ kind: 'signedOut', notice: 'Your session has ended. Sign in again.' });
      else if (err.code === 'ACCOUNT_NOT_FOUND' && !retried) {
        clientState.setAccount(null);
        return loadMe(true);
      } else setState({ kind: 'failed', error: err });
    }
  }, []);

  useEffect(() => {
    void loadMe();
    onUnauthenticated((message) => {
      clientState.clear();
      setState({ kind: 'signedOut', notice: sentence(message) });
    });
    return () => onUnauthenticated(null);
  }, [loadMe]);

  const session = useMemo(() => {
    if (state.kind !== 'signedIn') return null;
    return makeSession(
      state.me,
      (id) => {
        clientState.setAccount(id);
        navigate('/surveys');
        void loadMe();
      },
      () => {
        void api('POST', '/api/auth/logout')
          .catch(() => undefined)
          .then(() => {
            clientState.clear();
            setState({ kind: 'signedOut', notice: 'You have signed out.' });
          });
      },
    );
  }, [state, loadMe]);

  if (state.kind === 'checking') return <main className="center"><Loading label="Opening the console…" /></main>;
  if (state.kind === 'failed') {
    return (
      <main className="center">
        <ErrorMessage error={state.error} title="The console could not start" />
        <button type="button" onClick={() => void loadMe()}>Try again</button>
      </main>
    );
  }
  if (state.kind === 'signedOut') return <Login notice={state.notice} onSignedIn={() => void loadMe()} />;
  return (
    <SessionContext.Provider value={session}>
      <Layout key={state.me.account.id} />
    </SessionContext.Provider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
