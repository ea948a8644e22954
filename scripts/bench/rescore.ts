// Batch rescore throughput: a fresh database with 1,000,000 open deals (+50,000 closed ones to
// train on), bulk-loaded with COPY, a model trained, then rescoreOrg over the open deals, timed
// end to end (read, score, store). The first pass stores a version for every deal (the "store
// the changed versions" case): score_deals_per_s. A second pass finds nothing changed:
// rescore_unchanged_deals_per_s. quick: 20,000 open deals.
// Beside each rate: CPU per deal of this (Node) process and of the database's Postgres
// backends (read from /proc, so only when Postgres runs on this machine), and the load average:
// on a shared 2-core machine the wall-clock rate depends on what else runs.
import { loadavg } from 'node:os';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.ts';
import { copyNewDeals } from '../../backend/src/db/repositories/deals.ts';
import { generateDeals } from '../../backend/src/scoring/index.ts';
import { rescoreOrg, trainOrg } from '../../backend/src/services/scoring.ts';
import { canonicalFromGenerated } from '../../backend/src/services/sampleDeals.ts';
import { postgresCpu } from './postgresCpu.ts';

const ORG = 'bench_rescore';
const log = (msg: string) => process.stderr.write(`[bench:rescore] ${msg}\n`);

/**
 * Measures `work`: its result, this process's CPU seconds and the CPU seconds of the
 * database's backends (postgresCpu.ts; null when /proc does not show them).
 */
async function measured<T>(
  db: TestDatabase,
  work: () => Promise<T>
): Promise<{ result: T; nodeCpu: number; pgCpu: number | null }> {
  const before = process.cpuUsage();
  const { result, cpuSeconds } = await postgresCpu(db, new URL(db.url).pathname.slice(1), work);
  const used = process.cpuUsage(before);
  return { result, nodeCpu: (used.user + used.system) / 1e6, pgCpu: cpuSeconds };
}

const perDealUs = (seconds: number | null, deals: number): number =>
  seconds === null ? -1 : Math.round((seconds * 1e6) / deals);

/**
 * Bulk-loads the closed and open deals and returns the date to score as of. A function of its
 * own so the generated deals (a million objects) are garbage before the timed passes: held,
 * they would make every full GC of the measured process trace them.
 */
async function loadDeals(
  db: TestDatabase,
  openCount: number,
  closedCount: number
): Promise<string> {
  const closed = generateDeals({ deals: closedCount, seed: 101 });
  await copyNewDeals(db, ORG, closed.deals.map(canonicalFromGenerated));
  const open = generateDeals({ deals: openCount, seed: 202, openFraction: 1 });
  const chunk = 50_000;
  for (let i = 0; i < open.deals.length; i += chunk) {
    const slice = open.deals.slice(i, i + chunk).map((d) => ({
      ...canonicalFromGenerated(d),
      externalId: `O${d.id}` // distinct from the closed deals' ids
    }));
    await copyNewDeals(db, ORG, slice);
  }
  await db.sql`VACUUM ANALYZE deals`;
  return open.endDate;
}

export async function run(opts: { quick: boolean }): Promise<Record<string, number>> {
  const openCount = opts.quick ? 20_000 : 1_000_000;
  const closedCount = opts.quick ? 5_000 : 50_000;
  const db = await createTestDatabase('di_bench_rescore');
  try {
    await db.sql`INSERT INTO orgs (id, name) VALUES (${ORG}, 'Rescore bench')`;
    let t = performance.now();
    const now = await loadDeals(db, openCount, closedCount);
    log(
      `loaded ${closedCount + openCount} deals in ${((performance.now() - t) / 1000).toFixed(1)} s`
    );

    t = performance.now();
    const trained = await trainOrg(db, ORG, { now });
    log(
      `trained ${trained.kind} (${trained.verdict}) on ${trained.trainedOn} deals in ` +
        `${((performance.now() - t) / 1000).toFixed(1)} s`
    );

    let load = loadavg()[0] as number;
    const one = await measured(db, () => rescoreOrg(db, ORG, { openOnly: true, now }));
    const first = one.result;
    if (first.scored !== openCount || first.changed !== openCount) {
      throw new Error(
        `expected ${openCount} deals scored and stored, got ${JSON.stringify(first)}`
      );
    }
    log(
      `first pass: ${first.scored} scored, ${first.changed} versions stored in ${first.seconds.toFixed(1)} s; ` +
        `CPU per deal: node ${perDealUs(one.nodeCpu, first.scored)} µs, ` +
        `postgres ${perDealUs(one.pgCpu, first.scored)} µs; load average ${load.toFixed(2)}`
    );
    load = loadavg()[0] as number;
    const two = await measured(db, () => rescoreOrg(db, ORG, { openOnly: true, now }));
    const second = two.result;
    if (second.changed !== 0) throw new Error(`second pass stored ${second.changed} versions`);
    log(
      `second pass: ${second.scored} scored, nothing changed, in ${second.seconds.toFixed(1)} s; ` +
        `CPU per deal: node ${perDealUs(two.nodeCpu, second.scored)} µs, ` +
        `postgres ${perDealUs(two.pgCpu, second.scored)} µs; load average ${load.toFixed(2)}`
    );
    return {
      score_deals_per_s: Math.round(first.scored / first.seconds),
      rescore_unchanged_deals_per_s: Math.round(second.scored / second.seconds),
      // CPU µs per deal (-1: Postgres's processes not readable here).
      rescore_node_cpu_us_per_deal: perDealUs(one.nodeCpu, first.scored),
      rescore_pg_cpu_us_per_deal: perDealUs(one.pgCpu, first.scored)
    };
  } finally {
    await db.drop();
  }
}
