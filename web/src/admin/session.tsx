/** The signed-in user, the current account and role, shared with every page. */
import { createContext, useContext } from 'react';
import { roleAtLeast, type Me, type Role } from './api.ts';

export interface Session {
  me: Me;
  /** Whether the current role is at least `min` (the API checks again; this only shapes the UI). */
  can(min: Role): boolean;
  switchAccount(id: number): void;
  signOut(): void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside the signed-in app');
  return s;
}

export function makeSession(me: Me, switchAccount: (id: number) => void, signOut: () => void): Session {
  return { me, can: (min) => roleAtLeast(me.account.role, min), switchAccount, signOut };
}

/** A note for read-only roles, shown above forms they cannot submit. */
export function ReadOnlyNote({ need }: { need: Role }) {
  const { me, can } = useSession();
  if (can(need)) return null;
  return (
    <p className="note" role="note">
      You are <strong>{me.account.role}</strong> in this account: this page is read-only (changes need the {need} role).
    </p>
  );
}
