// Writes one org's pending results to Salesforce with as few calls as possible:
//   Opportunity field updates   -> PATCH /composite/sobjects (by Id), <= 200 per call
//   Co_Lead_Suggestion__c       -> PATCH /composite/sobjects/Co_Lead_Suggestion__c/External_Id__c
//   OpportunityTeamMember       -> one query for the members already there, then POST
//                                  /composite/sobjects for the rest (DUPLICATE_VALUE = done)
// Always allOrNone=false, so one bad record never blocks the others. Every write gets an
// outcome {recordKey, ok, errorCode?, message?, retryable}. Nothing to write, no call.
// A call-level failure (rate limit, outage after retries, auth) stops the run: the writes
// not confirmed get that error as their outcome and `stoppedBy` names it, so the caller can
// pause the org (SalesforceRateLimitError) or retry later.
import { CO_LEAD_FIELDS, CO_LEAD_OBJECT, OPPORTUNITY_TEAM_ROLE } from './salesforceFields.ts';
import { isSalesforceId, toId18 } from './salesforceId.ts';
import {
  MAX_COLLECTION_SIZE,
  SalesforceError,
  type SalesforceClient,
  type SaveResult
} from './connection.ts';
import { isRetryableRecordError } from './errors.ts';

export {
  coLeadExternalId,
  coLeadRecord,
  opportunityFieldValues,
  riskFactorsJson,
  type CoLeadFieldValues,
  type OpportunityFieldValues
} from './fieldValues.ts';

export type WriteObjectType = 'Opportunity' | typeof CO_LEAD_OBJECT | 'OpportunityTeamMember';

/** One record to write; the shape of a writeback_outbox row. */
export interface PendingWrite {
  objectType: WriteObjectType;
  /**
   * Opportunity: its Id. Co_Lead_Suggestion__c: its External_Id__c.
   * OpportunityTeamMember: "<OpportunityId>:<UserId>" (see teamMemberWrite).
   */
  recordKey: string;
  fields: Record<string, unknown>;
}

export interface WriteOutcome {
  objectType: WriteObjectType;
  recordKey: string;
  ok: boolean;
  /** The Salesforce record Id, when known. */
  salesforceId?: string;
  /** Upserts and team members: whether a record was created. */
  created?: boolean;
  errorCode?: string;
  message?: string;
  /** Trying this write again later may succeed (locks, outages, rate limits). */
  retryable: boolean;
}

export interface WritebackResult {
  /** One per input write, in input order. */
  outcomes: WriteOutcome[];
  /** Salesforce calls made (queries included, retries not). */
  calls: number;
  /** The call-level failure that stopped the run, if any. */
  stoppedBy: SalesforceError | null;
}

const TEAM_MEMBER = 'OpportunityTeamMember' as const;

export function opportunityWrite(
  opportunityId: string,
  fields: Record<string, unknown>
): PendingWrite {
  return { objectType: 'Opportunity', recordKey: opportunityId, fields };
}

export function coLeadWrite(record: Record<string, unknown>): PendingWrite {
  const key = record[CO_LEAD_FIELDS.externalId];
  if (typeof key !== 'string' || !key) {
    throw new Error(`a co-lead record needs ${CO_LEAD_FIELDS.externalId}`);
  }
  return { objectType: CO_LEAD_OBJECT, recordKey: key, fields: record };
}

export function teamMemberKey(opportunityId: string, userId: string): string {
  return `${toId18(opportunityId)}:${toId18(userId)}`;
}

/** Adds an approved co-lead to the Opportunity team (role 'Co-Lead'). */
export function teamMemberWrite(opportunityId: string, userId: string): PendingWrite {
  return {
    objectType: TEAM_MEMBER,
    recordKey: teamMemberKey(opportunityId, userId),
    fields: {
      OpportunityId: toId18(opportunityId),
      UserId: toId18(userId),
      TeamMemberRole: OPPORTUNITY_TEAM_ROLE
    }
  };
}

interface Group {
  write: PendingWrite;
  indexes: number[];
}

