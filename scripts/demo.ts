// `npm run demo` / `npm run demo -- --once`
// One command from nothing to scored deals: starts Postgres and Redis (scripts/services.sh),
// uses its own database (deal_insights_demo), generates sample deals with a planted win
// probability, imports them, trains, scores the open deals and prints a short summary. Without
// --once it then runs the backend (API, workers, scheduler) and prints its URL.
// Safe to run again: the import is idempotent, training adds a model version, and scores are
// only stored when they change. It never reads ../shared.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import postgres from 'postgres';
import { writeSample } from '../backend/src/cli/generate.ts';
import { formatTraining } from '../backend/src/cli/train.ts';
import { openDatabase, type Database } from '../backend/src/db/client.ts';
import { runMigrations } from '../backend/src/db/migrate.ts';
import {
  listCoLeadSuggestions,
  type CoLeadRecord
} from '../backend/src/db/repositories/coLeads.ts';
import { getDealById } from '../backend/src/db/repositories/deals.ts';
import { listRiskiestOpenDeals } from '../backend/src/db/repositories/scores.ts';
import { importCsv } from '../backend/src/ingest/importCsv.ts';
import { formatReport } from '../backend/src/ingest/report.ts';
import { rescoreOrg, trainOrg } from '../backend/src/services/scoring.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ORG = 'demo';
const DEMO_DB = 'deal_insights_demo';

const { values } = parseArgs({
  options: {
    once: { type: 'boolean', default: false },
    deals: { type: 'string', default: '20000' },
    seed: { type: 'string', default: '42' },
    port: { type: 'string' }
  },
  strict: true
});

const say = (line = '') => process.stdout.write(`${line}\n`);
const step = (what: string) => say(`\n== ${what}`);

/** Starts (or finds) the project's Postgres and Redis; returns the URLs the script exports. */
async function startServices(): Promise<{ databaseUrl: string; redisUrl: string }> {
  const { stdout } = await promisify(execFile)(
    'bash',
    [join(ROOT, 'scripts/services.sh'), 'start'],
    {
      cwd: ROOT,
      env: process.env,
      timeout: 300_000
    }
  );
  const env: Record<string, string> = {};
  for (const m of stdout.matchAll(/^export (\w+)=(.*)$/gm)) env[m[1] as string] = m[2] as string;
  if (!env.DATABASE_URL || !env.REDIS_URL) {
    throw new Error(
      `scripts/services.sh start did not print DATABASE_URL and REDIS_URL:\n${stdout}`
    );
  }
  return { databaseUrl: env.DATABASE_URL, redisUrl: env.REDIS_URL };
}

