// Jest stand-in for @salesforce/apex: refreshApex resolves at once and records its calls.
export const refreshApex = jest.fn(() => Promise.resolve());

export const getSObjectValue = jest.fn((record, field) => record?.[field.fieldApiName]);
