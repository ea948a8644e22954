// The sObjects the emulator knows, described the way Salesforce's describe call would:
// type, length/precision, whether the API may create or update the field, lookups and
// their relationship names. Custom fields mirror the Deal Insights package metadata
// (force-app/) and are spelled out here on purpose, not imported from the backend, so a
// wrong name on either side shows up as INVALID_FIELD in tests.

export type FieldType =
  | 'id'
  | 'string'
  | 'textarea'
  | 'picklist'
  | 'boolean'
  | 'double'
  | 'currency'
  | 'percent'
  | 'date'
  | 'datetime'
  | 'reference';

export interface FieldDef {
  name: string;
  label: string;
  type: FieldType;
  length?: number; // text
  precision?: number; // numbers: total digits
  scale?: number; // numbers: digits after the point
  values?: readonly string[]; // picklist values
  restricted?: boolean; // restricted picklist: other values are rejected
  createable: boolean;
  updateable: boolean;
  requiredOnCreate?: boolean;
  referenceTo?: string;
  relationshipName?: string;
  externalId?: boolean;
  unique?: boolean;
  /** Unique text compares case-insensitively unless this is set (Salesforce's default). */
  caseSensitive?: boolean;
  defaultValue?: string | number | boolean;
}

export interface ObjectDef {
  name: string;
  keyPrefix: string;
  fields: Map<string, FieldDef>; // by lower-case name (SOQL and JSON keys are case-insensitive)
}

type Spec = Omit<FieldDef, 'createable' | 'updateable'> & {
  createable?: boolean;
  updateable?: boolean;
};

const systemFields: Spec[] = [
  { name: 'Id', label: 'Record ID', type: 'id', createable: false, updateable: false },
  { name: 'IsDeleted', label: 'Deleted', type: 'boolean', createable: false, updateable: false },
  {
    name: 'CreatedDate',
    label: 'Created Date',
    type: 'datetime',
    createable: false,
    updateable: false
  },
  {
    name: 'CreatedById',
    label: 'Created By ID',
    type: 'reference',
    referenceTo: 'User',
    relationshipName: 'CreatedBy',
    createable: false,
    updateable: false
  },
  {
    name: 'LastModifiedDate',
    label: 'Last Modified Date',
    type: 'datetime',
    createable: false,
    updateable: false
  },
  {
    name: 'LastModifiedById',
    label: 'Last Modified By ID',
    type: 'reference',
    referenceTo: 'User',
    relationshipName: 'LastModifiedBy',
    createable: false,
    updateable: false
  },
  {
    name: 'SystemModstamp',
    label: 'System Modstamp',
    type: 'datetime',
    createable: false,
    updateable: false
  }
];

const percent = (name: string, label: string): Spec => ({
  name,
  label,
  type: 'percent',
  precision: 5,
  scale: 2
});

function define(name: string, keyPrefix: string, specs: Spec[]): ObjectDef {
  const fields = new Map<string, FieldDef>();
  for (const s of [...systemFields, ...specs]) {
    fields.set(s.name.toLowerCase(), { createable: true, updateable: true, ...s });
  }
  return { name, keyPrefix, fields };
}

export const OPPORTUNITY_STAGES = [
  'Prospecting',
  'Qualification',
  'Needs Analysis',
  'Value Proposition',
  'Id. Decision Makers',
  'Perception Analysis',
  'Proposal/Price Quote',
  'Negotiation/Review',
  'Closed Won',
  'Closed Lost'
] as const;

