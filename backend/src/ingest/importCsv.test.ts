// The importer against a real Postgres: each test file gets its own migrated database.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.ts';
import { openDatabase } from '../db/client.ts';
import { HeaderError, importCsv, ImportInputError, type ImportReport } from './importCsv.ts';

const HEADER =
  'deal_id,created_date,closed_date,sales_rep_id,industry,region,product_type,lead_source,deal_stage,deal_amount,sales_cycle_days,outcome';
const SAMPLE = new URL('../../../../shared/data/skygeni_sales_data.csv', import.meta.url).pathname;

let db: TestDatabase;
let dir: string;
let fileNo = 0;

before(async () => {
  db = await createTestDatabase('di_import');
  dir = await mkdtemp(join(tmpdir(), 'di-import-'));
});
after(async () => {
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

async function csv(lines: string[], header = HEADER): Promise<string> {
  const path = join(dir, `f${++fileNo}.csv`);
  await writeFile(path, [header, ...lines].join('\n') + '\n');
  return path;
}

function importFile(path: string, orgId: string, more: { batchSize?: number } = {}) {
  return importCsv(db, { path, orgId, ...more });
}

async function deals(orgId: string) {
  return db.sql<
    {
      external_id: string;
      owner_id: string;
      amount: number;
      created_date: string;
      closed_date: string | null;
      sales_cycle_days: number | null;
      outcome: string | null;
      attributes: Record<string, string>;
    }[]
  >`SELECT external_id, owner_id, amount, created_date::text, closed_date::text, sales_cycle_days,
           outcome, attributes
      FROM deals WHERE org_id = ${orgId} ORDER BY external_id`;
}

async function stored(runId: number) {
  return db.sql<
    { row_number: number; field: string | null; reason: string; severity: string; raw: unknown }[]
  >`SELECT row_number, field, reason, severity, raw FROM quarantined_rows
     WHERE import_run_id = ${runId} ORDER BY row_number, id`;
}

function counts(r: ImportReport) {
  const { rowsRead, inserted, updated, unchanged, quarantined, flagged } = r;
  return { rowsRead, inserted, updated, unchanged, quarantined, flagged };
}

describe('CSV import', () => {
  test('each validation rule quarantines its row with the row number, field and reason', async () => {
    const path = await csv([
      /* 1 */ 'A1,2023-01-05,2023-02-01,rep_1,SaaS,APAC,Core,Inbound,Closed,1000,27,Won',
      /* 2 */ 'A2,2023-01-05,2023-02-01,,SaaS,APAC,Core,Inbound,Closed,1000,27,Won',
      /* 3 */ 'A3,2023-13-05,2023-02-01,rep_1,SaaS,APAC,Core,Inbound,Closed,1000,27,Won',
      /* 4 */ 'A4,2023-02-30,2023-03-01,rep_1,SaaS,APAC,Core,Inbound,Closed,1000,,Lost',
      /* 5 */ 'A5,2023-03-05,2023-02-01,rep_1,SaaS,APAC,Core,Inbound,Closed,1000,,Won',
      /* 6 */ 'A6,2023-01-05,2023-02-01,rep_1,SaaS,APAC,Core,Inbound,Closed,0,27,Won',
      /* 7 */ 'A7,2023-01-05,2023-02-01,rep_1,SaaS,APAC,Core,Inbound,Closed,lots,27,Won',
      /* 8 */ 'A8,2023-01-05,2023-02-01,rep_1,SaaS,APAC,Core,Inbound,Closed,1000,27,Closed Won',
      /* 9 */ 'A9,2023-01-05,2023-02-01,rep_2,SaaS,APAC,Core,Inbound,Closed,1000,40,Lost',
      /* 10 */ 'A10,2023-01-05,2023-02-01,rep_2,SaaS,APAC,Core,Inbound,Closed,-3,27',
      /* 11 */ 'A11,2023-04-01,,rep_2,FinTech,EU,Pro,Referral,Proposal,5000,,'
    ]);
    const report = await importFile(path, 'rules');
    assert.equal(report.status, 'completed');
    assert.deepEqual(counts(report), {
      rowsRead: 11,
      inserted: 3,
      updated: 0,
      unchanged: 0,
      quarantined: 8,
      flagged: 1
    });
    const problems = (await stored(report.runId)).map(({ row_number, field, reason, severity }) => [
      row_number,
      field,
      severity,
      reason
    ]);
    assert.deepEqual(problems, [
      [2, 'sales_rep_id', 'error', 'sales_rep_id is empty (required)'],
      [3, 'created_date', 'error', 'created_date "2023-13-05" has no month 13 (format YYYY-MM-DD)'],
      [
        4,
        'created_date',
        'error',
        'created_date "2023-02-30" is not a real calendar date (format YYYY-MM-DD)'
      ],
      [5, 'closed_date', 'error', 'closed_date 2023-02-01 is before created_date 2023-03-05'],
      [6, 'deal_amount', 'error', 'deal_amount 0 must be greater than 0'],
      [
        7,
        'deal_amount',
        'error',
        'deal_amount "lots" is not a number (use a plain number like 1234.5)'
      ],
      [
        8,
        'outcome',
        'error',
        'outcome "Closed Won" is not Won, Lost or empty (an open deal); map other values with "values" in a mapping file'
      ],
      [
        9,
        'sales_cycle_days',
        'warning',
        'sales_cycle_days is 40 but closed_date - created_date is 27 days; trusted the dates: stored 27'
      ],
      [
        10,
        null,
        'error',
        'row has 11 field(s) but the header has 12: columns would not line up (check quoting and delimiters)'
      ]
    ]);
    const raw = (await stored(report.runId)).find((p) => p.row_number === 7)?.raw;
    assert.deepEqual(raw, {
      deal_id: 'A7',
      created_date: '2023-01-05',
      closed_date: '2023-02-01',
      sales_rep_id: 'rep_1',
      industry: 'SaaS',
      region: 'APAC',
      product_type: 'Core',
      lead_source: 'Inbound',
      deal_stage: 'Closed',
      deal_amount: 'lots',
      sales_cycle_days: '27',
      outcome: 'Won'
    });

    const rows = await deals('rules');
    assert.deepEqual(
      rows.map((d) => [d.external_id, d.outcome, d.closed_date, d.sales_cycle_days]),
      [
        ['A1', 'Won', '2023-02-01', 27],
        ['A11', null, null, null],
        ['A9', 'Lost', '2023-02-01', 27]
      ],
      'the flagged row is imported with the value computed from the dates'
    );
    const [run] = await db.sql`SELECT * FROM import_runs WHERE id = ${report.runId}`;
    assert.equal(run?.status, 'completed');
    assert.equal(run?.quarantined, 8);
    assert.equal(run?.flagged, 1);
    assert.equal(run?.rows_read, 11);
    assert.match(String(run?.file_sha256), /^[0-9a-f]{64}$/);
  });

  test('the report returns the problems in row order with their total', async () => {
    const path = await csv([
      'B1,2023-01-05,2023-02-01,rep_1,SaaS,APAC,Core,Inbound,Closed,0,27,Maybe',
      'B2,2023-01-05,2023-02-01,rep_1,SaaS,APAC,Core,Inbound,Closed,1000,27,Won'
    ]);
    const report = await importFile(path, 'report');
    assert.equal(report.problemCount, 2);
    assert.deepEqual(
      report.problems.map((p) => [p.rowNumber, p.field]),
      [
        [1, 'outcome'],
        [1, 'deal_amount']
      ]
    );
  });

  test('a wrong header is an error before any row is read, and nothing is written', async () => {
    const path = await csv(
      ['C1,2023-01-05,2023-02-01,rep_1,SaaS,APAC,Core,Inbound,Closed,1000,27,Won'],
      HEADER.replace('deal_amount', 'amount').replace(',outcome', ',result')
    );
    await assert.rejects(importFile(path, 'header'), (err: unknown) => {
      assert.ok(err instanceof HeaderError);
      assert.match(err.message, /missing required column\(s\): deal_amount, outcome/);
      assert.match(err.message, /"amount"/);
      assert.match(err.message, /"result"/);
      return true;
    });
    const [written] = await db.sql`
      SELECT (SELECT count(*) FROM deals WHERE org_id = 'header')
           + (SELECT count(*) FROM import_runs WHERE org_id = 'header')
           + (SELECT count(*) FROM orgs WHERE id = 'header') AS n`;
    assert.equal(Number(written?.n), 0);
  });

  test('a second import into the same org at the same time is refused', async () => {
    const path = await csv([
      'L1,2023-01-05,2023-02-01,rep_1,SaaS,APAC,Core,Inbound,Closed,1000,27,Won'
    ]);
    const holder = await db.sql.reserve();
    try {
      // What a running import of org "locked" holds (importCsv.ts IMPORT_LOCK).
      await holder`SELECT pg_advisory_lock(7412002, hashtext('locked'))`;
      await assert.rejects(
        importFile(path, 'locked'),
        (err: unknown) =>
          err instanceof ImportInputError &&
          /another import into org locked is running/.test(err.message)
      );
      assert.equal((await importFile(path, 'other')).inserted, 1, 'other orgs are not blocked');
    } finally {
      await holder`SELECT pg_advisory_unlock(7412002, hashtext('locked'))`;
      holder.release();
    }
    assert.equal((await importFile(path, 'locked')).inserted, 1, 'free again afterwards');
  });

  test('an import needs one connection only (works with a pool of one)', async () => {
    const single = openDatabase(db.url, { max: 1 });
    try {
      const path = await csv([
        'P1,2023-01-05,2023-02-01,rep_1,SaaS,APAC,Core,Inbound,Closed,1000,27,Won',
        'P2,2023-01-05,2023-02-01,rep_1,SaaS,APAC,Core,Inbound,Closed,0,27,Won'
      ]);
      const report = await importCsv(single, { path, orgId: 'single', batchSize: 1 });
      assert.equal(report.status, 'completed');
      assert.equal(report.inserted, 1);
      assert.equal(report.quarantined, 1);
    } finally {
      await single.close();
    }
  });

  test('batches written side by side share reps and managers, and the run adds them all up', async () => {
    // Batches of 4 new deals are written two at a time on two connections: each upserts the
    // same users, and each adds its counts to the run's row, in whichever order they commit.
    const lines: string[] = [];
    for (let i = 1; i <= 40; i++) {
      const rep = `rep_${i % 5}`;
      const manager = i % 5 === 0 ? '' : `mgr_${(i % 5) % 2}`;
      const amount = i % 9 === 0 ? '0' : String(100 * i); // every 9th row is quarantined
      lines.push(
        `S${i},2023-01-05,2023-02-01,${rep},SaaS,APAC,Core,Inbound,Closed,${amount},27,Won,${manager}`
      );
    }
    // mgr_0 also owns a deal, under mgr_1: it gets its manager (and stays a manager by role).
    lines.push('S41,2023-01-05,2023-02-01,mgr_0,SaaS,APAC,Core,Inbound,Closed,100,27,Won,mgr_1');
    const path = await csv(lines, `${HEADER},manager_id`);
    const report = await importFile(path, 'sides', { batchSize: 4 });
    const expected = {
      rowsRead: 41,
      inserted: 37,
      updated: 0,
      unchanged: 0,
      quarantined: 4,
      flagged: 0
    };
    assert.deepEqual(counts(report), expected);
    const [run] = await db.sql`
      SELECT rows_read, inserted, updated, unchanged, quarantined, flagged, status
        FROM import_runs WHERE id = ${report.runId}`;
    assert.deepEqual(
      {
        rowsRead: run?.rows_read,
        inserted: run?.inserted,
        updated: run?.updated,
        unchanged: run?.unchanged,
        quarantined: run?.quarantined,
        flagged: run?.flagged
      },
      expected
    );
    assert.equal(run?.status, 'completed');
    assert.equal((await deals('sides')).length, 37);
    assert.deepEqual(
      (await stored(report.runId)).map((p) => [p.row_number, p.field]),
      [
        [9, 'deal_amount'],
        [18, 'deal_amount'],
        [27, 'deal_amount'],
        [36, 'deal_amount']
      ]
    );
    const users = await db.sql`
      SELECT id, manager_id, role FROM users WHERE org_id = 'sides' ORDER BY id`;
    assert.deepEqual(
      users.map((u) => [u.id, u.manager_id, u.role]),
      [
        ['mgr_0', 'mgr_1', 'manager'],
        ['mgr_1', null, 'manager'],
        ['rep_0', null, 'rep'],
        ['rep_1', 'mgr_1', 'rep'],
        ['rep_2', 'mgr_0', 'rep'],
        ['rep_3', 'mgr_1', 'rep'],
        ['rep_4', 'mgr_0', 'rep']
      ]
    );
  });

  test('a mapping renames columns, maps values and reads another date format', async () => {
    const header =
      'Opportunity ID,Created,Close Date,Owner,Industry,Region,Product,Source,Stage,Amount,Cycle,Result,Manager,Campaign';
    const path = await csv(
      [
        'OPP-1,01/05/2023,02/01/2023,rep_7,SaaS,APAC,Core,Inbound,Closed,1200.50,27,Closed Won,mgr_1,Spring',
        'OPP-2,03/10/2023,,rep_8,FinTech,EU,Pro,Partner,Proposal,800,,Open,,'
      ],
      header
    );
    const report = await importCsv(db, {
      path,
      orgId: 'mapped',
      mapping: {
        columns: {
          'Opportunity ID': 'deal_id',
          Created: 'created_date',
          'Close Date': 'closed_date',
          Owner: 'sales_rep_id',
          Industry: 'industry',
          Region: 'region',
          Product: 'product_type',
          Source: 'lead_source',
          Stage: 'deal_stage',
          Amount: 'deal_amount',
          Cycle: 'sales_cycle_days',
          Result: 'outcome',
          Manager: 'manager_id'
        },
        values: { outcome: { 'Closed Won': 'Won', 'Closed Lost': 'Lost', Open: '' } },
        dateFormat: 'MM/DD/YYYY'
      }
    });
    assert.deepEqual(counts(report), {
      rowsRead: 2,
      inserted: 2,
      updated: 0,
      unchanged: 0,
      quarantined: 0,
      flagged: 0
    });
    const rows = await deals('mapped');
    assert.deepEqual(
      rows.map((d) => [d.external_id, d.created_date, d.closed_date, d.outcome, d.amount]),
      [
        ['OPP-1', '2023-01-05', '2023-02-01', 'Won', 1200.5],
        ['OPP-2', '2023-03-10', null, null, 800]
      ]
    );
    assert.deepEqual(rows[0]?.attributes, { Campaign: 'Spring' });
    const users = await db.sql`
      SELECT id, manager_id, role FROM users WHERE org_id = 'mapped' ORDER BY id`;
    assert.deepEqual(
      users.map((u) => [u.id, u.manager_id, u.role]),
      [
        ['mgr_1', null, 'manager'],
        ['rep_7', 'mgr_1', 'rep'],
        ['rep_8', null, 'rep']
      ]
    );
  });

  test('importing the same file again changes nothing', async () => {
    const lines = Array.from({ length: 25 }, (_, i) => {
      const n = i + 1;
      return `E${n},2023-01-05,2023-02-${String(1 + (n % 27)).padStart(2, '0')},rep_${n % 4},SaaS,APAC,Core,Inbound,Closed,${1000 + n},0,${n % 3 ? 'Won' : 'Lost'}`;
    });
    const path = await csv(lines);
    const first = await importFile(path, 'again', { batchSize: 7 });
    assert.equal(first.inserted, 25);
    assert.equal(first.flagged, 25, 'sales_cycle_days 0 disagrees with every row');
    const before = await db.sql`
      SELECT (SELECT count(*) FROM deals WHERE org_id = 'again')::int AS deals,
             (SELECT count(*) FROM users WHERE org_id = 'again')::int AS users,
             (SELECT max(updated_at) FROM deals WHERE org_id = 'again') AS touched`;

    const second = await importFile(path, 'again', { batchSize: 7 });
    assert.deepEqual(counts(second), {
      rowsRead: 25,
      inserted: 0,
      updated: 0,
      unchanged: 25,
      quarantined: 0,
      flagged: 25
    });
    const afterwards = await db.sql`
      SELECT (SELECT count(*) FROM deals WHERE org_id = 'again')::int AS deals,
             (SELECT count(*) FROM users WHERE org_id = 'again')::int AS users,
             (SELECT max(updated_at) FROM deals WHERE org_id = 'again') AS touched`;
    assert.deepEqual(afterwards, before);
  });

  test('a changed value updates only that deal', async () => {
    const lines = [
      'F1,2023-01-05,2023-02-01,rep_1,SaaS,APAC,Core,Inbound,Closed,1000,27,Won',
      'F2,2023-01-05,2023-02-01,rep_1,SaaS,APAC,Core,Inbound,Closed,2000,27,Lost',
      'F3,2023-01-05,,rep_2,SaaS,APAC,Core,Inbound,Proposal,3000,,'
    ];
    await importFile(await csv(lines), 'changes');
    const changed = [lines[0]!, lines[1]!.replace(',2000,', ',2500,'), lines[2]!];
    changed.push('F4,2023-03-01,,rep_2,SaaS,APAC,Core,Inbound,Proposal,400,,');
    const report = await importFile(await csv(changed), 'changes');
    assert.deepEqual(counts(report), {
      rowsRead: 4,
      inserted: 1,
      updated: 1,
      unchanged: 2,
      quarantined: 0,
      flagged: 0
    });
    const rows = await deals('changes');
    assert.deepEqual(
      rows.map((d) => [d.external_id, d.amount]),
      [
        ['F1', 1000],
        ['F2', 2500],
        ['F3', 3000],
        ['F4', 400]
      ]
    );
  });

  test('an open deal that closes is updated (its closed version is more recent)', async () => {
    await importFile(
      await csv(['G1,2023-01-05,,rep_1,SaaS,APAC,Core,Inbound,Proposal,1000,,']),
      'closing'
    );
    const report = await importFile(
      await csv(['G1,2023-01-05,2023-03-01,rep_1,SaaS,APAC,Core,Inbound,Closed,1000,55,Won']),
      'closing'
    );
    assert.equal(report.updated, 1);
    assert.deepEqual(
      (await deals('closing')).map((d) => [d.outcome, d.closed_date]),
      [['Won', '2023-03-01']]
    );
  });

  test('an older version of a stored deal is quarantined, not applied', async () => {
    await importFile(
      await csv(['H1,2023-01-05,2023-03-01,rep_1,SaaS,APAC,Core,Inbound,Closed,1000,55,Won']),
      'stale'
    );
    const report = await importFile(
      await csv(['H1,2023-01-05,,rep_1,SaaS,APAC,Core,Inbound,Proposal,900,,']),
      'stale'
    );
    assert.deepEqual(counts(report), {
      rowsRead: 1,
      inserted: 0,
      updated: 0,
      unchanged: 0,
      quarantined: 1,
      flagged: 0
    });
    assert.deepEqual(
      (await stored(report.runId)).map((p) => [p.row_number, p.field, p.reason]),
      [
        [
          1,
          'deal_id',
          'deal_id H1 is already stored with a more recent version (closed_date 2023-03-01, created_date 2023-01-05); this older row was not applied'
        ]
      ]
    );
    assert.deepEqual(
      (await deals('stale')).map((d) => [d.outcome, d.amount]),
      [['Won', 1000]]
    );
  });

  describe('duplicate deal_id keeps the most recent row', () => {
    const lines = [
      /* 1 */ 'K1,2023-01-05,2023-02-01,rep_1,SaaS,APAC,Core,Inbound,Closed,100,99,Lost',
      /* 2 */ 'K2,2023-01-05,2023-02-01,rep_1,SaaS,APAC,Core,Inbound,Closed,200,27,Won',
      /* 3 */ 'K1,2023-01-05,2023-03-01,rep_1,SaaS,APAC,Core,Inbound,Closed,110,55,Won',
      /* 4 */ 'K2,2023-01-05,2023-01-20,rep_1,SaaS,APAC,Core,Inbound,Closed,210,15,Lost',
      /* 5 */ 'K3,2023-01-05,,rep_2,SaaS,APAC,Core,Inbound,Proposal,300,,',
      /* 6 */ 'K3,2023-01-06,,rep_2,SaaS,APAC,Core,Inbound,Proposal,310,,',
      /* 7 */ 'K4,2023-01-05,,rep_2,SaaS,APAC,Core,Inbound,Proposal,400,,',
      /* 8 */ 'K4,2023-01-05,,rep_2,SaaS,APAC,Core,Inbound,Negotiation,410,,',
      /* 9 */ 'K1,2023-01-05,2023-02-15,rep_1,SaaS,APAC,Core,Inbound,Closed,120,41,Won',
      /* 10 */ 'K5,2023-01-05,2023-02-01,rep_3,SaaS,APAC,Core,Inbound,Closed,500,27,Won',
      /* 11 */ 'K5,2023-01-05,2023-01-15,rep_3,SaaS,APAC,Core,Inbound,Closed,510,11,Lost',
      /* 12 */ 'K5,2023-01-05,2023-03-01,rep_3,SaaS,APAC,Core,Inbound,Closed,520,55,Won'
    ];
    // Rows 1 and 11 also carry a sales_cycle_days warning; losing, they are not counted flagged.
    const expectedProblems = [
      [
        1,
        'sales_cycle_days is 99 but closed_date - created_date is 27 days; trusted the dates: stored 27'
      ],
      [1, 'duplicate deal_id K1: kept row 3 (later closed_date 2023-03-01 vs 2023-02-01)'],
      [4, 'duplicate deal_id K2: kept row 2 (later closed_date 2023-02-01 vs 2023-01-20)'],
      [
        5,
        'duplicate deal_id K3: kept row 6 (same closed_date, later created_date 2023-01-06 vs 2023-01-05)'
      ],
      [8, 'duplicate deal_id K4: kept row 7 (same dates; the first row is kept)'],
      [9, 'duplicate deal_id K1: kept row 3 (later closed_date 2023-03-01 vs 2023-02-15)'],
      [10, 'duplicate deal_id K5: kept row 12 (later closed_date 2023-03-01 vs 2023-02-01)'],
      // Row 11 first lost to row 10; its reason follows the row finally kept.
      [
        11,
        'sales_cycle_days is 11 but closed_date - created_date is 10 days; trusted the dates: stored 10'
      ],
      [11, 'duplicate deal_id K5: kept row 12 (later closed_date 2023-03-01 vs 2023-01-15)']
    ];
    const expectedDeals = [
      ['K1', 110],
      ['K2', 200],
      ['K3', 310],
      ['K4', 400],
      ['K5', 520]
    ];

    // 100: one batch; 2 and 1: winners and losers in different batches, committed in turn.
    for (const batchSize of [100, 2, 1]) {
      test(`in one file (batches of ${batchSize}), and again on re-import`, async () => {
        const org = `dups${batchSize}`;
        const path = await csv(lines);
        const report = await importFile(path, org, { batchSize });
        assert.deepEqual(counts(report), {
          rowsRead: 12,
          inserted: 5,
          updated: 0,
          unchanged: 0,
          quarantined: 7,
          flagged: 0
        });
        const problems = await stored(report.runId);
        assert.deepEqual(
          problems.map((p) => [p.row_number, p.reason]),
          expectedProblems
        );
        for (const p of problems) {
          const duplicate = p.reason.startsWith('duplicate');
          assert.equal(p.field, duplicate ? 'deal_id' : 'sales_cycle_days');
          assert.equal(p.severity, duplicate ? 'error' : 'warning');
        }
        assert.deepEqual(
          (await deals(org)).map((d) => [d.external_id, d.amount]),
          expectedDeals
        );
        for (const p of problems.filter((q) => q.row_number === 1)) {
          assert.deepEqual(
            p.raw,
            Object.fromEntries(HEADER.split(',').map((c, i) => [c, lines[0]!.split(',')[i]])),
            'the losing row is stored as it was in the file'
          );
        }

        const again = await importFile(path, org, { batchSize });
        assert.deepEqual(counts(again), {
          rowsRead: 12,
          inserted: 0,
          updated: 0,
          unchanged: 5,
          quarantined: 7,
          flagged: 0
        });
        assert.deepEqual(
          (await deals(org)).map((d) => [d.external_id, d.amount]),
          expectedDeals
        );
        const againProblems = await stored(again.runId);
        for (const [row, reason] of expectedProblems) {
          assert.ok(
            againProblems.some((p) => p.row_number === row && p.reason === reason),
            `re-import records row ${row}: ${reason}`
          );
        }
      });
    }
  });

  test('a failure midway keeps the batches already written and marks the run failed', async () => {
    await db.sql`
      CREATE FUNCTION fail_on_boom() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.external_id = 'BOOM' THEN RAISE EXCEPTION 'simulated failure on BOOM'; END IF;
        RETURN NEW;
      END $$`;
    await db.sql`
      CREATE TRIGGER fail_on_boom BEFORE INSERT ON deals
      FOR EACH ROW EXECUTE FUNCTION fail_on_boom()`;
    try {
      const path = await csv([
        'M1,2023-01-05,2023-02-01,rep_1,SaaS,APAC,Core,Inbound,Closed,1000,27,Won',
        'M2,2023-01-05,2023-02-01,rep_1,SaaS,APAC,Core,Inbound,Closed,0,27,Won',
        'M3,2023-01-05,2023-02-01,rep_1,SaaS,APAC,Core,Inbound,Closed,1000,27,Won',
        'M4,2023-01-05,2023-02-01,rep_1,SaaS,APAC,Core,Inbound,Closed,1000,27,Won',
        'BOOM,2023-01-05,2023-02-01,rep_1,SaaS,APAC,Core,Inbound,Closed,1000,27,Won',
        'M6,2023-01-05,2023-02-01,rep_1,SaaS,APAC,Core,Inbound,Closed,1000,27,Won'
      ]);
      const report = await importFile(path, 'failing', { batchSize: 2 });
      assert.equal(report.status, 'failed');
      assert.match(report.error ?? '', /simulated failure on BOOM/);
      assert.deepEqual(counts(report), {
        rowsRead: 4,
        inserted: 3,
        updated: 0,
        unchanged: 0,
        quarantined: 1,
        flagged: 0
      });
      assert.deepEqual(
        (await deals('failing')).map((d) => d.external_id),
        ['M1', 'M3', 'M4']
      );
      const [run] =
        await db.sql`SELECT status, error, inserted FROM import_runs WHERE id = ${report.runId}`;
      assert.equal(run?.status, 'failed');
      assert.match(String(run?.error), /simulated failure on BOOM/);
      assert.equal(run?.inserted, 3);
      assert.deepEqual(
        (await stored(report.runId)).map((p) => p.row_number),
        [2],
        'quarantined rows of committed batches are kept'
      );
    } finally {
      await db.sql`DROP TRIGGER fail_on_boom ON deals`;
      await db.sql`DROP FUNCTION fail_on_boom()`;
    }
  });

  test('an unclosed quote stops the parser: rows before it are kept, the run fails', async () => {
    const path = await csv([
      'Q1,2023-01-05,2023-02-01,rep_1,SaaS,APAC,Core,Inbound,Closed,1000,27,Won',
      'Q2,2023-01-05,2023-02-01,rep_1,"SaaS,APAC,Core,Inbound,Closed,1000,27,Won',
      'Q3,2023-01-05,2023-02-01,rep_1,SaaS,APAC,Core,Inbound,Closed,1000,27,Won'
    ]);
    const report = await importFile(path, 'quotes');
    assert.equal(report.status, 'failed');
    assert.match(report.error ?? '', /CSV syntax error at line \d+: Quote Not Closed/);
    assert.equal(report.inserted, 1);
    assert.equal(report.quarantined, 1);
    assert.deepEqual(
      (await stored(report.runId)).map((p) => p.row_number),
      [2]
    );
  });

  test('quoted fields, blank lines, CRLF and a BOM are read correctly', async () => {
    const path = join(dir, 'quoted.csv');
    await writeFile(
      path,
      '\uFEFF' +
        HEADER +
        ',Notes\r\n' +
        'R1,2023-01-05,2023-02-01,rep_1,"SaaS",APAC,Core,Inbound,Closed,1000,27,Won,"said ""yes"", then\r\nsigned"\r\n' +
        '\r\n' +
        'R2,2023-01-05,2023-02-01,rep_1,SaaS,APAC,Core,Inbound,Closed,0,27,Won,\r\n'
    );
    const report = await importFile(path, 'quoted');
    assert.equal(report.rowsRead, 2, 'the blank line is not a row');
    assert.equal(report.inserted, 1);
    const [problem] = await stored(report.runId);
    assert.equal(problem?.row_number, 3, 'the blank line keeps its number');
    const [deal] = await deals('quoted');
    assert.deepEqual(deal?.attributes, { Notes: 'said "yes", then\r\nsigned' });
  });

  test('backslashes, tabs and line breaks in values are stored exactly (COPY escaping)', async () => {
    const path = await csv(
      [
        'C\\1,2023-01-05,2023-02-01,rep\\x,"Saa\tS",APAC,Core,Inbound,"Clo\r\nsed",1000,27,Won,"a\\b\tc"',
        'C2,2023-01-05,2023-02-01,rep_1,SaaS,APAC,Core,Inbound,Closed,1000,27,Won,\\N'
      ],
      HEADER + ',Notes'
    );
    const first = await importFile(path, 'escapes');
    assert.equal(first.inserted, 2);
    const rows = await db.sql<
      {
        external_id: string;
        owner_id: string;
        industry: string;
        stage: string;
        attributes: unknown;
      }[]
    >`SELECT external_id, owner_id, industry, stage, attributes FROM deals
       WHERE org_id = 'escapes' ORDER BY external_id`;
    assert.deepEqual(
      rows.map((r) => ({ ...r })),
      [
        {
          external_id: 'C2',
          owner_id: 'rep_1',
          industry: 'SaaS',
          stage: 'Closed',
          attributes: { Notes: '\\N' }
        },
        {
          external_id: 'C\\1',
          owner_id: 'rep\\x',
          industry: 'Saa\tS',
          stage: 'Clo\r\nsed',
          attributes: { Notes: 'a\\b\tc' }
        }
      ]
    );
    const again = await importFile(path, 'escapes');
    assert.equal(again.unchanged, 2, 'the stored values hash the same as the file');
  });

  test('a NUL character in a row is quarantined and its raw record is still stored', async () => {
    const path = await csv([
      'N1,2023-01-05,2023-02-01,rep_1,Saa\u0000S,APAC,Core,Inbound,Closed,1000,27,Won',
      'N2,2023-01-05,2023-02-01,rep_1,SaaS,APAC,Core,Inbound,Closed,1000,27,Won'
    ]);
    const report = await importFile(path, 'nul');
    assert.equal(report.status, 'completed');
    assert.equal(report.inserted, 1);
    const [problem] = await stored(report.runId);
    assert.equal(problem?.row_number, 1);
    assert.equal(problem?.field, 'industry');
    assert.equal((problem?.raw as Record<string, string>).industry, 'Saa\uFFFDS');
  });

  test('the sample export imports completely and cleanly', async (t) => {
    try {
      await access(SAMPLE);
    } catch {
      t.skip(`sample data not found at ${SAMPLE}`);
      return;
    }
    const report = await importFile(SAMPLE, 'skygeni');
    // Checked against the file: 5,000 unique deal ids, every date valid, closed >= created,
    // sales_cycle_days equal to closed - created on every row, amounts 2,002..100,000,
    // outcomes 2,263 Won / 2,737 Lost, 25 reps. So nothing is quarantined or flagged.
    assert.deepEqual(counts(report), {
      rowsRead: 5000,
      inserted: 5000,
      updated: 0,
      unchanged: 0,
      quarantined: 0,
      flagged: 0
    });
    const [summary] = await db.sql`
      SELECT count(*) FILTER (WHERE outcome = 'Won')::int AS won,
             count(*) FILTER (WHERE outcome = 'Lost')::int AS lost,
             count(DISTINCT owner_id)::int AS reps,
             min(amount) AS min_amount, max(amount) AS max_amount
        FROM deals WHERE org_id = 'skygeni'`;
    assert.deepEqual(summary, {
      won: 2263,
      lost: 2737,
      reps: 25,
      min_amount: 2002,
      max_amount: 100000
    });
    const [reps] = await db.sql`
      SELECT count(*)::int AS n FROM users WHERE org_id = 'skygeni' AND role = 'rep'`;
    assert.equal(reps?.n, 25);

    const again = await importFile(SAMPLE, 'skygeni');
    assert.deepEqual(counts(again), {
      rowsRead: 5000,
      inserted: 0,
      updated: 0,
      unchanged: 5000,
      quarantined: 0,
      flagged: 0
    });
  });
});
