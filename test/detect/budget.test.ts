// The scan's bounds: a body of thousands of phone-like strings costs a bounded number of phone validations,
// a flow keeps a bounded number of findings (the tester's own values first), and the flow says when either
// bound was reached.
import { describe, expect, it } from 'vitest';
import { createDetector } from '../../proxy/detect';
import { FINDINGS_PER_SCAN, SCAN_CAPPED_TAG } from '../../proxy/detect/analyze';
import { PHONE_VALIDATIONS_PER_SCAN } from '../../proxy/detect/patterns/budget';

/** `n` distinct valid Chinese mobile numbers, as an address-book upload lists them. */
const mobiles = (n: number) => Array.from({ length: n }, (_, i) => `+86 138 ${String(i).padStart(8, '0').replace(/^(\d{4})/, '$1 ')}`);

const upload = (numbers: string[]) => ({
  method: 'POST',
  url: 'https://contacts.example.cn/sync',
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(JSON.stringify({ numbers })),
});

describe('scan budget', () => {
  const detector = createDetector({ devices: [] });

  it('reports every number of an address book within the budget, untagged', async () => {
    const numbers = mobiles(PHONE_VALIDATIONS_PER_SCAN / 2);
    const r = await detector.scanRequest(upload(numbers));
    expect(r.findings.filter((f) => f.type === 'phone_number')).toHaveLength(numbers.length);
    expect(r.tags).toEqual(['contact-list']);
  });

  it('validates no more than the budget of a far longer list, and tags the flow', async () => {
    const r = await detector.scanRequest(upload(mobiles(PHONE_VALIDATIONS_PER_SCAN * 5)));
    expect(r.findings.filter((f) => f.type === 'phone_number')).toHaveLength(PHONE_VALIDATIONS_PER_SCAN);
    expect(r.tags).toEqual(['contact-list', SCAN_CAPPED_TAG]);
  });

  it('keeps at most FINDINGS_PER_SCAN findings, the known values first, and tags the flow', async () => {
    const imei = '865123456789012';
    const known = createDetector({ devices: [{ name: 'RedMi 1S', imei: [imei], meid: [], imsi: [], iccid: [], phone_number: [], android_id: [], advertising_id: [], mac_address: [], serial_number: [], email: [], contacts: [], sms: [], location: [], wifi: [] }] });
    // The known value comes last in the body, after more pattern findings than a flow keeps.
    const emails = Array.from({ length: FINDINGS_PER_SCAN + 100 }, (_, i) => `user${i}@example.net`);
    const r = await known.scanRequest({ ...upload([]), body: Buffer.from(JSON.stringify({ emails, device: { imei } })) });
    expect(r.findings).toHaveLength(FINDINGS_PER_SCAN);
    expect(r.findings[0]).toMatchObject({ type: 'imei', value: imei, confidence: 'known' });
    expect(r.tags).toContain(SCAN_CAPPED_TAG);
  });

  it('gives each request its own budget', async () => {
    await detector.scanRequest(upload(mobiles(PHONE_VALIDATIONS_PER_SCAN * 2)));
    const r = await detector.scanRequest(upload(mobiles(10)));
    expect(r.findings.filter((f) => f.type === 'phone_number')).toHaveLength(10);
    expect(r.tags).not.toContain(SCAN_CAPPED_TAG);
  });
});
