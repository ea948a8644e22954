import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CoLeadCandidate, ScoreResult } from '../scoring/types.ts';
import { coLeadExternalId, coLeadRecord, opportunityFieldValues, percent } from './fieldValues.ts';
import { CO_LEAD_FIELDS, OPPORTUNITY_FIELDS, type RiskFactorsJson } from './salesforceFields.ts';

function score(overrides: Partial<ScoreResult> = {}): ScoreResult {
  return {
    dealId: '0065g00000AbCdEAAV',
    probability: 0.456789,
    logit: -0.173,
    riskBand: 'MEDIUM',
    confidence: 'normal',
    method: 'model',
    explanation: {
      baseline: -0.19,
      contributions: [],
      raising: [
        { feature: 'lead_source', label: 'Referral deals win more often', contribution: 0.12345 }
      ],
      lowering: [
        {
          feature: 'rep_segment_fit',
          label: 'rep_19 wins 28% of HealthTech deals',
          contribution: -0.2
        },
        { feature: 'amount', label: 'Large deal', contribution: -0.0456 }
      ]
    },
    rsfs: {
      repId: '0055g00000XyZ12AAF',
      segmentField: 'industry',
      segment: 'HealthTech',
      wins: 11,
      n: 41,
      rawRate: 0.268,
      rsfs: 0.30155,
      low: 0.2,
      high: 0.41,
      band: 'RED',
      teamRate: 0.45,
      repOverallRate: 0.44
    },
    coLeads: [],
    modelVersion: 3,
    ...overrides
  };
}

describe('opportunityFieldValues', () => {
  test('maps a score to the Opportunity fields, rounded as the fields store them', () => {
    const v = opportunityFieldValues(score(), 0.40123, new Date('2026-01-02T03:04:05Z'));
    assert.deepEqual(v, {
      Win_Probability__c: 45.68,
      Risk_Band__c: 'Medium',
      Risk_Factors__c: v.Risk_Factors__c,
      Score_Confidence__c: 'Normal',
      RSFS__c: 30.16,
      RSFS_Band__c: 'Red',
      RSFS_Sample_Size__c: 41,
      Win_Probability_Change_7d__c: 5.56,
      Model_Version__c: 'model-v3',
      Scored_At__c: '2026-01-02T03:04:05.000Z'
    });
    const factors = JSON.parse(String(v.Risk_Factors__c)) as RiskFactorsJson;
    assert.deepEqual(factors, {
      v: 1,
      raising: [{ label: 'Referral deals win more often', impact: 0.123 }],
      lowering: [
        { label: 'rep_19 wins 28% of HealthTech deals', impact: -0.2 },
        { label: 'Large deal', impact: -0.046 }
      ]
    });
  });

  test('uses only the shared API names', () => {
    const names = new Set<string>(Object.values(OPPORTUNITY_FIELDS));
    for (const key of Object.keys(opportunityFieldValues(score(), 0.3, new Date()))) {
      assert.ok(names.has(key), `${key} is not in OPPORTUNITY_FIELDS`);
    }
  });

  test('the same score always maps to the same values (so an unchanged score costs no write)', () => {
    assert.deepEqual(opportunityFieldValues(score()), opportunityFieldValues(score()));
    assert.equal('Scored_At__c' in opportunityFieldValues(score()), false);
  });

  test('no RSFS and no 7-day history clear those fields; rules scores name the method', () => {
    const v = opportunityFieldValues(
      score({
        rsfs: null,
        modelVersion: null,
        method: 'rules',
        riskBand: 'HIGH',
        confidence: 'low'
      })
    );
    assert.equal(v.RSFS__c, null);
    assert.equal(v.RSFS_Band__c, null);
    assert.equal(v.RSFS_Sample_Size__c, null);
    assert.equal(v.Win_Probability_Change_7d__c, null);
    assert.equal(v.Model_Version__c, 'rules');
    assert.equal(v.Risk_Band__c, 'High');
    assert.equal(v.Score_Confidence__c, 'Low');
  });

  test('a probability outside 0..1 is a programming error', () => {
    assert.throws(() => opportunityFieldValues(score({ probability: 1.2 })), RangeError);
    assert.throws(() => opportunityFieldValues(score({ probability: Number.NaN })), RangeError);
    assert.throws(() => opportunityFieldValues(score(), -0.1), /previous7d/);
  });

  test('percent rounds half away from zero at 2 places', () => {
    assert.equal(percent(0.12345, 'x'), 12.35);
    assert.equal(percent(0, 'x'), 0);
    assert.equal(percent(1, 'x'), 100);
  });
});

describe('coLeadRecord', () => {
  const candidate: CoLeadCandidate = {
    repId: '0055g00000Mgr01',
    segment: 'HealthTech',
    winRate: 0.6123,
    sampleSize: 25,
    rank: 1,
    isPrimary: true,
    reason: 'x'.repeat(300)
  };

  test('builds an upsert record keyed by a stable external id, without Status__c', () => {
    const r = coLeadRecord('0065g00000AbCdE', candidate);
    assert.equal(r.External_Id__c, '0065g00000AbCdEAAV:0055g00000Mgr01AAB');
    assert.equal(r.Opportunity__c, '0065g00000AbCdEAAV');
    assert.equal(r.Suggested_User__c, '0055g00000Mgr01AAB');
    assert.equal(r.Segment__c, 'HealthTech');
    assert.equal(r.Win_Rate__c, 61.23);
    assert.equal(r.Sample_Size__c, 25);
    assert.equal(r.Rank__c, 1);
    assert.equal(String(r.Reason__c).length, 255);
    assert.equal(CO_LEAD_FIELDS.status in r, false);
  });

  test('sends a status only when asked', () => {
    assert.equal(
      coLeadRecord('0065g00000AbCdE', candidate, { status: 'Expired' }).Status__c,
      'Expired'
    );
  });

  test('the external id is the same for the 15- and 18-character forms of the Ids', () => {
    const key = '0065g00000AbCdEAAV:0055g00000Mgr01AAB';
    assert.equal(coLeadExternalId('0065g00000AbCdE', '0055g00000Mgr01'), key);
    assert.equal(coLeadExternalId('0065g00000AbCdEAAV', '0055g00000Mgr01AAB'), key);
  });

  test('rejects a rep that is not a Salesforce User', () => {
    assert.throws(
      () => coLeadRecord('0065g00000AbCdE', { ...candidate, repId: 'rep_19' }),
      /User Id/
    );
    assert.throws(() => coLeadRecord('rep_19', candidate), /Opportunity Id/);
  });
});
