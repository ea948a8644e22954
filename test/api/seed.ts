// Seed data for API tests and the API benchmark: two orgs whose every string carries the org's
// name (alpha / bravo), so a body that leaks the other org's data is caught by a substring scan.
// Inserted directly with drizzle (not through the scoring services).
import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import { eq, sql } from 'drizzle-orm';
import type { Database } from '../../backend/src/db/client.ts';
import {
  coLeadSuggestions,
  deals,
  modelVersions,
  orgs,
  repSegmentStats,
  scoreVersions,
  users
} from '../../backend/src/db/schema.ts';
import { buildEncodingTables, FEATURE_NAMES } from '../../backend/src/scoring/encoding.ts';
import { logit } from '../../backend/src/scoring/math.ts';
import type { Deal, TrainedModel } from '../../backend/src/scoring/types.ts';

export interface SeededOrg {
  key: 'alpha' | 'bravo';
  orgId: string;
  name: string;
  admin: string;
  managers: [string, string];
  /** rep1 and rep2 report to managers[0]; rep3 to managers[1]. */
  reps: [string, string, string];
  industries: string[];
  /** RSA key pair the org signs its own (integration) tokens with. */
  privateKeyPem: string;
  publicKeyPem: string;
  /** Deal external ids by owner. */
  dealsByOwner: Record<string, string[]>;
  /** Ids of proposed co-lead suggestions on rep1's deals. */
  proposedCoLeads: number[];
}

export interface SeedOptions {
  /** Deals per org (default 60: 40 closed, 20 open). */
  dealsPerOrg?: number;
}

/** The coefficients of the seeded active model, in FEATURE_NAMES order. */
export const SEED_COEFFICIENTS = [0.9, 0.6, 0.2, 0.1, 0.15, 0.7, -0.3];

// Off the event loop (a worker thread): keygen takes long enough to trip overload detection.
async function keyPair() {
  const { privateKey, publicKey } = await promisify(generateKeyPair)('rsa', {
    modulusLength: 2048
  });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString()
  };
}

/** Deterministic deal i of an org: closed in 2024Q1/Q2 for the first two thirds, then open. */
function dealAt(org: SeededOrg, i: number, total: number) {
  const P = org.key.toUpperCase();
  const owner = org.reps[i % 3] as string;
  const closedCount = Math.floor((total * 2) / 3);
  const closed = i < closedCount;
  const won = (i * 7) % 10 < 4;
  return {
    externalId: `${P}-D-${String(i + 1).padStart(5, '0')}`,
    ownerId: owner,
    name: `${org.name} deal ${i + 1}`,
    industry: org.industries[i % org.industries.length] as string,
    region: `${org.name} region ${i % 2}`,
    productType: `${P} product ${i % 3}`,
    leadSource: `${P} source ${i % 4}`,
    stage: closed ? (won ? 'Closed Won' : 'Closed Lost') : 'Negotiation',
    // Amounts repeat (ties), so keyset pagination must break ties by id.
    amount: 1000 * (((i * 37) % 25) + 1),
    createdDate: closed ? '2023-11-15' : '2024-06-01',
    closedDate: closed ? (i % 2 === 0 ? '2024-02-15' : '2024-05-15') : null,
    outcome: closed ? (won ? 'Won' : 'Lost') : null
  };
}

function probabilityAt(i: number): number {
  // 20 distinct values: many ties.
  return ((i * 13) % 20) / 20 + 0.025;
}

function riskBand(p: number): 'HIGH' | 'MEDIUM' | 'LOW' {
  return p < 0.3 ? 'HIGH' : p < 0.5 ? 'MEDIUM' : 'LOW';
}

