// Reads the Salesforce package in force-app/ (source format) into an index of the names it
// defines, and lists the names its components, Apex and metadata refer to, so tests can check
// that every reference resolves. Offline: no org, just the files.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLParser } from 'fast-xml-parser';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SOURCE = join(ROOT, 'force-app', 'main', 'default');

/** Elements that may repeat: always parsed as arrays, even when there is one. */
const REPEATED = new Set([
  'classAccesses',
  'componentInstanceProperties',
  'customPermissions',
  'externalCredentialParameters',
  'externalCredentialPrincipalAccesses',
  'fieldPermissions',
  'flexiPageRegions',
  'itemInstances',
  'labels',
  'namedCredentialParameters',
  'objectPermissions',
  'tabSettings',
  'target',
  'userPermissions',
  'value'
]);

const xml = new XMLParser({
  ignoreAttributes: true,
  ignoreDeclaration: true,
  parseTagValue: false,
  trimValues: true,
  isArray: (name) => REPEATED.has(name)
});

export type Xml = Record<string, unknown>;

/** The root element of a metadata file, e.g. the <CustomField> of a .field-meta.xml. */
export function readMetadata(path: string): Xml {
  const document = xml.parse(readFileSync(path, 'utf8')) as Xml;
  const [root] = Object.values(document);
  if (!root || typeof root !== 'object') {
    throw new Error(`${relative(ROOT, path)}: no root element`);
  }
  return root as Xml;
}

export function list(value: unknown): Xml[] {
  return Array.isArray(value) ? (value as Xml[]) : [];
}

export function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Files under dir (recursively) whose name ends with suffix. */
export function filesUnder(dir: string, suffix: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) {
      found.push(...filesUnder(path, suffix));
    } else if (entry.endsWith(suffix)) {
      found.push(path);
    }
  }
  return found.sort();
}

const nameOf = (path: string, suffix: string) => basename(path).slice(0, -suffix.length);

export interface FieldInfo {
  type: string;
  required: boolean;
  referenceTo?: string;
  relationshipName?: string;
  picklistValues: string[];
  label: string;
  inlineHelpText?: string;
}

export interface ForceAppIndex {
  /** Custom objects defined here (Co_Lead_Suggestion__c). */
  customObjects: Set<string>;
  /** Custom fields by object, including standard objects extended here (Opportunity). */
  fields: Map<string, Map<string, FieldInfo>>;
  customPermissions: Set<string>;
  labels: Map<string, string>;
  apexClasses: Map<string, string>;
  apexTriggers: Map<string, string>;
  /** LWC bundles and the source of their non-test JavaScript files. */
  lwc: Map<string, string>;
  permissionSets: Map<string, Xml>;
  flexiPages: Map<string, Xml>;
  tabs: Map<string, Xml>;
  namedCredentials: Map<string, Xml>;
  /** External credentials and their principals ("ExternalCredential-Principal" in permission sets). */
  externalCredentials: Map<string, Set<string>>;
  validationRules: { object: string; name: string; rule: Xml }[];
}

function fieldInfo(field: Xml): FieldInfo {
  const valueSet = (field.valueSet as Xml | undefined)?.valueSetDefinition as Xml | undefined;
  return {
    type: text(field.type) ?? '',
    required: field.type === 'MasterDetail' || field.required === 'true',
    referenceTo: text(field.referenceTo),
    relationshipName: text(field.relationshipName),
    picklistValues: list(valueSet?.value).map((value) => text(value.fullName) ?? ''),
    label: text(field.label) ?? '',
    inlineHelpText: text(field.inlineHelpText)
  };
}

