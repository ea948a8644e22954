// `npm run cli -- import` as a user runs it: a child process, exit codes, stdout and stderr.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const HEADER =
  'deal_id,created_date,closed_date,sales_rep_id,industry,region,product_type,lead_source,deal_stage,deal_amount,sales_cycle_days,outcome';

let db: TestDatabase;
let dir: string;

before(async () => {
  db = await createTestDatabase('di_cli_import');
  dir = await mkdtemp(join(tmpdir(), 'di-cli-import-'));
});
after(async () => {
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv = { DATABASE_URL: db.url }): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'backend/src/cli.ts', 'import', ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH, ...env }, timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      }
    );
  });
}

async function file(name: string, lines: string[], header = HEADER): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, [header, ...lines].join('\n') + '\n');
  return path;
}

describe('import command', () => {
  test('prints the report, lists problems, and shows no progress bar off a terminal', async () => {
    const lines = [
      'C1,2023-01-05,2023-02-01,rep_1,SaaS,APAC,Core,Inbound,Closed,1000,27,Won',
      ...Array.from(
        { length: 22 },
        (_, i) => `X${i},2023-01-05,2023-02-01,rep_1,SaaS,APAC,Core,Inbound,Closed,0,27,Won`
      )
    ];
    const path = await file('report.csv', lines);
    const r = await cli([path, '--org', 'cli']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', 'nothing but the report when not on a terminal');
    assert.match(r.stdout, /import run #\d+ \(org cli\) completed/);
    assert.match(r.stdout, /rows read {4}23/);
    assert.match(r.stdout, /inserted {5}1/);
    assert.match(r.stdout, /quarantined {2}22/);
    assert.match(r.stdout, /row 2 +deal_amount +error +deal_amount 0 must be greater than 0/);
    assert.match(r.stdout, /\.\.\. and 2 more \(see import run #(\d+)/);
  });

  test('--json prints a machine-readable report with the peak memory', async () => {
    const path = await file('json.csv', [
      'J1,2023-01-05,2023-02-01,rep_1,SaaS,APAC,Core,Inbound,Closed,1000,30,Won'
    ]);
    const r = await cli([path, '--org', 'cli-json', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.status, 'completed');
    assert.equal(report.rowsRead, 1);
    assert.equal(report.inserted, 1);
    assert.equal(report.flagged, 1);
    assert.equal(report.problems[0].field, 'sales_cycle_days');
    assert.ok(report.peakRssMb > 10 && report.peakRssMb < 1024, `peakRssMb ${report.peakRssMb}`);
    const [org] = await db.sql`SELECT id, name FROM orgs WHERE id = 'cli-json'`;
    assert.deepEqual(org, { id: 'cli-json', name: 'cli-json' }, 'the org is created when missing');
  });

  test('a mapping file and --date-format adapt another export shape', async () => {
    const mapping = join(dir, 'mapping.json');
    await writeFile(
      mapping,
      JSON.stringify({
        columns: { 'Opportunity ID': 'deal_id', Result: 'outcome' },
        values: { outcome: { 'Closed Won': 'Won' } }
      })
    );
    const path = await file(
      'mapped.csv',
      ['M1,05/01/2023,01/02/2023,rep_1,SaaS,APAC,Core,Inbound,Closed,1000,27,Closed Won'],
      HEADER.replace('deal_id', 'Opportunity ID').replace('outcome', 'Result')
    );
    const r = await cli([
      path,
      '--org',
      'cli-map',
      '--mapping',
      mapping,
      '--date-format',
      'DD/MM/YYYY',
      '--json'
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).inserted, 1);
    const [deal] = await db.sql`
      SELECT external_id, created_date::text, outcome FROM deals WHERE org_id = 'cli-map'`;
    assert.deepEqual(deal, { external_id: 'M1', created_date: '2023-01-05', outcome: 'Won' });
  });

  test('bad input exits 2 with a clear message', async () => {
    const wrong = await file('wrong.csv', ['1,2'], 'deal_id,amount');
    const header = await cli([wrong]);
    assert.equal(header.code, 2);
    assert.match(header.stderr, /wrong CSV header: missing required column\(s\): created_date/);

    const badMapping = join(dir, 'bad-mapping.json');
    await writeFile(badMapping, JSON.stringify({ columns: { X: 'nope' } }));
    const mapping = await cli([wrong, '--mapping', badMapping]);
    assert.equal(mapping.code, 2);
    assert.match(mapping.stderr, /invalid mapping file .*bad-mapping\.json/);

    const missing = await cli([join(dir, 'absent.csv')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read .*absent\.csv/);

    const usage = await cli([]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /missing the CSV file to import/);

    const format = await cli([wrong, '--date-format', 'YYYY/MM/DD']);
    assert.equal(format.code, 2);
    assert.match(format.stderr, /--date-format must be one of/);
  });

  test('without DATABASE_URL it says what to do', async () => {
    const path = await file('nodb.csv', []);
    const r = await cli([path], {});
    assert.equal(r.code, 1);
    assert.match(r.stderr, /DATABASE_URL is not set/);
  });
});
