// The one list of Salesforce API names shared by the backend and the package in force-app/.
// test/salesforce/metadataNames.test.ts checks that every name here exists in force-app.

export const SALESFORCE_API_VERSION = '62.0';

/** Deal Insights fields on Opportunity, written by the backend's integration user. */
export const OPPORTUNITY_FIELDS = {
  winProbability: 'Win_Probability__c', // Percent(5,2): 0..100
  riskBand: 'Risk_Band__c', // Picklist: High, Medium, Low
  riskFactors: 'Risk_Factors__c', // Long Text Area(32768): JSON (see RiskFactorsJson)
  scoreConfidence: 'Score_Confidence__c', // Picklist: Normal, Low
  rsfs: 'RSFS__c', // Percent(5,2)
  rsfsBand: 'RSFS_Band__c', // Picklist: Red, Yellow, Green
  rsfsSampleSize: 'RSFS_Sample_Size__c', // Number(8,0)
  winProbabilityChange7d: 'Win_Probability_Change_7d__c', // Percent(5,2), signed, percentage points
  scoredAt: 'Scored_At__c', // DateTime
  modelVersion: 'Model_Version__c' // Text(40)
} as const;

export const CO_LEAD_OBJECT = 'Co_Lead_Suggestion__c';

/** Fields of Co_Lead_Suggestion__c (master-detail to Opportunity). */
export const CO_LEAD_FIELDS = {
  opportunity: 'Opportunity__c', // Master-Detail(Opportunity)
  suggestedUser: 'Suggested_User__c', // Lookup(User)
  segment: 'Segment__c', // Text(80)
  winRate: 'Win_Rate__c', // Percent(5,2)
  sampleSize: 'Sample_Size__c', // Number(8,0)
  rank: 'Rank__c', // Number(2,0)
  reason: 'Reason__c', // Text(255)
  status: 'Status__c', // Picklist: Proposed, Approved, Rejected, Expired
  decidedBy: 'Decided_By__c', // Lookup(User)
  decidedAt: 'Decided_At__c', // DateTime
  externalId: 'External_Id__c' // Text(100), External ID, Unique
} as const;

export const CO_LEAD_STATUSES = ['Proposed', 'Approved', 'Rejected', 'Expired'] as const;
export const RISK_BAND_VALUES = ['High', 'Medium', 'Low'] as const;
export const RSFS_BAND_VALUES = ['Red', 'Yellow', 'Green'] as const;
export const CONFIDENCE_VALUES = ['Normal', 'Low'] as const;

export const CUSTOM_PERMISSION_APPROVE = 'Approve_Co_Leads';
export const PERMISSION_SETS = [
  'Deal_Insights_User',
  'Deal_Insights_Manager',
  'Deal_Insights_Admin',
  'Deal_Insights_Integration'
] as const;
export const OPPORTUNITY_TEAM_ROLE = 'Co-Lead';
export const NAMED_CREDENTIAL = 'DealInsights';
export const EXTERNAL_CREDENTIAL = 'DealInsights';

/**
 * Standard Opportunity fields the product reads (sync SOQL and webhook payloads).
 * Relationship fields are flattened with a dot: 'Account.Industry'.
 */
export const OPPORTUNITY_SOURCE_FIELDS = [
  'Id',
  'Name',
  'OwnerId',
  'Owner.ManagerId',
  'AccountId',
  'Account.Industry',
  'Account.BillingCountry',
  'Amount',
  'StageName',
  'CloseDate',
  'CreatedDate',
  'IsClosed',
  'IsWon',
  'LeadSource',
  'Type',
  'SystemModstamp'
] as const;

/** Shape of Risk_Factors__c (JSON), read by the dealInsights LWC. */
export interface RiskFactorsJson {
  v: 1;
  raising: { label: string; impact: number }[]; // impact: logit contribution, rounded to 3 places
  lowering: { label: string; impact: number }[];
}
