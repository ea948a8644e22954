// Approving or rejecting a co-lead suggestion: the status change in Postgres and the writes
// that mirror it to Salesforce (outbox rows), in one transaction. The caller then asks the
// writeback queue to flush; if Redis is down the pending outbox rows are flushed later.
import { createHash } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import type { Database, Db } from '../db/client.ts';
import { coLeadSuggestions, deals, writebackOutbox } from '../db/schema.ts';
import { CO_LEAD_FIELDS, CO_LEAD_OBJECT, OPPORTUNITY_TEAM_ROLE } from '../crm/salesforceFields.ts';
import type { Principal } from './principal.ts';
import { dealScope } from './rbac.ts';

export type Decision = 'approved' | 'rejected';

export interface DecidedCoLead {
  id: number;
  status: Decision;
  decidedBy: string;
  decidedAt: Date;
}

export type DecisionResult =
  | { kind: 'decided'; coLead: DecidedCoLead }
  | { kind: 'not_found' }
  | { kind: 'already_decided'; status: string; decidedAt: Date | null };

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

const SALESFORCE_USER_ID = /^005[A-Za-z0-9]{12}([A-Za-z0-9]{3})?$/;

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(obj[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Queues one Salesforce write; a newer payload for the same record replaces a pending one. */
export async function upsertOutboxRow(
  tx: Tx | Db,
  orgId: string,
  objectType: string,
  recordKey: string,
  payload: Record<string, unknown>
): Promise<void> {
  const payloadHash = createHash('sha256').update(stableJson(payload)).digest('hex');
  await tx
    .insert(writebackOutbox)
    .values({ orgId, objectType, recordKey, payload, payloadHash, status: 'pending' })
    .onConflictDoUpdate({
      target: [writebackOutbox.orgId, writebackOutbox.objectType, writebackOutbox.recordKey],
      set: {
        payload,
        payloadHash,
        // Already written with exactly this payload: nothing to do.
        status: sql`CASE WHEN ${writebackOutbox.writtenHash} = ${payloadHash} THEN ${writebackOutbox.status} ELSE 'pending' END`,
        attempts: 0,
        lastError: null,
        retryAt: null,
        updatedAt: sql`now()`
      }
    });
}

/**
 * Decides a proposed suggestion the principal may see (its deal is in their scope).
 * Out of scope or another org's -> not_found; no longer 'proposed' -> already_decided.
 */
export async function decideCoLead(
  database: Database,
  principal: Principal,
  coLeadId: number,
  decision: Decision
): Promise<DecisionResult> {
  return database.db.transaction(async (tx) => {
    const rows = await tx
      .select({
        externalId: coLeadSuggestions.externalId,
        status: coLeadSuggestions.status,
        decidedAt: coLeadSuggestions.decidedAt,
        suggestedRepId: coLeadSuggestions.suggestedRepId,
        dealExternalId: deals.externalId
      })
      .from(coLeadSuggestions)
      .innerJoin(deals, eq(deals.id, coLeadSuggestions.dealId))
      .where(
        and(
          eq(coLeadSuggestions.orgId, principal.orgId),
          eq(coLeadSuggestions.id, coLeadId),
          dealScope(principal)
        )
      )
      .for('update', { of: coLeadSuggestions });
    const row = rows[0];
    if (!row) return { kind: 'not_found' } as const;
    if (row.status !== 'proposed') {
      return { kind: 'already_decided', status: row.status, decidedAt: row.decidedAt } as const;
    }
    const [updated] = await tx
      .update(coLeadSuggestions)
      .set({
        status: decision,
        decidedBy: principal.userId,
        decidedAt: sql`now()`,
        updatedAt: sql`now()`
      })
      .where(and(eq(coLeadSuggestions.orgId, principal.orgId), eq(coLeadSuggestions.id, coLeadId)))
      .returning({ decidedAt: coLeadSuggestions.decidedAt });
    const decidedAt = updated!.decidedAt as Date;

    const coLeadPayload: Record<string, unknown> = {
      [CO_LEAD_FIELDS.externalId]: row.externalId,
      [CO_LEAD_FIELDS.status]: decision === 'approved' ? 'Approved' : 'Rejected',
      [CO_LEAD_FIELDS.decidedAt]: decidedAt.toISOString()
    };
    // Decided_By__c is a User lookup: set only when the deciding user is a Salesforce user.
    if (SALESFORCE_USER_ID.test(principal.userId)) {
      coLeadPayload[CO_LEAD_FIELDS.decidedBy] = principal.userId;
    }
    await upsertOutboxRow(tx, principal.orgId, CO_LEAD_OBJECT, row.externalId, coLeadPayload);
    if (decision === 'approved') {
      await upsertOutboxRow(
        tx,
        principal.orgId,
        'OpportunityTeamMember',
        `${row.dealExternalId}:${row.suggestedRepId}`,
        {
          OpportunityId: row.dealExternalId,
          UserId: row.suggestedRepId,
          TeamMemberRole: OPPORTUNITY_TEAM_ROLE
        }
      );
    }
    return {
      kind: 'decided',
      coLead: { id: coLeadId, status: decision, decidedBy: principal.userId, decidedAt }
    } as const;
  });
}
