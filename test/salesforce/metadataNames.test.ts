// Every object, field, permission, label, class, component and credential that the LWCs, the
// Apex and the metadata name exists in force-app; and force-app defines every name the backend
// relies on (backend/src/crm/salesforceFields.ts), with the types and values it expects.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  CO_LEAD_FIELDS,
  CO_LEAD_OBJECT,
  CO_LEAD_STATUSES,
  CONFIDENCE_VALUES,
  CUSTOM_PERMISSION_APPROVE,
  EXTERNAL_CREDENTIAL,
  NAMED_CREDENTIAL,
  OPPORTUNITY_FIELDS,
  OPPORTUNITY_SOURCE_FIELDS,
  OPPORTUNITY_TEAM_ROLE,
  PERMISSION_SETS,
  RISK_BAND_VALUES,
  RSFS_BAND_VALUES,
  SALESFORCE_API_VERSION
} from '../../backend/src/crm/salesforceFields.ts';
import {
  type Reference,
  allReferences,
  fieldProblem,
  filesUnder,
  list,
  loadIndex,
  projectPath,
  readMetadata,
  referencesFromApex,
  referencesFromLwc,
  referencesFromOtherMetadata,
  referencesFromPermissionSets,
  sourcePath,
  text,
  unresolved
} from './forceApp.ts';

const index = loadIndex();

describe('names used inside force-app resolve', () => {
  test('the LWCs: schema fields, custom permissions, labels, Apex methods, modules', () => {
    const references = referencesFromLwc(index);
    const kinds = new Set(references.map((reference) => reference.kind));
    for (const kind of ['field', 'customPermission', 'label', 'apexMethod', 'lwc', 'relatedList']) {
      assert.ok(kinds.has(kind as Reference['kind']), `the LWCs reference some ${kind}`);
    }
    assert.deepEqual(unresolved(index, references), []);
  });

  test('the Apex: custom objects and fields, labels, custom permissions, named credential', () => {
    const references = referencesFromApex(index);
    assert.ok(references.filter((reference) => reference.kind === 'customName').length >= 10);
    assert.ok(references.some((reference) => reference.kind === 'namedCredential'));
    assert.ok(references.some((reference) => reference.kind === 'customPermission'));
    assert.deepEqual(unresolved(index, references), []);
  });

  test('the permission sets: objects, fields, custom permissions, classes, tabs, principals', () => {
    const references = referencesFromPermissionSets(index);
    assert.ok(references.length > 40);
    assert.deepEqual(unresolved(index, references), []);
  });

  test('validation rules, FlexiPages, the tab and the named credential', () => {
    assert.deepEqual(unresolved(index, referencesFromOtherMetadata(index)), []);
  });

  test('the checker reports names that do not exist', () => {
    const made = (kind: Reference['kind'], name: string): Reference => ({
      kind,
      name,
      from: 'made-up'
    });
    const problems = unresolved(index, [
      made('field', 'Opportunity.Win_Probabilty__c'),
      made('field', 'Co_Lead_Suggestion__c.Suggested_User__r.Nickname'),
      made('field', 'Opportunity.Owner.Nickname'),
      made('customName', 'Risk_Bands__c'),
      made('label', 'DI_Does_Not_Exist'),
      made('customPermission', 'Approve_CoLeads'),
      made('apexMethod', 'DealInsightsSetupController.dropDatabase'),
      made('principal', 'DealInsights-SomeoneElse'),
      made('relatedList', 'Co_Lead_Suggestion__r')
    ]);
    assert.equal(problems.length, 9, problems.join('\n'));
    assert.deepEqual(unresolved(index, allReferences(index)), []);
  });

  test('permission sets leave out fields Salesforce does not let them grant', () => {
    // Required and master-detail fields are always accessible; listing one fails the deploy.
    for (const [name, permissionSet] of index.permissionSets) {
      for (const entry of list(permissionSet.fieldPermissions)) {
        const [object = '', field = ''] = (text(entry.field) ?? '').split('.');
        const info = index.fields.get(object)?.get(field);
        assert.ok(!info?.required, `${name} lists required field ${object}.${field}`);
        if (entry.editable === 'true') {
          assert.equal(
            entry.readable,
            'true',
            `${name}: ${object}.${field} editable needs readable`
          );
        }
      }
    }
  });
});

