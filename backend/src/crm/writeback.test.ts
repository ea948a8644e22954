import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  seedSalesData,
  startEmulatedOrg,
  type EmulatedOrgSetup,
  type SampleData
} from '../../../test/sf-emulator/index.ts';
import type { CoLeadCandidate, ScoreResult } from '../scoring/types.ts';
import { SalesforceClient, SalesforceRateLimitError } from './connection.ts';
import {
  coLeadRecord,
  coLeadWrite,
  opportunityFieldValues,
  opportunityWrite,
  teamMemberWrite,
  writeback,
  type PendingWrite
} from './writeback.ts';

let setup: EmulatedOrgSetup;
let data: SampleData;
let client: SalesforceClient;

function score(probability: number, riskBand: ScoreResult['riskBand'] = 'MEDIUM'): ScoreResult {
  return {
    dealId: 'x',
    probability,
    logit: Math.log(probability / (1 - probability)),
    riskBand,
    confidence: 'normal',
    method: 'model',
    explanation: {
      baseline: 0,
      contributions: [],
      raising: [{ feature: 'a', label: 'Referral', contribution: 0.2 }],
      lowering: [{ feature: 'b', label: 'Large deal', contribution: -0.1 }]
    },
    rsfs: null,
    coLeads: [],
    modelVersion: 2
  };
}

function candidate(repId: string, rank: number): CoLeadCandidate {
  return {
    repId,
    segment: 'HealthTech',
    winRate: 0.55,
    sampleSize: 30,
    rank,
    isPrimary: rank === 1,
    reason: 'Wins HealthTech deals'
  };
}

before(async () => {
  setup = await startEmulatedOrg();
  data = seedSalesData(setup.org, { opportunities: 460 });
});
after(async () => {
  await setup.emulator.stop();
});
beforeEach(() => {
  // A fresh client per test: its token request is not counted in the collection calls below.
  client = new SalesforceClient(setup.connection, {
    backoffBaseMs: 10,
    backoffMaxMs: 100,
    random: () => 0.5
  });
  setup.emulator.resetStats();
});
afterEach(() => {
  setup.emulator.clearFaults();
  setup.org.store.clearValidationRules();
});

