// The machine's CPU time split while a benchmark runs, from /proc/stat: on a shared VM, time
// "stolen" by the host (steal) is time neither Node nor Postgres got, so a slow run can be
// told from slow code. Linux only; null elsewhere.
import { readFileSync } from 'node:fs';

export interface MachineTimes {
  /** The aggregate "cpu" line's counters: user nice system idle iowait irq softirq steal ... */
  counters: number[];
}

export function machineTimes(): MachineTimes | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    if (!line.startsWith('cpu ')) return null;
    return { counters: line.trim().split(/\s+/).slice(1).map(Number) };
  } catch {
    return null;
  }
}

/** Percent of all CPU time in [before, after] that was stolen by the host (one decimal). */
export function stealPercent(
  before: MachineTimes | null,
  after: MachineTimes | null
): number | null {
  if (!before || !after) return null;
  const delta = after.counters.map((v, i) => v - (before.counters[i] ?? 0));
  const total = delta.slice(0, 8).reduce((a, b) => a + b, 0);
  if (total <= 0) return null;
  return Math.round((1000 * (delta[7] ?? 0)) / total) / 10;
}