const objects: ObjectDef[] = [
  define('User', '005', [
    { name: 'Username', label: 'Username', type: 'string', length: 80, requiredOnCreate: true },
    { name: 'FirstName', label: 'First Name', type: 'string', length: 40 },
    { name: 'LastName', label: 'Last Name', type: 'string', length: 80, requiredOnCreate: true },
    { name: 'Name', label: 'Full Name', type: 'string', length: 121, createable: false },
    { name: 'Email', label: 'Email', type: 'string', length: 128 },
    {
      name: 'ManagerId',
      label: 'Manager ID',
      type: 'reference',
      referenceTo: 'User',
      relationshipName: 'Manager'
    },
    { name: 'IsActive', label: 'Active', type: 'boolean', defaultValue: true }
  ]),
  define('Account', '001', [
    { name: 'Name', label: 'Account Name', type: 'string', length: 255, requiredOnCreate: true },
    { name: 'Industry', label: 'Industry', type: 'picklist', values: [] },
    { name: 'BillingCountry', label: 'Billing Country', type: 'string', length: 80 },
    {
      name: 'OwnerId',
      label: 'Owner ID',
      type: 'reference',
      referenceTo: 'User',
      relationshipName: 'Owner'
    }
  ]),
  define('Opportunity', '006', [
    { name: 'Name', label: 'Name', type: 'string', length: 120, requiredOnCreate: true },
    {
      name: 'AccountId',
      label: 'Account ID',
      type: 'reference',
      referenceTo: 'Account',
      relationshipName: 'Account'
    },
    {
      name: 'OwnerId',
      label: 'Owner ID',
      type: 'reference',
      referenceTo: 'User',
      relationshipName: 'Owner'
    },
    { name: 'Amount', label: 'Amount', type: 'currency', precision: 18, scale: 2 },
    {
      name: 'StageName',
      label: 'Stage',
      type: 'picklist',
      values: OPPORTUNITY_STAGES,
      requiredOnCreate: true
    },
    { name: 'CloseDate', label: 'Close Date', type: 'date', requiredOnCreate: true },
    { name: 'IsClosed', label: 'Closed', type: 'boolean', createable: false, updateable: false },
    { name: 'IsWon', label: 'Won', type: 'boolean', createable: false, updateable: false },
    { name: 'LeadSource', label: 'Lead Source', type: 'picklist', values: [] },
    { name: 'Type', label: 'Opportunity Type', type: 'picklist', values: [] },
    // Deal Insights package fields (written by the integration user)
    percent('Win_Probability__c', 'Win Probability'),
    {
      name: 'Risk_Band__c',
      label: 'Risk Band',
      type: 'picklist',
      values: ['High', 'Medium', 'Low'],
      restricted: true
    },
    { name: 'Risk_Factors__c', label: 'Risk Factors', type: 'textarea', length: 32768 },
    {
      name: 'Score_Confidence__c',
      label: 'Score Confidence',
      type: 'picklist',
      values: ['Normal', 'Low'],
      restricted: true
    },
    percent('RSFS__c', 'Rep-Segment Fit'),
    {
      name: 'RSFS_Band__c',
      label: 'RSFS Band',
      type: 'picklist',
      values: ['Red', 'Yellow', 'Green'],
      restricted: true
    },
    {
      name: 'RSFS_Sample_Size__c',
      label: 'RSFS Sample Size',
      type: 'double',
      precision: 8,
      scale: 0
    },
    percent('Win_Probability_Change_7d__c', 'Win Probability Change (7d)'),
    { name: 'Scored_At__c', label: 'Scored At', type: 'datetime' },
    { name: 'Model_Version__c', label: 'Model Version', type: 'string', length: 40 }
  ]),
  define('Co_Lead_Suggestion__c', 'a0C', [
    { name: 'Name', label: 'Suggestion Number', type: 'string', length: 80, createable: false },
    {
      // Master-detail, reparentableMasterDetail=false in the package: set on create only,
      // so an upsert that reaches an existing record must not send it.
      name: 'Opportunity__c',
      label: 'Opportunity',
      type: 'reference',
      referenceTo: 'Opportunity',
      relationshipName: 'Opportunity__r',
      requiredOnCreate: true,
      updateable: false
    },
    {
      name: 'Suggested_User__c',
      label: 'Suggested User',
      type: 'reference',
      referenceTo: 'User',
      relationshipName: 'Suggested_User__r'
    },
    { name: 'Segment__c', label: 'Segment', type: 'string', length: 80 },
    percent('Win_Rate__c', 'Win Rate'),
    { name: 'Sample_Size__c', label: 'Sample Size', type: 'double', precision: 8, scale: 0 },
    { name: 'Rank__c', label: 'Rank', type: 'double', precision: 2, scale: 0 },
    { name: 'Reason__c', label: 'Reason', type: 'string', length: 255 },
    {
      name: 'Status__c',
      label: 'Status',
      type: 'picklist',
      values: ['Proposed', 'Approved', 'Rejected', 'Expired'],
      restricted: true,
      defaultValue: 'Proposed'
    },
    {
      name: 'Decided_By__c',
      label: 'Decided By',
      type: 'reference',
      referenceTo: 'User',
      relationshipName: 'Decided_By__r'
    },
    { name: 'Decided_At__c', label: 'Decided At', type: 'datetime' },
    {
      name: 'External_Id__c',
      label: 'External Id',
      type: 'string',
      length: 100,
      externalId: true,
      unique: true
    }
  ]),
  define('OpportunityTeamMember', '00q', [
    {
      name: 'OpportunityId',
      label: 'Opportunity ID',
      type: 'reference',
      referenceTo: 'Opportunity',
      relationshipName: 'Opportunity',
      requiredOnCreate: true,
      updateable: false
    },
    {
      name: 'UserId',
      label: 'User ID',
      type: 'reference',
      referenceTo: 'User',
      relationshipName: 'User',
      requiredOnCreate: true,
      updateable: false
    },
    { name: 'TeamMemberRole', label: 'Team Role', type: 'picklist', values: [] },
    {
      name: 'OpportunityAccessLevel',
      label: 'Opportunity Access',
      type: 'picklist',
      values: ['Read', 'Edit'],
      restricted: true,
      defaultValue: 'Read'
    }
  ])
];

const byName = new Map(objects.map((o) => [o.name.toLowerCase(), o]));

/** The object named (case-insensitively), or undefined. */
export function objectDef(name: string): ObjectDef | undefined {
  return byName.get(name.toLowerCase());
}

export function objectByKeyPrefix(id: string): ObjectDef | undefined {
  return objects.find((o) => id.startsWith(o.keyPrefix));
}

export function objectNames(): string[] {
  return objects.map((o) => o.name);
}

/** The lookup field behind a relationship name (Account -> AccountId), if any. */
export function relationshipField(obj: ObjectDef, relationship: string): FieldDef | undefined {
  const wanted = relationship.toLowerCase();
  for (const f of obj.fields.values()) {
    if (f.relationshipName?.toLowerCase() === wanted) return f;
  }
  return undefined;
}