describe('Opportunity updates', () => {
  test('450 updates go out as 3 sObject Collections calls and land in Salesforce', async () => {
    const ids = data.opportunityIds.slice(0, 450);
    const writes = ids.map((id, i) =>
      opportunityWrite(
        id,
        opportunityFieldValues(score(0.1 + (i % 80) / 100, i % 2 ? 'HIGH' : 'LOW'))
      )
    );
    const result = await writeback(client, writes);
    assert.equal(result.stoppedBy, null);
    assert.equal(result.calls, 3);
    assert.equal(setup.emulator.count('collections:update'), 3);
    assert.deepEqual(
      setup.emulator.calls.filter((c) => c.endpoint === 'collections:update').map((c) => c.records),
      [200, 200, 50]
    );
    assert.equal(result.outcomes.length, 450);
    assert.ok(
      result.outcomes.every((o, i) => o.ok && o.recordKey === ids[i] && o.salesforceId === ids[i])
    );
    const stored = setup.org.get('Opportunity', ids[7] as string);
    assert.equal(stored?.Win_Probability__c, 17);
    assert.equal(stored?.Risk_Band__c, 'High');
    assert.deepEqual(JSON.parse(String(stored?.Risk_Factors__c)), {
      v: 1,
      raising: [{ label: 'Referral', impact: 0.2 }],
      lowering: [{ label: 'Large deal', impact: -0.1 }]
    });
  });

  test('nothing to write: no call at all (not even a token request)', async () => {
    const result = await writeback(client, []);
    assert.deepEqual(result, { outcomes: [], calls: 0, stoppedBy: null });
    assert.deepEqual(setup.emulator.stats().byEndpoint, {});
  });

  test('per-record failures come back with the reason and whether a retry can help', async () => {
    const [locked, invalid, badValue, deleted, fine] = data.opportunityIds.slice(
      450,
      455
    ) as string[];
    setup.org.lock(locked as string);
    setup.org.addValidationRule('Opportunity', (r) =>
      r.Id === invalid ? 'Win probability cannot be set on a frozen deal' : null
    );
    setup.org.delete('Opportunity', deleted as string);
    const values = opportunityFieldValues(score(0.42));
    const result = await writeback(client, [
      opportunityWrite(locked as string, values),
      opportunityWrite(invalid as string, values),
      opportunityWrite(badValue as string, { ...values, Risk_Band__c: 'Severe' }),
      opportunityWrite(deleted as string, values),
      opportunityWrite(fine as string, values)
    ]);
    setup.org.unlock(locked as string);
    assert.equal(result.calls, 1);
    assert.deepEqual(
      result.outcomes.map((o) => [o.ok, o.errorCode ?? null, o.retryable]),
      [
        [false, 'UNABLE_TO_LOCK_ROW', true],
        [false, 'FIELD_CUSTOM_VALIDATION_EXCEPTION', false],
        [false, 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', false],
        [false, 'ENTITY_IS_DELETED', false],
        [true, null, false]
      ]
    );
    assert.match(result.outcomes[1]?.message ?? '', /frozen deal/);
    assert.match(result.outcomes[2]?.message ?? '', /Risk_Band__c/);
    assert.equal(setup.org.get('Opportunity', fine as string)?.Win_Probability__c, 42);
  });

  test('malformed writes fail without a call; writes to one record are merged', async () => {
    const id = data.opportunityIds[455] as string;
    const result = await writeback(client, [
      opportunityWrite('not-an-id', { Win_Probability__c: 1 }),
      opportunityWrite(data.opportunityIds[456] as string, { Id: 'x', Win_Probability__c: 1 }),
      opportunityWrite(id, { Win_Probability__c: 10, Risk_Band__c: 'Low' }),
      opportunityWrite(id, { Win_Probability__c: 20 })
    ]);
    assert.deepEqual(
      result.outcomes.map((o) => [o.ok, o.errorCode ?? null]),
      [
        [false, 'INVALID_WRITE'],
        [false, 'INVALID_WRITE'],
        [true, null],
        [true, null]
      ]
    );
    assert.equal(result.calls, 1);
    assert.deepEqual(
      setup.emulator.calls.filter((c) => c.endpoint === 'collections:update').map((c) => c.records),
      [1]
    );
    const stored = setup.org.get('Opportunity', id);
    assert.equal(stored?.Win_Probability__c, 20);
    assert.equal(stored?.Risk_Band__c, 'Low');
  });
});

describe('Co_Lead_Suggestion__c upserts', () => {
  test('upserting the same suggestions twice gives the same records (idempotent)', async () => {
    const opp = data.opportunityIds[457] as string;
    const writes = data.repIds
      .slice(0, 3)
      .map((rep, i) => coLeadWrite(coLeadRecord(opp, candidate(rep, i + 1))));
    const first = await writeback(client, writes);
    const second = await writeback(client, writes);
    assert.ok(first.outcomes.every((o) => o.ok && o.created === true));
    assert.ok(second.outcomes.every((o) => o.ok && o.created === false));
    assert.deepEqual(
      second.outcomes.map((o) => o.salesforceId),
      first.outcomes.map((o) => o.salesforceId)
    );
    const stored = setup.org.all('Co_Lead_Suggestion__c').filter((r) => r.Opportunity__c === opp);
    assert.equal(stored.length, 3);
    assert.ok(stored.every((r) => r.Status__c === 'Proposed'));
    // Opportunity__c cannot be sent to existing records (master-detail, not reparentable):
    // the repeat takes one call that Salesforce refuses for them, and one without it.
    assert.equal(first.calls, 1);
    assert.equal(second.calls, 2);
    assert.equal(setup.emulator.count('collections:upsert'), 3);
  });

  test("a manager's decision in Salesforce survives a re-suggestion", async () => {
    const opp = data.opportunityIds[458] as string;
    const write = coLeadWrite(coLeadRecord(opp, candidate(data.repIds[0] as string, 1)));
    const [created] = (await writeback(client, [write])).outcomes;
    setup.org.update('Co_Lead_Suggestion__c', created?.salesforceId as string, {
      Status__c: 'Approved'
    });
    const again = await writeback(client, [write]);
    assert.equal(again.outcomes[0]?.ok, true);
    assert.equal(
      setup.org.get('Co_Lead_Suggestion__c', created?.salesforceId as string)?.Status__c,
      'Approved'
    );
  });
});

describe('OpportunityTeamMember for approved co-leads', () => {
  test('adds the co-lead once with role Co-Lead; a repeat finds it and creates nothing', async () => {
    const opp = data.opportunityIds[459] as string;
    const rep = data.repIds[2] as string;
    const first = await writeback(client, [teamMemberWrite(opp, rep)]);
    assert.equal(first.outcomes[0]?.ok, true);
    assert.equal(first.outcomes[0]?.created, true);
    assert.equal(first.calls, 2); // look up existing members, then create
    const second = await writeback(client, [teamMemberWrite(opp, rep)]);
    assert.equal(second.outcomes[0]?.ok, true);
    assert.equal(second.outcomes[0]?.created, false);
    assert.equal(second.outcomes[0]?.salesforceId, first.outcomes[0]?.salesforceId);
    assert.equal(second.calls, 1);
    const members = setup.org.all('OpportunityTeamMember').filter((m) => m.OpportunityId === opp);
    assert.deepEqual(
      members.map((m) => [m.UserId, m.TeamMemberRole]),
      [[rep, 'Co-Lead']]
    );
    assert.equal(setup.emulator.count('collections:create'), 1);
  });

  test('a create that timed out but was applied is retried, and DUPLICATE_VALUE counts as done', async () => {
    const opp = data.opportunityIds[0] as string;
    const rep = data.repIds[3] as string;
    const slowClient = new SalesforceClient(setup.connection, {
      timeoutMs: 100,
      backoffBaseMs: 1_200,
      random: () => 0.5
    });
    setup.emulator.failNext(1, 'slow', {
      delayMs: 300,
      match: (c) => c.endpoint === 'collections:create'
    });
    const result = await writeback(slowClient, [teamMemberWrite(opp, rep)]);
    assert.equal(result.outcomes[0]?.ok, true);
    assert.equal(result.outcomes[0]?.created, false);
    assert.match(result.outcomes[0]?.salesforceId ?? '', /^00q/);
    assert.equal(setup.emulator.count('collections:create'), 2);
    assert.equal(
      setup.org.all('OpportunityTeamMember').filter((m) => m.OpportunityId === opp).length,
      1
    );
  });
});

describe('call-level failures', () => {
  test('REQUEST_LIMIT_EXCEEDED stops the run: confirmed writes stay ok, the rest are retryable', async () => {
    let updates = 0;
    setup.emulator.failNext(1, 'requestLimit', {
      match: (c) => c.endpoint === 'collections:update' && ++updates === 2
    });
    const writes: PendingWrite[] = data.opportunityIds
      .slice(0, 450)
      .map((id) => opportunityWrite(id, { Win_Probability__c: 33 }));
    writes.push(teamMemberWrite(data.opportunityIds[1] as string, data.repIds[0] as string));
    const result = await writeback(client, writes);
    assert.ok(result.stoppedBy instanceof SalesforceRateLimitError);
    assert.equal(result.calls, 2);
    assert.ok(result.outcomes.slice(0, 200).every((o) => o.ok));
    assert.ok(
      result.outcomes
        .slice(200)
        .every((o) => !o.ok && o.errorCode === 'REQUEST_LIMIT_EXCEEDED' && o.retryable)
    );
    assert.equal(setup.emulator.count('collections:update'), 2);
    assert.equal(setup.emulator.count('query'), 0);
  });

  test('a 503 on an update is retried by the client: one logical call, all written', async () => {
    setup.emulator.failNext(1, 'unavailable', {
      match: (c) => c.endpoint === 'collections:update'
    });
    const ids = data.opportunityIds.slice(0, 10);
    const result = await writeback(
      client,
      ids.map((id) => opportunityWrite(id, { Win_Probability__c: 64 }))
    );
    assert.ok(result.outcomes.every((o) => o.ok));
    assert.equal(result.calls, 1);
    assert.equal(setup.emulator.count('collections:update'), 2);
    assert.ok(ids.every((id) => setup.org.get('Opportunity', id)?.Win_Probability__c === 64));
  });

  test('opportunity, suggestion and team member writes together: 4 calls', async () => {
    const opp = data.opportunityIds[2] as string;
    const rep = data.repIds[4] as string;
    const result = await writeback(client, [
      teamMemberWrite(opp, rep),
      coLeadWrite(coLeadRecord(opp, candidate(rep, 1))),
      opportunityWrite(opp, opportunityFieldValues(score(0.7, 'LOW')))
    ]);
    assert.ok(result.outcomes.every((o) => o.ok));
    assert.equal(result.calls, 4);
    assert.deepEqual(
      setup.emulator.calls.filter((c) => c.endpoint !== 'oauth2/token').map((c) => c.endpoint),
      ['collections:update', 'collections:upsert', 'query', 'collections:create']
    );
  });
});
