// The webhook payload (spec version 1, backend/docs/webhooks.md), validated with zod.
// A bad body gets one precise message naming the path, e.g.
// "events[3].systemModstamp: not an ISO date".
import { z } from 'zod';

export const EVENT_TYPES = [
  'opportunity.changed',
  'opportunity.deleted',
  'co_lead.decided'
] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export const MAX_EVENTS = 200;

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const SALESFORCE_ID = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;

export function isIsoDateTime(v: string): boolean {
  return ISO_DATE_TIME.test(v) && !Number.isNaN(Date.parse(v));
}
function isIsoDate(v: string): boolean {
  return ISO_DATE.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`));
}

const isoDateTime = z.string().refine(isIsoDateTime, 'not an ISO date');
const isoDate = z.string().refine(isIsoDate, 'not a date (YYYY-MM-DD)');
const sfId = z.string().regex(SALESFORCE_ID, 'not a Salesforce Id (15 or 18 letters and digits)');
const text = (max: number) => z.string().max(max, `longer than ${max} characters`);

/** Opportunity fields (OPPORTUNITY_SOURCE_FIELDS): types checked where present. */
const opportunityFields = z.looseObject({
  Id: sfId.optional(),
  Name: text(255).nullish(),
  OwnerId: sfId,
  'Owner.ManagerId': sfId.nullish(),
  AccountId: sfId.nullish(),
  'Account.Industry': text(255).nullish(),
  'Account.BillingCountry': text(255).nullish(),
  Amount: z.number().finite().nullish(),
  StageName: text(255).nullish(),
  CloseDate: isoDate.nullish(),
  CreatedDate: isoDateTime,
  IsClosed: z.boolean().nullish(),
  IsWon: z.boolean().nullish(),
  LeadSource: text(255).nullish(),
  Type: text(255).nullish(),
  SystemModstamp: isoDateTime.optional()
});

const coLeadFields = z.looseObject({
  External_Id__c: text(100).min(1, 'must not be empty'),
  Status__c: z.enum(['Approved', 'Rejected'], 'must be Approved or Rejected'),
  Decided_By__c: sfId.nullish(),
  Decided_At__c: isoDateTime.nullish(),
  Opportunity__c: sfId.nullish(),
  Suggested_User__c: sfId.nullish()
});

const common = {
  id: text(255).min(1, 'must not be empty'),
  occurredAt: isoDateTime,
  recordId: sfId,
  systemModstamp: isoDateTime
};

const event = z.discriminatedUnion(
  'type',
  [
    z.object({ ...common, type: z.literal('opportunity.changed'), fields: opportunityFields }),
    z.object({
      ...common,
      type: z.literal('opportunity.deleted'),
      fields: z.record(z.string(), z.unknown()).optional()
    }),
    z.object({ ...common, type: z.literal('co_lead.decided'), fields: coLeadFields })
  ],
  { error: `must be one of ${EVENT_TYPES.join(', ')}` }
);

export const webhookPayload = z.object({
  specVersion: z.literal('1', 'must be "1"'),
  orgId: sfId,
  sentAt: isoDateTime.optional(),
  events: z
    .array(event)
    .min(1, 'must hold at least one event')
    .max(MAX_EVENTS, `must hold at most ${MAX_EVENTS} events`)
});

export type WebhookPayload = z.infer<typeof webhookPayload>;
export type WebhookEvent = WebhookPayload['events'][number];
export type OpportunityChangedEvent = Extract<WebhookEvent, { type: 'opportunity.changed' }>;
export type CoLeadDecidedEvent = Extract<WebhookEvent, { type: 'co_lead.decided' }>;

export class PayloadError extends Error {
  constructor(
    message: string,
    readonly issues: { path: string; message: string }[]
  ) {
    super(message);
    this.name = 'PayloadError';
  }
}

/** ['events', 3, 'fields', 'Account.Industry'] -> events[3].fields["Account.Industry"] */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'string' && /^[A-Za-z_$][\w$]*$/.test(part)) {
      out += out ? `.${part}` : part;
    } else out += `[${JSON.stringify(String(part))}]`;
  }
  return out || '(body)';
}

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return 'is required';
    const article = /^[aeiou]/.test(issue.expected) ? 'an' : 'a';
    return `must be ${article} ${issue.expected}`;
  }
  return issue.message;
}

/** Parses the raw body: JSON first, then the schema. Throws PayloadError with the path. */
export function parseWebhookPayload(raw: Buffer): WebhookPayload {
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    const why = err instanceof Error ? err.message : 'invalid JSON';
    throw new PayloadError(`body is not valid JSON: ${why}`, [{ path: '(body)', message: why }]);
  }
  const parsed = webhookPayload.safeParse(json, { reportInput: true });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({
      path: formatPath(i.path),
      message: describe(i)
    }));
    const first = issues[0]!;
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    throw new PayloadError(`${first.path}: ${first.message}${more}`, issues);
  }
  return parsed.data;
}