describe('force-app defines what the backend relies on (salesforceFields.ts)', () => {
  const opportunity = index.fields.get('Opportunity');
  const coLead = index.fields.get(CO_LEAD_OBJECT);

  test('the Opportunity fields, with the documented types and help text', () => {
    const types: Record<string, string> = {
      Win_Probability__c: 'Percent',
      Risk_Band__c: 'Picklist',
      Risk_Factors__c: 'LongTextArea',
      Score_Confidence__c: 'Picklist',
      RSFS__c: 'Percent',
      RSFS_Band__c: 'Picklist',
      RSFS_Sample_Size__c: 'Number',
      Win_Probability_Change_7d__c: 'Percent',
      Scored_At__c: 'DateTime',
      Model_Version__c: 'Text'
    };
    assert.deepEqual(Object.values(OPPORTUNITY_FIELDS).sort(), Object.keys(types).sort());
    for (const [field, type] of Object.entries(types)) {
      const info = opportunity?.get(field);
      assert.ok(info, `Opportunity.${field} is defined`);
      assert.equal(info.type, type, `Opportunity.${field} type`);
      assert.ok(info.inlineHelpText, `Opportunity.${field} has help text`);
    }
    assert.deepEqual([...(opportunity?.keys() ?? [])].sort(), Object.keys(types).sort());
  });

  test('the co-lead object and its fields, master-detail to Opportunity', () => {
    assert.ok(index.customObjects.has(CO_LEAD_OBJECT));
    const types: Record<string, string> = {
      Opportunity__c: 'MasterDetail',
      Suggested_User__c: 'Lookup',
      Segment__c: 'Text',
      Win_Rate__c: 'Percent',
      Sample_Size__c: 'Number',
      Rank__c: 'Number',
      Reason__c: 'Text',
      Status__c: 'Picklist',
      Decided_By__c: 'Lookup',
      Decided_At__c: 'DateTime',
      External_Id__c: 'Text'
    };
    assert.deepEqual(Object.values(CO_LEAD_FIELDS).sort(), Object.keys(types).sort());
    for (const [field, type] of Object.entries(types)) {
      const info = coLead?.get(field);
      assert.ok(info, `${CO_LEAD_OBJECT}.${field} is defined`);
      assert.equal(info.type, type, `${CO_LEAD_OBJECT}.${field} type`);
      assert.ok(info.inlineHelpText, `${CO_LEAD_OBJECT}.${field} has help text`);
    }
    assert.equal(coLead?.get('Opportunity__c')?.referenceTo, 'Opportunity');
    assert.equal(coLead?.get('Suggested_User__c')?.referenceTo, 'User');
    assert.equal(coLead?.get('Decided_By__c')?.referenceTo, 'User');
    const externalId = readMetadata(
      sourcePath('objects', CO_LEAD_OBJECT, 'fields', 'External_Id__c.field-meta.xml')
    );
    assert.equal(externalId.externalId, 'true', 'the integration user upserts on it');
    assert.equal(externalId.unique, 'true');
  });

  test('picklist values match, in order', () => {
    assert.deepEqual(opportunity?.get(OPPORTUNITY_FIELDS.riskBand)?.picklistValues, [
      ...RISK_BAND_VALUES
    ]);
    assert.deepEqual(opportunity?.get(OPPORTUNITY_FIELDS.scoreConfidence)?.picklistValues, [
      ...CONFIDENCE_VALUES
    ]);
    assert.deepEqual(opportunity?.get(OPPORTUNITY_FIELDS.rsfsBand)?.picklistValues, [
      ...RSFS_BAND_VALUES
    ]);
    assert.deepEqual(coLead?.get(CO_LEAD_FIELDS.status)?.picklistValues, [...CO_LEAD_STATUSES]);
  });

  test('the custom permission, the four permission sets and the credentials', () => {
    assert.ok(index.customPermissions.has(CUSTOM_PERMISSION_APPROVE));
    assert.deepEqual([...index.permissionSets.keys()].sort(), [...PERMISSION_SETS].sort());
    assert.ok(index.namedCredentials.has(NAMED_CREDENTIAL));
    assert.ok(index.externalCredentials.has(EXTERNAL_CREDENTIAL));
    const manager = index.permissionSets.get('Deal_Insights_Manager');
    assert.deepEqual(
      list(manager?.customPermissions).map((entry) => entry.name),
      [CUSTOM_PERMISSION_APPROVE]
    );
  });

  test('the standard Opportunity fields the backend reads exist and are sent by the Apex', () => {
    for (const field of OPPORTUNITY_SOURCE_FIELDS) {
      assert.equal(fieldProblem(index, `Opportunity.${field}`), undefined, field);
    }
    // Webhook "fields" for opportunity.changed: the contract's list minus Id and SystemModstamp,
    // which travel as recordId and systemModstamp.
    const events = index.apexClasses.get('DealInsightsWebhookEvents') ?? '';
    const body = /opportunityFields\(Opportunity record\) \{([\s\S]*?)\n {2}\}/.exec(events)?.[1];
    assert.ok(body, 'DealInsightsWebhookEvents.opportunityFields is there');
    const sent = [...body.matchAll(/'([\w.]+)' =>/g)].map((match) => match[1]);
    assert.deepEqual(
      sent.sort(),
      OPPORTUNITY_SOURCE_FIELDS.filter((f) => f !== 'Id' && f !== 'SystemModstamp').sort()
    );
    const handler = index.apexClasses.get('DealInsightsTriggerHandler') ?? '';
    const tracked = [...handler.matchAll(/Opportunity\.(\w+),?\n/g)].map((match) => match[1]);
    assert.ok(tracked.length >= 10, 'the handler lists the fields it watches');
    for (const field of tracked) {
      assert.ok(
        (OPPORTUNITY_SOURCE_FIELDS as readonly string[]).includes(field ?? ''),
        `${field} is one the backend reads`
      );
    }
  });

  test('co_lead.decided carries the fields backend/docs/webhooks.md lists', () => {
    const doc = readFileSync(projectPath('backend', 'docs', 'webhooks.md'), 'utf8');
    const section = /`co_lead\.decided`([\s\S]*?)- Ordering/.exec(doc)?.[1] ?? '';
    const documented = [...section.matchAll(/`(\w+__c)`/g)].map((match) => match[1]);
    assert.ok(documented.length >= 6, 'webhooks.md lists the co_lead.decided fields');
    const events = index.apexClasses.get('DealInsightsWebhookEvents') ?? '';
    const coLeadBody =
      /List<Map<String, Object>> coLeadEvents\(([\s\S]*?)\n {2}\}/.exec(events)?.[1] ?? '';
    const sent = [...coLeadBody.matchAll(/'(\w+__c)' =>/g)].map((match) => match[1]);
    assert.deepEqual(sent.sort(), documented.sort());
  });

  test('the external credential signs the JWT the backend verifies', () => {
    const credential = readMetadata(
      sourcePath('externalCredentials', `${EXTERNAL_CREDENTIAL}.externalCredential-meta.xml`)
    );
    assert.equal(credential.authenticationProtocol, 'Jwt');
    const parameters = list(credential.externalCredentialParameters);
    const ofType = (type: string) => parameters.filter((p) => p.parameterType === type);
    const certificate = text(ofType('SigningCertificate')[0]?.certificate);
    assert.equal(certificate, 'Deal_Insights_Webhook');
    const claims = Object.fromEntries(
      ofType('JwtBodyClaim').map((p) => [text(p.parameterName), text(p.parameterValue)])
    );
    // webhooks.md: iss = the org id, aud = the backend's audience (default deal-insights).
    const doc = readFileSync(projectPath('backend', 'docs', 'webhooks.md'), 'utf8');
    assert.match(doc, /`iss` = the org id/);
    assert.match(doc, /default\s+`deal-insights`/);
    assert.equal(claims.aud, 'deal-insights');
    const project = JSON.parse(readFileSync(projectPath('sfdx-project.json'), 'utf8')) as {
      replacements: { filename: string; stringToReplace: string; replaceWithEnv: string }[];
    };
    const replaced = (env: string) =>
      project.replacements.find((replacement) => replacement.replaceWithEnv === env);
    assert.equal(claims.iss, replaced('DEAL_INSIGHTS_ORG_ID')?.stringToReplace);
    assert.match(
      replaced('DEAL_INSIGHTS_ORG_ID')?.filename ?? '',
      /DealInsights\.externalCredential/
    );
    assert.equal(ofType('NamedPrincipal').length, 1);

    const named = index.namedCredentials.get(NAMED_CREDENTIAL);
    assert.equal(named?.namedCredentialType, 'SecuredEndpoint');
    assert.equal(named?.generateAuthorizationHeader, 'true');
    const url = list(named?.namedCredentialParameters).find((p) => p.parameterType === 'Url');
    assert.equal(text(url?.parameterValue), replaced('DEAL_INSIGHTS_URL')?.stringToReplace);

    const guide = readFileSync(projectPath('force-app', 'README.md'), 'utf8');
    assert.ok(guide.includes(certificate), 'README tells admins which certificate to create');
    assert.ok(guide.includes('--webhook-public-key'), 'README registers the public key');
  });

  test('one API version everywhere: sfdx-project.json and every -meta.xml', () => {
    const project = JSON.parse(readFileSync(projectPath('sfdx-project.json'), 'utf8')) as {
      sourceApiVersion: string;
      packageDirectories: { package?: string }[];
    };
    assert.equal(project.sourceApiVersion, SALESFORCE_API_VERSION);
    assert.equal(project.packageDirectories[0]?.package, 'Deal Insights');
    for (const path of filesUnder(sourcePath(), '-meta.xml')) {
      const version = readMetadata(path).apiVersion;
      if (version !== undefined) {
        assert.equal(version, SALESFORCE_API_VERSION, path);
      }
    }
  });

  test('the install guide tells admins to add the team role the backend uses', () => {
    const guide = readFileSync(projectPath('force-app', 'README.md'), 'utf8');
    assert.ok(guide.includes(`"${OPPORTUNITY_TEAM_ROLE}"`), 'README names the team role');
    assert.match(guide, /team selling/i);
  });
});

