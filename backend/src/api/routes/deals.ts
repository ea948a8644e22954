// GET /deals, GET /deals/:dealId, POST /deals/:dealId/rescore.
// :dealId is the external id (Salesforce Opportunity Id or CSV deal_id).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { and, asc, desc, eq, fillPlaceholders, gte, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { deals, scoreVersions } from '../../db/schema.ts';
import { storedDocument } from '../../db/repositories/scores.ts';
import type { Enqueuer } from '../../queue/enqueuer.ts';
import { decodeCursor, encodeCursor, type KeyKind } from '../cursor.ts';
import { ApiError, notFound } from '../errors.ts';
import {
  dealScope,
  HUMANS,
  principalOf,
  scopeKind,
  scopePlaceholders,
  scopeValues
} from '../rbac.ts';
import type { Role } from '../principal.ts';
import {
  DateTime,
  errorResponses,
  FactorsSchema,
  latestScoreJoin,
  normaliseFactors,
  Nullable,
  RiskBandSchema,
  RsfsBandSchema,
  segmentColumn,
  segmentFieldOf,
  type SegmentField
} from './common.ts';

const ScoreSummary = Type.Object({
  version: Type.Integer(),
  probability: Type.Number({ minimum: 0, maximum: 1 }),
  riskBand: RiskBandSchema,
  confidence: Type.String({
    description: "'normal', or 'low' when the model shows no reliable signal"
  }),
  method: Type.String({ description: "'model' or 'rules'" }),
  rsfs: Nullable(Type.Number()),
  rsfsBand: Nullable(RsfsBandSchema),
  rsfsSampleSize: Nullable(Type.Integer()),
  modelVersionId: Nullable(Type.Integer()),
  scoredAt: DateTime
});

const DealSummary = Type.Object({
  dealId: Type.String({ description: 'external id (Opportunity Id or CSV deal_id)' }),
  name: Nullable(Type.String()),
  ownerId: Type.String(),
  segment: Nullable(Type.String({ description: "value of the org's segment field" })),
  industry: Type.String(),
  region: Nullable(Type.String()),
  productType: Nullable(Type.String()),
  leadSource: Nullable(Type.String()),
  stage: Nullable(Type.String()),
  amount: Type.Number(),
  createdDate: Type.String({ format: 'date' }),
  closedDate: Nullable(Type.String({ format: 'date' })),
  outcome: Nullable(Type.String()),
  score: Nullable(ScoreSummary)
});

const SORTS = {
  // Unscored deals sort as probability -1 / scored at the epoch: last in desc, first in asc.
  probability: {
    expr: sql`COALESCE(${scoreVersions.probability}, -1)`,
    cast: sql`float8`,
    kind: 'float'
  },
  amount: { expr: sql`${deals.amount}`, cast: sql`float8`, kind: 'float' },
  scoredAt: {
    expr: sql`COALESCE(${scoreVersions.scoredAt}, 'epoch'::timestamptz)`,
    cast: sql`timestamptz`,
    kind: 'timestamp'
  }
} satisfies Record<string, { expr: SQL; cast: SQL; kind: KeyKind }>;

const ListQuery = Type.Object(
  {
    owner: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'owner (rep) user id' })
    ),
    band: Type.Optional(RiskBandSchema),
    rsfsBand: Type.Optional(RsfsBandSchema),
    segment: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    minAmount: Type.Optional(Type.Number({ minimum: 0 })),
    state: Type.Optional(
      Type.Union([Type.Literal('open'), Type.Literal('closed'), Type.Literal('all')], {
        default: 'all'
      })
    ),
    sort: Type.Optional(
      Type.Union([Type.Literal('probability'), Type.Literal('amount'), Type.Literal('scoredAt')], {
        default: 'probability'
      })
    ),
    order: Type.Optional(
      Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'desc' })
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(
      Type.String({ minLength: 1, maxLength: 512, description: 'nextCursor of the previous page' })
    )
  },
  { additionalProperties: false }
);

const DealParams = Type.Object({ dealId: Type.String({ minLength: 1, maxLength: 64 }) });