export function loadIndex(): ForceAppIndex {
  const fields = new Map<string, Map<string, FieldInfo>>();
  const customObjects = new Set<string>();
  const validationRules: ForceAppIndex['validationRules'] = [];
  for (const object of readdirSync(join(SOURCE, 'objects'))) {
    const dir = join(SOURCE, 'objects', object);
    if (object.endsWith('__c')) {
      readMetadata(join(dir, `${object}.object-meta.xml`));
      customObjects.add(object);
    }
    const objectFields = new Map<string, FieldInfo>();
    for (const path of filesUnder(join(dir, 'fields'), '.field-meta.xml')) {
      objectFields.set(nameOf(path, '.field-meta.xml'), fieldInfo(readMetadata(path)));
    }
    fields.set(object, objectFields);
    const rulesDir = join(dir, 'validationRules');
    for (const path of safeFiles(rulesDir, '.validationRule-meta.xml')) {
      validationRules.push({
        object,
        name: nameOf(path, '.validationRule-meta.xml'),
        rule: readMetadata(path)
      });
    }
  }

  const labels = new Map<string, string>();
  for (const label of list(
    readMetadata(join(SOURCE, 'labels', 'CustomLabels.labels-meta.xml')).labels
  )) {
    labels.set(text(label.fullName) ?? '', text(label.value) ?? '');
  }

  const byName = (dir: string, suffix: string) =>
    new Map(
      safeFiles(join(SOURCE, dir), suffix).map((path) => [nameOf(path, suffix), readMetadata(path)])
    );
  const sources = (dir: string, suffix: string) =>
    new Map(
      safeFiles(join(SOURCE, dir), suffix).map((path) => [
        nameOf(path, suffix),
        readFileSync(path, 'utf8')
      ])
    );

  const lwc = new Map<string, string>();
  for (const bundle of readdirSync(join(SOURCE, 'lwc'))) {
    const js = filesUnder(join(SOURCE, 'lwc', bundle), '.js').filter(
      (path) => !path.includes('/__tests__/')
    );
    lwc.set(bundle, js.map((path) => readFileSync(path, 'utf8')).join('\n'));
  }

  const externalCredentials = new Map<string, Set<string>>();
  for (const [name, credential] of byName('externalCredentials', '.externalCredential-meta.xml')) {
    const principals = list(credential.externalCredentialParameters)
      .filter((parameter) => parameter.parameterType === 'NamedPrincipal')
      .map((parameter) => text(parameter.parameterName) ?? '');
    externalCredentials.set(name, new Set(principals));
  }

  return {
    customObjects,
    fields,
    customPermissions: new Set(byName('customPermissions', '.customPermission-meta.xml').keys()),
    labels,
    apexClasses: sources('classes', '.cls'),
    apexTriggers: sources('triggers', '.trigger'),
    lwc,
    permissionSets: byName('permissionsets', '.permissionset-meta.xml'),
    flexiPages: byName('flexipages', '.flexipage-meta.xml'),
    tabs: byName('tabs', '.tab-meta.xml'),
    namedCredentials: byName('namedCredentials', '.namedCredential-meta.xml'),
    externalCredentials,
    validationRules
  };
}

