/**
 * Accounts (tenants), admin users and their roles per account, and API tokens.
 * Roles: owner > admin > reviewer > viewer (read-only); `superuser` is installation-wide.
 */
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { accounts, apiTokens, memberships, users, type Role } from '../db/schema/index.ts';
import { AppError } from '../errors.ts';
import { hashPassword, randomToken, sha256Hex } from '../lib/crypto.ts';
import { decodeCursor, page } from '../lib/pagination.ts';

const RANK: Record<Role, number> = { viewer: 0, reviewer: 1, admin: 2, owner: 3 };
export const roleAtLeast = (role: Role, min: Role) => RANK[role] >= RANK[min];

export interface MemberView {
  id: number;
  email: string;
  role: Role;
  createdAt: string;
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export class AccountsService {
  constructor(private readonly db: Db) {}

  async createAccount(name: string): Promise<{ id: number; name: string }> {
    const [row] = await this.db.insert(accounts).values({ name }).returning({ id: accounts.id, name: accounts.name });
    return row;
  }

  async listFirstAccount() {
    return this.db.select({ id: accounts.id }).from(accounts).orderBy(asc(accounts.id)).limit(1);
  }

  /**
   * Creates a user with a role in an account (a new account named `accountName` when no
   * account id is given). An existing email is joined to the account instead of failing,
   * so `admin create` can add a known user to another account.
   */
  async createUser(input: { email: string; password: string; role: Role; accountId?: number; accountName?: string; superuser?: boolean }) {
    const email = normaliseEmail(input.email);
    const passwordHash = await hashPassword(input.password);
    return this.db.transaction(async (tx) => {
      let accountId = input.accountId;
      if (accountId === undefined) {
        const [acc] = await tx.insert(accounts).values({ name: input.accountName ?? 'Default account' }).returning({ id: accounts.id });
        accountId = acc.id;
      }
      const [existing] = await tx.select().from(users).where(eq(users.email, email));
      if (existing && input.accountId !== undefined) {
        const [member] = await tx.select().from(memberships).where(and(eq(memberships.accountId, accountId), eq(memberships.userId, existing.id)));
        if (member) throw new AppError('EMAIL_TAKEN', 'a user with this email is already in this account');
      }
      const user = existing
        ? (await tx.update(users).set({ passwordHash }).where(eq(users.id, existing.id)).returning())[0]
        : (await tx.insert(users).values({ email, passwordHash, superuser: input.superuser ?? false }).returning())[0];
      await tx.insert(memberships).values({ accountId, userId: user.id, role: input.role }).onConflictDoNothing();
      return { userId: user.id, accountId, email };
    });
  }

  async findUserByEmail(email: string) {
    const [row] = await this.db.select().from(users).where(eq(users.email, normaliseEmail(email)));
    return row ?? null;
  }

  async userAccounts(userId: number) {
    return this.db
      .select({ id: accounts.id, name: accounts.name, role: memberships.role })
      .from(memberships)
      .innerJoin(accounts, eq(accounts.id, memberships.accountId))
      .where(eq(memberships.userId, userId))
      .orderBy(asc(accounts.id));
  }

  async listMembers(accountId: number, limit: number, cursor?: string) {
    const after = decodeCursor<number>(cursor, 'number');
    const rows = await this.db
      .select({ id: users.id, email: users.email, role: memberships.role, createdAt: memberships.createdAt })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(and(eq(memberships.accountId, accountId), after === null ? undefined : gt(users.id, after)))
      .orderBy(asc(users.id))
      .limit(limit + 1);
    return page(rows.map((r) => ({ ...r, createdAt: r.createdAt.toISOString() })), limit, (r) => r.id);
  }

  async getMember(accountId: number, userId: number): Promise<MemberView> {
    const [row] = await this.db
      .select({ id: users.id, email: users.email, role: memberships.role, createdAt: memberships.createdAt })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(and(eq(memberships.accountId, accountId), eq(memberships.userId, userId)));
    if (!row) throw new AppError('USER_NOT_FOUND', 'user not found in this account');
    return { ...row, createdAt: row.createdAt.toISOString() };
  }

  /** Only an owner may grant, change or remove the owner role. */
  private assertMayManage(actorRole: Role, targetRole: Role | null, newRole: Role | null) {
    if (!roleAtLeast(actorRole, 'admin')) throw new AppError('FORBIDDEN', 'only owners and admins manage users');
    if ((targetRole === 'owner' || newRole === 'owner') && actorRole !== 'owner') {
      throw new AppError('FORBIDDEN', 'only an owner may grant or change the owner role');
    }
  }

  async addMember(accountId: number, actorRole: Role, input: { email: string; password: string; role: Role }): Promise<MemberView> {
    this.assertMayManage(actorRole, null, input.role);
    const created = await this.createUser({ ...input, accountId });
    return this.getMember(accountId, created.userId);
  }

  async changeRole(accountId: number, actorRole: Role, userId: number, role: Role): Promise<MemberView> {
    const target = await this.getMember(accountId, userId);
    this.assertMayManage(actorRole, target.role, role);
    await this.db.transaction(async (tx) => {
      await tx.update(memberships).set({ role }).where(and(eq(memberships.accountId, accountId), eq(memberships.userId, userId)));
      await this.assertOwnerRemains(tx as unknown as Db, accountId);
    });
    return this.getMember(accountId, userId);
  }

  async removeMember(accountId: number, actorRole: Role, userId: number): Promise<void> {
    const target = await this.getMember(accountId, userId);
    this.assertMayManage(actorRole, target.role, null);
    await this.db.transaction(async (tx) => {
      await tx.delete(memberships).where(and(eq(memberships.accountId, accountId), eq(memberships.userId, userId)));
      await this.assertOwnerRemains(tx as unknown as Db, accountId);
    });
  }

  /** An account never loses its last owner (it could not be administered again). */
  private async assertOwnerRemains(tx: Db, accountId: number) {
    const [row] = await tx
      .select({ n: sql<number>`count(*)::int` })
      .from(memberships)
      .where(and(eq(memberships.accountId, accountId), eq(memberships.role, 'owner')));
    if (row.n === 0) throw new AppError('CONFLICT', 'an account must keep at least one owner');
  }

  // ---- API tokens -------------------------------------------------------------------

  async createToken(accountId: number, userId: number, role: Role, name: string, expiresAt: Date | null) {
    if (expiresAt && expiresAt.getTime() <= Date.now()) {
      throw new AppError('VALIDATION_FAILED', 'expiresAt must be in the future', { fields: [{ path: '/body/expiresAt', message: 'must be in the future' }] });
    }
    const token = `sbt_${randomToken(32)}`;
    const [row] = await this.db
      .insert(apiTokens)
      .values({ accountId, createdBy: userId, name, role, tokenHash: sha256Hex(token), expiresAt })
      .returning();
    return { token, view: tokenView(row) };
  }

  async listTokens(accountId: number, limit: number, cursor?: string) {
    const after = decodeCursor<string>(cursor, 'string');
    const rows = await this.db
      .select()
      .from(apiTokens)
      .where(and(eq(apiTokens.accountId, accountId), after === null ? undefined : gt(apiTokens.createdAt, new Date(after))))
      .orderBy(asc(apiTokens.createdAt))
      .limit(limit + 1);
    return page(rows.map(tokenView), limit, (r) => r.createdAt);
  }

  async revokeToken(accountId: number, id: string): Promise<void> {
    const deleted = await this.db.delete(apiTokens).where(and(eq(apiTokens.accountId, accountId), eq(apiTokens.id, id))).returning({ id: apiTokens.id });
    if (deleted.length === 0) throw new AppError('TOKEN_NOT_FOUND', 'token not found');
  }

  async findToken(token: string) {
    const [row] = await this.db.select().from(apiTokens).where(eq(apiTokens.tokenHash, sha256Hex(token)));
    if (!row) return null;
    if (row.expiresAt && row.expiresAt.getTime() <= Date.now()) return null;
    // Recording use costs a write per request; once a minute is enough to answer "last used".
    if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000) {
      await this.db.update(apiTokens).set({ lastUsedAt: new Date() }).where(eq(apiTokens.id, row.id));
    }
    return row;
  }
}

function tokenView(row: typeof apiTokens.$inferSelect) {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt?.toISOString() ?? null,
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  };
}
