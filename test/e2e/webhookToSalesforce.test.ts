// End to end: a signed webhook -> inbox -> score worker -> a score version in Postgres ->
// writeback worker -> the fields on the Opportunity in the Salesforce emulator, through the
// real jsforce client. Real Postgres and Redis; in-process app and workers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { percent } from '../../backend/src/crm/fieldValues.ts';
import { outboundMessageToken } from '../../backend/src/webhooks/outboundToken.ts';
import { SalesforceEmulator } from '../sf-emulator/emulator.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { deletePrefix } from '../support/redis.ts';
import type { Config } from '../../backend/src/config.ts';
import {
  opportunityChanged,
  orgJwt,
  testConfig,
  waitFor,
  webhookBody,
  type OpportunityState
} from './harness.ts';
import { seedScoringOrg, startStack, type ScoringOrg, type Stack } from './stack.ts';

let db: TestDatabase;
let emulator: SalesforceEmulator;
let config: Config;
let stack: Stack;
let org: ScoringOrg;
let next = 0;

before(async () => {
  db = await createTestDatabase();
  emulator = await SalesforceEmulator.start();
  config = testConfig(db.url);
  org = await seedScoringOrg(db, config, emulator, { closed: 1500, open: 40 });
  stack = await startStack({
    config,
    database: db,
    workers: true,
    writebackDelayMs: 200,
    log: pino({ level: process.env.E2E_LOG ?? 'silent' })
  });
});

after(async () => {
  await stack.close();
  await emulator.stop();
  await deletePrefix(config.DI_QUEUE_PREFIX);
  await db.drop();
});

/** A fresh open Opportunity for each test, so tests do not see each other's writes. */
function nextDeal(): OpportunityState {
  const deal = org.open[next++];
  assert.ok(deal, 'ran out of seeded open deals');
  return deal;
}

async function send(events: unknown[]): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${stack.url}/webhooks/salesforce`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${await orgJwt(org, config.DI_JWT_AUDIENCE)}`
    },
    body: webhookBody(org.orgId, events)
  });
  return { status: res.status, body: await res.json() };
}

async function dealRow(externalId: string) {
  const rows = await db.sql`
    SELECT d.id, d.amount, d.source_modstamp::text AS modstamp, d.latest_score_id,
      (SELECT count(*)::int FROM score_versions s WHERE s.deal_id = d.id) AS versions
    FROM deals d WHERE d.org_id = ${org.orgId} AND d.external_id = ${externalId}`;
  return rows[0];
}

async function latestScore(externalId: string) {
  const rows = await db.sql`
    SELECT s.probability, s.risk_band, s.confidence, s.rsfs, s.rsfs_band, s.scored_at::text AS scored_at
    FROM deals d JOIN score_versions s ON s.id = d.latest_score_id
    WHERE d.org_id = ${org.orgId} AND d.external_id = ${externalId}`;
  return rows[0];
}

/** Record ids written by each sObject Collections update call since `since`. */
function updateCallsSince(since: number) {
  return emulator.calls.filter((c) => c.endpoint === 'collections:update' && c.at >= since);
}

const outboxWritten = (recordKey: string) => async () => {
  const rows = await db.sql`
    SELECT status FROM writeback_outbox
    WHERE org_id = ${org.orgId} AND object_type = 'Opportunity' AND record_key = ${recordKey}`;
  return rows[0]?.status === 'done' ? true : undefined;
};

const inboxDone = (eventId: string) => async () => {
  const rows = await db.sql`
    SELECT status FROM webhook_inbox WHERE org_id = ${org.orgId} AND event_id = ${eventId}`;
  return rows[0]?.status === 'done' ? true : undefined;
};

