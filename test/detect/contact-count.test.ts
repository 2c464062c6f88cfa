// The contact badge counts people: one contact's numbers and e-mail, found anywhere in a request, are one.
import { describe, expect, it } from 'vitest';
import { parseIdentifiers, type Identifiers } from '../../shared/identifiers';
import { typeCounts } from '../../shared/finding-counts';
import type { Finding } from '../../shared/types';
import { createDetector } from '../../proxy/detect';

function identifiers(contacts: { name: string; phone: string[]; email: string[] }[]): Identifiers {
  const parsed = parseIdentifiers({ devices: [{ name: 'RedMi 1S', imei: ['865123456789012'], contacts }] });
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

const ALICE = { name: 'Alice Canary', phone: ['+1 202 555 0143', '+1 202 555 0146'], email: ['alice@example.org'] };
const BOB = { name: 'Bob Canary', phone: ['+1 202 555 0144'], email: [] };

async function scan(ids: Identifiers, body: unknown): Promise<Finding[]> {
  const r = await createDetector(ids).scanRequest({ url: 'https://x.example/sync?imei=865123456789012', headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) });
  return r.findings;
}

describe('contact count', () => {
  it('counts a contact with two numbers and an e-mail once, and each other contact once more', async () => {
    const findings = await scan(identifiers([ALICE, BOB]), { imei: '865123456789012', book: [{ tel: ALICE.phone }, { mail: ALICE.email[0] }, { tel: ALICE.phone[0] }] });
    const contacts = findings.filter((f) => f.type === 'contact');
    expect(contacts.length).toBeGreaterThanOrEqual(4);
    expect(new Set(contacts.map((f) => f.contact))).toEqual(new Set(['Alice Canary']));
    // IMEI stays counted by occurrence: in the URL and in the body.
    expect(typeCounts(findings)).toEqual([['imei', 2], ['contact', 1]]);

    const both = await scan(identifiers([ALICE, BOB]), { a: ALICE.email[0], b: BOB.phone[0] });
    expect(typeCounts(both)).toEqual([['imei', 1], ['contact', 2]]);
  });

  it('tells apart two contacts of the same name, and names an unnamed one by its first value', async () => {
    const twin = { ...BOB, phone: ['+1 202 555 0147'] };
    const nameless = { name: '', phone: [], email: ['nobody@example.org'] };
    const findings = await scan(identifiers([BOB, twin, nameless]), { a: BOB.phone[0], b: twin.phone[0], c: nameless.email[0] });
    expect(findings.filter((f) => f.type === 'contact').map((f) => f.contact).sort()).toEqual(['Bob Canary', 'Bob Canary (2)', 'nobody@example.org']);
    expect(typeCounts(findings)).toEqual([['imei', 1], ['contact', 3]]);
  });

  it('counts a stored contact finding without its contact by its value', () => {
    const old = (value: string): Finding => ({ type: 'contact', value, where: 'body', path: '$.a', encoding: 'plain', confidence: 'known' });
    expect(typeCounts([old('a@example.org'), old('a@example.org'), old('+1 202 555 0143')])).toEqual([['contact', 2]]);
  });
});
