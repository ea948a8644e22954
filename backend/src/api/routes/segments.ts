// GET /segments/performance: per segment, win rate and volume of deals closed in a quarter,
// and the change against the previous quarter with a 95% interval (Newcombe). Segments with
// fewer closed deals than the minimum sample in either quarter are marked, not hidden.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { and, gte, lt, max, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { deals } from '../../db/schema.ts';
import { newcombeDifference, wilson } from '../intervals.ts';
import { dealScope, HUMANS, principalOf } from '../rbac.ts';
import { errorResponses, Nullable, segmentColumn, segmentFieldOf } from './common.ts';

export interface Quarter {
  label: string; // 2024Q2
  start: string; // first day, YYYY-MM-DD
  end: string; // first day of the next quarter
}

export function quarterOf(date: string): Quarter {
  const year = Number(date.slice(0, 4));
  const q = Math.floor((Number(date.slice(5, 7)) - 1) / 3) + 1;
  return quarter(year, q);
}

export function quarter(year: number, q: number): Quarter {
  const startMonth = (q - 1) * 3 + 1;
  const next = q === 4 ? { y: year + 1, m: 1 } : { y: year, m: startMonth + 3 };
  const fmt = (y: number, m: number) => `${y}-${String(m).padStart(2, '0')}-01`;
  return { label: `${year}Q${q}`, start: fmt(year, startMonth), end: fmt(next.y, next.m) };
}

export function previousQuarter(q: Quarter): Quarter {
  const year = Number(q.label.slice(0, 4));
  const n = Number(q.label.slice(5));
  return n === 1 ? quarter(year - 1, 4) : quarter(year, n - 1);
}

const Period = Type.Object({
  wins: Type.Integer(),
  n: Type.Integer({ description: 'closed deals (volume)' }),
  amount: Type.Number({ description: 'sum of closed deal amounts' }),
  winRate: Nullable(Type.Number()),
  low: Nullable(Type.Number({ description: 'Wilson 95% interval' })),
  high: Nullable(Type.Number())
});

const Change = Type.Object({
  difference: Type.Number({ description: 'win rate this quarter minus previous quarter' }),
  low: Type.Number({ description: 'Newcombe 95% interval for the difference' }),
  high: Type.Number(),
  significant: Type.Boolean({ description: 'the interval excludes 0' })
});

const SegmentPerformance = Type.Object({
  segment: Type.String(),
  current: Period,
  previous: Period,
  change: Nullable(Change),
  smallSample: Type.Boolean({ description: 'fewer than minSample closed deals in either quarter' })
});

function period(wins: number, n: number, amount: number) {
  const ci = wilson(wins, n);
  return {
    wins,
    n,
    amount,
    winRate: n > 0 ? wins / n : null,
    low: ci?.low ?? null,
    high: ci?.high ?? null
  };
}

function change(cur: { wins: number; n: number }, prev: { wins: number; n: number }) {
  const d = newcombeDifference(cur.wins, cur.n, prev.wins, prev.n);
  return d ? { ...d, significant: d.low > 0 || d.high < 0 } : null;
}

export const segmentRoutes: FastifyPluginAsyncTypebox<{ database: Database }> = async (
  app,
  { database }
) => {
  const { db } = database;
  app.get(
    '/segments/performance',
    {
      config: { roles: HUMANS },
      schema: {
        tags: ['segments'],
        summary: 'Win rate and volume per segment, this quarter against the previous one',
        description:
          'Deals closed in `quarter` (default: the quarter of the latest closed deal in your scope) ' +
          'against the quarter before. Your scope applies (reps: own deals; managers: team).',
        querystring: Type.Object(
          {
            quarter: Type.Optional(
              Type.String({ pattern: '^[0-9]{4}Q[1-4]$', description: 'e.g. 2024Q2' })
            ),
            minSample: Type.Optional(
              Type.Integer({ minimum: 1, maximum: 100000, description: 'default 30' })
            )
          },
          { additionalProperties: false }
        ),
        response: {
          200: Type.Object({
            segmentField: Type.String(),
            quarter: Type.String(),
            previousQuarter: Type.String(),
            minSample: Type.Integer(),
            overall: Type.Object({ current: Period, previous: Period, change: Nullable(Change) }),
            segments: Type.Array(SegmentPerformance)
          }),
          ...errorResponses
        }
      }
    },
    async (request) => {
      const principal = principalOf(request);
      const field = segmentFieldOf(request.org);
      const segCol = segmentColumn(field);
      const minSample =
        request.query.minSample ??
        (typeof request.org?.settings.segmentMinSample === 'number'
          ? request.org.settings.segmentMinSample
          : 30);

      let current: Quarter;
      if (request.query.quarter) {
        current = quarter(
          Number(request.query.quarter.slice(0, 4)),
          Number(request.query.quarter.slice(5))
        );
      } else {
        const [latest] = await db
          .select({ d: max(deals.closedDate) })
          .from(deals)
          .where(and(dealScope(principal), sql`${deals.outcome} IS NOT NULL`));
        current = quarterOf(latest?.d ?? new Date().toISOString().slice(0, 10));
      }
      const previous = previousQuarter(current);

      const rows = await db
        .select({
          segment: sql<string>`COALESCE(${segCol}, '(none)')`,
          isCurrent: sql<boolean>`${deals.closedDate} >= ${current.start}`,
          wins: sql<number>`count(*) FILTER (WHERE ${deals.outcome} = 'Won')::int`,
          n: sql<number>`count(*)::int`,
          amount: sql<number>`COALESCE(sum(${deals.amount}), 0)::float8`
        })
        .from(deals)
        .where(
          and(
            dealScope(principal),
            sql`${deals.outcome} IS NOT NULL`,
            gte(deals.closedDate, previous.start),
            lt(deals.closedDate, current.end)
          )
        )
        .groupBy(sql`1`, sql`2`);

      const bySegment = new Map<
        string,
        { cur: [number, number, number]; prev: [number, number, number] }
      >();
      const total = {
        cur: [0, 0, 0] as [number, number, number],
        prev: [0, 0, 0] as [number, number, number]
      };
      for (const r of rows) {
        let s = bySegment.get(r.segment);
        if (!s) bySegment.set(r.segment, (s = { cur: [0, 0, 0], prev: [0, 0, 0] }));
        const slot = r.isCurrent ? s.cur : s.prev;
        const tot = r.isCurrent ? total.cur : total.prev;
        slot[0] += r.wins;
        slot[1] += r.n;
        slot[2] += r.amount;
        tot[0] += r.wins;
        tot[1] += r.n;
        tot[2] += r.amount;
      }
      const segments = [...bySegment.entries()]
        .map(([segment, s]) => ({
          segment,
          current: period(...s.cur),
          previous: period(...s.prev),
          change: change({ wins: s.cur[0], n: s.cur[1] }, { wins: s.prev[0], n: s.prev[1] }),
          smallSample: s.cur[1] < minSample || s.prev[1] < minSample
        }))
        .sort((a, b) => b.current.n - a.current.n || a.segment.localeCompare(b.segment));
      return {
        segmentField: field,
        quarter: current.label,
        previousQuarter: previous.label,
        minSample,
        overall: {
          current: period(...total.cur),
          previous: period(...total.prev),
          change: change(
            { wins: total.cur[0], n: total.cur[1] },
            { wins: total.prev[0], n: total.prev[1] }
          )
        },
        segments
      };
    }
  );
};
