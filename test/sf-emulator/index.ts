// The Salesforce REST emulator (test code): see emulator.ts for what it answers.
export {
  EmulatedOrg,
  SalesforceEmulator,
  type AddOrgOptions,
  type CallInfo,
  type EmulatorCall,
  type EmulatorOptions,
  type EmulatorStats,
  type FaultKind,
  type FaultOptions
} from './emulator.ts';
export {
  connectionFor,
  seedSalesData,
  startEmulatedOrg,
  testKeys,
  type EmulatedOrgSetup,
  type SampleData
} from './fixtures.ts';
export { generateRsaKeyPair, type KeyPairPem } from './keys.ts';
export { idChecksum, normalizeId } from './ids.ts';
export type { Row } from './query.ts';
export type { RecordError, SaveResult, ValidationRule } from './store.ts';
