// "Now" for scoring: the core never reads the clock, so the services pass it in. Callers may
// fix it (tests, backtests, sample data) with a date or an ISO timestamp.

export interface ScoringClock {
  /** YYYY-MM-DD (UTC): the scoring core's `now`. */
  date: string;
  /** The instant stored as scored_at / trained_at. */
  at: Date;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * undefined -> the real clock. 'YYYY-MM-DD' -> midnight UTC of that day.
 * An ISO 8601 timestamp -> that instant.
 */
export function resolveNow(now?: string): ScoringClock {
  if (now === undefined) {
    const at = new Date();
    return { date: at.toISOString().slice(0, 10), at };
  }
  const at = new Date(DATE_ONLY.test(now) ? `${now}T00:00:00.000Z` : now);
  if (Number.isNaN(at.getTime()) || (!DATE_ONLY.test(now) && !/^\d{4}-\d{2}-\d{2}T/.test(now))) {
    throw new Error(`now must be YYYY-MM-DD or an ISO 8601 timestamp, got ${JSON.stringify(now)}`);
  }
  if (DATE_ONLY.test(now) && at.toISOString().slice(0, 10) !== now) {
    throw new Error(`now is not a real date: ${JSON.stringify(now)}`);
  }
  return { date: at.toISOString().slice(0, 10), at };
}

const DAY_MS = 86_400_000;

export function daysBefore(at: Date, days: number): Date {
  return new Date(at.getTime() - days * DAY_MS);
}
