// Salesforce Outbound Messages (SOAP 1.1, the notifications() call of the outbound messaging
// WSDL): up to 100 Notification elements, each a notification Id and an Opportunity sObject
// whose fields carry the sf: prefix (urn:sobject.enterprise.soap.sforce.com). They become the
// same events as the JSON webhook, with event id 'om:' + notification Id.
import { XMLParser } from 'fast-xml-parser';
import { z } from 'zod';
import { PayloadError, formatPath, isIsoDateTime } from './payload.ts';

export const MAX_NOTIFICATIONS = 100;
const SALESFORCE_ID = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;

/** Opportunity fields an outbound message may carry, and how to read their text. */
const FIELD_TYPES: Record<string, 'string' | 'number' | 'boolean'> = {
  Id: 'string',
  Name: 'string',
  OwnerId: 'string',
  AccountId: 'string',
  Amount: 'number',
  StageName: 'string',
  CloseDate: 'string',
  CreatedDate: 'string',
  IsClosed: 'boolean',
  IsWon: 'boolean',
  LeadSource: 'string',
  Type: 'string',
  SystemModstamp: 'string'
};

export interface OutboundEvent {
  id: string;
  type: 'opportunity.changed';
  occurredAt: string;
  recordId: string;
  systemModstamp: string;
  fields: Record<string, string | number | boolean | null>;
}

export interface OutboundMessage {
  organizationId: string;
  events: OutboundEvent[];
}

const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (_name, jpath) => jpath === 'Envelope.Body.notifications.Notification'
});

type XmlNode = string | { '#text'?: string; '@_nil'?: string; [k: string]: unknown };

/** Text of an element, or null for xsi:nil / empty. */
function textOf(node: unknown): string | null {
  if (node === undefined || node === null) return null;
  if (typeof node === 'string') return node;
  if (typeof node === 'number' || typeof node === 'boolean') return String(node);
  const n = node as Exclude<XmlNode, string>;
  if (n['@_nil'] === 'true') return null;
  return typeof n['#text'] === 'string' ? n['#text'] : null;
}

function fail(path: (string | number)[], message: string): never {
  const where = formatPath(path);
  throw new PayloadError(`${where}: ${message}`, [{ path: where, message }]);
}

function convert(
  path: (string | number)[],
  kind: 'string' | 'number' | 'boolean',
  raw: string | null
): string | number | boolean | null {
  if (raw === null || raw === '') return null;
  if (kind === 'number') {
    const n = Number(raw);
    if (!Number.isFinite(n)) fail(path, 'not a number');
    return n;
  }
  if (kind === 'boolean') {
    if (raw !== 'true' && raw !== 'false') fail(path, 'must be true or false');
    return raw === 'true';
  }
  return raw;
}

const idSchema = z.string().regex(SALESFORCE_ID);

/** Parses and checks an outbound message. Throws PayloadError naming the element at fault. */
export function parseOutboundMessage(raw: Buffer): OutboundMessage {
  const xml = raw.toString('utf8');
  // SOAP forbids a DTD; refusing it also rules out entity-expansion attacks.
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) fail(['Envelope'], 'a DTD is not allowed');
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(xml, true) as Record<string, unknown>;
  } catch (err) {
    const why = err instanceof Error ? err.message : 'not XML';
    throw new PayloadError(`body is not well-formed XML: ${why}`, [
      { path: '(body)', message: why }
    ]);
  }
  const envelope = doc.Envelope as Record<string, unknown> | undefined;
  if (!envelope || typeof envelope !== 'object') fail(['Envelope'], 'is required (SOAP 1.1)');
  const body = envelope.Body as Record<string, unknown> | undefined;
  if (!body || typeof body !== 'object') fail(['Envelope', 'Body'], 'is required');
  const n = body.notifications as Record<string, unknown> | undefined;
  if (!n || typeof n !== 'object') fail(['Envelope', 'Body', 'notifications'], 'is required');
  const base = ['notifications'];

  const organizationId = textOf(n.OrganizationId);
  if (!organizationId || !idSchema.safeParse(organizationId).success) {
    fail([...base, 'OrganizationId'], 'not a Salesforce org Id');
  }
  const list = (n.Notification as unknown[] | undefined) ?? [];
  if (list.length === 0) fail([...base, 'Notification'], 'at least one is required');
  if (list.length > MAX_NOTIFICATIONS) {
    fail([...base, 'Notification'], `at most ${MAX_NOTIFICATIONS} are allowed`);
  }

  const events = list.map((item, i): OutboundEvent => {
    const at = [...base, 'Notification', i];
    if (!item || typeof item !== 'object') fail(at, 'must be an element');
    const notification = item as Record<string, unknown>;
    const notificationId = textOf(notification.Id);
    if (!notificationId || !idSchema.safeParse(notificationId).success) {
      fail([...at, 'Id'], 'not a Salesforce Id');
    }
    const sObject = notification.sObject as Record<string, unknown> | undefined;
    if (!sObject || typeof sObject !== 'object') fail([...at, 'sObject'], 'is required');
    const declared = typeof sObject['@_type'] === 'string' ? sObject['@_type'] : '';
    if (declared && declared.replace(/^.*:/, '') !== 'Opportunity') {
      fail([...at, 'sObject'], `must be an Opportunity, got ${declared}`);
    }
    const fields: Record<string, string | number | boolean | null> = {};
    for (const [name, kind] of Object.entries(FIELD_TYPES)) {
      if (!(name in sObject)) continue;
      fields[name] = convert([...at, 'sObject', name], kind, textOf(sObject[name]));
    }
    const recordId = fields.Id;
    if (typeof recordId !== 'string' || !SALESFORCE_ID.test(recordId)) {
      fail([...at, 'sObject', 'Id'], 'is required (a Salesforce Id)');
    }
    const modstamp = fields.SystemModstamp;
    if (typeof modstamp !== 'string' || !isIsoDateTime(modstamp)) {
      fail([...at, 'sObject', 'SystemModstamp'], 'is required (add it to the outbound message)');
    }
    return {
      id: `om:${notificationId}`,
      type: 'opportunity.changed',
      occurredAt: modstamp,
      recordId,
      systemModstamp: modstamp,
      fields
    };
  });
  return { organizationId: organizationId!, events };
}

/** The acknowledgement the outbound messaging WSDL defines (notificationsResponse/Ack). */
export const OUTBOUND_ACK =
  '<?xml version="1.0" encoding="UTF-8"?>' +
  '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">' +
  '<soapenv:Body>' +
  '<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">' +
  '<Ack>true</Ack>' +
  '</notificationsResponse>' +
  '</soapenv:Body>' +
  '</soapenv:Envelope>';

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A SOAP 1.1 fault; Salesforce keeps retrying a message that is not acknowledged. */
export function soapFault(faultCode: 'soapenv:Client' | 'soapenv:Server', message: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">' +
    '<soapenv:Body><soapenv:Fault>' +
    `<faultcode>${faultCode}</faultcode><faultstring>${escapeXml(message)}</faultstring>` +
    '</soapenv:Fault></soapenv:Body></soapenv:Envelope>'
  );
}