describe('webhook to Salesforce', () => {
  test('a signed webhook becomes a score version in Postgres and fields on the Opportunity', async () => {
    const deal = nextDeal();
    const event = opportunityChanged({ ...deal, modstamp: new Date(Date.UTC(2026, 10, 22, 10)) });
    const res = await send([event]);
    assert.equal(res.status, 202);
    assert.deepEqual(res.body, { accepted: 1, duplicates: 0 });

    const record = await waitFor('the Opportunity fields in Salesforce', () => {
      const r = org.sf!.get('Opportunity', deal.recordId);
      return r && r.Win_Probability__c !== null && r.Win_Probability__c !== undefined
        ? r
        : undefined;
    });
    const stored = await dealRow(deal.recordId);
    assert.equal(stored?.versions, 1);
    const score = await latestScore(deal.recordId);
    assert.ok(score);
    assert.equal(record.Win_Probability__c, percent(score.probability as number, 'p'));
    assert.equal(record.Risk_Band__c, capitalize(score.risk_band as string));
    assert.equal(record.Score_Confidence__c, capitalize(score.confidence as string));
    assert.equal(
      record.RSFS_Band__c,
      score.rsfs_band === null ? null : capitalize(score.rsfs_band as string)
    );
    assert.match(String(record.Model_Version__c), /-v1$/);
    assert.equal(
      new Date(String(record.Scored_At__c)).getTime(),
      new Date(score.scored_at as string).getTime()
    );
    const factors = JSON.parse(String(record.Risk_Factors__c)) as {
      v: number;
      raising: unknown[];
      lowering: unknown[];
    };
    assert.equal(factors.v, 1);
    assert.ok(factors.raising.length + factors.lowering.length > 0);
    // The inbox row is done and the outbox row written. The worker marks the row done once
    // Salesforce has answered, so the fields can be there a moment before: wait for it.
    await waitFor('the inbox row done', inboxDone(event.id));
    await waitFor('the outbox row done', outboxWritten(deal.recordId));
    const outbox = await db.sql`
      SELECT status, payload_hash = written_hash AS same FROM writeback_outbox
      WHERE org_id = ${org.orgId} AND object_type = 'Opportunity' AND record_key = ${deal.recordId}`;
    assert.deepEqual(
      outbox.map((r) => ({ ...r })),
      [{ status: 'done', same: true }]
    );
  });

  test('the same event delivered ten times at once: one inbox row, one score version, one write', async () => {
    const deal = nextDeal();
    const since = Date.now();
    const event = opportunityChanged({ ...deal, modstamp: new Date(Date.UTC(2026, 10, 22, 11)) });
    const answers = await Promise.all(Array.from({ length: 10 }, () => send([event])));
    assert.ok(answers.every((a) => a.status === 202));
    const accepted = answers.reduce((n, a) => n + (a.body as { accepted: number }).accepted, 0);
    assert.equal(accepted, 1);
    await waitFor(
      'the Opportunity written',
      () => org.sf!.get('Opportunity', deal.recordId)?.Win_Probability__c ?? undefined
    );
    await waitFor('the inbox row done', inboxDone(event.id));
    // Let any stray duplicate work surface before counting.
    await new Promise((r) => setTimeout(r, 1_000));
    const rows = await db.sql`
      SELECT count(*)::int AS n FROM webhook_inbox WHERE org_id = ${org.orgId} AND event_id = ${event.id}`;
    assert.equal(rows[0]!.n, 1);
    assert.equal((await dealRow(deal.recordId))?.versions, 1);
    const writes = updateCallsSince(since);
    assert.equal(writes.length, 1, 'one sObject Collections update');
    assert.equal(writes[0]!.records, 1);
  });

  test('reordered events: the newest SystemModstamp wins, the older event changes nothing', async () => {
    const deal = nextDeal();
    const newer = opportunityChanged({
      ...deal,
      amount: 90_000,
      modstamp: new Date(Date.UTC(2026, 10, 22, 12, 0, 5))
    });
    const older = opportunityChanged({
      ...deal,
      amount: 3_000,
      modstamp: new Date(Date.UTC(2026, 10, 22, 12, 0, 1))
    });
    assert.equal((await send([newer])).status, 202);
    await waitFor('the newer event processed', inboxDone(newer.id));
    await waitFor('the newer score written', outboxWritten(deal.recordId));
    const afterNewer = await dealRow(deal.recordId);
    const since = Date.now();
    assert.equal((await send([older])).status, 202);
    await waitFor('the older event processed', inboxDone(older.id));
    const afterOlder = await dealRow(deal.recordId);
    assert.equal(afterOlder?.amount, 90_000);
    assert.equal(new Date(afterOlder?.modstamp as string).toISOString(), newer.systemModstamp);
    assert.equal(
      afterOlder?.versions,
      afterNewer?.versions,
      'no score version from the older event'
    );
    assert.equal(afterOlder?.latest_score_id, afterNewer?.latest_score_id);
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(updateCallsSince(since).length, 0, 'no Salesforce write for the older event');
  });

  test('in order, the later event wins too; a repeat with the same content costs no version and no call', async () => {
    const deal = nextDeal();
    const first = opportunityChanged({
      ...deal,
      amount: 4_000,
      modstamp: new Date(Date.UTC(2026, 10, 22, 13, 0, 1))
    });
    const second = opportunityChanged({
      ...deal,
      amount: 120_000,
      modstamp: new Date(Date.UTC(2026, 10, 22, 13, 0, 2))
    });
    await send([first]);
    await waitFor('first processed', inboxDone(first.id));
    await send([second]);
    await waitFor('second processed', inboxDone(second.id));
    const row = await dealRow(deal.recordId);
    assert.equal(row?.amount, 120_000);
    const score = await latestScore(deal.recordId);
    // Both scores can round to the same percent, so the field alone cannot tell the second write
    // has landed. The outbox row holds the later payload once the event is done, and is done
    // only when that payload is written: wait for it.
    await waitFor('the later payload written', outboxWritten(deal.recordId));
    await waitFor('the later score in Salesforce', () =>
      org.sf!.get('Opportunity', deal.recordId)?.Win_Probability__c ===
      percent(score!.probability as number, 'p')
        ? true
        : undefined
    );
    // Same content, newer modstamp (e.g. an unrelated field changed): nothing to score or write.
    const since = Date.now();
    const touch = opportunityChanged({
      ...deal,
      amount: 120_000,
      modstamp: new Date(Date.UTC(2026, 10, 22, 13, 0, 3))
    });
    await send([touch]);
    await waitFor('touch processed', inboxDone(touch.id));
    await new Promise((r) => setTimeout(r, 800));
    assert.equal((await dealRow(deal.recordId))?.versions, row?.versions);
    assert.equal(updateCallsSince(since).length, 0);
  });

  test('a co-lead approval adds the co-lead to the Opportunity team (role Co-Lead)', async () => {
    // A deal owned by a rep whose fit in its industry is RED gets co-lead suggestions.
    const red = await db.sql`
      SELECT rep_id, segment_value FROM rep_segment_stats
      WHERE org_id = ${org.orgId} AND band = 'RED' ORDER BY rsfs LIMIT 1`;
    assert.ok(red[0], 'the seeded data has a RED rep-segment pair');
    const deal = {
      ...nextDeal(),
      ownerId: red[0]!.rep_id as string,
      industry: red[0]!.segment_value as string
    };
    const changed = opportunityChanged({ ...deal, modstamp: new Date(Date.UTC(2026, 10, 22, 14)) });
    await send([changed]);
    await waitFor('scored', inboxDone(changed.id));
    const suggestion = await waitFor('a co-lead suggestion written to Salesforce', async () => {
      const rows = await db.sql`
        SELECT c.external_id, c.suggested_rep_id, c.salesforce_id FROM co_lead_suggestions c
        JOIN deals d ON d.id = c.deal_id
        WHERE d.org_id = ${org.orgId} AND d.external_id = ${deal.recordId} AND c.is_primary
          AND c.salesforce_id IS NOT NULL`;
      return rows[0];
    });
    const sfSuggestion = org.sf!.get('Co_Lead_Suggestion__c', suggestion.salesforce_id as string);
    assert.equal(sfSuggestion?.External_Id__c, suggestion.external_id);

    const decidedAt = '2026-11-22T14:05:00.000Z';
    const decision = {
      id: `${suggestion.salesforce_id}:${decidedAt}`,
      type: 'co_lead.decided',
      occurredAt: decidedAt,
      recordId: suggestion.salesforce_id,
      systemModstamp: decidedAt,
      fields: {
        External_Id__c: suggestion.external_id,
        Status__c: 'Approved',
        Decided_By__c: org.repIds[0],
        Decided_At__c: decidedAt,
        Opportunity__c: deal.recordId,
        Suggested_User__c: suggestion.suggested_rep_id
      }
    };
    assert.equal((await send([decision])).status, 202);
    const member = await waitFor('the OpportunityTeamMember', () =>
      org
        .sf!.all('OpportunityTeamMember')
        .find((m) => m.OpportunityId === deal.recordId && m.UserId === suggestion.suggested_rep_id)
    );
    assert.equal(member.TeamMemberRole, 'Co-Lead');
    const stored = await db.sql`
      SELECT status, decided_by, decided_at::text AS decided_at, owner_rsfs FROM co_lead_suggestions
      WHERE org_id = ${org.orgId} AND external_id = ${suggestion.external_id as string}`;
    assert.equal(stored[0]!.status, 'approved');
    assert.equal(stored[0]!.decided_by, org.repIds[0]);
    assert.equal(new Date(stored[0]!.decided_at as string).toISOString(), decidedAt);
    assert.equal(
      typeof stored[0]!.owner_rsfs,
      'number',
      'owner RSFS kept for co-led vs solo comparison'
    );
    // A repeated or later contrary decision does not move it backwards.
    const reject = {
      ...decision,
      id: `${suggestion.salesforce_id}:2026-11-22T14:06:00.000Z`,
      fields: { ...decision.fields, Status__c: 'Rejected' }
    };
    await send([reject]);
    await waitFor('the rejection processed', inboxDone(reject.id));
    const after =
      await db.sql`SELECT status FROM co_lead_suggestions WHERE org_id = ${org.orgId} AND external_id = ${suggestion.external_id as string}`;
    assert.equal(after[0]!.status, 'approved');
  });
});

