// A Salesforce Opportunity -> the canonical deal the backend stores and scores. Accepts a
// REST query record (relationship fields nested: {Account: {Industry}}) or a webhook
// event's `fields` object (flattened: {'Account.Industry': ...}, see backend/docs/webhooks.md;
// merge the event's recordId and systemModstamp in as Id and SystemModstamp). Outbound
// Message values arrive as strings ("true", "12000.0"), so those are accepted too.
import type { CanonicalDeal } from '../db/repositories/deals.ts';
import { isSalesforceId, toId18 } from './salesforceId.ts';

export type SourcedDeal = CanonicalDeal & { sourceModstamp: Date };

export const UNKNOWN_INDUSTRY = 'Unknown';

/** A record that cannot become a deal: names the Salesforce field and why. */
export class DealValidationError extends Error {
  constructor(
    readonly externalId: string | null,
    readonly field: string,
    readonly reason: string
  ) {
    super(`Opportunity ${externalId ?? '(no Id)'}: ${field} ${reason}`);
    this.name = 'DealValidationError';
  }
}

/** A field by its flattened name ('Account.Industry'), from either shape. */
function read(record: Record<string, unknown>, name: string): unknown {
  if (name in record) return record[name];
  const dot = name.indexOf('.');
  if (dot < 0) return undefined;
  const parent = record[name.slice(0, dot)];
  return parent && typeof parent === 'object'
    ? (parent as Record<string, unknown>)[name.slice(dot + 1)]
    : undefined;
}

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

export function parseSalesforceDateTime(value: unknown): Date | null {
  if (typeof value !== 'string' || !ISO_DATETIME.test(value)) return null;
  // The REST API writes offsets without a colon (+0000).
  const ms = Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isNaN(ms) ? null : new Date(ms);
}

function isDate(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    ISO_DATE.test(value) &&
    !Number.isNaN(Date.parse(`${value}T00:00:00Z`))
  );
}

function text(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const s = String(value).trim();
  return s === '' ? null : s;
}

function bool(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return null;
}

const DAY_MS = 86_400_000;

export function toCanonicalDeal(record: Record<string, unknown>): SourcedDeal {
  const rawId = read(record, 'Id');
  const externalId = isSalesforceId(rawId) && rawId.startsWith('006') ? toId18(rawId) : null;
  const fail = (field: string, reason: string): never => {
    throw new DealValidationError(
      externalId ?? (typeof rawId === 'string' ? rawId : null),
      field,
      reason
    );
  };
  if (!externalId) fail('Id', `must be an Opportunity Id, got ${JSON.stringify(rawId)}`);

  const id = (field: string, required: boolean): string | null => {
    const v = read(record, field);
    if (v === null || v === undefined || v === '') {
      return required ? fail(field, 'is required') : null;
    }
    return isSalesforceId(v)
      ? toId18(v)
      : fail(field, `is not a Salesforce Id: ${JSON.stringify(v)}`);
  };

  const rawAmount = read(record, 'Amount');
  const amount =
    typeof rawAmount === 'string' && rawAmount.trim() !== '' ? Number(rawAmount) : rawAmount;
  if (typeof amount !== 'number' || !Number.isFinite(amount) || amount <= 0) {
    fail('Amount', `must be a positive amount, got ${JSON.stringify(rawAmount ?? null)}`);
  }

  const created = parseSalesforceDateTime(read(record, 'CreatedDate'));
  if (!created)
    fail(
      'CreatedDate',
      `must be an ISO date-time, got ${JSON.stringify(read(record, 'CreatedDate') ?? null)}`
    );
  const modstamp = parseSalesforceDateTime(read(record, 'SystemModstamp'));
  if (!modstamp)
    fail(
      'SystemModstamp',
      `must be an ISO date-time, got ${JSON.stringify(read(record, 'SystemModstamp') ?? null)}`
    );

  const stage = text(read(record, 'StageName'));
  // IsClosed/IsWon are formula fields Salesforce always sends; fall back to the stage name.
  const isClosed =
    bool(read(record, 'IsClosed')) ?? (stage === 'Closed Won' || stage === 'Closed Lost');
  const isWon = bool(read(record, 'IsWon')) ?? stage === 'Closed Won';
  const closeDate = read(record, 'CloseDate');
  if (closeDate !== null && closeDate !== undefined && !isDate(closeDate)) {
    fail('CloseDate', `must be a date (YYYY-MM-DD), got ${JSON.stringify(closeDate)}`);
  }
  if (isClosed && !isDate(closeDate)) fail('CloseDate', 'is required when the deal is closed');

  const createdDate = (created as Date).toISOString().slice(0, 10);
  const closedDate = isClosed ? (closeDate as string) : null;
  const cycle =
    closedDate === null
      ? null
      : Math.round(
          (Date.parse(`${closedDate}T00:00:00Z`) - Date.parse(`${createdDate}T00:00:00Z`)) / DAY_MS
        );

  return {
    externalId: externalId as string,
    ownerId: id('OwnerId', true) as string,
    managerId: id('Owner.ManagerId', false),
    accountId: id('AccountId', false),
    name: text(read(record, 'Name')),
    industry: text(read(record, 'Account.Industry')) ?? UNKNOWN_INDUSTRY,
    region: text(read(record, 'Account.BillingCountry')),
    productType: text(read(record, 'Type')),
    leadSource: text(read(record, 'LeadSource')),
    stage,
    amount: amount as number,
    createdDate,
    closedDate,
    salesCycleDays: cycle !== null && cycle >= 0 ? cycle : null,
    outcome: isClosed ? (isWon ? 'Won' : 'Lost') : null,
    attributes: {},
    sourceModstamp: modstamp as Date
  };
}
