/**
 * The only wiring: builds every domain service once and hands the typed object to the HTTP
 * layer, the worker and the CLI. Nothing is hidden in decorators.
 */
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { openDatabase, type Database } from './db/client.ts';
import { SecretBox } from './lib/crypto.ts';
import { AccountsService } from './accounts/service.ts';
import { AuthService } from './auth/service.ts';
import { SurveysService } from './surveys/service.ts';
import { Metrics } from './lib/metrics.ts';
import { RespondentSessions } from './sessions/respondentSession.ts';
import { RespondentsService } from './respondents/service.ts';
import { CreateUserService } from './respondents/createUser.ts';
import { RespondentImporter } from './respondents/csvImport.ts';
import { JobsService } from './jobs/service.ts';
import { RuntimeService } from './runtime/service.ts';
import { BlocklistService } from './redirects/blocklist.ts';
import { ReplacementsService } from './redirects/replacements.ts';
import { RecordsService } from './runtime/records.ts';
import { RedirectsService } from './redirects/service.ts';
import { WebhooksService } from './webhooks/service.ts';
import { InboundService } from './inbound/service.ts';

export interface Services {
  config: Config;
  log: Logger;
  database: Database;
  box: SecretBox;
  metrics: Metrics;
  accounts: AccountsService;
  auth: AuthService;
  surveys: SurveysService;
  respondentSessions: RespondentSessions;
  respondents: RespondentsService;
  createUser: CreateUserService;
  jobs: JobsService;
  importer: RespondentImporter;
  runtime: RuntimeService;
  blocklist: BlocklistService;
  replacements: ReplacementsService;
  records: RecordsService;
  redirects: RedirectsService;
  webhooks: WebhooksService;
  inbound: InboundService;
  close(): Promise<void>;
}

export async function createServices(config: Config, log: Logger, opts: { pgliteInMemory?: boolean } = {}): Promise<Services> {
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    schemaName: config.databaseSchema,
    pgliteDir: opts.pgliteInMemory ? null : `${config.dataDir}/pgdata`,
  });
  const db = database.db;
  const box = new SecretBox(config.secretKey);
  const metrics = new Metrics(database);
  const accounts = new AccountsService(db);
  const auth = new AuthService(db, accounts, config.secretKey);
  const surveys = new SurveysService(db, box);
  const respondentSessions = new RespondentSessions(db, config.secretKey, config.publicUrl);
  const respondents = new RespondentsService(db, database, box, surveys, config.publicUrl);
  const createUser = new CreateUserService(db, database, surveys, respondents);
  const jobs = new JobsService(db);
  const importer = new RespondentImporter(db, database, box, surveys, jobs, log);
  const runtime = new RuntimeService(db, database.schemaName);
  const blocklist = new BlocklistService(db);
  const replacements = new ReplacementsService(db, database.schemaName, box, runtime, respondents, createUser);
  const records = new RecordsService(db, database.schemaName, runtime);
  const redirects = new RedirectsService(db, surveys, box, log);
  const webhooks = new WebhooksService(db, database.schemaName, box, config, surveys, metrics, log);
  const inbound = new InboundService(db, respondents, config.publicUrl, config.inboundRateLimit);

  let closed = false;
  return {
    config,
    log,
    database,
    box,
    metrics,
    accounts,
    auth,
    surveys,
    respondentSessions,
    respondents,
    createUser,
    jobs,
    importer,
    runtime,
    blocklist,
    replacements,
    records,
    redirects,
    webhooks,
    inbound,
    async close() {
      if (closed) return;
      closed = true;
      await importer.stopAll();
      await webhooks.close();
      await database.close();
    },
  };
}
