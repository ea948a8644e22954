import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPath, parseWebhookPayload, PayloadError } from './payload.ts';

const ORG = '00D5g000004XXXXEAA';
const OPP = '0065g00000AbCdEAAV';

function changed(i = 0) {
  const modstamp = new Date(Date.UTC(2026, 10, 22, 10, 0, i)).toISOString();
  return {
    id: `${OPP}:${modstamp}`,
    type: 'opportunity.changed',
    occurredAt: modstamp,
    recordId: OPP,
    systemModstamp: modstamp,
    fields: {
      Name: 'Acme renewal',
      OwnerId: '0055g00000XyZ12AAB',
      'Owner.ManagerId': '0055g00000Mgr01AAB',
      AccountId: '0015g00000Acc01AAB',
      'Account.Industry': 'HealthTech',
      'Account.BillingCountry': 'India',
      Amount: 12000,
      StageName: 'Proposal',
      CloseDate: '2026-12-31',
      CreatedDate: '2026-10-01T09:00:00.000Z',
      IsClosed: false,
      IsWon: false,
      LeadSource: 'Referral',
      Type: 'Core'
    }
  };
}
const payload = (events: unknown[]) => ({ specVersion: '1', orgId: ORG, events });
const raw = (v: unknown) => Buffer.from(JSON.stringify(v));

function messageOf(body: unknown): string {
  try {
    parseWebhookPayload(typeof body === 'string' ? Buffer.from(body) : raw(body));
  } catch (e) {
    assert.ok(e instanceof PayloadError);
    return e.message;
  }
  assert.fail('expected a PayloadError');
}

describe('webhook payload', () => {
  test('the documented example parses, with every event type', () => {
    const decided = {
      ...changed(1),
      id: 'a015g00000Cl01AAAA:2026-11-22T10:00:01.000Z',
      type: 'co_lead.decided',
      recordId: 'a015g00000Cl01AAAA',
      fields: {
        External_Id__c: `${ORG}:${OPP}:rep_1`,
        Status__c: 'Approved',
        Decided_By__c: '0055g00000Mgr01AAB',
        Decided_At__c: '2026-11-22T10:00:01.000Z',
        Opportunity__c: OPP,
        Suggested_User__c: '0055g00000XyZ13AAB'
      }
    };
    const deleted = { ...changed(2), type: 'opportunity.deleted', fields: {} };
    const out = parseWebhookPayload(raw(payload([changed(0), decided, deleted])));
    assert.deepEqual(
      out.events.map((e) => e.type),
      ['opportunity.changed', 'co_lead.decided', 'opportunity.deleted']
    );
  });

  test('messages name the path and the problem', () => {
    const bad = (mutate: (e: ReturnType<typeof changed>) => unknown) =>
      messageOf(payload([changed(0), changed(1), changed(2), mutate(changed(3))]));
    assert.equal(
      bad((e) => ({ ...e, systemModstamp: 'yesterday' })),
      'events[3].systemModstamp: not an ISO date'
    );
    assert.equal(
      bad((e) => ({ ...e, type: 'lead.changed' })),
      'events[3].type: must be one of opportunity.changed, opportunity.deleted, co_lead.decided'
    );
    assert.equal(
      bad((e) => ({ ...e, fields: { ...e.fields, Amount: '12000' } })),
      'events[3].fields.Amount: must be a number'
    );
    assert.equal(
      bad((e) => ({ ...e, fields: { ...e.fields, 'Account.Industry': 7 } })),
      'events[3].fields["Account.Industry"]: must be a string'
    );
    assert.equal(
      bad((e) => ({ ...e, recordId: 'x' })),
      'events[3].recordId: not a Salesforce Id (15 or 18 letters and digits)'
    );
    assert.equal(
      bad((e) => {
        const { fields, ...rest } = e;
        void fields;
        return rest;
      }),
      'events[3].fields: is required'
    );
  });

  test('the body as a whole: JSON, shape, version, event count', () => {
    assert.match(messageOf('{"specVersion":'), /^body is not valid JSON/);
    assert.equal(messageOf([]), '(body): must be an object');
    assert.equal(
      messageOf({ ...payload([changed()]), specVersion: '2' }),
      'specVersion: must be "1"'
    );
    assert.equal(messageOf(payload([])), 'events: must hold at least one event');
    assert.equal(
      messageOf(payload(Array.from({ length: 201 }, (_, i) => changed(i % 60)))),
      'events: must hold at most 200 events'
    );
  });

  test('formatPath writes array indexes and quotes keys that are not identifiers', () => {
    assert.equal(
      formatPath(['events', 0, 'fields', 'Owner.ManagerId']),
      'events[0].fields["Owner.ManagerId"]'
    );
    assert.equal(formatPath([]), '(body)');
  });
});