export async function seedOrg(
  database: Database,
  key: 'alpha' | 'bravo',
  opts: SeedOptions = {}
): Promise<SeededOrg> {
  const { db } = database;
  const total = opts.dealsPerOrg ?? 60;
  const P = key.toUpperCase();
  const name = key === 'alpha' ? 'Alpha Widgets' : 'Bravo Gadgets';
  const keys = await keyPair();
  const org: SeededOrg = {
    key,
    orgId: `ORG-${P}-0001`,
    name,
    admin: `${key}-admin`,
    managers: [`${key}-mgr-1`, `${key}-mgr-2`],
    reps: [`${key}-rep-1`, `${key}-rep-2`, `${key}-rep-3`],
    industries: [`${name} Fintech`, `${name} Health`, `${name} Retail`],
    ...keys,
    dealsByOwner: {},
    proposedCoLeads: []
  };

  await db.insert(orgs).values({
    id: org.orgId,
    name: `${name} Inc`,
    instanceUrl: `https://${key}.my.salesforce.com`,
    clientId: `${key}-client-id`,
    username: `integration@${key}.example`,
    privateKeyEnc: `${key}-encrypted-key`,
    webhookPublicKey: org.publicKeyPem,
    lastSyncAt: new Date('2024-06-30T12:00:00Z'),
    lastError: null
  });
  await db.insert(users).values([
    { orgId: org.orgId, id: org.admin, name: `${name} Admin`, role: 'admin' },
    { orgId: org.orgId, id: org.managers[0], name: `${name} Manager One`, role: 'manager' },
    { orgId: org.orgId, id: org.managers[1], name: `${name} Manager Two`, role: 'manager' },
    {
      orgId: org.orgId,
      id: org.reps[0],
      name: `${name} Rep One`,
      role: 'rep',
      managerId: org.managers[0]
    },
    {
      orgId: org.orgId,
      id: org.reps[1],
      name: `${name} Rep Two`,
      role: 'rep',
      managerId: org.managers[0]
    },
    {
      orgId: org.orgId,
      id: org.reps[2],
      name: `${name} Rep Three`,
      role: 'rep',
      managerId: org.managers[1]
    }
  ]);

  const rows = Array.from({ length: total }, (_, i) => dealAt(org, i, total));
  const inserted: { id: number; externalId: string }[] = [];
  for (let start = 0; start < rows.length; start += 1000) {
    const chunk = rows.slice(start, start + 1000);
    inserted.push(
      ...(await db
        .insert(deals)
        .values(
          chunk.map((d) => ({
            ...d,
            orgId: org.orgId,
            managerId: null,
            contentHash: `${key}-${d.externalId}`
          }))
        )
        .returning({ id: deals.id, externalId: deals.externalId }))
    );
  }
  for (const d of rows) (org.dealsByOwner[d.ownerId] ??= []).push(d.externalId);

  // Score versions: every fifth deal stays unscored; others have 1..3 versions.
  const versions: (typeof scoreVersions.$inferInsert)[] = [];
  inserted.forEach((d, i) => {
    if (i % 5 === 4) return;
    const count = 1 + (i % 3);
    for (let v = 1; v <= count; v++) {
      const p =
        v === count ? probabilityAt(i) : Math.min(0.99, probabilityAt(i) + 0.1 * (count - v));
      versions.push({
        orgId: org.orgId,
        dealId: d.id,
        version: v,
        probability: p,
        riskBand: riskBand(p),
        confidence: 'normal',
        method: 'model',
        factors: {
          baseline: -0.2,
          contributions: [
            {
              feature: 'rep_segment_fit',
              label: `${rows[i]!.ownerId} fits ${rows[i]!.industry}`,
              contribution: logit(p) + 0.1
            },
            { feature: 'amount', label: `${P} amount effect`, contribution: -0.1 },
            { feature: 'industry', label: `${rows[i]!.industry} effect`, contribution: 0.2 }
          ],
          raising: [],
          lowering: []
        },
        rsfs: 0.3 + (i % 5) / 10,
        rsfsBand: (['RED', 'YELLOW', 'GREEN'] as const)[i % 3],
        rsfsSampleSize: 10 + i,
        modelVersionId: null,
        resultHash: `${key}-${i}-${v}`,
        // Microseconds and ties on purpose (keyset pagination must keep both exact).
        scoredAt:
          sql`'2024-06-01 10:00:00.123456+00'::timestamptz + ${(i % 7) + v} * interval '1 second'` as never
      });
    }
  });
  for (let start = 0; start < versions.length; start += 1000) {
    await db.insert(scoreVersions).values(versions.slice(start, start + 1000));
  }
  await database.sql`
    UPDATE deals d SET latest_score_id = s.id, latest_score_version = s.version
    FROM (SELECT DISTINCT ON (deal_id) deal_id, id, version FROM score_versions
          WHERE org_id = ${org.orgId} ORDER BY deal_id, version DESC) s
    WHERE d.id = s.deal_id AND d.org_id = ${org.orgId}`;

  // Co-leads: two proposals (rank 1 and 2) on every open deal of rep1 and rep2.
  const coLeadRows: (typeof coLeadSuggestions.$inferInsert)[] = [];
  inserted.forEach((d, i) => {
    const row = rows[i]!;
    if (row.outcome !== null || row.ownerId === org.reps[2]) return;
    [org.reps[2], org.managers[1]].forEach((rep, r) => {
      coLeadRows.push({
        orgId: org.orgId,
        dealId: d.id,
        externalId: `${org.orgId}:${row.externalId}:${rep}`,
        suggestedRepId: rep,
        segment: row.industry,
        winRate: 0.6 - r / 10,
        sampleSize: 25,
        rank: r + 1,
        isPrimary: r === 0,
        reason: `${rep} wins 60% of ${row.industry} deals`,
        ownerRsfs: 0.2
      });
    });
  });
  const coLeadIds: { id: number; dealId: number }[] = [];
  for (let start = 0; start < coLeadRows.length; start += 1000) {
    coLeadIds.push(
      ...(await db
        .insert(coLeadSuggestions)
        .values(coLeadRows.slice(start, start + 1000))
        .returning({ id: coLeadSuggestions.id, dealId: coLeadSuggestions.dealId }))
    );
  }
  const rep1Deals = new Set(
    inserted.filter((_, i) => rows[i]!.ownerId === org.reps[0]).map((d) => d.id)
  );
  org.proposedCoLeads = coLeadIds.filter((c) => rep1Deals.has(c.dealId)).map((c) => c.id);

  // RSFS per rep x industry from the closed deals.
  const stats = new Map<string, { rep: string; seg: string; wins: number; n: number }>();
  for (const d of rows) {
    if (!d.outcome) continue;
    const k = `${d.ownerId}|${d.industry}`;
    const s = stats.get(k) ?? { rep: d.ownerId, seg: d.industry, wins: 0, n: 0 };
    s.n += 1;
    s.wins += d.outcome === 'Won' ? 1 : 0;
    stats.set(k, s);
  }
  await db.insert(repSegmentStats).values(
    [...stats.values()].map((s) => {
      const rsfs = (s.wins + 4.5) / (s.n + 10);
      return {
        orgId: org.orgId,
        repId: s.rep,
        segmentField: 'industry',
        segmentValue: s.seg,
        wins: s.wins,
        n: s.n,
        rawRate: s.wins / s.n,
        rsfs,
        low: Math.max(0, rsfs - 0.2),
        high: Math.min(1, rsfs + 0.2),
        band: rsfs < 0.4 ? 'RED' : rsfs < 0.5 ? 'YELLOW' : 'GREEN'
      };
    })
  );

  // Models: an old rules model (inactive) and the active linear model.
  const closedDeals: Deal[] = rows
    .filter((d) => d.outcome)
    .map((d) => ({
      id: d.externalId,
      ownerId: d.ownerId,
      industry: d.industry,
      region: d.region,
      productType: d.productType,
      leadSource: d.leadSource,
      stage: d.stage,
      amount: d.amount,
      createdDate: d.createdDate,
      closedDate: d.closedDate,
      outcome: d.outcome as 'Won' | 'Lost'
    }));
  const strengths = { rep: 5, industry: 5, region: 20, productType: 20, leadSource: 20, fit: 5 };
  const encodings = buildEncodingTables(closedDeals, strengths, 'industry');
  const model: TrainedModel = {
    formatVersion: 1,
    kind: 'main_effects',
    verdict: 'signal',
    trainedThrough: encodings.through,
    featureSpec: {
      features: [...FEATURE_NAMES],
      segmentField: 'industry',
      amountCenter: 9,
      amountScale: 1,
      notes: [`${name} seeded model`]
    },
    intercept: -0.2,
    coefficients: SEED_COEFFICIENTS,
    calibration: { a: 1, b: 0 },
    encodings,
    metrics: null
  };
  const metrics = {
    n: 400,
    positives: 180,
    baseRate: 0.45,
    auc: 0.71,
    aucLow: 0.66,
    aucHigh: 0.76,
    brier: 0.21,
    brierBaseline: 0.2475,
    logLoss: 0.61,
    logLossBaseline: 0.688,
    ece: 0.02,
    eceBaseline: 0.01,
    calibration: [{ bin: 0, meanPredicted: 0.2, observedRate: 0.22, n: 40 }]
  };
  await db.insert(modelVersions).values([
    {
      orgId: org.orgId,
      version: 1,
      kind: 'rules',
      featureSpec: { features: [], notes: [`${name} rules`] },
      model: { ...model, kind: 'rules', verdict: 'insufficient_data' },
      metrics: {},
      verdict: 'insufficient_data',
      active: false
    },
    {
      orgId: org.orgId,
      version: 2,
      kind: 'main_effects',
      featureSpec: model.featureSpec,
      model,
      metrics,
      verdict: 'signal',
      active: true,
      trainedThrough: encodings.through
    }
  ]);
  return org;
}

export async function dealIdOf(database: Database, externalId: string): Promise<number> {
  const [row] = await database.db
    .select({ id: deals.id })
    .from(deals)
    .where(eq(deals.externalId, externalId));
  if (!row) throw new Error(`no deal ${externalId}`);
  return row.id;
}