function safeFiles(dir: string, suffix: string): string[] {
  try {
    return filesUnder(dir, suffix);
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------------------------
// References and their resolution

/**
 * Standard objects, fields and relationships the package uses. They live in every org, not in
 * force-app, so they are listed here; anything custom must be defined in force-app.
 */
const STANDARD_FIELDS: Record<string, string[]> = {
  Opportunity: [
    'Id',
    'Name',
    'OwnerId',
    'AccountId',
    'Amount',
    'StageName',
    'CloseDate',
    'CreatedDate',
    'IsClosed',
    'IsWon',
    'IsDeleted',
    'LeadSource',
    'Type',
    'SystemModstamp'
  ],
  Account: ['Id', 'Name', 'Industry', 'BillingCountry'],
  User: ['Id', 'Name', 'ManagerId'],
  Co_Lead_Suggestion__c: ['Id', 'Name', 'SystemModstamp']
};
const STANDARD_RELATIONSHIPS: Record<string, Record<string, string>> = {
  Opportunity: { Owner: 'User', Account: 'Account' }
};

export type ReferenceKind =
  | 'object'
  | 'field'
  | 'customName'
  | 'customPermission'
  | 'label'
  | 'apexClass'
  | 'apexMethod'
  | 'lwc'
  | 'relatedList'
  | 'tab'
  | 'flexiPage'
  | 'namedCredential'
  | 'externalCredential'
  | 'principal';

export interface Reference {
  kind: ReferenceKind;
  /** For fields: Object.path (path may cross relationships); for others the plain name. */
  name: string;
  /** Where the reference was found. */
  from: string;
}

const at =
  (from: string) =>
  (kind: ReferenceKind, name: string): Reference => ({
    kind,
    name,
    from
  });

function matches(source: string, pattern: RegExp): string[] {
  return [...source.matchAll(pattern)].map((match) => match[1] ?? '');
}

export function referencesFromLwc(index: ForceAppIndex): Reference[] {
  const references: Reference[] = [];
  for (const [bundle, source] of index.lwc) {
    const ref = at(`lwc/${bundle}`);
    for (const field of matches(source, /['"]@salesforce\/schema\/([\w.]+)['"]/g)) {
      references.push(field.includes('.') ? ref('field', field) : ref('object', field));
    }
    for (const name of matches(source, /['"]@salesforce\/customPermission\/(\w+)['"]/g)) {
      references.push(ref('customPermission', name));
    }
    for (const name of matches(source, /['"]@salesforce\/label\/c\.(\w+)['"]/g)) {
      references.push(ref('label', name));
    }
    for (const method of matches(source, /['"]@salesforce\/apex\/(\w+\.\w+)['"]/g)) {
      references.push(ref('apexMethod', method));
    }
    for (const name of matches(source, /from\s+['"]c\/(\w+)['"]/g)) {
      references.push(ref('lwc', name));
    }
    for (const name of matches(source, /RELATED_LIST_ID\s*=\s*'(\w+)'/g)) {
      references.push(ref('relatedList', name));
    }
  }
  return references;
}

export function referencesFromApex(index: ForceAppIndex): Reference[] {
  const references: Reference[] = [];
  const units = [
    ...[...index.apexClasses].map(([name, source]) => ({ from: `classes/${name}.cls`, source })),
    ...[...index.apexTriggers].map(([name, source]) => ({
      from: `triggers/${name}.trigger`,
      source
    }))
  ];
  for (const { from, source } of units) {
    const ref = at(from);
    for (const name of new Set(matches(source, /\b(\w+__[cr])\b/g))) {
      references.push(ref('customName', name));
    }
    for (const name of new Set(matches(source, /\bLabel\.(\w+)/g))) {
      references.push(ref('label', name));
    }
    for (const argument of matches(
      source,
      /FeatureManagement\.checkPermission\(\s*([^)]+?)\s*\)/g
    )) {
      references.push(ref('customPermission', constantValue(source, argument)));
    }
    for (const name of matches(source, /'callout:(\w+)/g)) {
      references.push(ref('namedCredential', name));
    }
    for (const argument of matches(source, /'callout:'\s*\+\s*(\w+)/g)) {
      references.push(ref('namedCredential', constantValue(source, argument)));
    }
    for (const object of matches(source, /^\s*trigger\s+\w+\s+on\s+(\w+)/gm)) {
      references.push(ref('object', object));
    }
    for (const name of matches(source, /\b(DealInsights\w*)\.\w+\(/g)) {
      references.push(ref('apexClass', name));
    }
  }
  return references;
}

/** The value of a string literal, or of a String constant declared in the same source. */
function constantValue(source: string, expression: string): string {
  const literal = /^'(.*)'$/.exec(expression);
  if (literal) {
    return literal[1] ?? '';
  }
  const declared = new RegExp(`\\b${expression}\\s*=\\s*'([^']*)'`).exec(source);
  return declared?.[1] ?? `<unresolved constant ${expression}>`;
}

export function referencesFromPermissionSets(index: ForceAppIndex): Reference[] {
  const references: Reference[] = [];
  for (const [name, permissionSet] of index.permissionSets) {
    const ref = at(`permissionsets/${name}`);
    for (const entry of list(permissionSet.objectPermissions)) {
      references.push(ref('object', text(entry.object) ?? ''));
    }
    for (const entry of list(permissionSet.fieldPermissions)) {
      references.push(ref('field', text(entry.field) ?? ''));
    }
    for (const entry of list(permissionSet.customPermissions)) {
      references.push(ref('customPermission', text(entry.name) ?? ''));
    }
    for (const entry of list(permissionSet.classAccesses)) {
      references.push(ref('apexClass', text(entry.apexClass) ?? ''));
    }
    for (const entry of list(permissionSet.tabSettings)) {
      references.push(ref('tab', text(entry.tab) ?? ''));
    }
    for (const entry of list(permissionSet.externalCredentialPrincipalAccesses)) {
      references.push(ref('principal', text(entry.externalCredentialPrincipal) ?? ''));
    }
  }
  return references;
}

export function referencesFromOtherMetadata(index: ForceAppIndex): Reference[] {
  const references: Reference[] = [];
  for (const { object, name, rule } of index.validationRules) {
    const ref = at(`validationRules/${object}.${name}`);
    const formula = text(rule.errorConditionFormula) ?? '';
    for (const permission of new Set(matches(formula, /\$Permission\.(\w+)/g))) {
      references.push(ref('customPermission', permission));
    }
    for (const field of new Set(matches(formula, /\b(\w+__c)\b/g))) {
      references.push(ref('field', `${object}.${field}`));
    }
    const display = text(rule.errorDisplayField);
    if (display) {
      references.push(ref('field', `${object}.${display}`));
    }
  }
  for (const [name, page] of index.flexiPages) {
    const ref = at(`flexipages/${name}`);
    const sobject = text(page.sobjectType);
    if (sobject) {
      references.push(ref('object', sobject));
    }
    for (const region of list(page.flexiPageRegions)) {
      for (const item of list(region.itemInstances)) {
        const component = text((item.componentInstance as Xml | undefined)?.componentName);
        // Namespaced components (force:, flexipage:) are Salesforce's; bare names are ours.
        if (component && !component.includes(':')) {
          references.push(ref('lwc', component));
        }
      }
    }
  }
  for (const [name, tab] of index.tabs) {
    const page = text(tab.flexiPage);
    if (page) {
      references.push(at(`tabs/${name}`)('flexiPage', page));
    }
  }
  for (const [name, credential] of index.namedCredentials) {
    for (const parameter of list(credential.namedCredentialParameters)) {
      const external = text(parameter.externalCredential);
      if (external) {
        references.push(at(`namedCredentials/${name}`)('externalCredential', external));
      }
    }
  }
  return references;
}

export function allReferences(index: ForceAppIndex): Reference[] {
  return [
    ...referencesFromLwc(index),
    ...referencesFromApex(index),
    ...referencesFromPermissionSets(index),
    ...referencesFromOtherMetadata(index)
  ];
}

function objectExists(index: ForceAppIndex, object: string): boolean {
  return index.customObjects.has(object) || object in STANDARD_FIELDS;
}

/**
 * Resolves Object.path, where path may cross relationships (Owner.ManagerId,
 * Suggested_User__r.Name). Returns why it does not resolve, or undefined when it does.
 */
export function fieldProblem(index: ForceAppIndex, qualified: string): string | undefined {
  const [object, ...path] = qualified.split('.');
  if (!object || path.length === 0) {
    return 'expected Object.Field';
  }
  if (!objectExists(index, object)) {
    return `object ${object} is not defined in force-app`;
  }
  let current = object;
  for (const [position, segment] of path.entries()) {
    const last = position === path.length - 1;
    const custom = index.fields.get(current);
    if (last) {
      if (segment.endsWith('__c')) {
        return custom?.has(segment) ? undefined : `field ${current}.${segment} is not defined`;
      }
      return STANDARD_FIELDS[current]?.includes(segment)
        ? undefined
        : `${current}.${segment} is not a known standard field`;
    }
    if (segment.endsWith('__r')) {
      const lookup = custom?.get(segment.replace(/__r$/, '__c'));
      if (!lookup?.referenceTo) {
        return `relationship ${current}.${segment} has no lookup field`;
      }
      current = lookup.referenceTo;
    } else {
      const target = STANDARD_RELATIONSHIPS[current]?.[segment];
      if (!target) {
        return `${current}.${segment} is not a known standard relationship`;
      }
      current = target;
    }
  }
  return undefined;
}

/** Why a reference does not resolve in force-app, or undefined when it does. */
export function problemWith(index: ForceAppIndex, reference: Reference): string | undefined {
  const { kind, name } = reference;
  const missing = (what: string) => `${what} ${name} is not defined in force-app`;
  switch (kind) {
    case 'object':
      return objectExists(index, name) ? undefined : missing('object');
    case 'field':
      return fieldProblem(index, name);
    case 'customName': {
      if (index.customObjects.has(name)) {
        return undefined;
      }
      const field = name.replace(/__r$/, '__c');
      const known = [...index.fields.values()].some((fields) => fields.has(field));
      return known ? undefined : missing('custom object or field');
    }
    case 'customPermission':
      return index.customPermissions.has(name) ? undefined : missing('custom permission');
    case 'label':
      return index.labels.has(name) ? undefined : missing('custom label');
    case 'apexClass':
      return index.apexClasses.has(name) ? undefined : missing('Apex class');
    case 'apexMethod': {
      const [className = '', method = ''] = name.split('.');
      const source = index.apexClasses.get(className);
      if (!source) {
        return `Apex class ${className} is not defined in force-app`;
      }
      const auraEnabled = new RegExp(`@AuraEnabled[^;{]*?\\b${method}\\s*\\(`);
      return auraEnabled.test(source) ? undefined : `${name} is not an @AuraEnabled method`;
    }
    case 'lwc':
      return index.lwc.has(name) ? undefined : missing('LWC bundle');
    case 'relatedList': {
      const found = [...index.fields.values()].some((fields) =>
        [...fields.values()].some((field) => `${field.relationshipName}__r` === name)
      );
      return found ? undefined : missing('child relationship');
    }
    case 'tab':
      return index.tabs.has(name) ? undefined : missing('tab');
    case 'flexiPage':
      return index.flexiPages.has(name) ? undefined : missing('FlexiPage');
    case 'namedCredential':
      return index.namedCredentials.has(name) ? undefined : missing('named credential');
    case 'externalCredential':
      return index.externalCredentials.has(name) ? undefined : missing('external credential');
    case 'principal': {
      const [credential = '', principal = ''] = name.split('-');
      return index.externalCredentials.get(credential)?.has(principal)
        ? undefined
        : missing('external credential principal');
    }
  }
}

export function unresolved(index: ForceAppIndex, references: Reference[]): string[] {
  return references.flatMap((reference) => {
    const problem = problemWith(index, reference);
    return problem ? [`${reference.from}: ${problem}`] : [];
  });
}

export const sourcePath = (...parts: string[]) => join(SOURCE, ...parts);
export const projectPath = (...parts: string[]) => join(ROOT, ...parts);
