// What scoring needs besides the deals: the active model, the RSFS table and the org settings.
// Cached per org (per database pool); each call makes one cheap indexed query to see whether
// the active model version or the settings changed, so the worker can call it per event.
import type { Database } from '../db/client.ts';
import { loadClosedDeals } from '../db/repositories/deals.ts';
import { getActiveModelKey, getModelVersion } from '../db/repositories/models.ts';
import { computeRsfsTable } from '../scoring/index.ts';
import type {
  OrgScoringSettings,
  RsfsTable,
  ScoringContext,
  TrainedModel
} from '../scoring/types.ts';
import { scoringSettingsFrom } from './settings.ts';

export interface LoadedScoringContext {
  /** The active model, or null: the transparent rules score. */
  model: TrainedModel | null;
  /** The org's version number of the active model (what results and Salesforce show). */
  modelVersion: number | null;
  /** model_versions.id of the active model. */
  modelVersionId: number | null;
  /**
   * ctx.coLeadState holds the stored cursor only; the callers add each rep's load and the
   * deals' current primaries (rescoreDeals / rescoreOrg do).
   */
  ctx: ScoringContext;
}

interface Cached {
  key: string;
  /** Epoch ms after which it is rebuilt even with the same key (contexts without a model). */
  expiresAt: number;
  model: TrainedModel | null;
  modelVersion: number | null;
  modelVersionId: number | null;
  rsfs: RsfsTable;
  settings: OrgScoringSettings;
}

/** Without a stored RSFS table it is computed from closed deals, which keep changing. */
const COMPUTED_RSFS_TTL_MS = 60_000;

const caches = new WeakMap<Database['sql'], Map<string, Cached>>();

export class UnknownOrgError extends Error {}

export async function loadScoringContext(
  database: Database,
  orgId: string,
  now: string
): Promise<LoadedScoringContext> {
  const key = await getActiveModelKey(database.sql, orgId);
  if (!key) throw new UnknownOrgError(`unknown org "${orgId}": register it or import deals first`);
  const cacheKey = `${key.modelVersionId ?? 'none'}|${JSON.stringify(key.settings)}`;
  let perOrg = caches.get(database.sql);
  if (!perOrg) {
    perOrg = new Map();
    caches.set(database.sql, perOrg);
  }
  let cached = perOrg.get(orgId);
  if (!cached || cached.key !== cacheKey || cached.expiresAt < Date.now()) {
    cached = await build(database, orgId, key.modelVersionId, key.settings, cacheKey);
    perOrg.set(orgId, cached);
  }
  return {
    model: cached.model,
    modelVersion: cached.modelVersion,
    modelVersionId: cached.modelVersionId,
    ctx: {
      rsfs: cached.rsfs,
      settings: cached.settings,
      now,
      coLeadState: { load: {}, cursor: key.coLeadCursor, assigned: {} },
      modelVersion: cached.modelVersion
    }
  };
}

async function build(
  database: Database,
  orgId: string,
  modelVersionId: number | null,
  rawSettings: unknown,
  key: string
): Promise<Cached> {
  const settings = scoringSettingsFrom(rawSettings, orgId);
  const stored =
    modelVersionId === null ? null : await getModelVersion(database.sql, orgId, modelVersionId);
  // A stored table computed for another segment field (settings changed since) is not used.
  const storedRsfs =
    stored?.rsfsTable && stored.rsfsTable.segmentField === settings.segmentField
      ? stored.rsfsTable
      : null;
  const rsfs = storedRsfs ?? computeRsfsTable(await loadClosedDeals(database, orgId), settings);
  return {
    key,
    expiresAt: storedRsfs ? Number.POSITIVE_INFINITY : Date.now() + COMPUTED_RSFS_TTL_MS,
    model: stored?.model ?? null,
    modelVersion: stored?.version ?? null,
    modelVersionId: stored?.id ?? null,
    rsfs,
    settings
  };
}

/** Drops the cached contexts of one org (or all) for this pool. */
export function clearScoringContextCache(database: Database, orgId?: string): void {
  const perOrg = caches.get(database.sql);
  if (!perOrg) return;
  if (orgId === undefined) perOrg.clear();
  else perOrg.delete(orgId);
}
