// Per-org scoring settings, read from orgs.settings (JSON) over the defaults, validated with a
// clear message naming the bad field.
import { z } from 'zod';
import { DEFAULT_SCORING_SETTINGS, type OrgScoringSettings } from '../scoring/types.ts';

const fraction = z.number().min(0).max(1);
const stored = z.object({
  segmentField: z.enum(['industry', 'region', 'productType', 'leadSource']).optional(),
  risk: z
    .object({
      highBelow: fraction.optional(),
      mediumBelow: fraction.optional(),
      largeAmount: z.number().positive().optional(),
      staleAfterDays: z.number().int().positive().optional()
    })
    .optional(),
  coLeadMinSample: z.number().int().min(1).optional()
});

export class SettingsError extends Error {}

/**
 * Scoring settings from an org's stored settings. Unknown keys (other features' settings)
 * are ignored; a known key with a bad value is an error.
 */
export function scoringSettingsFrom(raw: unknown, orgId = 'org'): OrgScoringSettings {
  const parsed = stored.safeParse(raw ?? {});
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  settings.${i.path.join('.')}: ${i.message}`);
    throw new SettingsError(`invalid scoring settings for ${orgId}:\n${lines.join('\n')}`);
  }
  const s = parsed.data;
  const d = DEFAULT_SCORING_SETTINGS;
  const settings: OrgScoringSettings = {
    segmentField: s.segmentField ?? d.segmentField,
    risk: {
      highBelow: s.risk?.highBelow ?? d.risk.highBelow,
      mediumBelow: s.risk?.mediumBelow ?? d.risk.mediumBelow,
      largeAmount: s.risk?.largeAmount ?? d.risk.largeAmount,
      staleAfterDays: s.risk?.staleAfterDays ?? d.risk.staleAfterDays
    },
    coLeadMinSample: s.coLeadMinSample ?? d.coLeadMinSample
  };
  if (settings.risk.highBelow > settings.risk.mediumBelow) {
    throw new SettingsError(
      `invalid scoring settings for ${orgId}: settings.risk.highBelow (${settings.risk.highBelow}) ` +
        `must not exceed settings.risk.mediumBelow (${settings.risk.mediumBelow})`
    );
  }
  return settings;
}
