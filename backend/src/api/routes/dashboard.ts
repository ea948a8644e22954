// GET /dashboard-summary (open pipeline in your scope) and GET /orgs/self/status (what the
// Salesforce package's setup page shows).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { and, desc, eq, max, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { coLeadSuggestions, deals, modelVersions, orgs, scoreVersions } from '../../db/schema.ts';
import { notFound } from '../errors.ts';
import { dealScope, HUMANS, principalOf } from '../rbac.ts';
import type { Role } from '../principal.ts';
import { DateTime, errorResponses, latestScoreJoin, Nullable } from './common.ts';

const ModelRef = Nullable(Type.Object({ version: Type.Integer(), verdict: Type.String() }));

async function activeModel(database: Database, orgId: string) {
  const [m] = await database.db
    .select({ version: modelVersions.version, verdict: modelVersions.verdict })
    .from(modelVersions)
    .where(and(eq(modelVersions.orgId, orgId), eq(modelVersions.active, true)))
    .orderBy(desc(modelVersions.version))
    .limit(1);
  return m ?? null;
}

export const dashboardRoutes: FastifyPluginAsyncTypebox<{ database: Database }> = async (
  app,
  { database }
) => {
  const { db } = database;

  app.get(
    '/dashboard-summary',
    {
      config: { roles: HUMANS },
      schema: {
        tags: ['dashboard'],
        summary:
          'Open deals in your scope: counts by risk band, amount at risk, average probability',
        response: {
          200: Type.Object({
            openDeals: Type.Integer(),
            byRiskBand: Type.Object({
              HIGH: Type.Integer(),
              MEDIUM: Type.Integer(),
              LOW: Type.Integer(),
              unscored: Type.Integer()
            }),
            pipelineAmount: Type.Number(),
            amountAtRisk: Type.Number({
              description: 'amount of open deals in the HIGH risk band'
            }),
            averageProbability: Nullable(
              Type.Number({ description: 'mean over scored open deals' })
            ),
            lowConfidenceScores: Type.Integer(),
            coLeadsPending: Type.Integer({
              description: 'proposed co-leads on deals in your scope'
            }),
            model: Nullable(
              Type.Object({
                version: Type.Integer(),
                verdict: Type.String(),
                reliable: Type.Boolean({
                  description: "verdict is 'signal'; otherwise scores are low confidence"
                })
              })
            )
          }),
          ...errorResponses
        }
      }
    },
    async (request) => {
      const principal = principalOf(request);
      const [[agg], [pending], model] = await Promise.all([
        db
          .select({
            open: sql<number>`count(*)::int`,
            high: sql<number>`count(*) FILTER (WHERE ${scoreVersions.riskBand} = 'HIGH')::int`,
            medium: sql<number>`count(*) FILTER (WHERE ${scoreVersions.riskBand} = 'MEDIUM')::int`,
            low: sql<number>`count(*) FILTER (WHERE ${scoreVersions.riskBand} = 'LOW')::int`,
            unscored: sql<number>`count(*) FILTER (WHERE ${scoreVersions.id} IS NULL)::int`,
            pipeline: sql<number>`COALESCE(sum(${deals.amount}), 0)::float8`,
            atRisk: sql<number>`COALESCE(sum(${deals.amount}) FILTER (WHERE ${scoreVersions.riskBand} = 'HIGH'), 0)::float8`,
            avgProbability: sql<number | null>`avg(${scoreVersions.probability})::float8`,
            lowConfidence: sql<number>`count(*) FILTER (WHERE ${scoreVersions.confidence} = 'low')::int`
          })
          .from(deals)
          .leftJoin(scoreVersions, latestScoreJoin)
          .where(and(dealScope(principal), sql`${deals.outcome} IS NULL`)),
        db
          .select({ n: sql<number>`count(*)::int` })
          .from(coLeadSuggestions)
          .innerJoin(deals, eq(deals.id, coLeadSuggestions.dealId))
          .where(
            and(
              eq(coLeadSuggestions.orgId, principal.orgId),
              eq(coLeadSuggestions.status, 'proposed'),
              dealScope(principal)
            )
          ),
        activeModel(database, principal.orgId)
      ]);
      return {
        openDeals: agg?.open ?? 0,
        byRiskBand: {
          HIGH: agg?.high ?? 0,
          MEDIUM: agg?.medium ?? 0,
          LOW: agg?.low ?? 0,
          unscored: agg?.unscored ?? 0
        },
        pipelineAmount: agg?.pipeline ?? 0,
        amountAtRisk: agg?.atRisk ?? 0,
        averageProbability: agg?.avgProbability ?? null,
        lowConfidenceScores: agg?.lowConfidence ?? 0,
        coLeadsPending: pending?.n ?? 0,
        model: model ? { ...model, reliable: model.verdict === 'signal' } : null
      };
    }
  );

  const statusRoles: readonly Role[] = ['admin', 'integration'];
  app.get(
    '/orgs/self/status',
    {
      config: { roles: statusRoles },
      schema: {
        tags: ['orgs'],
        summary: "The calling org's connection, sync and scoring state (the package's setup page)",
        description:
          '`connected`: the org has credentials registered (instance URL, client id, user, key) and ' +
          'its last contact did not end in an error newer than the last successful sync.',
        response: {
          200: Type.Object({
            orgId: Type.String(),
            connected: Type.Boolean(),
            lastSyncAt: Nullable(DateTime),
            lastError: Nullable(Type.String()),
            lastScoredAt: Nullable(DateTime),
            model: ModelRef
          }),
          ...errorResponses
        }
      }
    },
    async (request) => {
      const principal = principalOf(request);
      const [[org], [scored], model] = await Promise.all([
        db
          .select({
            id: orgs.id,
            instanceUrl: orgs.instanceUrl,
            clientId: orgs.clientId,
            username: orgs.username,
            privateKeyEnc: orgs.privateKeyEnc,
            lastSyncAt: orgs.lastSyncAt,
            lastError: orgs.lastError,
            lastErrorAt: orgs.lastErrorAt
          })
          .from(orgs)
          .where(eq(orgs.id, principal.orgId))
          .limit(1),
        db
          .select({ at: max(scoreVersions.scoredAt) })
          .from(scoreVersions)
          .where(eq(scoreVersions.orgId, principal.orgId)),
        activeModel(database, principal.orgId)
      ]);
      if (!org) throw notFound('org');
      const credentials = Boolean(
        org.instanceUrl && org.clientId && org.username && org.privateKeyEnc
      );
      const failing =
        org.lastErrorAt !== null && (org.lastSyncAt === null || org.lastErrorAt > org.lastSyncAt);
      return {
        orgId: org.id,
        connected: credentials && !failing,
        lastSyncAt: org.lastSyncAt,
        lastError: org.lastError,
        lastScoredAt: scored?.at ?? null,
        model
      };
    }
  );
};
