// Who is calling: the authenticated principal every API route works for.
export const ROLES = ['rep', 'manager', 'admin', 'integration'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  orgId: string;
  /** CRM user id (the token's sub). For an org's own integration token: its sub or 'salesforce'. */
  userId: string;
  role: Role;
  /** operator: HS256 token minted by the backend; org: RS256 token signed by the Salesforce org. */
  via: 'operator' | 'org';
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