const summaryColumns = {
  id: deals.id,
  externalId: deals.externalId,
  name: deals.name,
  ownerId: deals.ownerId,
  industry: deals.industry,
  region: deals.region,
  productType: deals.productType,
  leadSource: deals.leadSource,
  stage: deals.stage,
  amount: deals.amount,
  createdDate: deals.createdDate,
  closedDate: deals.closedDate,
  outcome: deals.outcome,
  scoreId: scoreVersions.id,
  version: scoreVersions.version,
  probability: scoreVersions.probability,
  riskBand: scoreVersions.riskBand,
  confidence: scoreVersions.confidence,
  method: scoreVersions.method,
  rsfs: scoreVersions.rsfs,
  rsfsBand: scoreVersions.rsfsBand,
  rsfsSampleSize: scoreVersions.rsfsSampleSize,
  modelVersionId: scoreVersions.modelVersionId,
  scoredAt: scoreVersions.scoredAt
};

type SummaryRow = {
  [K in keyof typeof summaryColumns]: (typeof summaryColumns)[K]['_']['data'] | null;
};

function toSummary(row: SummaryRow, segment: string | null) {
  return {
    dealId: row.externalId as string,
    name: row.name,
    ownerId: row.ownerId as string,
    segment,
    industry: row.industry as string,
    region: row.region,
    productType: row.productType,
    leadSource: row.leadSource,
    stage: row.stage,
    amount: row.amount as number,
    createdDate: row.createdDate as string,
    closedDate: row.closedDate,
    outcome: row.outcome,
    score:
      row.scoreId === null
        ? null
        : {
            version: row.version as number,
            probability: row.probability as number,
            riskBand: row.riskBand as 'HIGH' | 'MEDIUM' | 'LOW',
            confidence: row.confidence as string,
            method: row.method as string,
            rsfs: row.rsfs,
            rsfsBand: row.rsfsBand as 'RED' | 'YELLOW' | 'GREEN' | null,
            rsfsSampleSize: row.rsfsSampleSize,
            modelVersionId: row.modelVersionId,
            scoredAt: row.scoredAt as Date
          }
  };
}

/** What the detail query's json_build_object holds (dates already ISO strings). */
type DealDetailRow = Omit<Static<typeof DealSummary>, 'score'> & {
  score: (Omit<Static<typeof ScoreSummary>, 'scoredAt'> & { scoredAt: string }) | null;
  /** As stored (score_versions.factors); normalised before it is sent. */
  factors: unknown;
  /** As stored (score_versions.contributions): null before migration 0014. */
  contributions: number[] | null;
  history: Static<typeof ScoreSummary>[];
  coLeads: unknown[];
};

/** Score history shown with one deal (newest first). */
const HISTORY_LIMIT = 100;
/** ISO 8601 in UTC with milliseconds, as JSON dates are everywhere else in the API. */
const ISO_MS = 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"';

export interface DealRoutesOptions {
  database: Database;
  enqueuer: Enqueuer;
}

