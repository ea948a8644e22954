// Application services for scoring: Postgres + the pure scoring core, no HTTP.
// The webhook worker, the scheduler, the API and the CLI call these.
export { trainOrg, verdictInWords, type TrainOrgResult } from './training.ts';
export {
  rescoreDeals,
  rescoreOrg,
  type ChangedScore,
  type RescoreOptions,
  type RescoreOrgOptions,
  type RescoreOrgResult
} from './rescoring.ts';
export {
  loadScoringContext,
  clearScoringContextCache,
  UnknownOrgError,
  type LoadedScoringContext
} from './scoringContext.ts';
export { scoringSettingsFrom, SettingsError } from './settings.ts';
export { resolveNow, type ScoringClock } from './clock.ts';