describe('outbound messages to Salesforce', () => {
  function outboundMessage(
    notificationId: string,
    deal: OpportunityState,
    amount: number,
    modstamp: string
  ) {
    return (
      '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ' +
      'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>' +
      `<notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>${org.orgId}</OrganizationId>` +
      '<ActionId>04k000000000001AAA</ActionId><SessionId xsi:nil="true"/><EnterpriseUrl>x</EnterpriseUrl><PartnerUrl>x</PartnerUrl>' +
      `<Notification><Id>${notificationId}</Id><sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">` +
      `<sf:Id>${deal.recordId}</sf:Id><sf:OwnerId>${deal.ownerId}</sf:OwnerId><sf:Amount>${amount}</sf:Amount>` +
      `<sf:StageName>Proposal</sf:StageName><sf:CloseDate>2026-12-31</sf:CloseDate>` +
      `<sf:CreatedDate>${deal.createdDate ?? '2026-10-01'}T09:00:00.000Z</sf:CreatedDate><sf:IsClosed>false</sf:IsClosed>` +
      `<sf:IsWon>false</sf:IsWon><sf:SystemModstamp>${modstamp}</sf:SystemModstamp></sObject></Notification>` +
      '</notifications></soapenv:Body></soapenv:Envelope>'
    );
  }
  async function sendOutbound(xml: string) {
    const token = outboundMessageToken(org.webhookSecret, org.orgId);
    const res = await fetch(
      `${stack.url}/webhooks/salesforce/outbound-message?org=${org.orgId}&token=${token}`,
      {
        method: 'POST',
        headers: { 'content-type': 'text/xml; charset=utf-8' },
        body: xml
      }
    );
    assert.equal(res.status, 200, await res.clone().text());
    assert.match(await res.text(), /<Ack>true<\/Ack>/);
  }

  test('a known deal keeps the industry the message cannot carry; the new amount is scored and written', async () => {
    const deal = nextDeal();
    const first = opportunityChanged({ ...deal, modstamp: new Date(Date.UTC(2026, 10, 22, 15)) });
    await send([first]);
    await waitFor('first processed', inboxDone(first.id));
    await sendOutbound(
      outboundMessage('04l000000000101AAA', deal, 77_777, '2026-11-22T15:00:05.000Z')
    );
    await waitFor('the message processed', inboxDone('om:04l000000000101AAA'));
    const stored =
      await db.sql`SELECT amount, industry FROM deals WHERE org_id = ${org.orgId} AND external_id = ${deal.recordId}`;
    assert.deepEqual({ ...stored[0] }, { amount: 77_777, industry: deal.industry });
    const score = await latestScore(deal.recordId);
    await waitFor('the new score in Salesforce', () =>
      org.sf!.get('Opportunity', deal.recordId)?.Win_Probability__c ===
      percent(score!.probability as number, 'p')
        ? true
        : undefined
    );
  });

  test('a deal first seen in an outbound message is read from Salesforce once for what the message lacks', async () => {
    const deal = nextDeal();
    const queries = emulator.count('query', org.orgId);
    await sendOutbound(
      outboundMessage('04l000000000102AAA', deal, 5_000, '2026-11-22T16:00:00.000Z')
    );
    await waitFor('the message processed', inboxDone('om:04l000000000102AAA'));
    assert.equal(emulator.count('query', org.orgId), queries + 1);
    const stored =
      await db.sql`SELECT amount, latest_score_id FROM deals WHERE org_id = ${org.orgId} AND external_id = ${deal.recordId}`;
    assert.equal(stored[0]!.amount, 5_000);
    assert.ok(stored[0]!.latest_score_id);
  });
});

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
}
