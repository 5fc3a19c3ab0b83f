/**
 * `npm run bench [-- --quick] [-- --only name,name] [-- --pglite-only]`: runs every benchmark on
 * PGlite and (when reachable) PostgreSQL, writes bench/results/<name>.json and a summary
 * table bench/results/summary.md with each figure, its same-run baseline and the ratio.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { RESULTS_DIR, ROOT, baselineSharing, machine, postgresAvailable, writeResult, type BenchOptions } from './lib.ts';

type Row = { benchmark: string; database: string; figure: string; value: number | string; baseline: string; baselineValue: number | string; ratio: number | string | null };
interface BenchModule {
  run(opts: BenchOptions): Promise<{ summary: Row[]; [k: string]: unknown }>;
}

const BENCHMARKS = ['create-user', 'import', 'redirect', 'panel-entry', 'deliveries', 'mixed'];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
baselineSharing.withinRun = quick;
const runStarted = performance.now();
const loadAtStart = loadavg()[0].toFixed(1);
const onlyArg = args.find((a) => a.startsWith('--only='));
const only = onlyArg ? onlyArg.slice('--only='.length).split(',') : null;
const databases: BenchOptions['database'][] = ['pglite'];
if (!args.includes('--pglite-only') && (await postgresAvailable())) databases.push('postgres');

const rows: Row[] = [];
for (const name of BENCHMARKS) {
  if (only && !only.includes(name)) continue;
  const file = join(ROOT, 'bench', `${name}.ts`);
  if (!existsSync(file)) continue;
  const mod = (await import(file)) as BenchModule;
  for (const database of databases) {
    process.stdout.write(`bench ${name} on ${database}${quick ? ' (quick)' : ''}…\n`);
    const benchStarted = performance.now();
    try {
      const result = await mod.run({ quick, database });
      process.stdout.write(`  done in ${Math.round((performance.now() - benchStarted) / 1000)} s\n`);
      writeResult(`${name}-${database}`, { machine: machine(database), quick, ...result });
      rows.push(...result.summary);
    } catch (err) {
      process.stdout.write(`  failed: ${(err as Error).message}\n`);
      rows.push({ benchmark: name, database, figure: 'error', value: (err as Error).message.slice(0, 80), baseline: '', baselineValue: '', ratio: null });
    }
  }
}

const m = machine(databases.join('+'));
const lines = [
  `# Benchmark summary`,
  '',
  `Machine: ${m.cores} cores (${m.cpu}), Node ${m.node}; ${quick ? 'quick run' : 'full run'} at ${new Date().toISOString()}, ${Math.round((performance.now() - runStarted) / 1000)} s in all; 1-minute load average ${loadAtStart} at the start (other work on the machine skews absolute figures).`,
  'Ratios compare each figure with its baseline measured in the same run (absolute times on this small, noisy machine mean little).',
  '',
  '| benchmark | database | figure | value | baseline | baseline value | ratio |',
  '|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.benchmark} | ${r.database} | ${r.figure} | ${r.value} | ${r.baseline} | ${r.baselineValue} | ${r.ratio ?? ''} |`),
];
writeFileSync(join(RESULTS_DIR, 'summary.md'), lines.join('\n') + '\n');
process.stdout.write(lines.join('\n') + '\n');
