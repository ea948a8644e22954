// What the org admin commands (orgs:add, orgs:list, orgs:check) need from the environment:
// only the database and the credential key, so they run without Redis or API secrets.
import { z } from 'zod';
import { CredentialError, parseEncryptionKey } from './credentials.ts';

export interface AdminEnv {
  databaseUrl: string;
  encryptionKey: Buffer;
}

export class AdminEnvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminEnvError';
  }
}

const schema = z.object({
  DATABASE_URL: z
    .string({ error: 'is not set (e.g. postgres://user:pass@127.0.0.1:5432/deal_insights)' })
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  DI_ENCRYPTION_KEY: z.string({ error: 'is not set: generate one with `openssl rand -base64 32`' })
});

export function loadAdminEnv(env: NodeJS.ProcessEnv = process.env): AdminEnv {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new AdminEnvError(`invalid environment:\n${lines.join('\n')}`);
  }
  try {
    return {
      databaseUrl: parsed.data.DATABASE_URL,
      encryptionKey: parseEncryptionKey(parsed.data.DI_ENCRYPTION_KEY)
    };
  } catch (err) {
    if (err instanceof CredentialError)
      throw new AdminEnvError(`invalid environment:\n  ${err.message}`);
    throw err;
  }
}

/** Output of a command; tests pass their own to read it. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  out: (line: string) => void;
  err: (line: string) => void;
}

export const processIo: CliIo = {
  env: process.env,
  out: (line) => console.log(line),
  err: (line) => console.error(line)
};
