// Co-lead decisions: status transitions in Postgres, the Salesforce mirror (outbox rows),
// the writeback flush queued, 409 on a decided one, who may decide.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { and, eq } from 'drizzle-orm';
import { coLeadSuggestions, writebackOutbox } from '../../backend/src/db/schema.ts';
import { startApiTest, type ApiTest } from './harness.ts';
import { seedOrg, type SeededOrg } from './seed.ts';

interface CoLead {
  id: number;
  externalId: string;
  dealId: string;
  dealOwnerId: string;
  suggestedRepId: string;
  status: string;
}

describe('co-leads: list, approve, reject', () => {
  let t: ApiTest;
  let alpha: SeededOrg;
  let manager: string;

  before(async () => {
    t = await startApiTest({
      seed: async (db) => {
        alpha = await seedOrg(db, 'alpha');
        await seedOrg(db, 'bravo');
      }
    });
    manager = await t.token(alpha.orgId, alpha.managers[0], 'manager');
  });
  after(() => t.close());

  const post = (url: string, token = manager) =>
    t.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}` } });
  async function listAll(query: string, token = manager): Promise<CoLead[]> {
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/v1/co-leads?limit=200&${query}`,
      headers: { authorization: `Bearer ${token}` }
    });
    assert.equal(res.statusCode, 200, res.body);
    return (res.json() as { items: CoLead[] }).items;
  }
  async function outboxRows() {
    return t.database.db
      .select()
      .from(writebackOutbox)
      .where(eq(writebackOutbox.orgId, alpha.orgId));
  }
  async function row(id: number) {
    const [r] = await t.database.db
      .select()
      .from(coLeadSuggestions)
      .where(and(eq(coLeadSuggestions.orgId, alpha.orgId), eq(coLeadSuggestions.id, id)));
    return r!;
  }

  test('the list is scoped: a rep sees proposals on own deals, the other manager none of this team', async () => {
    const rep = await t.token(alpha.orgId, alpha.reps[0], 'rep');
    const mgr2 = await t.token(alpha.orgId, alpha.managers[1], 'manager');
    const forRep = await listAll('', rep);
    assert.ok(forRep.length > 0);
    assert.ok(forRep.every((c) => c.dealOwnerId === alpha.reps[0]));
    assert.deepEqual(await listAll('', mgr2), []); // rep3's deals carry no proposals in the seed
    const forManager = await listAll('status=proposed');
    assert.deepEqual(
      new Set(forManager.map((c) => c.dealOwnerId)),
      new Set([alpha.reps[0], alpha.reps[1]])
    );
  });

  test('list pagination by cursor returns each suggestion once', async () => {
    const everything = await listAll('');
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/api/v1/co-leads?limit=4${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await t.app.inject({
        method: 'GET',
        url,
        headers: { authorization: `Bearer ${manager}` }
      });
      const page = res.json() as { items: CoLead[]; nextCursor: string | null };
      seen.push(...page.items.map((c) => c.id));
      cursor = page.nextCursor;
    } while (cursor);
    assert.deepEqual(
      seen,
      everything.map((c) => c.id)
    );
  });

  test('approve: status, decided_by/at in Postgres, Co_Lead_Suggestion__c and OpportunityTeamMember outbox rows, a writeback flush queued', async () => {
    const target = (await listAll('status=proposed')).find((c) => c.dealOwnerId === alpha.reps[0])!;
    const before = Date.now();
    const res = await post(`/api/v1/co-leads/${target.id}/approve`);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as { id: number; status: string; decidedBy: string; decidedAt: string };
    assert.equal(body.status, 'approved');
    assert.equal(body.decidedBy, alpha.managers[0]);

    const stored = await row(target.id);
    assert.equal(stored.status, 'approved');
    assert.equal(stored.decidedBy, alpha.managers[0]);
    assert.ok(stored.decidedAt && stored.decidedAt.getTime() >= before - 5_000);
    assert.equal(stored.decidedAt!.toISOString(), body.decidedAt);

    const outbox = await outboxRows();
    const coLeadRow = outbox.find(
      (r) => r.objectType === 'Co_Lead_Suggestion__c' && r.recordKey === target.externalId
    );
    assert.ok(coLeadRow, 'Co_Lead_Suggestion__c row');
    assert.equal(coLeadRow.status, 'pending');
    assert.deepEqual(coLeadRow.payload, {
      External_Id__c: target.externalId,
      Status__c: 'Approved',
      Decided_At__c: body.decidedAt
    });
    const teamRow = outbox.find((r) => r.objectType === 'OpportunityTeamMember');
    assert.ok(teamRow, 'OpportunityTeamMember row');
    assert.equal(teamRow.recordKey, `${target.dealId}:${target.suggestedRepId}`);
    assert.deepEqual(teamRow.payload, {
      OpportunityId: target.dealId,
      UserId: target.suggestedRepId,
      TeamMemberRole: 'Co-Lead'
    });

    const flushes = await t.queues.writeback.getJobs(['waiting', 'delayed', 'prioritized']);
    assert.ok(flushes.some((j) => j.name === 'flush' && j.data.orgId === alpha.orgId));
  });

  test('reject: status rejected, a Co_Lead_Suggestion__c row, no team member row for it', async () => {
    const target = (await listAll('status=proposed')).find((c) => c.dealOwnerId === alpha.reps[1])!;
    const teamBefore = (await outboxRows()).filter(
      (r) => r.objectType === 'OpportunityTeamMember'
    ).length;
    const res = await post(`/api/v1/co-leads/${target.id}/reject`);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal((await row(target.id)).status, 'rejected');
    const outbox = await outboxRows();
    const coLeadRow = outbox.find((r) => r.recordKey === target.externalId);
    assert.equal((coLeadRow?.payload as Record<string, unknown>).Status__c, 'Rejected');
    assert.equal(outbox.filter((r) => r.objectType === 'OpportunityTeamMember').length, teamBefore);
  });

  test('deciding again is 409 with the current status, and changes nothing', async () => {
    const target = (await listAll('status=proposed'))[0]!;
    assert.equal((await post(`/api/v1/co-leads/${target.id}/reject`)).statusCode, 200);
    const decided = await row(target.id);
    for (const action of ['approve', 'reject']) {
      const res = await post(`/api/v1/co-leads/${target.id}/${action}`);
      assert.equal(res.statusCode, 409);
      const body = res.json() as { code: string; message: string; details: { status: string } };
      assert.equal(body.code, 'conflict');
      assert.equal(body.details.status, 'rejected');
    }
    assert.deepEqual(await row(target.id), decided);
  });

  test('two managers deciding the same suggestion at once: exactly one wins, the other gets 409', async () => {
    const target = (await listAll('status=proposed'))[0]!;
    const admin = await t.token(alpha.orgId, alpha.admin, 'admin');
    const results = await Promise.all([
      post(`/api/v1/co-leads/${target.id}/approve`),
      post(`/api/v1/co-leads/${target.id}/reject`, admin)
    ]);
    assert.deepEqual(results.map((r) => r.statusCode).sort(), [200, 409]);
  });

  test('reps cannot decide (403); a manager of another team or an unknown id gets 404; bad ids 400', async () => {
    const target = (await listAll('status=proposed')).find((c) => c.dealOwnerId === alpha.reps[0])!;
    const rep = await t.token(alpha.orgId, alpha.reps[0], 'rep');
    assert.equal((await post(`/api/v1/co-leads/${target.id}/approve`, rep)).statusCode, 403);
    const mgr2 = await t.token(alpha.orgId, alpha.managers[1], 'manager');
    assert.equal((await post(`/api/v1/co-leads/${target.id}/approve`, mgr2)).statusCode, 404);
    assert.equal((await post(`/api/v1/co-leads/999999999/approve`)).statusCode, 404);
    const bad = await post(`/api/v1/co-leads/abc/approve`);
    assert.equal(bad.statusCode, 400);
    assert.equal((bad.json() as { details: { path: string }[] }).details[0]!.path, 'params/id');
    assert.equal((await row(target.id)).status, 'proposed');
  });

  test('Decided_By__c is sent only when the decider is a Salesforce user id', async () => {
    const target = (await listAll('status=proposed'))[0]!;
    const sfManager = await t.token(alpha.orgId, '005000000000042AAA', 'admin');
    assert.equal((await post(`/api/v1/co-leads/${target.id}/approve`, sfManager)).statusCode, 200);
    const outbox = await outboxRows();
    const payload = outbox.find((r) => r.recordKey === target.externalId)!.payload as Record<
      string,
      unknown
    >;
    assert.equal(payload.Decided_By__c, '005000000000042AAA');
  });
});
