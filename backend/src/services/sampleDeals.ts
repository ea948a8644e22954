// Generated sample deals (scoring/index generateDeals) in the stored canonical shape, for the
// bench and tests that load deals directly (the demo goes through the CSV import instead).
import type { CanonicalDeal } from '../db/repositories/deals.ts';
import type { GeneratedDeal } from '../scoring/index.ts';

export function canonicalFromGenerated(d: GeneratedDeal): CanonicalDeal {
  return {
    externalId: d.id,
    ownerId: d.ownerId,
    managerId: d.managerId,
    accountId: null,
    name: null,
    industry: d.industry,
    region: d.region,
    productType: d.productType,
    leadSource: d.leadSource,
    stage: d.stage,
    amount: d.amount,
    createdDate: d.createdDate,
    closedDate: d.closedDate,
    salesCycleDays: d.salesCycleDays,
    outcome: d.outcome,
    attributes: {}
  };
}
