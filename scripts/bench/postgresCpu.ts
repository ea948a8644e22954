// CPU time of the Postgres backends serving one database while some work runs: their pids from
// pg_stat_activity, their CPU from /proc (Postgres runs on this machine: scripts/services.sh),
// sampled every 250 ms and read a last time when the work ends. A backend there before the work
// counts from then; one opened during it counts whole. A backend's last 250 ms before it exits
// may be missed. Null when /proc does not show them (Postgres elsewhere).
import { readFileSync } from 'node:fs';
import type { TestDatabase } from '../../test/support/database.ts';

/** CPU seconds (user + system) of a process; 'gone' when it has exited, null if unreadable. */
export function procCpuSeconds(pid: number): number | 'gone' | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime; USER_HZ is 100
  } catch (err) {
    return (err as { code?: string }).code === 'ENOENT' ? 'gone' : null;
  }
}

export async function postgresCpu<T>(
  db: TestDatabase,
  databaseName: string,
  work: () => Promise<T>
): Promise<{ result: T; cpuSeconds: number | null }> {
  const before = new Map<number, number>();
  const last = new Map<number, number>();
  let readable = true;
  const sample = async (into: Map<number, number>) => {
    const rows = await db.sql<{ pid: number }[]>`
      SELECT pid FROM pg_stat_activity
      WHERE datname = ${databaseName} AND backend_type = 'client backend'
        AND pid <> pg_backend_pid()`;
    for (const { pid } of rows) {
      const cpu = procCpuSeconds(pid);
      if (cpu === null) readable = false;
      else if (cpu !== 'gone') into.set(pid, cpu);
    }
  };
  await sample(before);
  const timer = setInterval(() => void sample(last).catch(() => (readable = false)), 250);
  try {
    const result = await work();
    await sample(last);
    let cpuSeconds = 0;
    for (const [pid, cpu] of last) cpuSeconds += cpu - (before.get(pid) ?? 0);
    return { result, cpuSeconds: readable ? cpuSeconds : null };
  } finally {
    clearInterval(timer);
  }
}
