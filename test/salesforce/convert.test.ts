// @salesforce/source-deploy-retrieve (the library behind `sf project deploy start`) converts
// force-app from source format to Metadata API format, as a deploy would, without an org.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ComponentSet, MetadataConverter } from '@salesforce/source-deploy-retrieve';
import { XMLParser } from 'fast-xml-parser';
import { ROOT, filesUnder, projectPath } from './forceApp.ts';
import { SALESFORCE_API_VERSION } from '../../backend/src/crm/salesforceFields.ts';

const DEPLOY_ENV = {
  DEAL_INSIGHTS_URL: 'https://insights.example.com',
  DEAL_INSIGHTS_ORG_ID: '00D5g000004XXXXEAA',
  // A deploy converts to a zip, which always applies the replacements; a conversion to a
  // directory applies them when asked to, as `sf project convert source` does.
  SF_APPLY_REPLACEMENTS_ON_CONVERT: 'true'
};

/** Runs fn with the given environment variables set (or removed, when undefined). */
async function withEnv<T>(env: Record<string, string | undefined>, fn: () => Promise<T>) {
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) {
        delete process.env[key];
      } else {
        process.env[key] = value;
      }
    }
  };
  apply(env);
  try {
    return await fn();
  } finally {
    apply(saved);
  }
}

async function convert(outputDirectory: string) {
  const components = ComponentSet.fromSource({ fsPaths: [projectPath('force-app')] });
  // Lets the converter find sfdx-project.json, and with it the "replacements".
  components.projectDirectory = ROOT;
  const result = await new MetadataConverter().convert(components, 'metadata', {
    type: 'directory',
    outputDirectory,
    packageName: 'Deal Insights',
    genUniqueDir: false
  });
  return { components, result };
}

function packageTypes(packageXml: string): Map<string, string[]> {
  const parsed = new XMLParser({ isArray: (name) => name === 'types' || name === 'members' }).parse(
    packageXml
  ) as { Package: { types: { name: string; members: string[] }[]; version: number | string } };
  return new Map(parsed.Package.types.map((type) => [type.name, type.members.map(String)]));
}

test('force-app converts to metadata format with the expected package.xml', async (t) => {
  const output = mkdtempSync(join(tmpdir(), 'deal-insights-mdapi-'));
  t.after(() => rmSync(output, { recursive: true, force: true }));

  const { result } = await withEnv(DEPLOY_ENV, () => convert(output));

  assert.ok(result.packagePath, 'the converter wrote a package');
  const packageDir = result.packagePath;
  const packageXml = readFileSync(join(packageDir, 'package.xml'), 'utf8');
  assert.match(packageXml, new RegExp(`<version>${SALESFORCE_API_VERSION}</version>`));
  assert.match(packageXml, /<fullName>Deal Insights<\/fullName>/);

  const types = packageTypes(packageXml);
  const expected: Record<string, string[]> = {
    ApexClass: [
      'DealInsightsSetupController',
      'DealInsightsTriggerHandler',
      'DealInsightsWebhookEvents',
      'DealInsightsWebhookJob'
    ],
    ApexTrigger: ['DealInsightsCoLeadTrigger', 'DealInsightsOpportunityTrigger'],
    CustomObject: ['Co_Lead_Suggestion__c'],
    CustomField: [
      'Co_Lead_Suggestion__c.Opportunity__c',
      'Co_Lead_Suggestion__c.Status__c',
      'Opportunity.Win_Probability__c',
      'Opportunity.Risk_Factors__c',
      'Opportunity.RSFS__c'
    ],
    ValidationRule: ['Co_Lead_Suggestion__c.Status_Change_Requires_Approver'],
    CustomPermission: ['Approve_Co_Leads', 'Deal_Insights_Integration_User'],
    PermissionSet: [
      'Deal_Insights_Admin',
      'Deal_Insights_Integration',
      'Deal_Insights_Manager',
      'Deal_Insights_User'
    ],
    CustomLabel: ['DI_Card_Title', 'DI_CoLead_Approve'],
    NamedCredential: ['DealInsights'],
    ExternalCredential: ['DealInsights'],
    FlexiPage: ['Deal_Insights_Opportunity_Record_Page', 'Deal_Insights_Setup'],
    CustomTab: ['Deal_Insights_Setup'],
    LightningComponentBundle: [
      'coLeadSuggestions',
      'dealInsights',
      'dealInsightsSetup',
      'dealInsightsUtils'
    ]
  };
  for (const [type, members] of Object.entries(expected)) {
    const listed = types.get(type);
    assert.ok(listed, `package.xml lists ${type}`);
    for (const member of members) {
      assert.ok(listed.includes(member), `package.xml lists ${type} ${member}`);
    }
  }
  assert.equal(types.get('CustomField')?.length, 21, '10 Opportunity + 11 co-lead fields');

  // Deploy-time values from sfdx-project.json "replacements".
  const namedCredential = readFileSync(
    join(packageDir, 'namedCredentials', 'DealInsights.namedCredential'),
    'utf8'
  );
  assert.match(
    namedCredential,
    /<parameterValue>https:\/\/insights\.example\.com<\/parameterValue>/
  );
  assert.doesNotMatch(namedCredential, /backend\.invalid/);
  const externalCredential = readFileSync(
    join(packageDir, 'externalCredentials', 'DealInsights.externalCredential'),
    'utf8'
  );
  assert.match(externalCredential, /<parameterValue>00D5g000004XXXXEAA<\/parameterValue>/);
  assert.doesNotMatch(externalCredential, /NOT_SET/);

  // Jest tests, mocks and data stay out of the deploy (.forceignore).
  const shipped = filesUnder(packageDir, '').map((path) => relative(packageDir, path));
  assert.deepEqual(
    shipped.filter((path) => /__tests__|jest|\.test\.js$/.test(path)),
    []
  );
  assert.ok(shipped.includes(join('lwc', 'dealInsights', 'dealInsights.js')));
});

test('conversion stops with a clear error when DEAL_INSIGHTS_URL is not set', async (t) => {
  const output = mkdtempSync(join(tmpdir(), 'deal-insights-mdapi-'));
  t.after(() => rmSync(output, { recursive: true, force: true }));

  await assert.rejects(
    withEnv({ ...DEPLOY_ENV, DEAL_INSIGHTS_URL: undefined }, () => convert(output)),
    /DEAL_INSIGHTS_URL/
  );
});
