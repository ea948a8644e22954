// Ready-made emulator setups for tests: an org with a registered connected app, the
// settings the backend needs to connect to it, and sample sales data.
import { SalesforceEmulator, type EmulatedOrg, type EmulatorOptions } from './emulator.ts';
import { generateRsaKeyPair, type KeyPairPem } from './keys.ts';

export interface EmulatedOrgSetup {
  emulator: SalesforceEmulator;
  org: EmulatedOrg;
  keys: KeyPairPem;
  /** What the backend stores for this org (orgs:add): same shape as OrgConnectionConfig. */
  connection: {
    orgId: string;
    loginUrl: string;
    clientId: string;
    username: string;
    privateKeyPem: string;
  };
}

/** Generating RSA keys is slow-ish; tests share one pair unless they need their own. */
let sharedKeys: Promise<KeyPairPem> | undefined;
export function testKeys(): Promise<KeyPairPem> {
  sharedKeys ??= generateRsaKeyPair();
  return sharedKeys;
}

export function connectionFor(emulator: SalesforceEmulator, org: EmulatedOrg, keys: KeyPairPem) {
  return {
    orgId: org.orgId,
    loginUrl: emulator.loginUrl,
    clientId: org.clientId,
    username: org.username,
    privateKeyPem: keys.privateKeyPem
  };
}

/** Starts an emulator with one org. Stop it with `setup.emulator.stop()`. */
export async function startEmulatedOrg(
  opts: EmulatorOptions & { orgName?: string; keys?: KeyPairPem } = {}
): Promise<EmulatedOrgSetup> {
  const emulator = await SalesforceEmulator.start(opts);
  const keys = opts.keys ?? (await testKeys());
  const org = emulator.addOrg({ publicKeyPem: keys.publicKeyPem, name: opts.orgName ?? 'Acme' });
  return { emulator, org, keys, connection: connectionFor(emulator, org, keys) };
}

export interface SampleData {
  managerId: string;
  repIds: string[];
  accountIds: string[];
  opportunityIds: string[];
}

const INDUSTRIES = ['FinTech', 'HealthTech', 'EdTech', 'Ecommerce', 'SaaS'];
const COUNTRIES = ['India', 'United States', 'Germany', 'Brazil'];
const STAGES = [
  'Prospecting',
  'Qualification',
  'Proposal/Price Quote',
  'Closed Won',
  'Closed Lost'
];

/**
 * Inserts a manager, `reps` reps reporting to them, accounts and `opportunities`
 * Opportunities spread over them (deterministic: record i always gets the same values).
 */
export function seedSalesData(
  org: EmulatedOrg,
  opts: { reps?: number; accounts?: number; opportunities: number }
): SampleData {
  const managerId = org.insert('User', {
    Username: `manager@${org.orgId.toLowerCase()}.example`,
    FirstName: 'Mia',
    LastName: 'Manager'
  });
  const repIds = Array.from({ length: opts.reps ?? 5 }, (_, i) =>
    org.insert('User', {
      Username: `rep${i}@${org.orgId.toLowerCase()}.example`,
      FirstName: 'Rep',
      LastName: String(i),
      ManagerId: managerId
    })
  );
  const accountIds = org.insertMany(
    'Account',
    Array.from({ length: opts.accounts ?? 20 }, (_, i) => ({
      Name: `Account ${i}`,
      Industry: INDUSTRIES[i % INDUSTRIES.length],
      BillingCountry: COUNTRIES[i % COUNTRIES.length]
    }))
  );
  const opportunityIds = org.insertMany(
    'Opportunity',
    Array.from({ length: opts.opportunities }, (_, i) => ({
      Name: `Deal ${i}`,
      OwnerId: repIds[i % repIds.length],
      AccountId: accountIds[i % accountIds.length],
      Amount: 1000 + (i % 50) * 250,
      StageName: STAGES[i % STAGES.length],
      CloseDate: `2025-${String((i % 12) + 1).padStart(2, '0')}-15`,
      LeadSource: i % 3 === 0 ? 'Referral' : 'Web',
      Type: i % 2 === 0 ? 'New Business' : 'Existing Business'
    }))
  );
  return { managerId, repIds, accountIds, opportunityIds };
}
