// Rep x segment statistics (RSFS), rewritten from the RSFS table at every training.
import type { Database } from '../client.ts';
import { asDate, type Queryable } from './deals.ts';
import type { RsfsBand, RsfsResult, RsfsTable } from '../../scoring/types.ts';

/** Replaces the org's rows with the table's (call inside the training transaction). */
export async function replaceRepSegmentStats(
  sql: Queryable,
  orgId: string,
  table: RsfsTable,
  computedAt: Date
): Promise<number> {
  await sql`DELETE FROM rep_segment_stats WHERE org_id = ${orgId}`;
  const rep: string[] = [];
  const segment: string[] = [];
  const wins: number[] = [];
  const n: number[] = [];
  const rawRate: number[] = [];
  const rsfs: number[] = [];
  const low: number[] = [];
  const high: number[] = [];
  const band: RsfsBand[] = [];
  for (const bySegment of Object.values(table.results)) {
    for (const r of Object.values(bySegment)) {
      rep.push(r.repId);
      segment.push(r.segment);
      wins.push(r.wins);
      n.push(r.n);
      // raw_rate is NOT NULL: a pair with no deals has no raw rate; store the shrunk one.
      rawRate.push(r.rawRate ?? r.rsfs);
      rsfs.push(r.rsfs);
      low.push(r.low);
      high.push(r.high);
      band.push(r.band);
    }
  }
  if (rep.length === 0) return 0;
  await sql`
    INSERT INTO rep_segment_stats (org_id, rep_id, segment_field, segment_value, wins, n, raw_rate,
      rsfs, low, high, band, computed_at)
    SELECT ${orgId}, u.rep, ${table.segmentField}, u.segment, u.wins, u.n, u.raw_rate, u.rsfs,
      u.low, u.high, u.band, ${computedAt.toISOString()}::timestamptz
    FROM unnest(${rep}::text[], ${segment}::text[], ${wins}::int[], ${n}::int[],
      ${rawRate}::float8[], ${rsfs}::float8[], ${low}::float8[], ${high}::float8[], ${band}::text[])
      AS u(rep, segment, wins, n, raw_rate, rsfs, low, high, band)`;
  return rep.length;
}

export interface RepSegmentStat extends Pick<
  RsfsResult,
  'repId' | 'segmentField' | 'segment' | 'wins' | 'n' | 'rsfs' | 'low' | 'high' | 'band'
> {
  rawRate: number;
  computedAt: Date;
}

/** An org's RSFS rows, optionally for one rep, ordered by segment then RSFS (best first). */
export async function listRepSegmentStats(
  database: Database | { sql: Queryable },
  orgId: string,
  opts: { repId?: string } = {}
): Promise<RepSegmentStat[]> {
  const sql = database.sql;
  const rep = opts.repId ? sql`AND rep_id = ${opts.repId}` : sql``;
  const rows = await sql<
    {
      rep_id: string;
      segment_field: string;
      segment_value: string;
      wins: number;
      n: number;
      raw_rate: number;
      rsfs: number;
      low: number;
      high: number;
      band: RsfsBand;
      computed_at: string | Date;
    }[]
  >`
    SELECT rep_id, segment_field, segment_value, wins, n, raw_rate, rsfs, low, high, band, computed_at
    FROM rep_segment_stats WHERE org_id = ${orgId} ${rep}
    ORDER BY segment_value, rsfs DESC, rep_id`;
  return rows.map((r) => ({
    repId: r.rep_id,
    segmentField: r.segment_field,
    segment: r.segment_value,
    wins: r.wins,
    n: r.n,
    rawRate: r.raw_rate,
    rsfs: r.rsfs,
    low: r.low,
    high: r.high,
    band: r.band,
    computedAt: asDate(r.computed_at)
  }));
}