/** The demo's own database on the same server, created when missing. */
async function ensureDemoDatabase(baseUrl: string): Promise<string> {
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    const found = await admin`SELECT 1 FROM pg_database WHERE datname = ${DEMO_DB}`;
    if (found.length === 0) await admin.unsafe(`CREATE DATABASE ${DEMO_DB}`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${DEMO_DB}`;
  return url.toString();
}

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
const money = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 0 });

async function printRiskiest(database: Database): Promise<void> {
  step('The 5 riskiest open deals');
  const rows = await listRiskiestOpenDeals(database, ORG, 5);
  for (const r of rows) {
    say(
      `${r.externalId}  ${r.riskBand} risk  win probability ${pct(r.probability)}  ` +
        `(${r.ownerId}, ${r.industry}, amount ${money(r.amount)}${r.confidence === 'low' ? ', low confidence' : ''})`
    );
    // Factors that round to 0.00 on the logit say nothing; the CSV export keeps them.
    const f = r.factors;
    for (const x of f.lowering ?? []) {
      if (x.contribution <= -0.005) say(`    - ${x.label} (${x.contribution.toFixed(2)})`);
    }
    for (const x of f.raising ?? []) {
      if (x.contribution >= 0.005) say(`    + ${x.label} (+${x.contribution.toFixed(2)})`);
    }
  }
}

async function printCoLeads(database: Database): Promise<void> {
  step('Co-lead suggestions (deals whose owner fits the segment poorly)');
  const proposed = await listCoLeadSuggestions(database, ORG, { status: 'proposed', limit: 5_000 });
  const byDeal = new Map<number, CoLeadRecord[]>();
  for (const s of proposed) {
    const list = byDeal.get(s.dealId) ?? [];
    list.push(s);
    byDeal.set(s.dealId, list);
  }
  say(`${byDeal.size} open deals have co-lead suggestions; the first 3:`);
  const shown = [...byDeal.keys()].sort((a, b) => a - b).slice(0, 3);
  for (const dealId of shown) {
    const deal = await getDealById(database, ORG, dealId);
    const list = (byDeal.get(dealId) ?? []).sort((a, b) => a.rank - b.rank);
    const first = list[0];
    if (!deal || !first) continue;
    say(
      `${deal.externalId} (${deal.industry}, owner ${deal.ownerId}: RSFS ` +
        `${first.ownerRsfs === null ? 'n/a' : pct(first.ownerRsfs)} in ${first.segment}, RED)`
    );
    for (const s of list) say(`    ${s.isPrimary ? '*' : ' '} ${s.suggestedRepId}: ${s.reason}`);
  }
  if (shown.length > 0) say('    (* = suggested co-lead; the others are alternatives)');
}

async function freePort(preferred: number): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number | null>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(null));
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        const got = typeof address === 'object' && address ? address.port : null;
        server.close(() => resolve(got));
      });
    });
  return (await tryPort(preferred)) ?? ((await tryPort(0)) as number);
}

/** Runs the backend (API + workers + scheduler) until Ctrl-C. */
async function runBackend(databaseUrl: string, redisUrl: string, logDir: string): Promise<number> {
  const port = await freePort(Number(values.port ?? process.env.PORT ?? 8787));
  const env = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    HOST: '127.0.0.1',
    PORT: String(port),
    DI_QUEUE_PREFIX: 'di-demo',
    // Fresh demo secrets per run: tokens from an earlier run stop working, as they should.
    DI_JWT_SECRET: randomBytes(32).toString('base64url'),
    DI_ENCRYPTION_KEY: randomBytes(32).toString('base64')
  };
  const logPath = join(logDir, 'backend.log');
  const log = createWriteStream(logPath);
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'backend/src/main.ts'), '--role', 'all'],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] }
  );
  child.stderr?.pipe(log);
  const url = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      log.write(chunk);
      buffer += chunk.toString('utf8');
      const m = /"url":"(http[^"]+)".*deal insights backend running/.exec(buffer);
      if (m) resolve(m[1] as string);
    });
    child.once('exit', (code) =>
      reject(new Error(`the backend exited (code ${code}) before it was ready; see ${logPath}`))
    );
  });
  step('Backend running');
  say(`API        ${url}/api/v1   (OpenAPI docs: ${url}/docs)`);
  say(`Health     ${url}/healthz  ${url}/readyz`);
  say(`Logs       ${logPath}`);
  say('A token for the API (a manager of the demo org):');
  say(
    `  DI_JWT_SECRET=${env.DI_JWT_SECRET} npm run -s cli -- token --org ${ORG} --user mgr_1 --role manager`
  );
  say(`  curl -H "Authorization: Bearer <token>" ${url}/api/v1/deals?limit=5`);
  say('Press Ctrl-C to stop.');
  const stop = () => child.kill('SIGTERM');
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 0)));
}

async function main(): Promise<number> {
  const dealCount = Number(values.deals);
  const seed = Number(values.seed);
  if (!Number.isInteger(dealCount) || dealCount < 1000)
    throw new Error('--deals must be a whole number >= 1000');
  if (!Number.isInteger(seed)) throw new Error('--seed must be a whole number');

  step('Services');
  const services = await startServices();
  const databaseUrl = await ensureDemoDatabase(services.databaseUrl);
  say(`Postgres: database ${DEMO_DB}; Redis: ${services.redisUrl}`);
  const database = openDatabase(databaseUrl, { max: 4 });
  const work = await mkdtemp(join(tmpdir(), 'deal-insights-demo-'));
  try {
    await runMigrations(database);

    step(`Sample data: ${dealCount.toLocaleString('en-US')} deals (15% open), seed ${seed}`);
    const sample = await writeSample(work, { deals: dealCount, seed, openFraction: 0.15 });
    say(
      `Generated ${sample.deals} (${sample.open.toLocaleString('en-US')} open; data ends ${sample.endDate})`
    );

    step('Import');
    const report = await importCsv(database, { orgId: ORG, path: sample.deals });
    say(formatReport(report, 5));
    if (report.status !== 'completed') throw new Error(`the import failed: ${report.error}`);

    step('Train (judged on the latest deals, held out)');
    const trained = await trainOrg(database, ORG, { now: sample.endDate });
    say(formatTraining(trained));

    step(`Score the open deals as of ${sample.endDate}`);
    const scored = await rescoreOrg(database, ORG, { openOnly: true, now: sample.endDate });
    say(
      `${scored.scored.toLocaleString('en-US')} open deals scored in ${scored.seconds.toFixed(1)} s; ` +
        `${scored.changed.toLocaleString('en-US')} new score versions stored`
    );

    await printRiskiest(database);
    await printCoLeads(database);
  } finally {
    await database.close();
    if (values.once) await rm(work, { recursive: true, force: true });
  }
  if (values.once) return 0;
  return runBackend(databaseUrl, services.redisUrl, work);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
);
