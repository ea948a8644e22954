// Schemas and helpers shared by the route modules.
import { Type, type Static, type TSchema, type TUnsafe } from 'typebox';
import { and, eq } from 'drizzle-orm';
import { deals, scoreVersions } from '../../db/schema.ts';
import type { OrgRecord } from '../auth.ts';

export const RiskBandSchema = Type.Union([
  Type.Literal('HIGH'),
  Type.Literal('MEDIUM'),
  Type.Literal('LOW')
]);
export const RsfsBandSchema = Type.Union([
  Type.Literal('RED'),
  Type.Literal('YELLOW'),
  Type.Literal('GREEN')
]);
export const DateTime = Type.String({ format: 'date-time' });
/**
 * T or null. A schema with a `type` says so with OpenAPI 3.0's `nullable: true`: the response
 * serializer (fast-json-stringify) then checks `=== null`, whereas an anyOf [T, null] makes it
 * run a full schema validation of every such value to pick the branch (for a nested object with
 * formats, such as a deal's score, a sizeable part of a response's CPU). Schemas without a
 * `type` (unions of literals) stay anyOf [T, null].
 */
export function Nullable<T extends TSchema>(t: T): TUnsafe<Static<T> | null> {
  const type = (t as { type?: unknown }).type;
  if (typeof type === 'string') return Type.Unsafe<Static<T> | null>({ ...t, nullable: true });
  return Type.Unsafe<Static<T> | null>(Type.Union([t, Type.Null()]));
}

/** Every error status a route may answer with uses the one error body. */
export const errorResponses = {
  400: Type.Ref('ErrorBody'),
  401: Type.Ref('ErrorBody'),
  403: Type.Ref('ErrorBody'),
  404: Type.Ref('ErrorBody'),
  429: Type.Ref('ErrorBody'),
  503: Type.Ref('ErrorBody')
};

export const FactorSchema = Type.Object({
  feature: Type.String(),
  label: Type.String({ description: 'the factor in plain words' }),
  contribution: Type.Number({
    description: 'logit contribution (positive raises the win probability)'
  })
});
export type FactorOut = Static<typeof FactorSchema>;

export const FactorsSchema = Type.Object({
  baseline: Nullable(Type.Number()),
  contributions: Type.Array(FactorSchema),
  raising: Type.Array(FactorSchema, { description: 'strongest factors raising the probability' }),
  lowering: Type.Array(FactorSchema, { description: 'strongest factors lowering the probability' })
});
export type FactorsOut = Static<typeof FactorsSchema>;

function asFactor(value: unknown): FactorOut | null {
  if (!value || typeof value !== 'object') return null;
  const f = value as Record<string, unknown>;
  const contribution =
    typeof f.contribution === 'number'
      ? f.contribution
      : typeof f.impact === 'number'
        ? f.impact
        : null;
  const label = typeof f.label === 'string' ? f.label : null;
  if (contribution === null || label === null) return null;
  return { feature: typeof f.feature === 'string' ? f.feature : label, label, contribution };
}

/**
 * Stored factors (score_versions.factors) as the API shows them. The scoring core stores an
 * Explanation ({ baseline, contributions, raising, lowering }); a bare factor list is accepted too.
 */
export function normaliseFactors(stored: unknown): FactorsOut {
  const obj =
    stored && typeof stored === 'object' && !Array.isArray(stored)
      ? (stored as Record<string, unknown>)
      : null;
  const list = Array.isArray(stored)
    ? stored
    : Array.isArray(obj?.contributions)
      ? (obj.contributions as unknown[])
      : [];
  const contributions = list.map(asFactor).filter((f): f is FactorOut => f !== null);
  const pick = (key: string, sign: 1 | -1) => {
    const given = Array.isArray(obj?.[key])
      ? (obj[key] as unknown[]).map(asFactor).filter((f): f is FactorOut => f !== null)
      : null;
    if (given) return given;
    return contributions
      .filter((f) => sign * f.contribution > 0)
      .sort((a, b) => sign * (b.contribution - a.contribution))
      .slice(0, 3);
  };
  return {
    baseline: typeof obj?.baseline === 'number' ? obj.baseline : null,
    contributions,
    raising: pick('raising', 1),
    lowering: pick('lowering', -1)
  };
}

export const SEGMENT_FIELDS = ['industry', 'region', 'productType', 'leadSource'] as const;
export type SegmentField = (typeof SEGMENT_FIELDS)[number];

/** The org's segment field (orgs.settings.segmentField), 'industry' by default. */
export function segmentFieldOf(org: OrgRecord | null): SegmentField {
  const value = org?.settings.segmentField;
  return (SEGMENT_FIELDS as readonly unknown[]).includes(value)
    ? (value as SegmentField)
    : 'industry';
}

export function segmentColumn(field: SegmentField) {
  return {
    industry: deals.industry,
    region: deals.region,
    productType: deals.productType,
    leadSource: deals.leadSource
  }[field];
}

/**
 * Join condition of a deal and its latest score version: found by the primary key (deal_id,
 * version); the id check keeps a stale pointer from matching another version.
 */
export const latestScoreJoin = and(
  eq(scoreVersions.dealId, deals.id),
  eq(scoreVersions.version, deals.latestScoreVersion),
  eq(scoreVersions.id, deals.latestScoreId)
);
