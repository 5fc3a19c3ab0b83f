/**
 * The `surveybridge` CLI. Exit codes: 0 ok, 1 runtime failure, 2 bad usage or configuration,
 * each failure with a one-line reason on stderr.
 */
import { ConfigError, loadConfig, type Config } from './config.ts';
import { createLogger } from './lib/logger.ts';
import { createServices, type Services } from './services.ts';
import { buildApp } from './app.ts';
import { bootstrapFirstAdmin } from './accounts/bootstrap.ts';
import { startWorker, type WorkerHandle } from './worker/index.ts';
import { COMMAND_HELP, MAIN_HELP, UsageError, parseCommandArgs } from './cli/usage.ts';
import { extraCommands } from './cli/commands.ts';

type Handler = (args: string[]) => Promise<number>;

const parse = parseCommandArgs;

async function open(config: Config, migrate: boolean): Promise<Services> {
  const services = await createServices(config, createLogger(config.logLevel));
  if (migrate) await services.database.migrate();
  return services;
}

function onSignals(stop: () => Promise<void>) {
  let stopping = false;
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      if (stopping) return;
      stopping = true;
      stop().then(() => process.exit(0), () => process.exit(1));
    });
  }
}

const serve: Handler = async (args) => {
  const { values } = parse(args, { 'no-worker': { type: 'boolean' } });
  if (values.help) return help('serve');
  const config = loadConfig();
  if (config.secretKeyGenerated) {
    process.stderr.write(`warning: generated SECRET_KEY into ${config.dataDir}/secret.key; back it up with the database (stored secrets cannot be read without it)\n`);
  }
  const services = await open(config, true);
  const boot = await bootstrapFirstAdmin(services);
  const app = await buildApp(services);
  await app.listen({ port: config.port, host: config.host });
  let worker: WorkerHandle | null = null;
  if (!values['no-worker']) worker = await startWorker(services);

  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const base = config.publicUrl.replace(`:${config.port}`, `:${port}`);
  const lines = [
    `Surveybridge is running (${services.database.kind === 'pglite' ? `embedded database in ${config.dataDir}` : 'PostgreSQL'}${worker ? ', with the delivery worker' : ''}).`,
    `  Admin console:  ${base}/admin`,
    `  API docs:       ${base}/api/docs`,
    `  Health:         ${base}/healthz`,
  ];
  if (boot.created && boot.generatedPassword) {
    lines.push(`  First admin:    ${boot.email} / ${boot.generatedPassword}   (shown once; set ADMIN_EMAIL and ADMIN_PASSWORD to choose)`);
  } else if (boot.created) {
    lines.push(`  First admin:    ${boot.email} (password from ADMIN_PASSWORD)`);
  } else {
    lines.push('  Sign in with an existing admin (create one: surveybridge admin create --email E --password P)');
  }
  process.stdout.write(lines.join('\n') + '\n');

  onSignals(async () => {
    await app.close(); // stops accepting, finishes in-flight requests
    if (worker) await worker.stop(); // releases leases
    await services.close();
  });
  return new Promise<number>(() => {}); // runs until a signal
};

const worker: Handler = async (args) => {
  const { values } = parse(args, {});
  if (values.help) return help('worker');
  const config = loadConfig();
  // The embedded database belongs to one process: there, `serve` runs the worker in-process.
  if (!config.databaseUrl) throw new UsageError('the worker command needs DATABASE_URL (PostgreSQL); with the embedded database, "serve" runs the worker in-process');
  const services = await open(config, true);
  const handle = await startWorker(services);
  process.stdout.write('Surveybridge delivery worker is running.\n');
  onSignals(async () => {
    await handle.stop();
    await services.close();
  });
  return new Promise<number>(() => {});
};

const migrate: Handler = async (args) => {
  const { values } = parse(args, {});
  if (values.help) return help('migrate');
  const config = loadConfig();
  const services = await open(config, false);
  try {
    const before = await services.database.migrationsApplied();
    await services.database.migrate();
    process.stdout.write(before ? 'Database is up to date.\n' : 'Migrations applied.\n');
  } finally {
    await services.close();
  }
  return 0;
};

const admin: Handler = async (args) => {
  const { values, positionals } = parse(args, { email: { type: 'string' }, password: { type: 'string' }, account: { type: 'string' } });
  if (values.help) return help('admin');
  if (positionals[0] !== 'create') throw new UsageError('expected "admin create"');
  const email = values.email as string | undefined;
  const password = values.password as string | undefined;
  if (!email || !/^[^@\s]+@[^@\s]+$/.test(email)) throw new UsageError('--email must be an email address');
  if (!password || password.length < 8) throw new UsageError('--password must be at least 8 characters');
  const config = loadConfig();
  const services = await open(config, true);
  try {
    let accountId: number | undefined;
    if (!values.account) {
      const [first] = (await services.accounts.listFirstAccount());
      accountId = first?.id;
    }
    const created = await services.accounts.createUser({ email, password, role: 'owner', accountId, accountName: values.account as string | undefined });
    process.stdout.write(`Created admin ${created.email} (user ${created.userId}) as owner of account ${created.accountId}.\n`);
  } finally {
    await services.close();
  }
  return 0;
};

function help(command?: string): number {
  process.stdout.write((command ? COMMAND_HELP[command] ?? MAIN_HELP : MAIN_HELP) + '\n');
  return 0;
}

const COMMANDS: Record<string, Handler> = { serve, worker, migrate, admin, ...extraCommands };

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (!command || command === '--help' || command === '-h' || command === 'help') return help();
    const handler = COMMANDS[command];
    if (!handler) throw new UsageError(`unknown command "${command}" (try --help)`);
    return await handler(rest);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`surveybridge: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`surveybridge: ${(err as Error).message?.split('\n')[0] ?? String(err)}\n`);
    return 1;
  }
}
