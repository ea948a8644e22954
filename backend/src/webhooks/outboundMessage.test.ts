import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { XMLParser } from 'fast-xml-parser';
import { OUTBOUND_ACK, parseOutboundMessage, soapFault } from './outboundMessage.ts';
import { PayloadError } from './payload.ts';

const ORG = '00D000000000001EAA';

function outboundMessageXml(
  notifications: { id: string; fields: Record<string, string | null> }[],
  orgId = ORG
): string {
  const items = notifications
    .map(
      (n) =>
        `<Notification><Id>${n.id}</Id>` +
        `<sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">` +
        Object.entries(n.fields)
          .map(([k, v]) => (v === null ? `<sf:${k} xsi:nil="true"/>` : `<sf:${k}>${v}</sf:${k}>`))
          .join('') +
        `</sObject></Notification>`
    )
    .join('');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ' +
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
    '<soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound">' +
    `<OrganizationId>${orgId}</OrganizationId><ActionId>04k000000000001AAA</ActionId>` +
    '<SessionId xsi:nil="true"/>' +
    '<EnterpriseUrl>https://example.my.salesforce.com/services/Soap/c/62.0/00D000000000001</EnterpriseUrl>' +
    '<PartnerUrl>https://example.my.salesforce.com/services/Soap/u/62.0/00D000000000001</PartnerUrl>' +
    items +
    '</notifications></soapenv:Body></soapenv:Envelope>'
  );
}

const fields = {
  Id: '006000000000001AAA',
  Name: 'Acme &amp; Sons',
  OwnerId: '005000000000001AAA',
  AccountId: '001000000000001AAA',
  Amount: '12000.0',
  StageName: 'Proposal',
  CloseDate: '2026-12-31',
  CreatedDate: '2026-10-01T09:00:00.000Z',
  IsClosed: 'false',
  IsWon: 'false',
  LeadSource: null,
  SystemModstamp: '2026-11-22T10:00:00.000Z'
};

describe('outbound messages', () => {
  test('notifications become opportunity.changed events with typed fields', () => {
    const msg = parseOutboundMessage(
      Buffer.from(
        outboundMessageXml([
          { id: '04l000000000001AAA', fields },
          { id: '04l000000000002AAA', fields: { ...fields, Id: '006000000000002AAA' } }
        ])
      )
    );
    assert.equal(msg.organizationId, ORG);
    assert.equal(msg.events.length, 2);
    assert.deepEqual(msg.events[0], {
      id: 'om:04l000000000001AAA',
      type: 'opportunity.changed',
      occurredAt: '2026-11-22T10:00:00.000Z',
      recordId: '006000000000001AAA',
      systemModstamp: '2026-11-22T10:00:00.000Z',
      fields: {
        Id: '006000000000001AAA',
        Name: 'Acme & Sons',
        OwnerId: '005000000000001AAA',
        AccountId: '001000000000001AAA',
        Amount: 12000,
        StageName: 'Proposal',
        CloseDate: '2026-12-31',
        CreatedDate: '2026-10-01T09:00:00.000Z',
        IsClosed: false,
        IsWon: false,
        LeadSource: null,
        SystemModstamp: '2026-11-22T10:00:00.000Z'
      }
    });
  });

  test('bad messages are PayloadErrors naming the element', () => {
    const cases: [string, RegExp][] = [
      ['<not xml', /not well-formed XML|Envelope/],
      ['<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', /DTD/],
      [outboundMessageXml([]), /Notification: at least one is required/],
      [outboundMessageXml([{ id: '04l000000000001AAA', fields }], 'nope'), /OrganizationId/],
      [
        outboundMessageXml([{ id: '04l000000000001AAA', fields: { ...fields, Amount: 'lots' } }]),
        /Notification\[0\]\.sObject\.Amount: not a number/
      ],
      [
        outboundMessageXml([
          { id: '04l000000000001AAA', fields: { ...fields, SystemModstamp: null } }
        ]),
        /SystemModstamp: is required/
      ],
      [
        outboundMessageXml(
          Array.from({ length: 101 }, () => ({ id: '04l000000000001AAA', fields }))
        ),
        /at most 100/
      ]
    ];
    for (const [xml, why] of cases) {
      assert.throws(
        () => parseOutboundMessage(Buffer.from(xml)),
        (e: Error) => e instanceof PayloadError && why.test(e.message),
        String(why)
      );
    }
  });

  test('the Ack is the notificationsResponse the WSDL defines; faults escape their text', () => {
    const parser = new XMLParser({ removeNSPrefix: true });
    const ack = parser.parse(OUTBOUND_ACK) as {
      Envelope: { Body: { notificationsResponse: { Ack: boolean } } };
    };
    assert.equal(ack.Envelope.Body.notificationsResponse.Ack, true);
    assert.match(
      soapFault('soapenv:Client', 'a <b> & c'),
      /<faultstring>a &#60;b&#62; &#38; c<\/faultstring>/
    );
  });
});
