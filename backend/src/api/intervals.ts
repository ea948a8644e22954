// Confidence intervals for win rates and their change (95% by default).
//   Wilson score interval for one proportion.
//   Newcombe's hybrid score interval (method 10, Newcombe 1998) for a difference of two
//   independent proportions, built from the two Wilson intervals.

export interface Interval {
  low: number;
  high: number;
}

export const Z95 = 1.959963984540054;

export function wilson(wins: number, n: number, z = Z95): Interval | null {
  if (n <= 0) return null;
  const p = wins / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** Interval for p1 - p2 (e.g. this quarter minus last quarter). Null when either n is 0. */
export function newcombeDifference(
  wins1: number,
  n1: number,
  wins2: number,
  n2: number,
  z = Z95
): (Interval & { difference: number }) | null {
  const a = wilson(wins1, n1, z);
  const b = wilson(wins2, n2, z);
  if (!a || !b) return null;
  const p1 = wins1 / n1;
  const p2 = wins2 / n2;
  const d = p1 - p2;
  return {
    difference: d,
    low: d - Math.sqrt((p1 - a.low) ** 2 + (b.high - p2) ** 2),
    high: d + Math.sqrt((a.high - p1) ** 2 + (p2 - b.low) ** 2)
  };
}
