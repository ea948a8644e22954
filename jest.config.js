// Jest for the Lightning Web Components in force-app, on @salesforce/sfdx-lwc-jest's preset
// (as in trailheadapps/lwc-recipes). Run with `npm run test:unit`; `npm test` runs it too.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { jestConfig } = require('@salesforce/sfdx-lwc-jest/config');

export default {
  ...jestConfig,
  // Only the LWC tests: the backend's *.test.ts files belong to node's test runner.
  roots: ['<rootDir>/force-app'],
  testMatch: ['**/lwc/**/__tests__/**/*.test.js'],
  moduleNameMapper: {
    '^@salesforce/apex$': '<rootDir>/force-app/test/jest-mocks/apex',
    // Off unless a test turns it on with jest.mock(...): the safe default for an approval right.
    '^@salesforce/customPermission/Approve_Co_Leads$':
      '<rootDir>/force-app/test/jest-mocks/customPermission/Approve_Co_Leads'
  },
  // Real label text from CustomLabels.labels-meta.xml instead of the preset's "c.Name" stand-ins.
  setupFilesAfterEnv: [
    ...(jestConfig.setupFilesAfterEnv ?? []),
    '<rootDir>/force-app/test/jest-setup/customLabels.js'
  ],
  testTimeout: 10000
};