/** Why a write cannot be sent, or null. */
function problemWith(w: PendingWrite): string | null {
  if (!w || typeof w.recordKey !== 'string' || !w.fields || typeof w.fields !== 'object') {
    return 'a write needs objectType, recordKey and fields';
  }
  const keys = Object.keys(w.fields);
  if (keys.some((k) => k.toLowerCase() === 'id' || k === 'attributes')) {
    return 'fields must not contain Id or attributes';
  }
  switch (w.objectType) {
    case 'Opportunity':
      if (!isSalesforceId(w.recordKey) || !w.recordKey.startsWith('006')) {
        return `recordKey ${JSON.stringify(w.recordKey)} is not an Opportunity Id`;
      }
      return keys.length ? null : 'no fields to write';
    case CO_LEAD_OBJECT: {
      const ext = w.fields[CO_LEAD_FIELDS.externalId];
      if (!w.recordKey || w.recordKey.length > 100) return 'recordKey must be 1..100 characters';
      if (ext !== undefined && ext !== w.recordKey) {
        return `${CO_LEAD_FIELDS.externalId} ${JSON.stringify(ext)} differs from recordKey`;
      }
      return null;
    }
    case TEAM_MEMBER: {
      const opp = w.fields.OpportunityId;
      const user = w.fields.UserId;
      if (!isSalesforceId(opp) || !opp.startsWith('006'))
        return 'OpportunityId is not an Opportunity Id';
      if (!isSalesforceId(user) || !user.startsWith('005')) return 'UserId is not a User Id';
      if (w.recordKey !== teamMemberKey(opp, user)) {
        return `recordKey must be "${teamMemberKey(opp, user)}" (see teamMemberWrite)`;
      }
      return null;
    }
    default:
      return `objectType ${JSON.stringify((w as PendingWrite).objectType)} is not written back`;
  }
}

function fromSaveResult(
  write: PendingWrite,
  r: SaveResult
): Omit<WriteOutcome, 'recordKey' | 'objectType'> {
  if (r.success) {
    return {
      ok: true,
      ...(r.id ? { salesforceId: r.id } : {}),
      ...(r.created !== undefined ? { created: r.created } : {}),
      retryable: false
    };
  }
  const e = r.errors[0];
  const code = e?.statusCode ?? 'UNKNOWN';
  const fields = e?.fields.length ? ` [${e.fields.join(', ')}]` : '';
  return {
    ok: false,
    errorCode: code,
    message: `${write.objectType} ${write.recordKey}: ${code}: ${e?.message ?? 'no message'}${fields}`,
    retryable: isRetryableRecordError(code)
  };
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Sends one org's pending writes. Writes for the same record are merged (later fields
 * win) and share one outcome. Never throws for Salesforce failures: see WritebackResult.
 */
export async function writeback(
  client: SalesforceClient,
  writes: PendingWrite[]
): Promise<WritebackResult> {
  const outcomes: (WriteOutcome | undefined)[] = new Array(writes.length);
  const settle = (g: Group, o: Omit<WriteOutcome, 'recordKey' | 'objectType'>) => {
    for (const i of g.indexes) {
      outcomes[i] = { objectType: g.write.objectType, recordKey: g.write.recordKey, ...o };
    }
  };

  const groups = new Map<string, Group>();
  writes.forEach((w, i) => {
    const problem = problemWith(w);
    if (problem) {
      outcomes[i] = {
        objectType: w?.objectType,
        recordKey: w?.recordKey,
        ok: false,
        errorCode: 'INVALID_WRITE',
        message: problem,
        retryable: false
      };
      return;
    }
    const key = `${w.objectType}\u0000${w.recordKey}`;
    const g = groups.get(key);
    if (g) {
      g.write = { ...g.write, fields: { ...g.write.fields, ...w.fields } };
      g.indexes.push(i);
    } else {
      groups.set(key, { write: { ...w, fields: { ...w.fields } }, indexes: [i] });
    }
  });

  // Opportunities first: suggestions and team members hang off them.
  const order: WriteObjectType[] = ['Opportunity', CO_LEAD_OBJECT, TEAM_MEMBER];
  const batches = order.flatMap((type) =>
    chunks(
      [...groups.values()].filter((g) => g.write.objectType === type),
      MAX_COLLECTION_SIZE
    ).map((batch) => ({ type, groups: batch }))
  );

  const counter = { calls: 0 };
  let stoppedBy: SalesforceError | null = null;
  for (const batch of batches) {
    if (stoppedBy) {
      for (const g of batch.groups) settle(g, callFailure(stoppedBy));
      continue;
    }
    try {
      if (batch.type === 'Opportunity') {
        counter.calls++;
        const results = await client.updateRecords(
          batch.groups.map((g) => ({
            type: 'Opportunity',
            id: g.write.recordKey,
            fields: g.write.fields
          }))
        );
        batch.groups.forEach((g, i) =>
          settle(g, fromSaveResult(g.write, results[i] as SaveResult))
        );
      } else if (batch.type === CO_LEAD_OBJECT) {
        await upsertCoLeads(client, batch.groups, settle, counter);
      } else {
        await addTeamMembers(client, batch.groups, settle, counter);
      }
    } catch (err) {
      if (!(err instanceof SalesforceError)) throw err;
      stoppedBy = err;
      for (const g of batch.groups) {
        if (!outcomes[g.indexes[0] as number]) settle(g, callFailure(err));
      }
    }
  }
  return { outcomes: outcomes as WriteOutcome[], calls: counter.calls, stoppedBy };
}

