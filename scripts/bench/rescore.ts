// Batch rescore throughput: a fresh database with 1,000,000 open deals (+50,000 closed ones to
// train on), bulk-loaded with COPY, a model trained, then rescoreOrg over the open deals, timed
// end to end (read, score, store). The first pass stores a version for every deal (the "store
// the changed versions" case): score_deals_per_s. A second pass finds nothing changed:
// rescore_unchanged_deals_per_s. quick: 20,000 open deals.
import { createTestDatabase } from '../../test/support/database.ts';
import { copyNewDeals } from '../../backend/src/db/repositories/deals.ts';
import { generateDeals } from '../../backend/src/scoring/index.ts';
import { rescoreOrg, trainOrg } from '../../backend/src/services/scoring.ts';
import { canonicalFromGenerated } from '../../backend/src/services/sampleDeals.ts';

const ORG = 'bench_rescore';
const log = (msg: string) => process.stderr.write(`[bench:rescore] ${msg}\n`);

export async function run(opts: { quick: boolean }): Promise<Record<string, number>> {
  const openCount = opts.quick ? 20_000 : 1_000_000;
  const closedCount = opts.quick ? 5_000 : 50_000;
  const db = await createTestDatabase('di_bench_rescore');
  try {
    await db.sql`INSERT INTO orgs (id, name) VALUES (${ORG}, 'Rescore bench')`;
    let t = performance.now();
    const closed = generateDeals({ deals: closedCount, seed: 101 });
    const open = generateDeals({ deals: openCount, seed: 202, openFraction: 1 });
    const now = open.endDate;
    const chunk = 50_000;
    await copyNewDeals(db, ORG, closed.deals.map(canonicalFromGenerated));
    for (let i = 0; i < open.deals.length; i += chunk) {
      const slice = open.deals.slice(i, i + chunk).map((d) => ({
        ...canonicalFromGenerated(d),
        externalId: `O${d.id}` // distinct from the closed deals' ids
      }));
      await copyNewDeals(db, ORG, slice);
    }
    await db.sql`VACUUM ANALYZE deals`;
    log(
      `loaded ${closedCount + openCount} deals in ${((performance.now() - t) / 1000).toFixed(1)} s`
    );

    t = performance.now();
    const trained = await trainOrg(db, ORG, { now });
    log(
      `trained ${trained.kind} (${trained.verdict}) on ${trained.trainedOn} deals in ` +
        `${((performance.now() - t) / 1000).toFixed(1)} s`
    );

    const first = await rescoreOrg(db, ORG, { openOnly: true, now });
    if (first.scored !== openCount || first.changed !== openCount) {
      throw new Error(
        `expected ${openCount} deals scored and stored, got ${JSON.stringify(first)}`
      );
    }
    log(
      `first pass: ${first.scored} scored, ${first.changed} versions stored in ${first.seconds.toFixed(1)} s`
    );
    const second = await rescoreOrg(db, ORG, { openOnly: true, now });
    if (second.changed !== 0) throw new Error(`second pass stored ${second.changed} versions`);
    log(`second pass: ${second.scored} scored, nothing changed, in ${second.seconds.toFixed(1)} s`);
    return {
      score_deals_per_s: Math.round(first.scored / first.seconds),
      rescore_unchanged_deals_per_s: Math.round(second.scored / second.seconds)
    };
  } finally {
    await db.drop();
  }
}