export const dealRoutes: FastifyPluginAsyncTypebox<DealRoutesOptions> = async (
  app,
  { database, enqueuer }
) => {
  const { db } = database;

  app.get(
    '/deals',
    {
      config: { roles: HUMANS },
      schema: {
        tags: ['deals'],
        summary: 'Deals in your scope with their latest score (keyset pagination)',
        querystring: ListQuery,
        response: {
          200: Type.Object({ items: Type.Array(DealSummary), nextCursor: Nullable(Type.String()) }),
          ...errorResponses
        }
      }
    },
    async (request) => {
      const principal = principalOf(request);
      const q = request.query;
      const sortName = q.sort ?? 'probability';
      const order = q.order ?? 'desc';
      const limit = q.limit ?? 50;
      const sort = SORTS[sortName];
      const cursorSort = `deals:${sortName}:${order}`;
      const field = segmentFieldOf(request.org);
      const segCol = segmentColumn(field);

      const conditions: (SQL | undefined)[] = [dealScope(principal)];
      if (q.owner) conditions.push(eq(deals.ownerId, q.owner));
      if (q.segment) conditions.push(eq(segCol, q.segment));
      if (q.minAmount !== undefined) conditions.push(gte(deals.amount, q.minAmount));
      if (q.band) conditions.push(eq(scoreVersions.riskBand, q.band));
      if (q.rsfsBand) conditions.push(eq(scoreVersions.rsfsBand, q.rsfsBand));
      if (q.state === 'open') conditions.push(sql`${deals.outcome} IS NULL`);
      if (q.state === 'closed') conditions.push(sql`${deals.outcome} IS NOT NULL`);
      if (q.cursor) {
        const c = decodeCursor(q.cursor, cursorSort, sort.kind);
        const cmp = order === 'desc' ? sql`<` : sql`>`;
        conditions.push(sql`(${sort.expr}, ${deals.id}) ${cmp} (${c.key}::${sort.cast}, ${c.id})`);
      }
      const dir = order === 'desc' ? desc : asc;
      const rows = await db
        .select({ ...summaryColumns, segment: segCol, sortKey: sql<string>`(${sort.expr})::text` })
        .from(deals)
        .leftJoin(scoreVersions, latestScoreJoin)
        .where(and(...conditions))
        .orderBy(dir(sort.expr), dir(deals.id))
        .limit(limit + 1);

      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      const nextCursor =
        rows.length > limit && last
          ? encodeCursor({ sort: cursorSort, key: last.sortKey, id: last.id })
          : null;
      return { items: page.map((r) => toSummary(r, r.segment)), nextCursor };
    }
  );

  const CoLeadBrief = Type.Object({
    id: Type.Integer(),
    suggestedRepId: Type.String(),
    segment: Type.String(),
    winRate: Type.Number(),
    sampleSize: Type.Integer(),
    rank: Type.Integer(),
    isPrimary: Type.Boolean(),
    reason: Type.String(),
    status: Type.String()
  });

  // One round trip, one value: Postgres builds the deal, its latest score, history and co-leads
  // as one JSON object, so the process parses one json column (native JSON.parse) instead of
  // ~25 typed columns mapped row by row (~5% of a request's CPU at 1,000 requests/s). The
  // response schema still shapes what is sent. Prepared once per scope kind and segment field
  // (it is the hottest read), then run with the caller's values.
  const buildDetail = (role: Role, field: SegmentField): { sql: string; params: unknown[] } =>
    db
      .select({
        body: sql<DealDetailRow>`json_build_object(
          'dealId', ${deals.externalId}, 'name', ${deals.name}, 'ownerId', ${deals.ownerId},
          'segment', ${segmentColumn(field)}, 'industry', ${deals.industry},
          'region', ${deals.region}, 'productType', ${deals.productType},
          'leadSource', ${deals.leadSource}, 'stage', ${deals.stage}, 'amount', ${deals.amount},
          'createdDate', ${deals.createdDate}, 'closedDate', ${deals.closedDate},
          'outcome', ${deals.outcome},
          'score', CASE WHEN ${scoreVersions.id} IS NULL THEN NULL ELSE json_build_object(
            'version', ${scoreVersions.version}, 'probability', ${scoreVersions.probability},
            'riskBand', ${scoreVersions.riskBand}, 'confidence', ${scoreVersions.confidence},
            'method', ${scoreVersions.method}, 'rsfs', ${scoreVersions.rsfs},
            'rsfsBand', ${scoreVersions.rsfsBand},
            'rsfsSampleSize', ${scoreVersions.rsfsSampleSize},
            'modelVersionId', ${scoreVersions.modelVersionId},
            'scoredAt', to_char(${scoreVersions.scoredAt} AT TIME ZONE 'UTC', ${ISO_MS})) END,
          'factors', ${scoreVersions.factors}::json,
          'contributions', ${scoreVersions.contributions},
          'history', (
            SELECT COALESCE(json_agg(json_build_object(
              'version', h.version, 'probability', h.probability, 'riskBand', h.risk_band,
              'confidence', h.confidence, 'method', h.method, 'rsfs', h.rsfs,
              'rsfsBand', h.rsfs_band, 'rsfsSampleSize', h.rsfs_sample_size,
              'modelVersionId', h.model_version_id,
              'scoredAt', to_char(h.scored_at AT TIME ZONE 'UTC', ${ISO_MS})
            ) ORDER BY h.version DESC), '[]'::json)
            FROM (SELECT * FROM score_versions
                  WHERE org_id = ${deals.orgId} AND deal_id = ${deals.id}
                  ORDER BY version DESC LIMIT ${HISTORY_LIMIT}) h),
          'coLeads', (
            SELECT COALESCE(json_agg(json_build_object(
              'id', c.id, 'suggestedRepId', c.suggested_rep_id, 'segment', c.segment,
              'winRate', c.win_rate, 'sampleSize', c.sample_size, 'rank', c.rank,
              'isPrimary', c.is_primary, 'reason', c.reason, 'status', c.status
            ) ORDER BY c.rank, c.id), '[]'::json)
            FROM co_lead_suggestions c
            WHERE c.org_id = ${deals.orgId} AND c.deal_id = ${deals.id}))`
      })
      .from(deals)
      .leftJoin(scoreVersions, latestScoreJoin)
      .where(
        and(dealScope(scopePlaceholders(role)), eq(deals.externalId, sql.placeholder('dealId')))
      )
      .limit(1)
      .toSQL();
  // Run as built: drizzle's prepared execute wraps each call in tracing spans, a cache layer and
  // a row mapper (several promises per request) that a one-column read does not need.
  // postgres.js still prepares the statement once per connection (same text every time).
  const { sql: sqlClient } = database;
  function runnable(query: { sql: string; params: unknown[] }) {
    return {
      /** The detail (parsed json, or its text) of the first row, or null when none matched. */
      async first(values: Record<string, unknown>): Promise<DealDetailRow | string | null> {
        const rows = await sqlClient
          .unsafe(query.sql, fillPlaceholders(query.params, values) as never[], { prepare: true })
          .values();
        return (rows[0]?.[0] as DealDetailRow | string | undefined) ?? null;
      }
    };
  }
  const detailQueries = new Map<string, ReturnType<typeof runnable>>();
  function detailQuery(role: Role, field: SegmentField) {
    const key = `${scopeKind(role)}:${field}`;
    let q = detailQueries.get(key);
    if (!q) detailQueries.set(key, (q = runnable(buildDetail(role, field))));
    return q;
  }

  app.get(
    '/deals/:dealId',
    {
      config: { roles: HUMANS },
      schema: {
        tags: ['deals'],
        summary: 'One deal: latest score with its factors, score history (newest first), co-leads',
        params: DealParams,
        response: {
          200: Type.Intersect([
            DealSummary,
            Type.Object({
              factors: Nullable(FactorsSchema),
              history: Type.Array(ScoreSummary),
              coLeads: Type.Array(CoLeadBrief)
            })
          ]),
          ...errorResponses
        }
      }
    },
    async (request) => {
      const principal = principalOf(request);
      const body = await detailQuery(principal.role, segmentFieldOf(request.org)).first({
        ...scopeValues(principal),
        dealId: request.params.dealId
      });
      if (!body) throw notFound('deal');
      // A json column arrives parsed or as text depending on the driver settings: accept both.
      const detail = (typeof body === 'string' ? JSON.parse(body) : body) as DealDetailRow;
      const { contributions, ...shown } = detail;
      return {
        ...shown,
        factors:
          detail.score === null
            ? null
            : normaliseFactors(storedDocument(detail.factors, contributions ?? null)),
        history: Array.isArray(detail.history) ? detail.history : [],
        coLeads: Array.isArray(detail.coLeads) ? detail.coLeads : []
      };
    }
  );

  const idQueries = new Map<string, ReturnType<typeof buildIdQuery>>();
  const buildIdQuery = (role: Role) =>
    db
      .select({ id: deals.id })
      .from(deals)
      .where(
        and(dealScope(scopePlaceholders(role)), eq(deals.externalId, sql.placeholder('dealId')))
      )
      .limit(1)
      .prepare(`api_deal_id_${scopeKind(role)}`);
  function idQuery(role: Role) {
    let q = idQueries.get(scopeKind(role));
    if (!q) idQueries.set(scopeKind(role), (q = buildIdQuery(role)));
    return q;
  }

  const rescoreRoles: readonly Role[] = ['rep', 'manager', 'admin', 'integration'];
  app.post(
    '/deals/:dealId/rescore',
    {
      config: { roles: rescoreRoles },
      schema: {
        tags: ['deals'],
        summary: 'Queue the deal for scoring again (202; repeats collapse into one job)',
        params: DealParams,
        response: {
          202: Type.Object({ dealId: Type.String(), queued: Type.Boolean() }),
          ...errorResponses
        }
      }
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const rows = await idQuery(principal.role).execute({
        ...scopeValues(principal),
        dealId: request.params.dealId
      });
      const deal = rows[0];
      if (!deal) throw notFound('deal');
      try {
        await enqueuer.rescoreDeal(principal.orgId, deal.id, `api:${principal.userId}`);
      } catch (err) {
        request.log.warn({ err }, 'rescore could not be queued');
        throw new ApiError(
          503,
          'queue_unavailable',
          'the scoring queue is unavailable, retry later'
        );
      }
      return reply.status(202).send({ dealId: request.params.dealId, queued: true });
    }
  );
};
