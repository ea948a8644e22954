// Salesforce record and org Ids: 15 case-sensitive characters, or 18 with a checksum suffix
// that encodes where the upper-case letters are. The backend stores and compares the
// 18-character form, which is what Apex (UserInfo.getOrganizationId) and the API return.

const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const ID_RE = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;

function checksum(id15: string): string {
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const ch = id15.charAt(chunk * 5 + i);
      if (ch >= 'A' && ch <= 'Z') bits |= 1 << i;
    }
    suffix += SUFFIX_ALPHABET.charAt(bits);
  }
  return suffix;
}

/** Why `value` is not a valid Salesforce Id, or null when it is one. */
export function salesforceIdProblem(value: string): string | null {
  if (!ID_RE.test(value)) return 'must be 15 or 18 letters and digits';
  if (value.length === 18) {
    const expected = checksum(value.slice(0, 15));
    if (value.slice(15).toUpperCase() !== expected) {
      return `checksum suffix "${value.slice(15)}" does not match (expected "${expected}"): mistyped?`;
    }
  }
  return null;
}

export function isSalesforceId(value: unknown): value is string {
  return typeof value === 'string' && salesforceIdProblem(value) === null;
}

/** The 18-character form of a valid Id; throws with the reason otherwise. */
export function toId18(value: string): string {
  const problem = salesforceIdProblem(value);
  if (problem) throw new Error(`${JSON.stringify(value)} is not a Salesforce Id: ${problem}`);
  const head = value.slice(0, 15);
  return head + checksum(head);
}

/**
 * The key an org is stored under: the 18-character Id for a Salesforce org Id (15 or 18
 * characters, "00D..."), otherwise the value unchanged (local ids of CSV-only orgs).
 */
export function orgKey(orgId: string): string {
  return orgId.startsWith('00D') && isSalesforceId(orgId) ? toId18(orgId) : orgId;
}

/** Whether two Ids name the same record (15/18-character forms compare equal). */
export function sameSalesforceId(a: string, b: string): boolean {
  return isSalesforceId(a) && isSalesforceId(b) && a.slice(0, 15) === b.slice(0, 15);
}
