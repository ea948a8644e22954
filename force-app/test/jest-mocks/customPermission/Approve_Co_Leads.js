// Jest stand-in for @salesforce/customPermission/Approve_Co_Leads: not granted. Tests that need
// it granted call jest.mock('@salesforce/customPermission/Approve_Co_Leads', ...).
export default false;
