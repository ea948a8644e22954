// GET /models (versions, holdout metrics, verdict) and GET /win-rate-drivers (what the active
// model weighs most, in plain words).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { and, desc, eq } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { modelVersions } from '../../db/schema.ts';
import type { TrainedModel } from '../../scoring/types.ts';
import { winRateDrivers } from '../drivers.ts';
import { notFound } from '../errors.ts';
import { HUMANS, MANAGERS, principalOf } from '../rbac.ts';
import { DateTime, errorResponses, Nullable } from './common.ts';

const Metrics = Type.Object(
  {
    n: Type.Optional(Type.Number()),
    positives: Type.Optional(Type.Number()),
    baseRate: Type.Optional(Type.Number()),
    auc: Type.Optional(Type.Number()),
    aucLow: Type.Optional(Type.Number()),
    aucHigh: Type.Optional(Type.Number()),
    brier: Type.Optional(Type.Number()),
    brierBaseline: Type.Optional(Type.Number()),
    logLoss: Type.Optional(Type.Number()),
    logLossBaseline: Type.Optional(Type.Number()),
    ece: Type.Optional(Type.Number()),
    eceBaseline: Type.Optional(Type.Number()),
    calibration: Type.Optional(
      Type.Array(
        Type.Object({
          bin: Type.Number(),
          meanPredicted: Type.Number(),
          observedRate: Type.Number(),
          n: Type.Number()
        })
      )
    )
  },
  { description: 'holdout metrics (out of time), with the base-rate baselines' }
);

const ModelVersion = Type.Object({
  version: Type.Integer(),
  kind: Type.String(),
  verdict: Type.String({ description: 'signal | no_reliable_signal | insufficient_data' }),
  active: Type.Boolean(),
  trainedAt: DateTime,
  trainedThrough: Nullable(Type.String({ format: 'date' })),
  metrics: Nullable(Metrics)
});

const Effect = Type.Object({
  value: Type.String(),
  winRate: Type.Number(),
  n: Type.Integer(),
  effect: Type.Number(),
  effectPoints: Type.Number({ description: 'effect in probability points at the team rate' }),
  direction: Type.Union([Type.Literal('raises'), Type.Literal('lowers')])
});

const Drivers = Type.Object({
  modelVersion: Type.Integer(),
  kind: Type.String(),
  verdict: Type.String(),
  teamWinRate: Type.Number(),
  reliable: Type.Boolean({
    description: 'false when the model does not beat the base rate out of time'
  }),
  headline: Type.String(),
  drivers: Type.Array(
    Type.Object({
      feature: Type.String(),
      weight: Type.Number({ description: 'relative weight, strongest = 1' }),
      direction: Type.String({ description: 'raises | lowers | depends_on_value | none' }),
      summary: Type.String(),
      effects: Type.Array(Effect)
    })
  )
});

function isMetrics(value: unknown): value is Record<string, unknown> {
  return Boolean(value) && typeof value === 'object' && !Array.isArray(value);
}

export const modelRoutes: FastifyPluginAsyncTypebox<{ database: Database }> = async (
  app,
  { database }
) => {
  const { db } = database;

  app.get(
    '/models',
    {
      config: { roles: MANAGERS },
      schema: {
        tags: ['models'],
        summary: 'Model versions with holdout metrics and verdict, newest first',
        querystring: Type.Object(
          { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 20 })) },
          { additionalProperties: false }
        ),
        response: { 200: Type.Object({ items: Type.Array(ModelVersion) }), ...errorResponses }
      }
    },
    async (request) => {
      const principal = principalOf(request);
      const rows = await db
        .select({
          version: modelVersions.version,
          kind: modelVersions.kind,
          verdict: modelVersions.verdict,
          active: modelVersions.active,
          trainedAt: modelVersions.trainedAt,
          trainedThrough: modelVersions.trainedThrough,
          metrics: modelVersions.metrics
        })
        .from(modelVersions)
        .where(eq(modelVersions.orgId, principal.orgId))
        .orderBy(desc(modelVersions.version))
        .limit(request.query.limit ?? 20);
      return {
        items: rows.map((r) => ({ ...r, metrics: isMetrics(r.metrics) ? r.metrics : null }))
      };
    }
  );

  app.get(
    '/win-rate-drivers',
    {
      config: { roles: HUMANS },
      schema: {
        tags: ['models'],
        summary: 'What the active model weighs most, with direction, in plain words',
        querystring: Type.Object(
          {
            top: Type.Optional(
              Type.Integer({ minimum: 1, maximum: 20, default: 3, description: 'effects per side' })
            ),
            minSample: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000, default: 10 }))
          },
          { additionalProperties: false }
        ),
        response: { 200: Drivers, ...errorResponses }
      }
    },
    async (request) => {
      const principal = principalOf(request);
      const [row] = await db
        .select({ version: modelVersions.version, model: modelVersions.model })
        .from(modelVersions)
        .where(and(eq(modelVersions.orgId, principal.orgId), eq(modelVersions.active, true)))
        .orderBy(desc(modelVersions.version))
        .limit(1);
      if (!row) throw notFound('trained model');
      return winRateDrivers(row.model as TrainedModel, row.version, {
        topEffects: request.query.top ?? 3,
        minSample: request.query.minSample ?? 10
      });
    }
  );
};
