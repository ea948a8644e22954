// CSV import throughput and memory: writes a canonical CSV of 1,000,000 deals (quick: 20,000)
// to a temp dir, imports it into a fresh database with the real command line in a child process
// (`node --import tsx backend/src/cli.ts import ... --json`), and reads the child's own report:
// rows per second of the import itself (header to last commit; not process start or
// migrations), its peak RSS (process.resourceUsage().maxRSS) and its own CPU per row, beside
// the CPU per row of the Postgres backends doing the database side. Then imports the same file
// again, which must change nothing: import_unchanged_rows_per_s.
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { postgresCpu } from './postgresCpu.ts';
import { createTestDatabase } from '../../test/support/database.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ORG = 'bench_import';
const log = (msg: string) => process.stderr.write(`[bench:import] ${msg}\n`);

const INDUSTRIES = ['SaaS', 'FinTech', 'HealthTech', 'EdTech', 'Ecommerce'];
const REGIONS = ['North America', 'Europe', 'APAC', 'India'];
const PRODUCTS = ['Core', 'Pro', 'Enterprise'];
const SOURCES = ['Inbound', 'Referral', 'Outbound', 'Partner'];
const CLOSED_STAGES = ['Qualified', 'Demo', 'Proposal', 'Negotiation', 'Closed'];
const OPEN_STAGES = ['Prospecting', 'Qualification', 'Proposal', 'Negotiation'];
const DAY_MS = 86_400_000;
const START = Date.UTC(2022, 0, 1);

/** Small seeded PRNG (mulberry32): the same file every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Writes `rows` valid canonical deals (15% open, 50 reps under 10 managers). */
export async function writeCsv(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  const rand = random(20_240_601);
  const pick = <T>(list: T[]) => list[Math.floor(rand() * list.length)] as T;
  out.write(
    'deal_id,created_date,closed_date,sales_rep_id,industry,region,product_type,lead_source,' +
      'deal_stage,deal_amount,sales_cycle_days,outcome,manager_id\n'
  );
  let chunk: string[] = [];
  for (let i = 1; i <= rows; i++) {
    const rep = Math.floor(rand() * 50);
    const created = START + Math.floor(rand() * 900) * DAY_MS;
    const open = rand() < 0.15;
    const cycle = 5 + Math.floor(rand() * 120);
    const amount = Math.round(2_000 + rand() * rand() * 98_000);
    const closed = open ? '' : iso(created + cycle * DAY_MS);
    const outcome = open ? '' : rand() < 0.45 ? 'Won' : 'Lost';
    chunk.push(
      `D${String(i).padStart(7, '0')},${iso(created)},${closed},rep_${rep},${pick(INDUSTRIES)},` +
        `${pick(REGIONS)},${pick(PRODUCTS)},${pick(SOURCES)},` +
        `${open ? pick(OPEN_STAGES) : pick(CLOSED_STAGES)},${amount},${open ? '' : cycle},` +
        `${outcome},mgr_${rep % 10}`
    );
    if (chunk.length === 10_000 || i === rows) {
      if (!out.write(chunk.join('\n') + '\n'))
        await new Promise<void>((r) => out.once('drain', () => r()));
      chunk = [];
    }
  }
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve()))
  );
}

interface ChildReport {
  status: string;
  error: string | null;
  rowsRead: number;
  inserted: number;
  updated: number;
  unchanged: number;
  quarantined: number;
  seconds: number;
  peakRssMb: number;
  cpuSeconds: number;
}

function importInChild(file: string, databaseUrl: string): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      // The same node flags as `npm run cli` (package.json): a larger young generation cut
      // the importer's CPU by ~20% (fewer scavenges of short-lived row objects).
      [
        '--max-semi-space-size=64',
        '--import',
        'tsx',
        'backend/src/cli.ts',
        'import',
        file,
        '--org',
        ORG,
        '--json'
      ],
      {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: databaseUrl },
        maxBuffer: 64 << 20,
        timeout: 600_000
      },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`import failed: ${err.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as ChildReport);
      }
    );
  });
}

export async function run(opts: { quick: boolean }): Promise<Record<string, number>> {
  const rows = opts.quick ? 20_000 : 1_000_000;
  const dir = await mkdtemp(join(tmpdir(), 'di-bench-import-'));
  const db = await createTestDatabase('di_bench_import');
  try {
    const file = join(dir, 'deals.csv');
    let t = performance.now();
    await writeCsv(file, rows);
    log(`wrote ${rows} rows in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    const dbName = new URL(db.url).pathname.slice(1);
    const { result: first, cpuSeconds: firstPgCpu } = await postgresCpu(db, dbName, () =>
      importInChild(file, db.url)
    );
    if (first.status !== 'completed' || first.inserted !== rows || first.quarantined !== 0) {
      throw new Error(`unexpected first import: ${JSON.stringify(first)}`);
    }
    log(
      `imported ${first.rowsRead} rows in ${first.seconds.toFixed(1)} s, ` +
        `peak RSS ${first.peakRssMb.toFixed(0)} MB, importer CPU ${first.cpuSeconds.toFixed(1)} s, ` +
        `Postgres backend CPU ${firstPgCpu?.toFixed(1) ?? 'unknown'} s ` +
        `(load average ${loadavg()[0]!.toFixed(1)} on this machine: other work slows it)`
    );
    t = performance.now();
    const { result: second, cpuSeconds: secondPgCpu } = await postgresCpu(db, dbName, () =>
      importInChild(file, db.url)
    );
    if (second.unchanged !== rows || second.inserted + second.updated !== 0) {
      throw new Error(`re-import changed something: ${JSON.stringify(second)}`);
    }
    log(
      `re-imported (all unchanged) in ${second.seconds.toFixed(1)} s, ` +
        `peak RSS ${second.peakRssMb.toFixed(0)} MB, importer CPU ${second.cpuSeconds.toFixed(1)} s, ` +
        `Postgres backend CPU ${secondPgCpu?.toFixed(1) ?? 'unknown'} s ` +
        `(load average ${loadavg()[0]!.toFixed(1)})`
    );
    return {
      import_rows_per_s: Math.round(first.rowsRead / first.seconds),
      // The importing process's own CPU per row (Postgres's work is on top, in its process).
      import_cpu_us_per_row: Math.round((first.cpuSeconds * 1e6) / first.rowsRead),
      import_peak_rss_mb: Math.round(Math.max(first.peakRssMb, second.peakRssMb)),
      import_unchanged_rows_per_s: Math.round(second.rowsRead / second.seconds),
      import_unchanged_cpu_us_per_row: Math.round((second.cpuSeconds * 1e6) / second.rowsRead),
      // Postgres's side of the same work (its backends' CPU per row), where it can be read.
      ...(firstPgCpu === null
        ? {}
        : { import_pg_cpu_us_per_row: Math.round((firstPgCpu * 1e6) / first.rowsRead) }),
      ...(secondPgCpu === null
        ? {}
        : {
            import_unchanged_pg_cpu_us_per_row: Math.round((secondPgCpu * 1e6) / second.rowsRead)
          }),
      import_load_average: Math.round(loadavg()[0]! * 10) / 10
    };
  } finally {
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  }
}
