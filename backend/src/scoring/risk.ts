// Risk band from win probability, amount and age, with per-org thresholds (settings.risk):
//   HIGH   if p < highBelow, or p < mediumBelow and the deal is large or stale;
//   MEDIUM if p < mediumBelow, or the deal is stale (whatever its probability);
//   LOW    otherwise.
// Large: amount >= largeAmount. Stale: age in days > staleAfterDays.
import type { OrgScoringSettings, RiskBand } from './types.ts';

export function riskBand(
  probability: number,
  amount: number,
  ageDays: number,
  risk: OrgScoringSettings['risk']
): RiskBand {
  const large = amount >= risk.largeAmount;
  const stale = ageDays > risk.staleAfterDays;
  if (probability < risk.highBelow || (probability < risk.mediumBelow && (large || stale))) {
    return 'HIGH';
  }
  if (probability < risk.mediumBelow || stale) return 'MEDIUM';
  return 'LOW';
}
