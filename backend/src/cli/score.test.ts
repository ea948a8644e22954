import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.ts';
import { copyNewDeals } from '../db/repositories/deals.ts';
import { generateDeals } from '../scoring/index.ts';
import { canonicalFromGenerated } from '../services/sampleDeals.ts';
import { run as runScore, CSV_HEADER } from './score.ts';
import { run as runTrain } from './train.ts';

const ORG = 'org_cli_test';

/** Runs a CLI command with console.log captured. */
async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...args: unknown[]) => void lines.push(args.join(' '));
  console.error = () => {};
  try {
    return { code: await fn(), out: lines.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

describe('train and score commands', () => {
  let db: TestDatabase;
  let dir: string;
  let now: string;
  let open: number;
  const savedUrl = process.env.DATABASE_URL;

  before(async () => {
    db = await createTestDatabase();
    process.env.DATABASE_URL = db.url;
    dir = await mkdtemp(join(tmpdir(), 'di-score-'));
    await db.sql`INSERT INTO orgs (id, name) VALUES (${ORG}, 'CLI test org')`;
    const data = generateDeals({ deals: 3_000, seed: 5, openFraction: 0.15 });
    now = data.endDate;
    open = data.deals.filter((d) => d.outcome === null).length;
    await copyNewDeals(db, ORG, data.deals.map(canonicalFromGenerated));
  });
  after(async () => {
    process.env.DATABASE_URL = savedUrl;
    await rm(dir, { recursive: true, force: true });
    await db.drop();
  });

  test('train prints the holdout metrics beside the base rate, and the verdict', async () => {
    const { code, out } = await capture(() => runTrain(['--org', ORG, '--now', now]));
    assert.equal(code, 0);
    assert.match(out, /Model version 1 \(\w+\) trained on \d[\d,]* closed deals/);
    assert.match(out, /AUC \(95% interval\)\s+0\.\d{3} \(0\.\d{3}-0\.\d{3}\)\s+0\.500/);
    assert.match(out, /Brier score\s+0\.\d{4}\s+0\.\d{4}/);
    assert.match(out, /Log loss\s+0\.\d{4}\s+0\.\d{4}/);
    assert.match(out, /Calibration error \(ECE\)\s+0\.\d{4}\s+0\.\d{4}/);
    assert.match(out, /Verdict: (Signal|No reliable signal)/);

    const json = await capture(() => runTrain(['--org', ORG, '--now', now, '--json']));
    const parsed = JSON.parse(json.out) as { version: number; metrics: { auc: number } };
    assert.equal(parsed.version, 2);
    assert.ok(parsed.metrics.auc > 0.5);
  });

  test('score writes one CSV row per open deal with the documented columns and ranges', async () => {
    const file = join(dir, 'scores.csv');
    const { code } = await capture(() =>
      runScore(['--org', ORG, '--open-only', '--now', now, '--out', file])
    );
    assert.equal(code, 0);
    const text = await readFile(file, 'utf8');
    assert.equal(text.split('\n')[0], CSV_HEADER);
    assert.equal(
      CSV_HEADER,
      'deal_id,win_probability,risk_band,rsfs,rsfs_band,confidence,top_factors'
    );
    const rows = parse(text, { columns: true }) as Record<string, string>[];
    assert.equal(rows.length, open);
    const factor = /^.+ \([+-]\d+\.\d{2}\)$/;
    for (const r of rows) {
      assert.match(r.deal_id as string, /^D\d+$/);
      const p = Number(r.win_probability);
      assert.ok(p >= 0 && p <= 1, `win_probability ${r.win_probability} within 0..1`);
      assert.ok(['HIGH', 'MEDIUM', 'LOW'].includes(r.risk_band as string));
      const rsfs = Number(r.rsfs);
      assert.ok(rsfs > 0 && rsfs < 1, `rsfs ${r.rsfs} within (0, 1)`);
      assert.ok(['RED', 'YELLOW', 'GREEN'].includes(r.rsfs_band as string));
      assert.ok(['normal', 'low'].includes(r.confidence as string));
      const factors = (r.top_factors as string).split('; ');
      assert.ok(factors.length >= 1 && factors.length <= 6);
      for (const f of factors) assert.match(f, factor);
    }
  });

  test('score --format json writes the same deals as JSON', async () => {
    const file = join(dir, 'scores.json');
    const { code } = await capture(() =>
      runScore(['--org', ORG, '--open-only', '--now', now, '--format', 'json', '--out', file])
    );
    assert.equal(code, 0);
    const rows = JSON.parse(await readFile(file, 'utf8')) as {
      deal_id: string;
      win_probability: number;
      top_factors: { label: string; contribution: number }[];
    }[];
    assert.equal(rows.length, open);
    for (const r of rows) {
      assert.ok(r.win_probability >= 0 && r.win_probability <= 1);
      assert.ok(r.top_factors.length >= 1);
    }
  });

  test('an unknown org is a clear error', async () => {
    await assert.rejects(
      capture(() => runScore(['--org', 'nobody', '--out', join(dir, 'x.csv')])),
      /unknown org "nobody"/
    );
  });
});