describe('metadata limits Salesforce enforces at deploy', () => {
  test('object permissions carry the permissions they depend on', () => {
    // Salesforce rejects a permission set that grants, say, Edit without Read, or Opportunity
    // access without Account read, or a detail object without its master.
    const requires: Record<string, string> = {
      Opportunity: 'Account',
      Co_Lead_Suggestion__c: 'Opportunity'
    };
    for (const [name, permissionSet] of index.permissionSets) {
      const byObject = new Map(
        list(permissionSet.objectPermissions).map((entry) => [text(entry.object) ?? '', entry])
      );
      for (const [object, entry] of byObject) {
        const on = (flag: string) => entry[flag] === 'true';
        const where = `${name} ${object}`;
        if (on('allowEdit') || on('allowCreate') || on('viewAllRecords')) {
          assert.ok(on('allowRead'), `${where}: needs Read`);
        }
        if (on('allowDelete')) {
          assert.ok(on('allowEdit'), `${where}: Delete needs Edit`);
        }
        if (on('modifyAllRecords')) {
          for (const flag of ['allowRead', 'allowEdit', 'allowDelete', 'viewAllRecords']) {
            assert.ok(on(flag), `${where}: Modify All needs ${flag}`);
          }
        }
        const parent = requires[object];
        if (parent && on('allowRead')) {
          assert.equal(
            byObject.get(parent)?.allowRead,
            'true',
            `${where}: needs Read on ${parent}`
          );
        }
      }
    }
  });

  test('descriptions, help texts and labels fit their fields', () => {
    const limits: [suffix: string, element: string, max: number][] = [
      ['.permissionset-meta.xml', 'description', 255],
      ['.customPermission-meta.xml', 'description', 255],
      ['.validationRule-meta.xml', 'description', 255],
      ['.validationRule-meta.xml', 'errorMessage', 255],
      ['.externalCredential-meta.xml', 'description', 255],
      ['.namedCredential-meta.xml', 'description', 255],
      ['.field-meta.xml', 'description', 1000],
      ['.field-meta.xml', 'inlineHelpText', 510],
      ['.field-meta.xml', 'label', 40]
    ];
    for (const [suffix, element, max] of limits) {
      const files = filesUnder(sourcePath(), suffix);
      assert.ok(files.length > 0, `some ${suffix}`);
      for (const path of files) {
        const value = text(readMetadata(path)[element]) ?? '';
        assert.ok(value.length <= max, `${path}: ${element} is ${value.length} > ${max}`);
      }
    }
    for (const label of list(
      readMetadata(sourcePath('labels', 'CustomLabels.labels-meta.xml')).labels
    )) {
      assert.ok((text(label.shortDescription) ?? '').length <= 80, String(label.fullName));
      assert.ok((text(label.value) ?? '').length <= 1000, String(label.fullName));
    }
  });
});
