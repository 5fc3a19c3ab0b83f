/** The signed-in frame: skip link, header with navigation, account switcher and sign out, and the routed page. */
import { useEffect, useRef, type ReactNode } from 'react';
import { Link, match, usePath } from './router.tsx';
import { useSession } from './session.tsx';
import { SurveysList } from './pages/SurveysList.tsx';
import { SurveyNew } from './pages/SurveyNew.tsx';
import { SurveyPage } from './pages/SurveyPage.tsx';
import { Tokens } from './pages/Tokens.tsx';
import { Users } from './pages/Users.tsx';
import { Inbound } from './pages/Inbound.tsx';
import { Blocklist } from './pages/Blocklist.tsx';
import { PageTitle } from './ui.tsx';

function route(path: string): ReactNode {
  if (path === '/' || path === '/surveys') return <SurveysList />;
  if (match('/surveys/new', path)) return <SurveyNew />;
  let m = match('/surveys/:slug', path);
  if (m) return <SurveyPage slug={m.slug} tab="dashboard" />;
  m = match('/surveys/:slug/:tab', path);
  if (m) return <SurveyPage slug={m.slug} tab={m.tab} />;
  m = match('/surveys/:slug/:tab/:item', path);
  if (m) return <SurveyPage slug={m.slug} tab={m.tab} item={m.item} />;
  if (path === '/tokens') return <Tokens />;
  if (path === '/users') return <Users />;
  if (path === '/inbound') return <Inbound />;
  if (path === '/blocklist') return <Blocklist />;
  return (
    <>
      <PageTitle>Page not found</PageTitle>
      <p>
        There is no console page at this address. <Link to="/surveys">Go to the surveys</Link>.
      </p>
    </>
  );
}

function NavLink({ to, path, children }: { to: string; path: string; children: ReactNode }) {
  const active = to === '/surveys' ? path === '/' || path.startsWith('/surveys') : path.startsWith(to);
  return (
    <Link to={to} className={active ? 'nav-link active' : 'nav-link'} aria-current={active ? 'page' : undefined}>
      {children}
    </Link>
  );
}

export function Layout() {
  const { me, can, switchAccount, signOut } = useSession();
  const path = usePath();
  const first = useRef(true);
  const mainRef = useRef<HTMLElement>(null);

  // After a client-side navigation, move focus to the new page's heading (as a page load would).
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    mainRef.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [path]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/surveys" className="brand">
          Surveybridge
        </Link>
        <nav aria-label="Main" className="mainnav">
          <NavLink to="/surveys" path={path}>Surveys</NavLink>
          <NavLink to="/blocklist" path={path}>Blocklist</NavLink>
          {can('reviewer') && <NavLink to="/tokens" path={path}>API tokens</NavLink>}
          {can('admin') && <NavLink to="/inbound" path={path}>Inbound</NavLink>}
          {can('admin') && <NavLink to="/users" path={path}>Users</NavLink>}
        </nav>
        <div className="who">
          {me.accounts.length > 1 ? (
            <label className="account-switch">
              <span className="visually-hidden">Account</span>
              <select value={me.account.id} onChange={(e) => switchAccount(Number(e.target.value))} aria-label="Account">
                {me.accounts.map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.name} ({a.role})
                  </option>
                ))}
              </select>
            </label>
          ) : (
            <span className="account-name" title="Account">
              {me.account.name}
            </span>
          )}
          <span className="user-email" title={me.email}>
            {me.email}
          </span>
          <span className="badge" title="Your role in this account">{me.account.role}</span>
          <button type="button" className="btn-small" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" ref={mainRef} tabIndex={-1} className="content">
        {route(path)}
      </main>
    </>
  );
}

