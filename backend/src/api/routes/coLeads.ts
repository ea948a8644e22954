// GET /co-leads, POST /co-leads/:id/approve, POST /co-leads/:id/reject.
// Decisions are mirrored to Salesforce through the writeback outbox.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { and, desc, eq, sql, type SQL } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import type { Database } from '../../db/client.ts';
import { coLeadSuggestions, deals } from '../../db/schema.ts';
import type { Enqueuer } from '../../queue/enqueuer.ts';
import { decideCoLead, type Decision } from '../coLeadDecision.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import { conflict, notFound } from '../errors.ts';
import { dealScope, HUMANS, MANAGERS, principalOf } from '../rbac.ts';
import { DateTime, errorResponses, Nullable } from './common.ts';

const StatusSchema = Type.Union([
  Type.Literal('proposed'),
  Type.Literal('approved'),
  Type.Literal('rejected'),
  Type.Literal('expired')
]);

const CoLead = Type.Object({
  id: Type.Integer({ description: 'id to approve or reject' }),
  externalId: Type.String({ description: 'Co_Lead_Suggestion__c.External_Id__c' }),
  dealId: Type.String({ description: 'external id of the deal' }),
  dealName: Nullable(Type.String()),
  dealOwnerId: Type.String(),
  suggestedRepId: Type.String(),
  segment: Type.String(),
  winRate: Type.Number(),
  sampleSize: Type.Integer(),
  rank: Type.Integer(),
  isPrimary: Type.Boolean(),
  reason: Type.String(),
  ownerRsfs: Nullable(Type.Number()),
  status: StatusSchema,
  decidedBy: Nullable(Type.String()),
  decidedAt: Nullable(DateTime),
  createdAt: DateTime
});

const IdParams = Type.Object({
  id: Type.String({ pattern: '^[0-9]{1,15}$', description: 'co-lead id' })
});

export interface CoLeadRoutesOptions {
  database: Database;
  enqueuer: Enqueuer;
}

export const coLeadRoutes: FastifyPluginAsyncTypebox<CoLeadRoutesOptions> = async (
  app,
  { database, enqueuer }
) => {
  const { db } = database;

  app.get(
    '/co-leads',
    {
      config: { roles: HUMANS },
      schema: {
        tags: ['co-leads'],
        summary: 'Co-lead suggestions on deals in your scope, newest first',
        querystring: Type.Object(
          {
            status: Type.Optional(StatusSchema),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
            cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512 }))
          },
          { additionalProperties: false }
        ),
        response: {
          200: Type.Object({ items: Type.Array(CoLead), nextCursor: Nullable(Type.String()) }),
          ...errorResponses
        }
      }
    },
    async (request) => {
      const principal = principalOf(request);
      const limit = request.query.limit ?? 50;
      const conditions: (SQL | undefined)[] = [
        eq(coLeadSuggestions.orgId, principal.orgId),
        dealScope(principal)
      ];
      if (request.query.status) conditions.push(eq(coLeadSuggestions.status, request.query.status));
      if (request.query.cursor) {
        const c = decodeCursor(request.query.cursor, 'co-leads:id:desc', 'none');
        conditions.push(sql`${coLeadSuggestions.id} < ${c.id}`);
      }
      const rows = await db
        .select({
          id: coLeadSuggestions.id,
          externalId: coLeadSuggestions.externalId,
          dealId: deals.externalId,
          dealName: deals.name,
          dealOwnerId: deals.ownerId,
          suggestedRepId: coLeadSuggestions.suggestedRepId,
          segment: coLeadSuggestions.segment,
          winRate: coLeadSuggestions.winRate,
          sampleSize: coLeadSuggestions.sampleSize,
          rank: coLeadSuggestions.rank,
          isPrimary: coLeadSuggestions.isPrimary,
          reason: coLeadSuggestions.reason,
          ownerRsfs: coLeadSuggestions.ownerRsfs,
          status: coLeadSuggestions.status,
          decidedBy: coLeadSuggestions.decidedBy,
          decidedAt: coLeadSuggestions.decidedAt,
          createdAt: coLeadSuggestions.createdAt
        })
        .from(coLeadSuggestions)
        .innerJoin(deals, eq(deals.id, coLeadSuggestions.dealId))
        .where(and(...conditions))
        .orderBy(desc(coLeadSuggestions.id))
        .limit(limit + 1);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        items: page.map((r) => ({
          ...r,
          status: r.status as 'proposed' | 'approved' | 'rejected' | 'expired'
        })),
        nextCursor:
          rows.length > limit && last
            ? encodeCursor({ sort: 'co-leads:id:desc', key: null, id: last.id })
            : null
      };
    }
  );

  const Decided = Type.Object({
    id: Type.Integer(),
    status: Type.Union([Type.Literal('approved'), Type.Literal('rejected')]),
    decidedBy: Type.String(),
    decidedAt: DateTime
  });

  async function decide(request: FastifyRequest, id: string, decision: Decision) {
    const principal = principalOf(request);
    const result = await decideCoLead(database, principal, Number(id), decision);
    if (result.kind === 'not_found') throw notFound('co-lead suggestion');
    if (result.kind === 'already_decided') {
      throw conflict(`co-lead suggestion is already ${result.status}`, {
        status: result.status,
        decidedAt: result.decidedAt?.toISOString() ?? null
      });
    }
    try {
      await enqueuer.writeback(principal.orgId);
    } catch (err) {
      // The outbox rows are committed; the scheduler flushes them when the queue is back.
      request.log.warn({ err }, 'writeback flush could not be queued; outbox rows stay pending');
    }
    return result.coLead;
  }

  const decisionSchema = (what: string) => ({
    tags: ['co-leads'],
    summary: `${what} a proposed co-lead suggestion (managers and admins; 409 if already decided)`,
    params: IdParams,
    response: { 200: Decided, 409: Type.Ref('ErrorBody'), ...errorResponses }
  });

  app.post(
    '/co-leads/:id/approve',
    { config: { roles: MANAGERS }, schema: decisionSchema('Approve') },
    (request) => decide(request, request.params.id, 'approved')
  );
  app.post(
    '/co-leads/:id/reject',
    { config: { roles: MANAGERS }, schema: decisionSchema('Reject') },
    (request) => decide(request, request.params.id, 'rejected')
  );
};
