/** Usage errors exit 2 with a one-line reason; runtime failures exit 1. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const MAIN_HELP = `Usage: surveybridge <command> [options]

Commands:
  serve                 HTTP API + web UI + delivery worker (--no-worker to leave the worker out)
  worker                the delivery worker alone (scale-out; needs DATABASE_URL)
  migrate               apply database migrations and exit
  admin create          create an admin user: --email E --password P [--account NAME]
  token create-user     print a create-user JWT for a survey (--survey S --user U --secret S)
  sign-link URL         append the link-signing hash (--secret S)
  verify-link URL       check a signed link (--secret S): exit 0 valid, 1 invalid
  import respondents F  upload a CSV of respondents to a running server (--survey S [--on-existing error|skip|update])
  export auth-urls      download every respondent's auth URLs as CSV (--survey S [--output FILE])

Run "surveybridge <command> --help" for a command's options.
Configuration comes from environment variables; see the README's configuration table.
Exit codes: 0 ok, 1 runtime failure, 2 bad usage or configuration.`;

export const COMMAND_HELP: Record<string, string> = {
  serve: `Usage: surveybridge serve [--no-worker]

Runs the HTTP API, the web UI and (unless --no-worker) the delivery worker in one process.
Applies pending migrations first. Listens on HOST:PORT; prints the URLs to open.`,
  worker: `Usage: surveybridge worker

Runs the delivery worker alone. Several may run against one PostgreSQL (DATABASE_URL);
the embedded database can be opened by one process only, so use "serve" there.`,
  migrate: `Usage: surveybridge migrate

Applies pending migrations (advisory-locked) and exits.`,
  admin: `Usage: surveybridge admin create --email E --password P [--account NAME]

Creates an admin user. With --account NAME, a new account of that name is created and the
user is its owner; without it, the user joins the first account as owner.`,
};

import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** Strict option parsing; unknown options are usage errors (exit 2). `--help` is always known. */
export function parseCommandArgs(args: string[], options: NonNullable<ParseArgsConfig['options']>): ParsedArgs {
  try {
    const parsed = parseArgs({ args, options: { help: { type: 'boolean', short: 'h' }, ...options }, allowPositionals: true, strict: true });
    return { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