/**
 * Co_Lead_Suggestion__c.Opportunity__c is a master-detail that cannot be reparented, so
 * Salesforce refuses it on the update path of an upsert (INVALID_FIELD_FOR_INSERT_UPDATE)
 * while a create needs it. New suggestions go through in one call; the ones that already
 * existed are sent once more without it (a second call only when there are such records).
 */
async function upsertCoLeads(
  client: SalesforceClient,
  groups: Group[],
  settle: (g: Group, o: Omit<WriteOutcome, 'recordKey' | 'objectType'>) => void,
  counter: { calls: number }
): Promise<void> {
  const parent = CO_LEAD_FIELDS.opportunity;
  const send = (batch: Group[], withParent: boolean) => {
    counter.calls++;
    return client.upsertRecords(
      CO_LEAD_OBJECT,
      CO_LEAD_FIELDS.externalId,
      batch.map((g) => {
        const fields: Record<string, unknown> = {
          ...g.write.fields,
          [CO_LEAD_FIELDS.externalId]: g.write.recordKey
        };
        if (!withParent) delete fields[parent];
        return fields;
      })
    );
  };
  const first = await send(groups, true);
  const existing: Group[] = [];
  groups.forEach((g, i) => {
    const r = first[i] as SaveResult;
    const parentRefused = r.errors.some(
      (e) => e.statusCode === 'INVALID_FIELD_FOR_INSERT_UPDATE' && e.fields.includes(parent)
    );
    if (!r.success && parentRefused && parent in g.write.fields) existing.push(g);
    else settle(g, fromSaveResult(g.write, r));
  });
  if (!existing.length) return;
  const second = await send(existing, false);
  existing.forEach((g, i) => settle(g, fromSaveResult(g.write, second[i] as SaveResult)));
}

function callFailure(err: SalesforceError): Omit<WriteOutcome, 'recordKey' | 'objectType'> {
  return { ok: false, errorCode: err.errorCode, message: err.message, retryable: err.retryable };
}

/** Members already on the team count as written; the others are created. */
async function addTeamMembers(
  client: SalesforceClient,
  groups: Group[],
  settle: (g: Group, o: Omit<WriteOutcome, 'recordKey' | 'objectType'>) => void,
  counter: { calls: number }
): Promise<void> {
  const oppIds = [...new Set(groups.map((g) => g.write.fields.OpportunityId as string))];
  const userIds = [...new Set(groups.map((g) => g.write.fields.UserId as string))];
  const quote = (ids: string[]) => ids.map((id) => `'${id}'`).join(', ');
  const existing = new Map<string, string>();
  counter.calls++;
  let first = true;
  for await (const page of client.queryPages<{ Id: string; OpportunityId: string; UserId: string }>(
    `SELECT Id, OpportunityId, UserId FROM ${TEAM_MEMBER} ` +
      `WHERE OpportunityId IN (${quote(oppIds)}) AND UserId IN (${quote(userIds)})`
  )) {
    if (!first) counter.calls++;
    first = false;
    for (const r of page.records) existing.set(teamMemberKey(r.OpportunityId, r.UserId), r.Id);
  }
  const toCreate: Group[] = [];
  for (const g of groups) {
    const id = existing.get(g.write.recordKey);
    if (id) settle(g, { ok: true, salesforceId: id, created: false, retryable: false });
    else toCreate.push(g);
  }
  if (!toCreate.length) return;
  counter.calls++;
  // Safe to repeat: a member that already exists answers DUPLICATE_VALUE, which is success.
  const results = await client.createRecords(
    toCreate.map((g) => ({ type: TEAM_MEMBER, fields: g.write.fields })),
    { idempotent: true }
  );
  toCreate.forEach((g, i) => {
    const r = results[i] as SaveResult;
    const duplicate = !r.success && r.errors.some((e) => e.statusCode === 'DUPLICATE_VALUE');
    if (duplicate) {
      const id = /record with id: (\w{15,18})/.exec(r.errors[0]?.message ?? '')?.[1];
      settle(g, {
        ok: true,
        ...(id ? { salesforceId: id } : {}),
        created: false,
        retryable: false
      });
    } else {
      settle(g, { ...fromSaveResult(g.write, r), ...(r.success ? { created: true } : {}) });
    }
  });
}
