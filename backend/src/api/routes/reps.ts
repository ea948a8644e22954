// GET /reps/:repId/rsfs: a rep's fit (RSFS) per segment, from rep_segment_stats.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { and, asc, eq } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { repSegmentStats, users } from '../../db/schema.ts';
import { notFound } from '../errors.ts';
import { HUMANS, ownerScope, principalOf } from '../rbac.ts';
import { DateTime, errorResponses, Nullable, RsfsBandSchema } from './common.ts';

const SegmentFit = Type.Object({
  segmentField: Type.String(),
  segment: Type.String(),
  wins: Type.Integer(),
  n: Type.Integer({ description: 'closed deals of this rep in the segment' }),
  rawRate: Type.Number(),
  rsfs: Type.Number({ description: 'win rate shrunk toward the team rate (never 0 or 1)' }),
  low: Type.Number(),
  high: Type.Number(),
  band: RsfsBandSchema,
  computedAt: DateTime
});

export const repRoutes: FastifyPluginAsyncTypebox<{ database: Database }> = async (
  app,
  { database }
) => {
  const { db } = database;
  app.get(
    '/reps/:repId/rsfs',
    {
      config: { roles: HUMANS },
      schema: {
        tags: ['reps'],
        summary: "A rep's fit score per segment (reps: own; managers: their team; admins: anyone)",
        params: Type.Object({ repId: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: {
          200: Type.Object({
            repId: Type.String(),
            name: Nullable(Type.String()),
            segments: Type.Array(SegmentFit)
          }),
          ...errorResponses
        }
      }
    },
    async (request) => {
      const principal = principalOf(request);
      const { repId } = request.params;
      const [rows, people] = await Promise.all([
        db
          .select({
            segmentField: repSegmentStats.segmentField,
            segment: repSegmentStats.segmentValue,
            wins: repSegmentStats.wins,
            n: repSegmentStats.n,
            rawRate: repSegmentStats.rawRate,
            rsfs: repSegmentStats.rsfs,
            low: repSegmentStats.low,
            high: repSegmentStats.high,
            band: repSegmentStats.band,
            computedAt: repSegmentStats.computedAt
          })
          .from(repSegmentStats)
          .where(
            and(
              eq(repSegmentStats.orgId, principal.orgId),
              eq(repSegmentStats.repId, repId),
              ownerScope(principal, repSegmentStats.repId)
            )
          )
          .orderBy(asc(repSegmentStats.segmentField), asc(repSegmentStats.segmentValue)),
        db
          .select({ name: users.name })
          .from(users)
          .where(
            and(
              eq(users.orgId, principal.orgId),
              eq(users.id, repId),
              ownerScope(principal, users.id)
            )
          )
          .limit(1)
      ]);
      // Neither a known user in scope nor any stats in scope: not found (never "forbidden").
      if (rows.length === 0 && people.length === 0) throw notFound('rep');
      return {
        repId,
        name: people[0]?.name ?? null,
        segments: rows.map((r) => ({ ...r, band: r.band as 'RED' | 'YELLOW' | 'GREEN' }))
      };
    }
  );
};
